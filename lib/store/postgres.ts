// The AdvisStore on PostgreSQL, for several Node-RED instances sharing one database (docs/deployment.md). The SQL is
// ./sql-store.ts, shared with SQLite; this file brings the connections, the locks and the error codes.
//
// Driver: node-postgres (`pg`) rather than `postgres` (porsager). Measured on this store's own transaction for one
// advis (advisory lock, three reads, five inserts with a 9 kB body, 8 transactions at once; `npm run bench -- store`,
// bench/drivers.ts): pg 763–793 transactions/s, postgres 503–525, pg 1.5× in both runs on 2026-12-07. `pg` also takes
// the store's SQL as it is (text with $1 parameters, prepared by name) where `postgres` wants tagged templates or
// `unsafe`, and its errors carry the SQLSTATE `code` the store maps to StoreError codes.
//
// Connections come from a pool. A transaction has one connection to itself; `lock` is pg_advisory_xact_lock on a
// hash of the key, released by COMMIT or ROLLBACK, and by PostgreSQL itself when the connection dies with the instance.
// Claims lock the rows they take with FOR UPDATE SKIP LOCKED, so two instances claiming at the same moment take
// different stays instead of waiting for each other.
//
// The database going away (restart, failover, network) must not take the process with it: connections report their
// end as an 'error' event, which is logged (idle in the pool) or noted (inside a transaction) instead of thrown; work in flight fails with
// StoreError 'unavailable' (the EPR gets AE and sends again), and the pool connects afresh for the next work.

import pg from 'pg';
import { StoreError, type StoreErrorCode } from './errors';
import { migratePostgres, POSTGRES_MIGRATIONS, type PostgresMigration } from './postgres-schema';
import { SqlStore, type SqlConnection, type SqlDatabase } from './sql-store';
import type { AdvisStore, StoreStats } from './types';

export interface PostgresStoreOptions {
  /** The password when the URL has none; default the environment's PGPASSWORD (read by the driver). */
  password?: string;
  /** Connections in the pool; default 10. */
  poolSize?: number;
  /** How long to wait for a connection before the work fails with 'unavailable'; default 5000 ms. */
  connectTimeoutMs?: number;
  /** How long a transaction waits for another's lock on the same key before failing with 'busy'; default 30000 ms. */
  lockTimeoutMs?: number;
  /** The schema history; default the shipped POSTGRES_MIGRATIONS. */
  migrations?: readonly PostgresMigration[];
  /** Lines for people about the connection (never the password). */
  onLog?: (level: 'warn' | 'error', text: string) => void;
}

/** A `postgres://` or `postgresql://` URL: where ADVIS_STORE and the site's store setting name PostgreSQL. */
export const isPostgresUrl = (location: string): boolean => /^postgres(ql)?:\/\//i.test(location.trim());

/** The URL as it may be shown: without its password. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unreadable URL)';
  }
}

/**
 * The URL with the password given apart from it (a Node-RED credential): node-postgres lets the URL's empty password
 * override a separate `password` option, so it goes into the URL, which is never shown (see redactedUrl).
 */
function withPassword(url: string, password: string | undefined): string {
  if (!password) return url;
  const parsed = new URL(url);
  if (!parsed.password) parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

/** bigint (ids, times in ms, counts) as JS numbers: every value the store keeps is far below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** Node's own codes for a connection that could not be made or was lost. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

function postgresCode(error: Error & { code?: string }): StoreErrorCode | undefined {
  const code = error.code ?? '';
  if (code === '23505') return 'duplicate';
  if (code.startsWith('23')) return 'constraint';
  if (code === '40P01' || code === '40001' || code === '55P03') return 'busy';
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || NETWORK_CODES.has(code)) return 'unavailable';
  if (code.startsWith('28') || code === '3D000') return 'cannot-open';
  if (code.startsWith('53') || code.startsWith('58') || code.startsWith('XX')) return 'io';
  if (code.startsWith('22')) return 'invalid-value';
  // node-postgres's own words for a connection that ended or never came, which carry no code.
  if (/Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed/i.test(error.message)) return 'unavailable';
  return undefined;
}

function toStoreError(error: unknown, doing: string): unknown {
  if (error instanceof StoreError || !(error instanceof Error)) return error;
  const code = postgresCode(error);
  return code ? new StoreError(code, `${doing} failed: ${error.message}`, { cause: error }) : error;
}

class PostgresDatabase implements SqlDatabase {
  readonly kind = 'postgres';
  readonly lockSql = 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))';
  readonly claimSql = `SELECT id, message_header_id AS "messageHeaderId", stay_key AS "stayKey" FROM outbox
     WHERE id IN (SELECT min(id) FROM outbox WHERE status IN ('queued', 'failed') GROUP BY stay_key)
       AND status IN ('queued', 'failed') AND next_attempt_at <= $1 AND (claim_until IS NULL OR claim_until <= $1 OR claimed_by = $2)
     ORDER BY id LIMIT $3
     FOR UPDATE SKIP LOCKED`;
  readonly connection: SqlConnection;

  constructor(
    private readonly pool: pg.Pool,
    readonly location: string,
  ) {
    this.connection = { query: (sql, values) => this.query(pool, sql, values) };
  }

  /** A name per statement text: node-postgres prepares a named statement once per connection, then only binds it. */
  private readonly names = new Map<string, string>();

  private async query<R>(on: pg.Pool | pg.PoolClient, sql: string, values: readonly unknown[] = []): Promise<{ rows: R[]; count: number }> {
    let name = this.names.get(sql);
    if (!name) this.names.set(sql, (name = `advis_${this.names.size}`));
    const result = await on.query({ name, text: sql, values: values as unknown[] });
    return { rows: result.rows as R[], count: result.rowCount ?? 0 };
  }

  async transaction<T>(work: (connection: SqlConnection) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // A connection lost while the work runs between two statements is reported as an 'error' event on the client,
    // which the pool listens for only while the client is idle: unheard, it would end the process. The next statement
    // fails by itself, and the client is thrown away.
    const lost = (error: Error): void => void (broken = error);
    client.on('error', lost);
    try {
      await client.query('BEGIN');
      const result = await work({ query: (sql, values) => this.query(client, sql, values) });
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollback) {
        // The connection is gone (and the transaction with it): the pool must not hand it out again.
        broken = rollback as Error;
      }
      throw error;
    } finally {
      client.off('error', lost);
      client.release(broken);
    }
  }

  toStoreError(error: unknown, doing: string): unknown {
    return toStoreError(error, doing);
  }

  async schemaVersion(): Promise<number> {
    return (await this.query<{ version: number }>(this.pool, 'SELECT version FROM advis_schema')).rows[0]?.version ?? 0;
  }

  async details(): Promise<Pick<StoreStats, 'bytes'>> {
    // The engine's tables with their indexes and TOAST, in the schema it uses: other data in the database is not ours.
    const { rows } = await this.pool.query<{ bytes: string | null }>(
      `SELECT sum(pg_total_relation_size(c.oid)) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = current_schema() AND c.relkind = 'r'`,
    );
    return { bytes: Number(rows[0].bytes ?? 0) };
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/**
 * Connects to the database in `url`, migrating it to the current schema. Rejects with StoreError 'cannot-open' when
 * the login or database is refused, 'unavailable' when the server cannot be reached, 'newer-schema' when a newer
 * engine migrated it, 'migration-failed' when an upgrade fails (the database keeps its version).
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<AdvisStore> {
  const location = redactedUrl(url);
  const log = options.onLog ?? (() => undefined);
  const pool = new pg.Pool({
    connectionString: withPassword(url, options.password),
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    lock_timeout: options.lockTimeoutMs ?? 30_000,
    // A transaction left open by a frozen instance would hold its patients' locks; the server ends it.
    idle_in_transaction_session_timeout: 60_000,
    keepAlive: true,
    application_name: 'advis-engine',
    types,
  });
  // An idle connection that the server closes (restart, failover) is reported here; without a listener it would end the process.
  pool.on('error', (error) => log('warn', `a connection to the store ${location} ended: ${error.message}; the next work connects again`));
  try {
    const client = await pool.connect();
    let broken: Error | undefined;
    const lost = (error: Error): void => void (broken = error);
    client.on('error', lost);
    try {
      await migratePostgres(client, location, options.migrations ?? POSTGRES_MIGRATIONS);
    } finally {
      client.off('error', lost);
      client.release(broken);
    }
  } catch (error) {
    await pool.end().catch(() => undefined);
    const mapped = toStoreError(error, `opening the store ${location}`);
    if (mapped instanceof StoreError) throw mapped;
    throw new StoreError('cannot-open', `cannot open the store ${location}: ${(error as Error).message}`, { cause: error });
  }
  return new SqlStore(new PostgresDatabase(pool, location));
}
