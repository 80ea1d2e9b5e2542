// The store's public face: the AdvisStore contract, its two implementations (SQLite, PostgreSQL) and its error type.
// Other layers import from here, never from the files behind it, and open a store with `openStore`, which picks the
// database from the location: a `postgres://` URL, or else a SQLite file.

import { isPostgresUrl, openPostgresStore, type PostgresStoreOptions } from './postgres';
import { openSqliteStore } from './sqlite';
import type { AdvisStore } from './types';

export { StoreError, type StoreErrorCode } from './errors';
export { MIGRATIONS, type Migration } from './schema';
export { DEFAULT_RETENTION, retentionFrom } from './sql-store';
export { POSTGRES_MIGRATIONS, type PostgresMigration } from './postgres-schema';
export { openMemoryStore, openSqliteStore, type SqliteStoreOptions } from './sqlite';
export { isPostgresUrl, openPostgresStore, redactedUrl, type PostgresStoreOptions } from './postgres';
export type * from './types';

/** Opens the store at `location`: a `postgres://` (or `postgresql://`) URL, a SQLite file, or ':memory:'. */
export async function openStore(location: string, options: Pick<PostgresStoreOptions, 'password' | 'onLog'> = {}): Promise<AdvisStore> {
  return isPostgresUrl(location) ? openPostgresStore(location.trim(), options) : openSqliteStore(location);
}
