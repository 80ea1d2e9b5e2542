// The store's public face: the AdvisStore contract, its SQLite implementation and its error type. Other layers import
// from here, never from the files behind it.

export { StoreError, type StoreErrorCode } from './errors';
export { MIGRATIONS, type Migration } from './schema';
export { openMemoryStore, openSqliteStore, type SqliteStoreOptions } from './sqlite';
export type * from './types';
