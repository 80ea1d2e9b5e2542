// The AdvisStore on SQLite through better-sqlite3: one file per site, opened by the site's config node or the command
// line, the embedded default for one machine. better-sqlite3 rather than node:sqlite because Node 22 still marks
// node:sqlite experimental (a warning in every Node-RED log) and better-sqlite3 ships prebuilt binaries
// (docs/architecture.md). The SQL itself is ./sql-store.ts, shared with PostgreSQL.
//
// better-sqlite3 is synchronous and the connection is one, so a transaction that waits on `await`s between its
// statements must have the connection to itself: transactions run one at a time, and statements outside them wait
// for the one under way (they would otherwise see its uncommitted writes). Other processes on the same file are kept
// out by SQLite's write lock (BEGIN IMMEDIATE, waiting up to the busy timeout).
//
// Durability: write-ahead logging with synchronous=FULL, so each commit is fsynced before it resolves. With NORMAL a
// power cut may lose the last commits, and the engine acknowledges the EPR after the commit: a lost commit would be an
// advis nobody resends. FULL measured ~4.4k commits/s on a development machine, far above ADT volumes.
//
// The in-memory store for tests is this same code on ':memory:', so tests exercise the real SQL.

import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { StoreError, type StoreErrorCode } from './errors';
import { MIGRATIONS, migrate, type Migration } from './schema';
import { SqlStore, type SqlConnection, type SqlDatabase } from './sql-store';
import type { AdvisStore, StoreStats } from './types';

export interface SqliteStoreOptions {
  /** How long a write waits for another process's transaction before failing with 'busy'; default 5000 ms. */
  busyTimeoutMs?: number;
  /** The schema history; default the shipped MIGRATIONS. Tests append one to prove that upgrades work. */
  migrations?: readonly Migration[];
}

const MEMORY = ':memory:';

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
    return new SqlStore(new SqliteDatabase(db, location));
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

/** PRAGMA synchronous answers with the level's number. */
const SYNCHRONOUS_LEVELS = ['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const;

/** Maps a SQLite failure to a StoreError; anything else (a bug) passes through unchanged. */
function toStoreError(error: unknown, doing: string): unknown {
  if (error instanceof StoreError || !(error instanceof Database.SqliteError)) return error;
  const code = sqliteCode(error.code);
  return code ? new StoreError(code, `${doing} failed: ${error.message}`, { cause: error }) : error;
}

function sqliteCode(code: string): StoreErrorCode | undefined {
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return 'duplicate';
  if (code.startsWith('SQLITE_CONSTRAINT')) return 'constraint';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM') || code.startsWith('SQLITE_NOTADB')) return 'cannot-open';
  if (/^SQLITE_(IOERR|FULL|READONLY|CORRUPT)/.test(code)) return 'io';
  return undefined;
}

/** `$1` → `@p1`: better-sqlite3 takes named parameters, not numbered ones. */
const named = (sql: string): string => sql.replace(/\$(\d+)/g, '@p$1');

class SqliteDatabase implements SqlDatabase {
  readonly kind = 'sqlite';
  readonly lockSql = null;
  readonly claimSql =
    // The planner prefers outbox_by_status and sorts every pending row for the GROUP BY (25 ms per call with 10,000
    // pending); the partial index is already in (stay_key, id) order, so the heads come from one scan (1 ms).
    `SELECT id, message_header_id AS "messageHeaderId", stay_key AS "stayKey" FROM outbox
     WHERE id IN (SELECT min(id) FROM outbox INDEXED BY outbox_pending WHERE status IN ('queued', 'failed') GROUP BY stay_key)
       AND next_attempt_at <= $1 AND (claim_until IS NULL OR claim_until <= $1 OR claimed_by = $2)
     ORDER BY id LIMIT $3`;
  readonly connection: SqlConnection;
  private readonly statements = new Map<string, Database.Statement>();
  /** While a transaction runs: settles when it ends. */
  private running?: Promise<void>;

  constructor(
    private readonly db: Database.Database,
    readonly location: string,
  ) {
    this.connection = { query: (sql, values) => this.whenIdle(() => this.run(sql, values)) };
  }

  /**
   * Runs `work` once no transaction is running, in the same turn as the check: a waiter that returned first and ran
   * later (an `await` between) could find that another waiter had begun a transaction meanwhile, and two BEGINs on
   * the one connection interleave (the pruner beside the engine met exactly that).
   */
  private async whenIdle<T>(work: () => T): Promise<T> {
    while (this.running) await this.running;
    return work();
  }

  private run<R>(sql: string, values: readonly unknown[] = []): { rows: R[]; count: number } {
    let statement = this.statements.get(sql);
    if (!statement) this.statements.set(sql, (statement = this.db.prepare(named(sql))));
    const parameters = Object.fromEntries(values.map((v, i) => [`p${i + 1}`, v]));
    const bound = values.length ? [parameters] : [];
    if (statement.reader) {
      const rows = statement.all(...bound) as R[];
      return { rows, count: rows.length };
    }
    return { rows: [], count: statement.run(...bound).changes };
  }

  async transaction<T>(work: (connection: SqlConnection) => Promise<T>): Promise<T> {
    let end!: () => void;
    await this.whenIdle(() => {
      this.running = new Promise((resolve) => (end = resolve));
    });
    try {
      this.db.exec('BEGIN IMMEDIATE');
      const result = await work({ query: async (sql, values) => this.run(sql, values) });
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw error;
    } finally {
      this.running = undefined;
      end();
    }
  }

  toStoreError(error: unknown, doing: string): unknown {
    return toStoreError(error, doing);
  }

  async schemaVersion(): Promise<number> {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  details(): Promise<Pick<StoreStats, 'sqlite' | 'bytes'>> {
    return this.whenIdle(() => this.readDetails());
  }

  private readDetails(): Pick<StoreStats, 'sqlite' | 'bytes'> {
    const pragma = (name: string): unknown => this.db.pragma(name, { simple: true });
    const bytes = (pragma('page_count') as number) * (pragma('page_size') as number);
    const walBytes = this.location === MEMORY ? 0 : (fs.statSync(`${this.location}-wal`, { throwIfNoEntry: false })?.size ?? 0);
    return {
      bytes: bytes + walBytes,
      sqlite: {
        settings: {
          journalMode: pragma('journal_mode') as string,
          synchronous: SYNCHRONOUS_LEVELS[pragma('synchronous') as number],
          foreignKeys: pragma('foreign_keys') === 1,
          busyTimeoutMs: pragma('busy_timeout') as number,
        },
        bytes,
        walBytes,
      },
    };
  }

  close(): Promise<void> {
    return this.whenIdle(() => {
      if (!this.db.open) return;
      // SQLite's advice for long-lived connections: refresh the planner's statistics where they have gone stale.
      this.db.pragma('optimize');
      this.db.close();
    });
  }
}
