// The store's one error type, the same for both databases. Callers decide by `code` (retry on 'busy', replay on
// 'duplicate', answer AE on 'unavailable'), never by parsing the database's message text, which is kept only as the
// human-readable cause. Each store maps its own driver's errors (./sqlite.ts, ./postgres.ts).

export type StoreErrorCode =
  /** A unique key was taken: the same idempotency key, messageHeaderId or deferred event committed twice. */
  | 'duplicate'
  /** Another integrity rule failed, e.g. an outbox entry for a stay that is not in the store. */
  | 'constraint'
  /** A change refers to a row that is not there (already removed by another worker, or never written). */
  | 'not-found'
  /** Another connection held the write lock for longer than the busy timeout. */
  | 'busy'
  /** The file or its directory cannot be created, opened or written; the database refuses the connection or login. */
  | 'cannot-open'
  /** The database server cannot be reached now (down, restarting, network): the same work succeeds once it is back. */
  | 'unavailable'
  /** The file or database was written by a newer version of the engine. */
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
