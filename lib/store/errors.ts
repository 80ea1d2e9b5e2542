// The store's one error type. Callers decide by `code` (retry on 'busy', replay on 'duplicate', alert on 'io'),
// never by parsing SQLite's message text, which is kept only as the human-readable cause.

import Database from 'better-sqlite3';

export type StoreErrorCode =
  /** A unique key was taken: the same idempotency key, messageHeaderId or deferred event committed twice. */
  | 'duplicate'
  /** Another integrity rule failed, e.g. an outbox entry for a stay that is not in the store. */
  | 'constraint'
  /** A change refers to a row that is not there (already removed by another worker, or never written). */
  | 'not-found'
  /** Another connection held the write lock for longer than the busy timeout. */
  | 'busy'
  /** The file or its directory cannot be created, opened or written. */
  | 'cannot-open'
  /** The file was written by a newer version of the engine. */
  | 'newer-schema'
  /** A schema migration failed; the file is left at its previous version. */
  | 'migration-failed'
  /** A value cannot be stored as given, e.g. a time without a UTC offset. */
  | 'invalid-value'
  /** The disk is full, read-only, failing or the file is corrupt. */
  | 'io';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}

/** Maps a SQLite failure during a write to a StoreError; anything else (a bug) passes through unchanged. */
export function toStoreError(error: unknown, doing: string): unknown {
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
