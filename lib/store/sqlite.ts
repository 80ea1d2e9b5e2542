// The AdvisStore on SQLite through better-sqlite3: one file per site, opened by the site's config node or the command
// line. better-sqlite3 rather than node:sqlite because Node 22 still marks node:sqlite experimental (a warning in
// every Node-RED log) and better-sqlite3 ships prebuilt binaries with a stable `transaction()` (docs/architecture.md).
//
// Durability: write-ahead logging with synchronous=FULL, so each commit is fsynced before `commit` returns. With
// NORMAL a power cut may lose the last commits, and the engine acknowledges the EPR after the commit: a lost commit
// would be an advis nobody resends. FULL measured ~4.4k commits/s on a development machine, far above
// ADT volumes.
//
// The in-memory store for tests is this same code on ':memory:', so tests exercise the real SQL.

import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { StayState, StayStatus } from '../advis/types';
import { StoreError, toStoreError } from './errors';
import { MIGRATIONS, migrate, type Migration } from './schema';
import type {
  AdvisStore,
  AuditFilter,
  AuditRecord,
  DeferredEvent,
  DueMessage,
  HeldOutcome,
  OutboxEntry,
  OutboxStatus,
  ProcessedMessage,
  StoreChange,
  StoreStats,
} from './types';

export interface SqliteStoreOptions {
  /** How long a write waits for another process's transaction before failing with 'busy'; default 5000 ms. */
  busyTimeoutMs?: number;
  /** The schema history; default the shipped MIGRATIONS. Tests append one to prove that upgrades work. */
  migrations?: readonly Migration[];
}

const MEMORY = ':memory:';
const DEFAULT_LIST_LIMIT = 1000;
const ENDED_STATUSES: ReadonlySet<StayStatus> = new Set<StayStatus>(['finished', 'transferred', 'cancelled']);

/**
 * Opens (creating if needed) the store in `file`, creating its directory too, and migrates it to the current schema.
 * Throws StoreError 'cannot-open' when the path cannot be created or written, 'newer-schema' when a newer engine
 * wrote the file, 'migration-failed' when an upgrade fails (the file keeps its version).
 */
export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): AdvisStore {
  const location = file === MEMORY ? MEMORY : path.resolve(file);
  const db = openDatabase(location, options.busyTimeoutMs ?? 5000);
  try {
    configure(db, location);
    migrate(db, location, options.migrations ?? MIGRATIONS);
    return new SqliteStore(db, location);
  } catch (error) {
    db.close();
    if (error instanceof Database.SqliteError) {
      throw new StoreError('cannot-open', `cannot open the store ${location}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/** A store that lives as long as the process: for tests and trial runs. */
export function openMemoryStore(): AdvisStore {
  return openSqliteStore(MEMORY);
}

function openDatabase(location: string, timeout: number): Database.Database {
  if (location === MEMORY) return new Database(MEMORY, { timeout });
  try {
    fs.mkdirSync(path.dirname(location), { recursive: true, mode: 0o700 });
    // Created owner-only because deferred and held events carry CPR numbers; SQLite gives its -wal and -shm files the
    // mode of the database file. Opening for append also proves the file is writable, with the system's own reason
    // if it is not (SQLite would quietly open a read-only file read-only and fail later).
    fs.closeSync(fs.openSync(location, 'a', 0o600));
    return new Database(location, { timeout });
  } catch (error) {
    throw new StoreError('cannot-open', `cannot open the store ${location}: ${(error as Error).message}`, { cause: error });
  }
}

function configure(db: Database.Database, location: string): void {
  const journal = db.pragma('journal_mode = WAL', { simple: true });
  if (location !== MEMORY && journal !== 'wal') {
    throw new StoreError('cannot-open', `the store ${location} cannot use write-ahead logging (journal mode ${String(journal)}); put it on a local file system`);
  }
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  // Deleted rows (processed deferred and held events, with their CPR numbers) are overwritten, not left in free pages.
  db.pragma('secure_delete = ON');
  // Each commit inside a batch is a savepoint, whose journal of the pages it changes SQLite otherwise spills to a
  // temporary file: kept in memory (a few pages per commit), a group commit of 64 took about half the CPU (bench).
  db.pragma('temp_store = MEMORY');
}

/** An ISO 8601 time with a UTC offset: without one, the instant would depend on the server's time zone. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function instant(value: string, field: string): number {
  const ms = ISO_INSTANT.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new StoreError('invalid-value', `${field} must be an ISO 8601 time with a UTC offset, not ${JSON.stringify(value)}`);
  return ms;
}

function epochMs(date: Date, argument: string): number {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new StoreError('invalid-value', `${argument} is not a valid date`);
  return ms;
}

/** PRAGMA synchronous answers with the level's number. */
const SYNCHRONOUS_LEVELS = ['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const;

const iso = (ms: number): string => new Date(ms).toISOString();

// The body lives in its own table (schema v2): SQLite rewrites a whole row on every UPDATE, and each status change
// would otherwise write the ~9 kB Bundle again.
const SELECT_OUTBOX = `SELECT id, message_header_id AS messageHeaderId, bundle_id AS bundleId, stay_key AS stayKey, advis,
  receiver_gln AS receiverGln, receiver_sor AS receiverSor, format, body, status, attempts, network_failures AS networkFailures, created_at AS createdAt,
  next_attempt_at AS nextAttemptAt, last_error AS lastError FROM outbox JOIN outbox_body USING (id)`;
type OutboxRow = Omit<OutboxEntry, 'createdAt' | 'nextAttemptAt'> & { createdAt: number; nextAttemptAt: number };
const outboxEntry = (row: OutboxRow): OutboxEntry => ({ ...row, createdAt: iso(row.createdAt), nextAttemptAt: iso(row.nextAttemptAt) });

const AUDIT_COLUMNS = `id, at, outcome, idempotency_key AS idempotencyKey, event, stay_key AS stayKey, advis, reason,
  message_header_id AS messageHeaderId, receiver_gln AS receiverGln, detail`;
type AuditRow = Omit<AuditRecord, 'at'> & { at: number };

/** Audit filter fields that match a column exactly. */
const AUDIT_MATCH = {
  idempotencyKey: 'idempotency_key',
  stayKey: 'stay_key',
  messageHeaderId: 'message_header_id',
  outcome: 'outcome',
} as const satisfies Partial<Record<keyof AuditFilter, string>>;

interface PayloadRow {
  id: number;
  idempotencyKey: string;
  payload: string;
  createdAt: number;
}

class SqliteStore implements AdvisStore {
  private readonly statements;
  private readonly commitTransaction: (change: StoreChange) => void;

  constructor(
    private readonly db: Database.Database,
    private readonly location: string,
  ) {
    const sql = <P extends unknown[] | object = unknown[], R = unknown>(source: string) => db.prepare<P, R>(source);
    this.statements = {
      stay: sql<[string], string>('SELECT state FROM stays WHERE key = ?').pluck(),
      staysOfPatient: sql<[string], string>('SELECT state FROM stays WHERE patient_key = ? ORDER BY rowid').pluck(),
      staysOfPatientByOpen: sql<[string, number], string>('SELECT state FROM stays WHERE patient_key = ? AND open = ? ORDER BY rowid').pluck(),
      upsertStay: sql<[{ key: string; patientKey: string; hospital: string; open: number; state: string }]>(
        `INSERT INTO stays (key, patient_key, hospital, open, state) VALUES (@key, @patientKey, @hospital, @open, @state)
         ON CONFLICT (key) DO UPDATE SET patient_key = excluded.patient_key, hospital = excluded.hospital,
           open = excluded.open, state = excluded.state`,
      ),
      processed: sql<[string], { key: string; outcome: string; at: number }>(
        'SELECT idempotency_key AS key, outcome, at FROM processed WHERE idempotency_key = ?',
      ),
      insertProcessed: sql<[string, string, number]>('INSERT INTO processed (idempotency_key, outcome, at) VALUES (?, ?, ?)'),
      updateProcessed: sql<[string, number, string]>('UPDATE processed SET outcome = ?, at = ? WHERE idempotency_key = ?'),
      outboxByMessageHeader: sql<[string], OutboxRow>(`${SELECT_OUTBOX} WHERE message_header_id = ?`),
      outboxByTransmission: sql<[string], OutboxRow>(`${SELECT_OUTBOX} WHERE id = (SELECT id FROM outbox_transmission WHERE message_header_id = ?)`),
      insertTransmission: sql<[string, string]>('INSERT INTO outbox_transmission (message_header_id, id) SELECT ?, id FROM outbox WHERE message_header_id = ?'),
      outboxByBundle: sql<[string], OutboxRow>(`${SELECT_OUTBOX} WHERE bundle_id = ?`),
      outboxByStay: sql<[string], OutboxRow>(`${SELECT_OUTBOX} WHERE stay_key = ? ORDER BY id`),
      countOutbox: sql<[string], number>('SELECT count(*) FROM outbox WHERE status = ?').pluck(),
      outboxByStatus: sql<[string, number], OutboxRow>(`${SELECT_OUTBOX} WHERE status = ? ORDER BY id LIMIT ?`),
      nextDue: sql<[number, number], DueMessage>(
        // The planner prefers outbox_by_status and sorts every pending row for the GROUP BY (25 ms per call with 10,000
        // pending); the partial index is already in (stay_key, id) order, so the heads come from one scan (1 ms).
        `SELECT message_header_id AS messageHeaderId, stay_key AS stayKey FROM outbox
         WHERE id IN (SELECT min(id) FROM outbox INDEXED BY outbox_pending WHERE status IN ('queued', 'failed') GROUP BY stay_key)
           AND next_attempt_at <= ?
         ORDER BY id LIMIT ?`,
      ),
      awaitingAcknowledgement: sql<[number, number], OutboxRow>(
        `${SELECT_OUTBOX} WHERE status = 'sent' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`,
      ),
      insertOutbox: sql<[Record<string, string | number>]>(
        `INSERT INTO outbox (message_header_id, bundle_id, stay_key, advis, receiver_gln, receiver_sor, format,
           status, attempts, created_at, next_attempt_at)
         VALUES (@messageHeaderId, @bundleId, @stayKey, @advis, @receiverGln, @receiverSor, @format,
           'queued', 0, @createdAt, @nextAttemptAt)`,
      ),
      insertOutboxBody: sql<[number | bigint, string]>('INSERT INTO outbox_body (id, body) VALUES (?, ?)'),
      updateOutboxBody: sql<[string, string]>('UPDATE outbox_body SET body = ? WHERE id = (SELECT id FROM outbox WHERE message_header_id = ?)'),
      // One statement for every kind of update: absent fields keep their value; lastError may be set to null.
      updateOutbox: sql<[Record<string, string | number | null>]>(
        `UPDATE outbox SET
           status = coalesce(@status, status),
           attempts = coalesce(@attempts, attempts),
           network_failures = coalesce(@networkFailures, network_failures),
           next_attempt_at = coalesce(@nextAttemptAt, next_attempt_at),
           last_error = CASE WHEN @setLastError THEN @lastError ELSE last_error END,
           bundle_id = coalesce(@bundleId, bundle_id)
         WHERE message_header_id = @messageHeaderId`,
      ),
      dueDeferred: sql<[number, number], PayloadRow & { stayKey: string | null; dueAt: number }>(
        `SELECT id, idempotency_key AS idempotencyKey, stay_key AS stayKey, due_at AS dueAt, payload, created_at AS createdAt
         FROM deferred WHERE due_at <= ? ORDER BY due_at, id LIMIT ?`,
      ),
      deferredOfStay: sql<[string], PayloadRow & { stayKey: string | null; dueAt: number }>(
        `SELECT id, idempotency_key AS idempotencyKey, stay_key AS stayKey, due_at AS dueAt, payload, created_at AS createdAt
         FROM deferred WHERE stay_key = ? ORDER BY due_at, id`,
      ),
      insertDeferred: sql<[string, string | null, number, string, number]>(
        'INSERT INTO deferred (idempotency_key, stay_key, due_at, payload, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      deleteDeferred: sql<[number]>('DELETE FROM deferred WHERE id = ?'),
      held: sql<[], PayloadRow & { reason: HeldOutcome['reason'] }>(
        'SELECT id, idempotency_key AS idempotencyKey, reason, payload, created_at AS createdAt FROM held ORDER BY id',
      ),
      insertHeld: sql<[string, string, string, number]>('INSERT INTO held (idempotency_key, reason, payload, created_at) VALUES (?, ?, ?, ?)'),
      deleteHeld: sql<[number]>('DELETE FROM held WHERE id = ?'),
      insertAudit: sql<[Record<string, string | number | null>]>(
        `INSERT INTO audit (at, outcome, idempotency_key, event, stay_key, advis, reason, message_header_id, receiver_gln, detail)
         VALUES (@at, @outcome, @idempotencyKey, @event, @stayKey, @advis, @reason, @messageHeaderId, @receiverGln, @detail)`,
      ),
      secret: sql<[string], string>('SELECT value FROM secrets WHERE name = ?').pluck(),
      insertSecret: sql<[string, string]>('INSERT INTO secrets (name, value) VALUES (?, ?)'),
    };
    this.commitTransaction = db.transaction((change: StoreChange) => this.apply(change)).immediate;
  }

  getStay(key: string): StayState | undefined {
    const state = this.statements.stay.get(key);
    return state === undefined ? undefined : (JSON.parse(state) as StayState);
  }

  staysOfPatient(patientKey: string, filter: { open?: boolean } = {}): StayState[] {
    const states =
      filter.open === undefined
        ? this.statements.staysOfPatient.all(patientKey)
        : this.statements.staysOfPatientByOpen.all(patientKey, filter.open ? 1 : 0);
    return states.map((state) => JSON.parse(state) as StayState);
  }

  getProcessed<T = unknown>(key: string): ProcessedMessage<T> | undefined {
    const row = this.statements.processed.get(key);
    return row && { key: row.key, outcome: JSON.parse(row.outcome) as T, at: iso(row.at) };
  }

  getOutbox(messageHeaderId: string): OutboxEntry | undefined {
    const row = this.statements.outboxByMessageHeader.get(messageHeaderId) ?? this.statements.outboxByTransmission.get(messageHeaderId);
    return row && outboxEntry(row);
  }

  outboxByStay(stayKey: string): OutboxEntry[] {
    return this.statements.outboxByStay.all(stayKey).map(outboxEntry);
  }

  countOutbox(status: OutboxStatus): number {
    return this.statements.countOutbox.get(status)!;
  }

  outboxByStatus(status: OutboxStatus, limit = DEFAULT_LIST_LIMIT): OutboxEntry[] {
    return this.statements.outboxByStatus.all(status, limit).map(outboxEntry);
  }

  outboxByBundleId(bundleId: string): OutboxEntry | undefined {
    const row = this.statements.outboxByBundle.get(bundleId);
    return row && outboxEntry(row);
  }

  nextDue(now: Date, limit: number): DueMessage[] {
    return this.statements.nextDue.all(epochMs(now, 'now'), limit);
  }

  awaitingAcknowledgement(dueBy: Date, limit: number): OutboxEntry[] {
    return this.statements.awaitingAcknowledgement.all(epochMs(dueBy, 'dueBy'), limit).map(outboxEntry);
  }

  dueDeferred<T = unknown>(now: Date, limit: number): DeferredEvent<T>[] {
    return this.statements.dueDeferred.all(epochMs(now, 'now'), limit).map((row) => ({
      ...row,
      dueAt: iso(row.dueAt),
      payload: JSON.parse(row.payload) as T,
      createdAt: iso(row.createdAt),
    }));
  }

  deferredOfStay<T = unknown>(stayKey: string): DeferredEvent<T>[] {
    return this.statements.deferredOfStay.all(stayKey).map((row) => ({
      ...row,
      dueAt: iso(row.dueAt),
      payload: JSON.parse(row.payload) as T,
      createdAt: iso(row.createdAt),
    }));
  }

  held<T = unknown>(): HeldOutcome<T>[] {
    return this.statements.held.all().map((row) => ({ ...row, payload: JSON.parse(row.payload) as T, createdAt: iso(row.createdAt) }));
  }

  audit(filter: AuditFilter = {}): AuditRecord[] {
    const where: string[] = [];
    const values: (string | number)[] = [];
    for (const [field, column] of Object.entries(AUDIT_MATCH) as [keyof typeof AUDIT_MATCH, string][]) {
      const value = filter[field];
      if (value !== undefined) {
        where.push(`${column} = ?`);
        values.push(value);
      }
    }
    if (filter.since) {
      where.push('at >= ?');
      values.push(epochMs(filter.since, 'since'));
    }
    if (filter.afterId !== undefined) {
      where.push('id > ?');
      values.push(filter.afterId);
    }
    const rows = this.db
      .prepare<unknown[], AuditRow>(
        `SELECT ${AUDIT_COLUMNS} FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`,
      )
      .all(...values, filter.limit ?? DEFAULT_LIST_LIMIT);
    return rows.map((row) => ({ ...row, at: iso(row.at) }));
  }

  secret(name: string, create: () => string): string {
    // Inside a write transaction, so two processes opening a new file at once still agree on one value.
    const getOrCreate = this.db
      .transaction(() => {
        const existing = this.statements.secret.get(name);
        if (existing !== undefined) return existing;
        const value = create();
        this.statements.insertSecret.run(name, value);
        return value;
      })
      .immediate;
    try {
      return getOrCreate();
    } catch (error) {
      throw toStoreError(error, `creating the secret ${name}`);
    }
  }

  commit(change: StoreChange): void {
    try {
      this.commitTransaction(change);
    } catch (error) {
      throw toStoreError(error, 'committing the change');
    }
  }

  batch<T>(work: () => T): T {
    // better-sqlite3 turns the transactions of the `commit` calls inside `work` into savepoints of this one.
    const run = this.db.transaction(work).immediate;
    try {
      return run();
    } catch (error) {
      throw toStoreError(error, 'committing the batch');
    }
  }

  /** The parts of a change in the documented order; any throw rolls all of them back. */
  private apply(change: StoreChange): void {
    const s = this.statements;
    if (change.processed) {
      const { key, outcome, at } = change.processed;
      s.insertProcessed.run(key, JSON.stringify(outcome), instant(at, 'processed.at'));
    }
    if (change.processedUpdate) {
      const { key, outcome, at } = change.processedUpdate;
      const { changes } = s.updateProcessed.run(JSON.stringify(outcome), instant(at, 'processedUpdate.at'), key);
      if (changes === 0) throw new StoreError('not-found', `no processed message ${key} to update`);
    }
    for (const stay of change.stays ?? []) {
      s.upsertStay.run({
        key: stay.key,
        patientKey: stay.patientKey,
        hospital: stay.hospital,
        open: ENDED_STATUSES.has(stay.status) ? 0 : 1,
        state: JSON.stringify(stay),
      });
    }
    for (const entry of change.outbox ?? []) {
      const createdAt = instant(entry.createdAt, 'outbox.createdAt');
      const { lastInsertRowid } = s.insertOutbox.run({
        messageHeaderId: entry.messageHeaderId,
        bundleId: entry.bundleId,
        stayKey: entry.stayKey,
        advis: entry.advis,
        receiverGln: entry.receiverGln,
        receiverSor: entry.receiverSor,
        format: entry.format,
        createdAt,
        nextAttemptAt: entry.nextAttemptAt === undefined ? createdAt : instant(entry.nextAttemptAt, 'outbox.nextAttemptAt'),
      });
      s.insertOutboxBody.run(lastInsertRowid, entry.body);
    }
    for (const update of change.outboxUpdate ?? []) {
      const { changes } = s.updateOutbox.run({
        messageHeaderId: update.messageHeaderId,
        status: update.status ?? null,
        attempts: update.attempts ?? null,
        networkFailures: update.networkFailures ?? null,
        nextAttemptAt: update.nextAttemptAt === undefined ? null : instant(update.nextAttemptAt, 'outboxUpdate.nextAttemptAt'),
        setLastError: update.lastError === undefined ? 0 : 1,
        lastError: update.lastError ?? null,
        bundleId: update.resend?.bundleId ?? null,
      });
      if (changes === 0) throw new StoreError('not-found', `no outbox entry has MessageHeader.id ${update.messageHeaderId}`);
      if (update.resend) s.updateOutboxBody.run(update.resend.body, update.messageHeaderId);
      if (update.resend?.messageHeaderId) s.insertTransmission.run(update.resend.messageHeaderId, update.messageHeaderId);
    }
    for (const id of change.deferredRemove ?? []) {
      if (s.deleteDeferred.run(id).changes === 0) throw new StoreError('not-found', `deferred event ${id} is not in the store (processed already?)`);
    }
    for (const event of change.deferredAdd ?? []) {
      s.insertDeferred.run(
        event.idempotencyKey,
        event.stayKey,
        instant(event.dueAt, 'deferredAdd.dueAt'),
        JSON.stringify(event.payload),
        instant(event.createdAt, 'deferredAdd.createdAt'),
      );
    }
    for (const id of change.heldRemove ?? []) {
      if (s.deleteHeld.run(id).changes === 0) throw new StoreError('not-found', `held outcome ${id} is not in the store (released already?)`);
    }
    for (const held of change.heldAdd ?? []) {
      s.insertHeld.run(held.idempotencyKey, held.reason, JSON.stringify(held.payload), instant(held.createdAt, 'heldAdd.createdAt'));
    }
    for (const entry of change.audit ?? []) {
      s.insertAudit.run({
        at: instant(entry.at, 'audit.at'),
        outcome: entry.outcome,
        idempotencyKey: entry.idempotencyKey ?? null,
        event: entry.event ?? null,
        stayKey: entry.stayKey ?? null,
        advis: entry.advis ?? null,
        reason: entry.reason ?? null,
        messageHeaderId: entry.messageHeaderId ?? null,
        receiverGln: entry.receiverGln ?? null,
        detail: entry.detail ?? null,
      });
    }
  }

  stats(): StoreStats {
    const count = (sql: string): number => this.db.prepare<[], number>(sql).pluck().get()!;
    const outboxByStatus: Record<OutboxStatus, number> = { queued: 0, sent: 0, delivered: 0, failed: 0, dead: 0 };
    for (const { status, n } of this.db.prepare<[], { status: OutboxStatus; n: number }>('SELECT status, count(*) AS n FROM outbox GROUP BY status').all()) {
      outboxByStatus[status] = n;
    }
    const pragma = (name: string): unknown => this.db.pragma(name, { simple: true });
    return {
      file: this.location,
      schemaVersion: pragma('user_version') as number,
      settings: {
        journalMode: pragma('journal_mode') as string,
        synchronous: SYNCHRONOUS_LEVELS[pragma('synchronous') as number],
        foreignKeys: pragma('foreign_keys') === 1,
        busyTimeoutMs: pragma('busy_timeout') as number,
      },
      bytes: (pragma('page_count') as number) * (pragma('page_size') as number),
      walBytes: this.location === MEMORY ? 0 : (fs.statSync(`${this.location}-wal`, { throwIfNoEntry: false })?.size ?? 0),
      rows: {
        stays: count('SELECT count(*) FROM stays'),
        openStays: count('SELECT count(*) FROM stays WHERE open = 1'),
        processed: count('SELECT count(*) FROM processed'),
        outbox: count('SELECT count(*) FROM outbox'),
        deferred: count('SELECT count(*) FROM deferred'),
        held: count('SELECT count(*) FROM held'),
        audit: count('SELECT count(*) FROM audit'),
      },
      outboxByStatus,
    };
  }

  close(): void {
    if (!this.db.open) return;
    // SQLite's advice for long-lived connections: refresh the planner's statistics where they have gone stale.
    this.db.pragma('optimize');
    this.db.close();
  }
}
