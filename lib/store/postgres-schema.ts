// The PostgreSQL schema as an ordered list of migrations, and the code that brings a database up to date when an
// instance opens it. The same tables and columns as the SQLite schema (./schema.ts) (PostgreSQL version 1 is SQLite's 4, 2 is 5), so the SQL in
// ./sql-store.ts runs on both; its own history, because it starts where SQLite's had got to. The version is the one
// row of `advis_schema`, written in the migration's own transaction. To change the schema, append a migration here
// and one to SQLite's list; never edit a released one.
//
// Several instances start at once: the migration runs under a session advisory lock, so the first migrates and the
// others wait for it, then find nothing left to do.
//
// Conventions as in SQLite: payloads are JSON text (the large ones packed, in bytea), times are bigint milliseconds since the epoch, ids are identity
// columns (never reused; outbox ids are the order messages were made). `stays.rowid` keeps SQLite's name for the
// order stays were first written.

import type pg from 'pg';
import { StoreError } from './errors';

export interface PostgresMigration {
  version: number;
  description: string;
  sql: string;
}

const FIRST_SCHEMA = `
CREATE TABLE stays (
  rowid       bigint GENERATED ALWAYS AS IDENTITY,
  key         text PRIMARY KEY,
  patient_key text NOT NULL,
  hospital    text NOT NULL,
  open        integer NOT NULL,
  state       text NOT NULL
);
CREATE INDEX stays_by_patient ON stays (patient_key, open);
CREATE INDEX stays_by_hospital ON stays (hospital, open);

CREATE TABLE processed (
  idempotency_key text PRIMARY KEY,
  outcome         text NOT NULL,
  at              bigint NOT NULL
);

CREATE TABLE outbox (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_header_id text NOT NULL UNIQUE,
  bundle_id         text NOT NULL,
  stay_key          text NOT NULL REFERENCES stays (key),
  advis             text NOT NULL,
  receiver_gln      text NOT NULL,
  receiver_sor      text NOT NULL,
  format            text NOT NULL,
  status            text NOT NULL,
  attempts          integer NOT NULL,
  network_failures  integer NOT NULL DEFAULT 0,
  created_at        bigint NOT NULL,
  next_attempt_at   bigint NOT NULL,
  last_error        text,
  claimed_by        text,
  claim_until       bigint
);
CREATE INDEX outbox_by_stay ON outbox (stay_key, id);
CREATE INDEX outbox_by_status ON outbox (status, id);
CREATE INDEX outbox_by_bundle ON outbox (bundle_id);
-- The heads of the per-stay queues, found without reading what was delivered long ago.
CREATE INDEX outbox_pending ON outbox (stay_key, id) WHERE status IN ('queued', 'failed');

-- The body apart from the row whose status changes: an UPDATE writes a new version of the whole row.
CREATE TABLE outbox_body (
  id   bigint PRIMARY KEY REFERENCES outbox (id),
  body text NOT NULL
);

CREATE TABLE outbox_transmission (
  message_header_id text PRIMARY KEY,
  id                bigint NOT NULL REFERENCES outbox (id)
);

CREATE TABLE deferred (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  idempotency_key text NOT NULL UNIQUE,
  stay_key        text,
  due_at          bigint NOT NULL,
  payload         text NOT NULL,
  created_at      bigint NOT NULL
);
CREATE INDEX deferred_by_due ON deferred (due_at, id);
CREATE INDEX deferred_by_stay ON deferred (stay_key, due_at);

CREATE TABLE held (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  idempotency_key text NOT NULL,
  reason          text NOT NULL,
  payload         text NOT NULL,
  created_at      bigint NOT NULL
);

CREATE TABLE audit (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at                bigint NOT NULL,
  outcome           text NOT NULL,
  idempotency_key   text,
  event             text,
  stay_key          text,
  advis             text,
  reason            text,
  message_header_id text,
  receiver_gln      text,
  detail            text
);
CREATE INDEX audit_by_at ON audit (at);
CREATE INDEX audit_by_idempotency_key ON audit (idempotency_key);
CREATE INDEX audit_by_stay ON audit (stay_key);
CREATE INDEX audit_by_message_header ON audit (message_header_id);

CREATE TABLE secrets (
  name  text PRIMARY KEY,
  value text NOT NULL
);
`;

/** The schema history, oldest first. */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    description: 'stays, processed messages, outbox with bodies, transmissions and claims, deferred events, held outcomes, audit trail, secrets',
    sql: FIRST_SCHEMA,
  },
  {
    version: 2,
    description: 'the audit of people, indexes for the monitor and for retention; Bundles, stays and outcomes packed (lib/store/pack.ts)',
    // bytea for the packed values; the text already there becomes its UTF-8 bytes, which unpack reads as text.
    sql: `
      ALTER TABLE outbox_body ALTER COLUMN body TYPE bytea USING convert_to(body, 'UTF8');
      ALTER TABLE stays ALTER COLUMN state TYPE bytea USING convert_to(state, 'UTF8');
      ALTER TABLE processed ALTER COLUMN outcome TYPE bytea USING convert_to(outcome, 'UTF8');
      CREATE TABLE operator_audit (
        id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at     bigint NOT NULL,
        "user" text NOT NULL,
        action text NOT NULL,
        target text,
        detail text
      );
      CREATE INDEX operator_audit_by_at ON operator_audit (at);
      CREATE INDEX operator_audit_by_target ON operator_audit (target);
      CREATE INDEX processed_by_at ON processed (at);
      CREATE INDEX outbox_by_receiver ON outbox (receiver_gln, status);
    `,
  },
];

/** The session advisory lock the migration holds (two-key form, apart from the patients' one-key locks). */
const MIGRATION_LOCK = [0x61647673, 1];

/**
 * Applies the migrations the database has not had, each in its own transaction, while holding the migration lock.
 * Returns the database's version afterwards.
 */
export async function migratePostgres(client: pg.ClientBase, location: string, migrations: readonly PostgresMigration[]): Promise<number> {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${i + 1} has version ${m.version}: migrations must be numbered 1, 2, 3, … in order`);
  });
  const latest = migrations.length;
  await client.query('SELECT pg_advisory_lock($1, $2)', MIGRATION_LOCK);
  try {
    await client.query('CREATE TABLE IF NOT EXISTS advis_schema (version integer NOT NULL)');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM advis_schema');
    const current = rows[0]?.version ?? 0;
    if (current > latest) {
      throw new StoreError(
        'newer-schema',
        `the store ${location} has schema version ${current}, but this version of the engine knows only up to ${latest}: upgrade the engine, or use another database`,
      );
    }
    for (const migration of migrations.slice(current)) {
      try {
        await client.query('BEGIN');
        await client.query(migration.sql);
        await client.query(migration.version === 1 ? 'INSERT INTO advis_schema (version) VALUES (1)' : `UPDATE advis_schema SET version = ${migration.version}`);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new StoreError('migration-failed', `migrating the store ${location} to version ${migration.version} (${migration.description}) failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
    return latest;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, $2)', MIGRATION_LOCK).catch(() => undefined);
  }
}
