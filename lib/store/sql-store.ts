// The AdvisStore over SQL, written once for both databases: the contract's reads, the change written part by part in
// its documented order, transactions with a savepoint per change, outbox claims and secrets. What differs between
// SQLite and PostgreSQL (how a connection is had, how a key is locked, how claims skip rows another sender is taking,
// the error codes, the statistics) is the SqlDatabase each of ./sqlite.ts and ./postgres.ts passes in. Statements are
// written with PostgreSQL's `$1` placeholders; the SQLite side rewrites them to named parameters.

import type { StayState } from '../advis/types';
import { StoreError } from './errors';
import { DEFERRED_COLUMNS, HELD_COLUMNS, OUTBOX_COLUMNS, auditQuery, epochMs, fromJson, instant, iso, isOpen, DEFAULT_LIST_LIMIT } from './rows';
import type {
  AdvisStore,
  AuditFilter,
  AuditRecord,
  DeferredEvent,
  DueMessage,
  HeldOutcome,
  OutboxClaim,
  OutboxEntry,
  OutboxStatus,
  ProcessedMessage,
  StoreChange,
  StoreReads,
  StoreStats,
  StoreTransaction,
} from './types';

/** One connection's worth of SQL: a statement with its values, its rows and how many rows it changed. */
export interface SqlConnection {
  query<R = Record<string, unknown>>(sql: string, values?: readonly unknown[]): Promise<{ rows: R[]; count: number }>;
}

/** What one database brings to the SQL store. */
export interface SqlDatabase {
  readonly kind: AdvisStore['kind'];
  /** For stats and errors: the file, or the URL without its password. */
  readonly location: string;
  /** Statements outside any transaction, each durable by itself. */
  readonly connection: SqlConnection;
  /** Runs `work` between BEGIN and COMMIT on one connection, ROLLBACK when it rejects; errors come back as they were. */
  transaction<T>(work: (connection: SqlConnection) => Promise<T>): Promise<T>;
  /** Holds `$1` until the transaction ends; null where transactions run one at a time anyway (SQLite). */
  readonly lockSql: string | null;
  /**
   * Selects the claimable stay heads: `$1` now, `$2` the claimant, `$3` the limit; columns id, messageHeaderId,
   * stayKey. On PostgreSQL it skips rows another claimer has locked.
   */
  readonly claimSql: string;
  /** The database's failure as a StoreError; anything else (a bug) unchanged. */
  toStoreError(error: unknown, doing: string): unknown;
  schemaVersion(): Promise<number>;
  /** The database's own figures for stats. */
  details(): Promise<Pick<StoreStats, 'sqlite'>>;
  close(): Promise<void>;
}

type OutboxRow = Omit<OutboxEntry, 'createdAt' | 'nextAttemptAt'> & { createdAt: number; nextAttemptAt: number };
const outboxEntry = (row: OutboxRow): OutboxEntry => ({ ...row, createdAt: iso(row.createdAt), nextAttemptAt: iso(row.nextAttemptAt) });
const SELECT_OUTBOX = `SELECT ${OUTBOX_COLUMNS} FROM outbox JOIN outbox_body USING (id)`;

interface PayloadRow {
  id: number;
  idempotencyKey: string;
  payload: string;
  createdAt: number;
}
type DeferredRow = PayloadRow & { stayKey: string | null; dueAt: number };
const deferredEvent = <T>(row: DeferredRow): DeferredEvent<T> => ({ ...row, dueAt: iso(row.dueAt), payload: fromJson<T>(row.payload), createdAt: iso(row.createdAt) });

/** The reads of the contract on one connection: the store's own, or a transaction's (which see its writes). */
class SqlReads implements StoreReads {
  constructor(protected readonly sql: SqlConnection) {}

  protected async rows<R>(text: string, values: readonly unknown[] = []): Promise<R[]> {
    return (await this.sql.query<R>(text, values)).rows;
  }

  async getStay(key: string): Promise<StayState | undefined> {
    const [row] = await this.rows<{ state: string }>('SELECT state FROM stays WHERE key = $1', [key]);
    return row && fromJson<StayState>(row.state);
  }

  async staysOfPatient(patientKey: string, filter: { open?: boolean } = {}): Promise<StayState[]> {
    // rowid: SQLite's own row number, and a column of that name on PostgreSQL: the order the stays were first written.
    const rows =
      filter.open === undefined
        ? await this.rows<{ state: string }>('SELECT state FROM stays WHERE patient_key = $1 ORDER BY rowid', [patientKey])
        : await this.rows<{ state: string }>('SELECT state FROM stays WHERE patient_key = $1 AND open = $2 ORDER BY rowid', [patientKey, filter.open ? 1 : 0]);
    return rows.map((row) => fromJson<StayState>(row.state));
  }

  async getProcessed<T = unknown>(key: string): Promise<ProcessedMessage<T> | undefined> {
    const [row] = await this.rows<{ key: string; outcome: string; at: number }>('SELECT idempotency_key AS key, outcome, at FROM processed WHERE idempotency_key = $1', [key]);
    return row && { key: row.key, outcome: fromJson<T>(row.outcome), at: iso(row.at) };
  }

  async getOutbox(messageHeaderId: string): Promise<OutboxEntry | undefined> {
    const [row] = await this.rows<OutboxRow>(`${SELECT_OUTBOX} WHERE message_header_id = $1`, [messageHeaderId]);
    const [resent] = row ? [row] : await this.rows<OutboxRow>(`${SELECT_OUTBOX} WHERE id = (SELECT id FROM outbox_transmission WHERE message_header_id = $1)`, [messageHeaderId]);
    return resent && outboxEntry(resent);
  }

  async outboxByBundleId(bundleId: string): Promise<OutboxEntry | undefined> {
    const [row] = await this.rows<OutboxRow>(`${SELECT_OUTBOX} WHERE bundle_id = $1`, [bundleId]);
    return row && outboxEntry(row);
  }

  async outboxByStay(stayKey: string): Promise<OutboxEntry[]> {
    return (await this.rows<OutboxRow>(`${SELECT_OUTBOX} WHERE stay_key = $1 ORDER BY id`, [stayKey])).map(outboxEntry);
  }

  async outboxByStatus(status: OutboxStatus, limit = DEFAULT_LIST_LIMIT): Promise<OutboxEntry[]> {
    return (await this.rows<OutboxRow>(`${SELECT_OUTBOX} WHERE status = $1 ORDER BY id LIMIT $2`, [status, limit])).map(outboxEntry);
  }

  async countOutbox(status: OutboxStatus): Promise<number> {
    const [row] = await this.rows<{ n: number }>('SELECT count(*) AS n FROM outbox WHERE status = $1', [status]);
    return row.n;
  }

  async awaitingAcknowledgement(dueBy: Date, limit: number): Promise<OutboxEntry[]> {
    const rows = await this.rows<OutboxRow>(`${SELECT_OUTBOX} WHERE status = 'sent' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2`, [
      epochMs(dueBy, 'dueBy'),
      limit,
    ]);
    return rows.map(outboxEntry);
  }

  async dueDeferred<T = unknown>(now: Date, limit: number): Promise<DeferredEvent<T>[]> {
    const rows = await this.rows<DeferredRow>(`SELECT ${DEFERRED_COLUMNS} FROM deferred WHERE due_at <= $1 ORDER BY due_at, id LIMIT $2`, [epochMs(now, 'now'), limit]);
    return rows.map((row) => deferredEvent<T>(row));
  }

  async deferredOfStay<T = unknown>(stayKey: string): Promise<DeferredEvent<T>[]> {
    const rows = await this.rows<DeferredRow>(`SELECT ${DEFERRED_COLUMNS} FROM deferred WHERE stay_key = $1 ORDER BY due_at, id`, [stayKey]);
    return rows.map((row) => deferredEvent<T>(row));
  }

  async held<T = unknown>(): Promise<HeldOutcome<T>[]> {
    const rows = await this.rows<PayloadRow & { reason: HeldOutcome['reason'] }>(`SELECT ${HELD_COLUMNS} FROM held ORDER BY id`);
    return rows.map((row) => ({ ...row, payload: fromJson<T>(row.payload), createdAt: iso(row.createdAt) }));
  }

  async audit(filter: AuditFilter = {}): Promise<AuditRecord[]> {
    const { sql, values } = auditQuery(filter, (i) => `$${i}`);
    return (await this.rows<Omit<AuditRecord, 'at'> & { at: number }>(sql, values)).map((row) => ({ ...row, at: iso(row.at) }));
  }
}

/** The parts of a change in the documented order, on a connection inside a transaction: any throw undoes all of them. */
async function apply(sql: SqlConnection, change: StoreChange): Promise<void> {
  const run = (text: string, values: readonly unknown[]) => sql.query(text, values);
  if (change.processed) {
    const { key, outcome, at } = change.processed;
    await run('INSERT INTO processed (idempotency_key, outcome, at) VALUES ($1, $2, $3)', [key, JSON.stringify(outcome), instant(at, 'processed.at')]);
  }
  if (change.processedUpdate) {
    const { key, outcome, at } = change.processedUpdate;
    const { count } = await run('UPDATE processed SET outcome = $1, at = $2 WHERE idempotency_key = $3', [JSON.stringify(outcome), instant(at, 'processedUpdate.at'), key]);
    if (count === 0) throw new StoreError('not-found', `no processed message ${key} to update`);
  }
  for (const stay of change.stays ?? []) {
    await run(
      `INSERT INTO stays (key, patient_key, hospital, open, state) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (key) DO UPDATE SET patient_key = excluded.patient_key, hospital = excluded.hospital, open = excluded.open, state = excluded.state`,
      [stay.key, stay.patientKey, stay.hospital, isOpen(stay.status) ? 1 : 0, JSON.stringify(stay)],
    );
  }
  for (const entry of change.outbox ?? []) {
    const createdAt = instant(entry.createdAt, 'outbox.createdAt');
    const nextAttemptAt = entry.nextAttemptAt === undefined ? createdAt : instant(entry.nextAttemptAt, 'outbox.nextAttemptAt');
    const { rows } = await sql.query<{ id: number }>(
      `INSERT INTO outbox (message_header_id, bundle_id, stay_key, advis, receiver_gln, receiver_sor, format, status, attempts, created_at, next_attempt_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', 0, $8, $9) RETURNING id`,
      [entry.messageHeaderId, entry.bundleId, entry.stayKey, entry.advis, entry.receiverGln, entry.receiverSor, entry.format, createdAt, nextAttemptAt],
    );
    await run('INSERT INTO outbox_body (id, body) VALUES ($1, $2)', [rows[0].id, entry.body]);
  }
  for (const update of change.outboxUpdate ?? []) {
    // One statement for every kind of update: absent fields keep their value; lastError may be set to null; a new
    // status ends the claim on the entry.
    const { count } = await run(
      `UPDATE outbox SET
         status = coalesce($2, status),
         attempts = coalesce($3, attempts),
         network_failures = coalesce($4, network_failures),
         next_attempt_at = coalesce($5, next_attempt_at),
         last_error = CASE WHEN $6 = 1 THEN $7 ELSE last_error END,
         bundle_id = coalesce($8, bundle_id),
         claimed_by = CASE WHEN $2 IS NULL THEN claimed_by END,
         claim_until = CASE WHEN $2 IS NULL THEN claim_until END
       WHERE message_header_id = $1`,
      [
        update.messageHeaderId,
        update.status ?? null,
        update.attempts ?? null,
        update.networkFailures ?? null,
        update.nextAttemptAt === undefined ? null : instant(update.nextAttemptAt, 'outboxUpdate.nextAttemptAt'),
        update.lastError === undefined ? 0 : 1,
        update.lastError ?? null,
        update.resend?.bundleId ?? null,
      ],
    );
    if (count === 0) throw new StoreError('not-found', `no outbox entry has MessageHeader.id ${update.messageHeaderId}`);
    if (update.resend) {
      await run('UPDATE outbox_body SET body = $1 WHERE id = (SELECT id FROM outbox WHERE message_header_id = $2)', [update.resend.body, update.messageHeaderId]);
    }
    if (update.resend?.messageHeaderId) {
      await run('INSERT INTO outbox_transmission (message_header_id, id) SELECT $1, id FROM outbox WHERE message_header_id = $2', [update.resend.messageHeaderId, update.messageHeaderId]);
    }
  }
  for (const id of change.deferredRemove ?? []) {
    if ((await run('DELETE FROM deferred WHERE id = $1', [id])).count === 0) throw new StoreError('not-found', `deferred event ${id} is not in the store (processed already?)`);
  }
  for (const event of change.deferredAdd ?? []) {
    await run('INSERT INTO deferred (idempotency_key, stay_key, due_at, payload, created_at) VALUES ($1, $2, $3, $4, $5)', [
      event.idempotencyKey,
      event.stayKey,
      instant(event.dueAt, 'deferredAdd.dueAt'),
      JSON.stringify(event.payload),
      instant(event.createdAt, 'deferredAdd.createdAt'),
    ]);
  }
  for (const id of change.heldRemove ?? []) {
    if ((await run('DELETE FROM held WHERE id = $1', [id])).count === 0) throw new StoreError('not-found', `held outcome ${id} is not in the store (released already?)`);
  }
  for (const held of change.heldAdd ?? []) {
    await run('INSERT INTO held (idempotency_key, reason, payload, created_at) VALUES ($1, $2, $3, $4)', [
      held.idempotencyKey,
      held.reason,
      JSON.stringify(held.payload),
      instant(held.createdAt, 'heldAdd.createdAt'),
    ]);
  }
  for (const entry of change.audit ?? []) {
    await run(
      `INSERT INTO audit (at, outcome, idempotency_key, event, stay_key, advis, reason, message_header_id, receiver_gln, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        instant(entry.at, 'audit.at'),
        entry.outcome,
        entry.idempotencyKey ?? null,
        entry.event ?? null,
        entry.stayKey ?? null,
        entry.advis ?? null,
        entry.reason ?? null,
        entry.messageHeaderId ?? null,
        entry.receiverGln ?? null,
        entry.detail ?? null,
      ],
    );
  }
}

/** One transaction: reads on its connection, each commit a savepoint (unless told not to), locks held until it ends. */
class SqlTransaction extends SqlReads implements StoreTransaction {
  /** Without savepoints: the first failed commit, which fails the transaction. */
  failed?: unknown;

  constructor(
    sql: SqlConnection,
    private readonly database: SqlDatabase,
    private readonly savepoints: boolean,
  ) {
    super(sql);
  }

  async commit(change: StoreChange): Promise<void> {
    if (this.failed) throw this.failed;
    if (!this.savepoints) {
      try {
        await apply(this.sql, change);
      } catch (error) {
        // Part of the change may be written: the transaction cannot go on.
        this.failed = this.database.toStoreError(error, 'committing the change');
        throw this.failed;
      }
      return;
    }
    await this.sql.query('SAVEPOINT advis_change');
    try {
      await apply(this.sql, change);
    } catch (error) {
      await this.sql.query('ROLLBACK TO SAVEPOINT advis_change');
      await this.sql.query('RELEASE SAVEPOINT advis_change');
      throw this.database.toStoreError(error, 'committing the change');
    }
    await this.sql.query('RELEASE SAVEPOINT advis_change');
  }

  async lock(key: string): Promise<void> {
    if (this.database.lockSql) await this.sql.query(this.database.lockSql, [key]);
  }
}

export class SqlStore extends SqlReads implements AdvisStore {
  readonly kind: AdvisStore['kind'];
  readonly location: string;

  constructor(private readonly database: SqlDatabase) {
    super(database.connection);
    this.kind = database.kind;
    this.location = database.location;
  }

  protected override async rows<R>(text: string, values: readonly unknown[] = []): Promise<R[]> {
    try {
      return await super.rows<R>(text, values);
    } catch (error) {
      throw this.database.toStoreError(error, 'reading the store');
    }
  }

  async transaction<T>(work: (tx: StoreTransaction) => Promise<T>, options: { savepoints?: boolean } = {}): Promise<T> {
    let ended = false;
    try {
      return await this.database.transaction(async (sql) => {
        // A transaction used after it ended would write outside it, on a connection someone else now has.
        const guarded: SqlConnection = {
          query: (text, values) => (ended ? Promise.reject(new Error('the store transaction has ended')) : sql.query(text, values)),
        };
        const tx = new SqlTransaction(guarded, this.database, options.savepoints ?? true);
        const result = await work(tx);
        if (tx.failed) throw tx.failed;
        return result;
      });
    } catch (error) {
      throw this.database.toStoreError(error, 'the store transaction');
    } finally {
      ended = true;
    }
  }

  async commit(change: StoreChange): Promise<void> {
    try {
      await this.database.transaction((sql) => apply(sql, change));
    } catch (error) {
      throw this.database.toStoreError(error, 'committing the change');
    }
  }

  async claimDue(now: Date, limit: number, claim: OutboxClaim): Promise<DueMessage[]> {
    const at = epochMs(now, 'now');
    try {
      return await this.database.transaction(async (sql) => {
        const { rows } = await sql.query<DueMessage & { id: number }>(this.database.claimSql, [at, claim.owner, limit]);
        if (rows.length) {
          await sql.query(`UPDATE outbox SET claimed_by = $1, claim_until = $2 WHERE id IN (${rows.map((_, i) => `$${i + 3}`).join(', ')})`, [
            claim.owner,
            at + claim.leaseMs,
            ...rows.map((r) => r.id),
          ]);
        }
        return rows.map(({ messageHeaderId, stayKey }) => ({ messageHeaderId, stayKey }));
      });
    } catch (error) {
      throw this.database.toStoreError(error, 'claiming outbox entries');
    }
  }

  async secret(name: string, create: () => string): Promise<string> {
    const read = async (sql: SqlConnection) => (await sql.query<{ value: string }>('SELECT value FROM secrets WHERE name = $1', [name])).rows[0]?.value;
    try {
      // In one transaction, with ON CONFLICT for the instance that loses a race: everyone ends up with the one value.
      return await this.database.transaction(async (sql) => {
        const existing = await read(sql);
        if (existing !== undefined) return existing;
        await sql.query('INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, create()]);
        return (await read(sql))!;
      });
    } catch (error) {
      throw this.database.toStoreError(error, `creating the secret ${name}`);
    }
  }

  async stats(): Promise<StoreStats> {
    const count = async (table: string, where = ''): Promise<number> => (await this.rows<{ n: number }>(`SELECT count(*) AS n FROM ${table} ${where}`))[0].n;
    const outboxByStatus: Record<OutboxStatus, number> = { queued: 0, sent: 0, delivered: 0, failed: 0, dead: 0 };
    for (const { status, n } of await this.rows<{ status: OutboxStatus; n: number }>('SELECT status, count(*) AS n FROM outbox GROUP BY status')) {
      outboxByStatus[status] = n;
    }
    return {
      kind: this.kind,
      location: this.location,
      schemaVersion: await this.database.schemaVersion(),
      ...(await this.database.details()),
      rows: {
        stays: await count('stays'),
        openStays: await count('stays', 'WHERE open = 1'),
        processed: await count('processed'),
        outbox: await count('outbox'),
        deferred: await count('deferred'),
        held: await count('held'),
        audit: await count('audit'),
      },
      outboxByStatus,
    };
  }

  close(): Promise<void> {
    return this.database.close();
  }
}
