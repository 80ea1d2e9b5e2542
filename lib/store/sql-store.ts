// The AdvisStore over SQL, written once for both databases: the contract's reads, the change written part by part in
// its documented order, transactions with a savepoint per change, outbox claims and secrets. What differs between
// SQLite and PostgreSQL (how a connection is had, how a key is locked, how claims skip rows another sender is taking,
// the error codes, the statistics) is the SqlDatabase each of ./sqlite.ts and ./postgres.ts passes in. Statements are
// written with PostgreSQL's `$1` placeholders; the SQLite side rewrites them to named parameters.

import type { StayState } from '../advis/types';
import { StoreError } from './errors';
import { pack, unpack } from './pack';
import { DEFERRED_COLUMNS, HELD_COLUMNS, OUTBOX_COLUMNS, OUTBOX_SUMMARY_COLUMNS, auditQuery, epochMs, fromJson, instant, iso, isOpen, operatorAuditQuery, outboxSearchQuery, DEFAULT_LIST_LIMIT } from './rows';
import type {
  AdvisStore,
  AuditFilter,
  AuditRecord,
  DeferredEvent,
  DueMessage,
  HeldOutcome,
  OperatorAuditFilter,
  OperatorAuditRecord,
  OutboxClaim,
  OutboxCount,
  OutboxEntry,
  OutboxSearch,
  OutboxStatus,
  OutboxSummary,
  ProcessedMessage,
  PruneResult,
  RetentionPolicy,
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
  details(): Promise<Pick<StoreStats, 'sqlite' | 'bytes'>>;
  close(): Promise<void>;
}

type SummaryRow = Omit<OutboxSummary, 'createdAt' | 'nextAttemptAt'> & { createdAt: number; nextAttemptAt: number };
type OutboxRow = SummaryRow & { body: Buffer | string | null };
const outboxSummary = (row: SummaryRow): OutboxSummary => ({ ...row, createdAt: iso(row.createdAt), nextAttemptAt: iso(row.nextAttemptAt) });
const outboxEntry = (row: OutboxRow): OutboxEntry => ({ ...outboxSummary(row), body: row.body === null ? null : unpack(row.body) });
// A LEFT JOIN: retention removes the Bundle of a delivered message before its row.
const SELECT_OUTBOX = `SELECT ${OUTBOX_COLUMNS} FROM outbox LEFT JOIN outbox_body USING (id)`;
/** Packed JSON text of a record, as the stays, processed and outbox_body columns keep it (./pack.ts). */
type Packed = Buffer | string;
const fromPacked = <T>(value: Packed): T => fromJson<T>(unpack(value));

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
    const [row] = await this.rows<{ state: Packed }>('SELECT state FROM stays WHERE key = $1', [key]);
    return row && fromPacked<StayState>(row.state);
  }

  async staysOfPatient(patientKey: string, filter: { open?: boolean } = {}): Promise<StayState[]> {
    // rowid: SQLite's own row number, and a column of that name on PostgreSQL: the order the stays were first written.
    const rows =
      filter.open === undefined
        ? await this.rows<{ state: Packed }>('SELECT state FROM stays WHERE patient_key = $1 ORDER BY rowid', [patientKey])
        : await this.rows<{ state: Packed }>('SELECT state FROM stays WHERE patient_key = $1 AND open = $2 ORDER BY rowid', [patientKey, filter.open ? 1 : 0]);
    return rows.map((row) => fromPacked<StayState>(row.state));
  }

  async getProcessed<T = unknown>(key: string): Promise<ProcessedMessage<T> | undefined> {
    const [row] = await this.rows<{ key: string; outcome: Packed; at: number }>('SELECT idempotency_key AS key, outcome, at FROM processed WHERE idempotency_key = $1', [key]);
    return row && { key: row.key, outcome: fromPacked<T>(row.outcome), at: iso(row.at) };
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
    const { sql, values } = auditQuery(filter);
    return (await this.rows<Omit<AuditRecord, 'at'> & { at: number }>(sql, values)).map((row) => ({ ...row, at: iso(row.at) }));
  }

  async searchOutbox(search: OutboxSearch): Promise<OutboxSummary[]> {
    const { sql, values } = outboxSearchQuery(search);
    return (await this.rows<SummaryRow>(sql, values)).map(outboxSummary);
  }

  async countOutboxByReceiver(): Promise<OutboxCount[]> {
    const rows = await this.rows<{ status: OutboxStatus; receiverGln: string; count: number | string }>(
      'SELECT status, receiver_gln AS "receiverGln", count(*) AS count FROM outbox GROUP BY receiver_gln, status ORDER BY receiver_gln, status',
    );
    return rows.map((row) => ({ ...row, count: Number(row.count) }));
  }

  async oldestUnsettled(): Promise<OutboxSummary | undefined> {
    // One indexed look-up per status (outbox_by_status is in id order): never a scan of what was delivered.
    const heads: SummaryRow[] = [];
    for (const status of ['queued', 'failed', 'sent'] as const) {
      heads.push(...(await this.rows<SummaryRow>(`SELECT ${OUTBOX_SUMMARY_COLUMNS} FROM outbox WHERE status = $1 ORDER BY id LIMIT 1`, [status])));
    }
    const oldest = heads.sort((a, b) => a.createdAt - b.createdAt || a.id - b.id)[0];
    return oldest && outboxSummary(oldest);
  }

  async operatorAudit(filter: OperatorAuditFilter = {}): Promise<OperatorAuditRecord[]> {
    const { sql, values } = operatorAuditQuery(filter);
    return (await this.rows<Omit<OperatorAuditRecord, 'at'> & { at: number }>(sql, values)).map((row) => ({ ...row, at: iso(row.at) }));
  }
}

/** The parts of a change in the documented order, on a connection inside a transaction: any throw undoes all of them. */
async function apply(sql: SqlConnection, change: StoreChange): Promise<void> {
  const run = (text: string, values: readonly unknown[]) => sql.query(text, values);
  if (change.processed) {
    const { key, outcome, at } = change.processed;
    await run('INSERT INTO processed (idempotency_key, outcome, at) VALUES ($1, $2, $3)', [key, pack(JSON.stringify(outcome)), instant(at, 'processed.at')]);
  }
  if (change.processedUpdate) {
    const { key, outcome, at } = change.processedUpdate;
    const { count } = await run('UPDATE processed SET outcome = $1, at = $2 WHERE idempotency_key = $3', [pack(JSON.stringify(outcome)), instant(at, 'processedUpdate.at'), key]);
    if (count === 0) throw new StoreError('not-found', `no processed message ${key} to update`);
  }
  for (const stay of change.stays ?? []) {
    await run(
      `INSERT INTO stays (key, patient_key, hospital, open, state) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (key) DO UPDATE SET patient_key = excluded.patient_key, hospital = excluded.hospital, open = excluded.open, state = excluded.state`,
      [stay.key, stay.patientKey, stay.hospital, isOpen(stay.status) ? 1 : 0, pack(JSON.stringify(stay))],
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
    await run('INSERT INTO outbox_body (id, body) VALUES ($1, $2)', [rows[0].id, pack(entry.body)]);
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
      // An insert where retention had removed the Bundle of a delivered message that is now sent again.
      await run(
        `INSERT INTO outbox_body (id, body) SELECT id, $1 FROM outbox WHERE message_header_id = $2
         ON CONFLICT (id) DO UPDATE SET body = excluded.body`,
        [pack(update.resend.body), update.messageHeaderId],
      );
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
  for (const entry of change.operatorAudit ?? []) {
    await run('INSERT INTO operator_audit (at, "user", action, target, detail) VALUES ($1, $2, $3, $4, $5)', [
      instant(entry.at, 'operatorAudit.at'),
      entry.user,
      entry.action,
      entry.target ?? null,
      entry.detail ?? null,
    ]);
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

/**
 * How long settled records are kept unless the site says otherwise (README, "Retention"): a delivered Bundle three
 * months, long enough to answer a municipality that asks about a stay of last quarter; its summary row and the audit
 * trail 400 days, a year of questions with a margin; the audit of people five years (it is what an inspection
 * asks for); idempotency records 30 days, far longer than any EPR resends a message.
 */
export const DEFAULT_RETENTION: RetentionPolicy = { bundleDays: 90, summaryDays: 400, auditDays: 400, operatorAuditDays: 1827, processedDays: 30 };

/** A policy from settings where blank (or absent) means the default; throws StoreError invalid-value for one it cannot keep. */
export function retentionFrom(settings: Partial<Record<keyof RetentionPolicy, unknown>>): RetentionPolicy {
  const policy = { ...DEFAULT_RETENTION };
  for (const key of Object.keys(DEFAULT_RETENTION) as (keyof RetentionPolicy)[]) {
    const raw = settings[key];
    if (raw !== undefined && raw !== null && String(raw).trim() !== '') policy[key] = Number(raw);
  }
  checkRetention(policy);
  return policy;
}

/** A retention policy that can be kept: whole days from one up, and a summary that outlives its Bundle. */
export function checkRetention(policy: RetentionPolicy): void {
  for (const [name, days] of Object.entries(policy)) {
    if (!Number.isInteger(days) || days < 1) throw new StoreError('invalid-value', `the retention ${name} must be a whole number of days, at least 1, not ${String(days)}`);
  }
  if (policy.summaryDays < policy.bundleDays) {
    throw new StoreError('invalid-value', `the retention summaryDays (${policy.summaryDays}) must be at least bundleDays (${policy.bundleDays}): a delivered message's summary outlives its Bundle`);
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

  async prune(now: Date, policy: RetentionPolicy, batch: number): Promise<PruneResult> {
    checkRetention(policy);
    const before = (days: number): number => epochMs(now, 'now') - days * 86_400_000;
    const step = async (doing: string, work: (sql: SqlConnection) => Promise<number>): Promise<number> => {
      try {
        return await this.database.transaction(work);
      } catch (error) {
        throw this.database.toStoreError(error, doing);
      }
    };
    // Delivered messages, oldest first: outbox ids follow the order of creation, so the scan stops at the first one
    // that is still kept, never reading the rest.
    const delivered = async (sql: SqlConnection, from: string, days: number): Promise<number[]> => {
      const { rows } = await sql.query<{ id: number; createdAt: number }>(
        `SELECT id, created_at AS "createdAt" FROM ${from} WHERE status = 'delivered' ORDER BY id LIMIT $1`,
        [batch],
      );
      const cutoff = before(days);
      const old: number[] = [];
      for (const row of rows) {
        if (row.createdAt >= cutoff) break;
        old.push(row.id);
      }
      return old;
    };
    const ids = (list: readonly unknown[], first: number): string => list.map((_, i) => `$${i + first}`).join(', ');

    const bundles = await step('removing delivered Bundles', async (sql) => {
      const old = await delivered(sql, 'outbox JOIN outbox_body USING (id)', policy.bundleDays);
      return old.length ? (await sql.query(`DELETE FROM outbox_body WHERE id IN (${ids(old, 1)})`, old)).count : 0;
    });
    let stays = 0;
    const summaries = await step('removing delivered messages', async (sql) => {
      const old = await delivered(sql, 'outbox', policy.summaryDays);
      if (!old.length) return 0;
      const { rows } = await sql.query<{ stayKey: string }>(`SELECT DISTINCT stay_key AS "stayKey" FROM outbox WHERE id IN (${ids(old, 1)})`, old);
      await sql.query(`DELETE FROM outbox_body WHERE id IN (${ids(old, 1)})`, old);
      await sql.query(`DELETE FROM outbox_transmission WHERE id IN (${ids(old, 1)})`, old);
      const { count } = await sql.query(`DELETE FROM outbox WHERE id IN (${ids(old, 1)})`, old);
      // A stay goes with its last message, once it has ended and nothing of it waits.
      const keys = rows.map((r) => r.stayKey);
      stays = (
        await sql.query(
          `DELETE FROM stays WHERE key IN (${ids(keys, 1)}) AND open = 0
             AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.stay_key = stays.key)
             AND NOT EXISTS (SELECT 1 FROM deferred d WHERE d.stay_key = stays.key)`,
          keys,
        )
      ).count;
      return count;
    });
    // A held or deferred event keeps its idempotency record and its audit rows until it is decided.
    const waiting = (column: string): string =>
      `NOT EXISTS (SELECT 1 FROM held h WHERE h.idempotency_key = ${column}) AND NOT EXISTS (SELECT 1 FROM deferred d WHERE d.idempotency_key = ${column})`;
    const processed = await step('removing idempotency records', async (sql) =>
      (
        await sql.query(
          `DELETE FROM processed WHERE idempotency_key IN (
             SELECT idempotency_key FROM processed WHERE at < $1 AND ${waiting('processed.idempotency_key')} ORDER BY at LIMIT $2)`,
          [before(policy.processedDays), batch],
        )
      ).count,
    );
    const audit = await step('removing audit rows', async (sql) =>
      (
        await sql.query(
          `DELETE FROM audit WHERE id IN (
             SELECT id FROM audit WHERE at < $1
               AND (message_header_id IS NULL OR NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_header_id = audit.message_header_id AND o.status <> 'delivered'))
               AND (idempotency_key IS NULL OR (${waiting('audit.idempotency_key')}))
             ORDER BY at LIMIT $2)`,
          [before(policy.auditDays), batch],
        )
      ).count,
    );
    const operatorAudit = await step('removing the audit of people', async (sql) =>
      (await sql.query('DELETE FROM operator_audit WHERE id IN (SELECT id FROM operator_audit WHERE at < $1 ORDER BY at LIMIT $2)', [before(policy.operatorAuditDays), batch]))
        .count,
    );
    return { bundles, summaries, stays, processed, audit, operatorAudit };
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
        operatorAudit: await count('operator_audit'),
      },
      outboxByStatus,
    };
  }

  close(): Promise<void> {
    return this.database.close();
  }
}
