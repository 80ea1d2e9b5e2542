// The SQLite schema (PostgreSQL's is ./postgres-schema.ts) as an ordered list of migrations, and the code that brings a file up to date when it is opened.
// The schema version is SQLite's `user_version` header field, written in the same transaction as the migration, so a
// file is always at exactly one version. To change the schema, append a migration; never edit a released one, since
// files in the field were created by it.
//
// Storage conventions, kept by every migration:
// - structured payloads (StayState, outcomes, AdtEvents) are JSON text; the scalars the store looks up by are copied
//   into indexed columns when the row is written;
// - times are INTEGER milliseconds since the epoch, so they compare and sort correctly whatever offset they came with;
// - ids of rows that workers remove by id are AUTOINCREMENT, so an id is never reused and a stale removal cannot hit
//   a newer row; outbox ids are also the global send order.

import type Database from 'better-sqlite3';
import { StoreError } from './errors';

export interface Migration {
  /** 1 for the first schema, then each next integer. */
  version: number;
  description: string;
  /** Runs inside the migration transaction, with foreign keys enforced. */
  up(db: Database.Database): void;
}

const FIRST_SCHEMA = `
CREATE TABLE stays (
  key         TEXT PRIMARY KEY,
  patient_key TEXT NOT NULL,
  hospital    TEXT NOT NULL,
  open        INTEGER NOT NULL,
  state       TEXT NOT NULL
);
CREATE INDEX stays_by_patient ON stays (patient_key, open);
CREATE INDEX stays_by_hospital ON stays (hospital, open);

CREATE TABLE processed (
  idempotency_key TEXT PRIMARY KEY,
  outcome         TEXT NOT NULL,
  at              INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE outbox (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  message_header_id TEXT NOT NULL UNIQUE,
  bundle_id         TEXT NOT NULL,
  stay_key          TEXT NOT NULL REFERENCES stays (key),
  advis             TEXT NOT NULL,
  receiver_gln      TEXT NOT NULL,
  receiver_sor      TEXT NOT NULL,
  format            TEXT NOT NULL,
  body              TEXT NOT NULL,
  status            TEXT NOT NULL,
  attempts          INTEGER NOT NULL,
  created_at        INTEGER NOT NULL,
  next_attempt_at   INTEGER NOT NULL,
  last_error        TEXT
);
CREATE INDEX outbox_by_stay ON outbox (stay_key, id);
CREATE INDEX outbox_by_status ON outbox (status, id);
-- The heads of the per-stay queues, found without reading what was delivered long ago.
CREATE INDEX outbox_pending ON outbox (stay_key, id) WHERE status IN ('queued', 'failed');

CREATE TABLE deferred (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  idempotency_key TEXT NOT NULL UNIQUE,
  stay_key        TEXT,
  due_at          INTEGER NOT NULL,
  payload         TEXT NOT NULL,
  created_at      INTEGER NOT NULL
);
CREATE INDEX deferred_by_due ON deferred (due_at, id);
CREATE INDEX deferred_by_stay ON deferred (stay_key, due_at);

CREATE TABLE held (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  idempotency_key TEXT NOT NULL,
  reason          TEXT NOT NULL,
  payload         TEXT NOT NULL,
  created_at      INTEGER NOT NULL
);

CREATE TABLE audit (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  at                INTEGER NOT NULL,
  outcome           TEXT NOT NULL,
  idempotency_key   TEXT,
  event             TEXT,
  stay_key          TEXT,
  advis             TEXT,
  reason            TEXT,
  message_header_id TEXT,
  receiver_gln      TEXT,
  detail            TEXT
);
CREATE INDEX audit_by_at ON audit (at);
CREATE INDEX audit_by_idempotency_key ON audit (idempotency_key);
CREATE INDEX audit_by_stay ON audit (stay_key);
CREATE INDEX audit_by_message_header ON audit (message_header_id);

CREATE TABLE secrets (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
`;

/** The schema history, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'stays, processed messages, outbox, deferred events, held outcomes, audit trail, secrets',
    up: (db) => db.exec(FIRST_SCHEMA),
  },
  {
    version: 2,
    description: 'outbox: network failures in a row (the back-off survives a restart), lookup by Bundle.id (VANS receipts), bodies in their own table',
    // SQLite rewrites a whole row on UPDATE, so with the ~9 kB body in the outbox row every status change wrote it again.
    up: (db) =>
      db.exec(`
        ALTER TABLE outbox ADD COLUMN network_failures INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX outbox_by_bundle ON outbox (bundle_id);
        CREATE TABLE outbox_body (
          id   INTEGER PRIMARY KEY REFERENCES outbox (id),
          body TEXT NOT NULL
        );
        INSERT INTO outbox_body (id, body) SELECT id, body FROM outbox;
        ALTER TABLE outbox DROP COLUMN body;
      `),
  },
  {
    version: 3,
    description: 'outbox: the MessageHeader.ids of resends sent as new messages, so their acknowledgements find the entry',
    up: (db) =>
      db.exec(`
        CREATE TABLE outbox_transmission (
          message_header_id TEXT PRIMARY KEY,
          id                INTEGER NOT NULL REFERENCES outbox (id)
        ) WITHOUT ROWID;
      `),
  },
  {
    version: 4,
    description: 'outbox: claims, so several senders on one store never send the same message (lib/store/types.ts, claimDue)',
    up: (db) =>
      db.exec(`
        ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
        ALTER TABLE outbox ADD COLUMN claim_until INTEGER;
      `),
  },
  {
    version: 5,
    description: 'the audit of people, indexes for the monitor and for retention; Bundles, stays and outcomes packed (lib/store/pack.ts)',
    // Packed values are BLOBs in the same TEXT columns (SQLite keeps a value's own type), so the rows written before
    // stay as they are and are read as text.
    up: (db) =>
      db.exec(`
        CREATE TABLE operator_audit (
          id     INTEGER PRIMARY KEY AUTOINCREMENT,
          at     INTEGER NOT NULL,
          "user" TEXT NOT NULL,
          action TEXT NOT NULL,
          target TEXT,
          detail TEXT
        );
        CREATE INDEX operator_audit_by_at ON operator_audit (at);
        CREATE INDEX operator_audit_by_target ON operator_audit (target);
        CREATE INDEX processed_by_at ON processed (at);
        CREATE INDEX outbox_by_receiver ON outbox (receiver_gln, status);
      `),
  },
];

/**
 * Applies the migrations the file has not had, all in one write transaction (a second process opening the same file
 * waits, then finds nothing left to do). Returns the file's version afterwards.
 */
export function migrate(db: Database.Database, file: string, migrations: readonly Migration[]): number {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${i + 1} has version ${m.version}: migrations must be numbered 1, 2, 3, … in order`);
  });
  const latest = migrations.length;
  return db
    .transaction(() => {
      const current = db.pragma('user_version', { simple: true }) as number;
      if (current > latest) {
        throw new StoreError(
          'newer-schema',
          `the store ${file} has schema version ${current}, but this version of the engine knows only up to ${latest}: upgrade the engine, or open another file`,
        );
      }
      for (const migration of migrations.slice(current)) {
        try {
          migration.up(db);
        } catch (error) {
          throw new StoreError('migration-failed', `migrating the store ${file} to version ${migration.version} (${migration.description}) failed: ${(error as Error).message}`, {
            cause: error,
          });
        }
        // PRAGMA cannot take a bound parameter; the version is an integer checked above.
        db.pragma(`user_version = ${migration.version}`);
      }
      return latest;
    })
    .immediate();
}
