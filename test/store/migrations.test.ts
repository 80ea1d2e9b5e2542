// Schema migrations, SQLite and PostgreSQL: a store is brought up to date once (also when several instances start
// together), keeps its data, and one from a newer engine is refused rather than misread. The later migration here is test-only, injected the way a real one is
// appended to MIGRATIONS.
import { expect } from 'chai';
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pg from 'pg';
import type { StayState } from '../../lib/advis/types';
import { MIGRATIONS, openPostgresStore, openSqliteStore, POSTGRES_MIGRATIONS, StoreError, type AdvisStore, type Migration, type PostgresMigration } from '../../lib/store';
import { PG_PASSWORD, postgresMissing, startPostgres, withLogin, type TestPostgres } from '../support/postgres';
import { describeNeeding } from '../support/shared';

const AT = '2025-03-11T07:00:00.000Z';

/** The migrations with a record of which ones ran. */
function counted(migrations: readonly Migration[], ran: number[]): Migration[] {
  return migrations.map((m) => ({ ...m, up: (db) => (ran.push(m.version), m.up(db)) }));
}

/** The version after the last real migration: the test-only one comes next. */
const NEXT = MIGRATIONS.length + 1;

const addNoteColumn: Migration = {
  version: NEXT,
  description: 'test only: a note on each stay',
  up: (db) => db.exec('ALTER TABLE stays ADD COLUMN note TEXT'),
};

function columns(file: string, table: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
  } finally {
    db.close();
  }
}

function userVersion(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}

describe('store schema migrations', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-migrations-'));
    file = path.join(dir, 'advis.db');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Opens the file with these migrations, leaves a mark in the audit trail, closes it; returns which migrations ran. */
  async function openOnce(migrations: readonly Migration[], mark: string): Promise<number[]> {
    const ran: number[] = [];
    const store = openSqliteStore(file, { migrations: counted(migrations, ran) });
    await store.commit({ audit: [{ at: AT, outcome: 'none', idempotencyKey: mark }] });
    await store.close();
    return ran;
  }

  it('creates a new file at the latest version and applies no migration twice on reopening', async () => {
    expect(await openOnce(MIGRATIONS, 'first')).to.deep.equal(MIGRATIONS.map((m) => m.version));
    expect(await openOnce(MIGRATIONS, 'second')).to.deep.equal([]);
    expect(userVersion(file)).to.equal(MIGRATIONS.length);
  });

  it('upgrades a file created by an earlier version when a migration is appended, keeping its data', async () => {
    await openOnce(MIGRATIONS, 'written before');
    expect(userVersion(file)).to.equal(MIGRATIONS.length);

    expect(await openOnce([...MIGRATIONS, addNoteColumn], 'written after')).to.deep.equal([NEXT]);
    expect(userVersion(file)).to.equal(NEXT);
    expect(columns(file, 'stays')).to.include('note');
    expect(await openOnce([...MIGRATIONS, addNoteColumn], 'again after')).to.deep.equal([]);

    const store = openSqliteStore(file, { migrations: [...MIGRATIONS, addNoteColumn] });
    try {
      expect((await store.audit()).map((a) => a.idempotencyKey)).to.deep.equal(['written before', 'written after', 'again after']);
      expect((await store.stats()).schemaVersion).to.equal(NEXT);
    } finally {
      await store.close();
    }
  });

  it('refuses a file written by a newer engine, and leaves it untouched', async () => {
    await openOnce([...MIGRATIONS, addNoteColumn], 'newer');
    expect(() => openSqliteStore(file))
      .to.throw(StoreError, new RegExp(`schema version ${NEXT}, but this version of the engine knows only up to ${MIGRATIONS.length}`))
      .with.property('code', 'newer-schema');
    expect(userVersion(file)).to.equal(NEXT);
  });

  it('leaves the file at its version when a migration fails part-way', async () => {
    await openOnce(MIGRATIONS, 'before');
    const halfDone: Migration = {
      version: NEXT,
      description: 'test only: fails after its first step',
      up: (db) => {
        db.exec('CREATE TABLE half_done (x)');
        throw new Error('second step failed');
      },
    };
    expect(() => openSqliteStore(file, { migrations: [...MIGRATIONS, halfDone] }))
      .to.throw(StoreError, new RegExp(`to version ${NEXT} .*second step failed`))
      .with.property('code', 'migration-failed');
    expect(userVersion(file)).to.equal(MIGRATIONS.length);
    const db = new Database(file, { readonly: true });
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half_done'").all()).to.deep.equal([]);
    db.close();
  });

  it('refuses a migration list with a gap', () => {
    expect(() => openSqliteStore(file, { migrations: [...MIGRATIONS, { ...addNoteColumn, version: NEXT + 1 }] })).to.throw(/numbered 1, 2, 3/);
  });

  it('version 2: an outbox written at version 1 keeps its bodies, gets a network failure count of 0 and is found by Bundle.id', async () => {
    // A file as version 1 of the engine left it (this engine's statements need the new column, so not opened by it).
    const db = new Database(file);
    MIGRATIONS[0].up(db);
    db.pragma('user_version = 1');
    db.exec(`INSERT INTO stays (key, patient_key, hospital, open, state) VALUES ('S1', 'P1', 'H', 1, '{}');
      INSERT INTO outbox (message_header_id, bundle_id, stay_key, advis, receiver_gln, receiver_sor, format, body, status,
        attempts, created_at, next_attempt_at) VALUES ('M1', 'B1', 'S1', 'STIN', '5790000000000', '1', 'json', '{"resourceType":"Bundle"}', 'failed', 1, 0, 0)`);
    db.close();
    const store = openSqliteStore(file);
    try {
      expect(await store.getOutbox('M1')).to.include({ bundleId: 'B1', status: 'failed', networkFailures: 0, body: '{"resourceType":"Bundle"}' });
      expect(columns(file, 'outbox')).not.to.include('body');
      expect((await store.outboxByBundleId('B1'))?.messageHeaderId).to.equal('M1');
      expect(await store.outboxByBundleId('B2')).to.equal(undefined);
    } finally {
      await store.close();
    }
  });

  it('version 5: rows written as text before packing are read as they were, and new ones are packed and smaller', async () => {
    const db = new Database(file);
    MIGRATIONS.slice(0, 4).forEach((m) => m.up(db));
    db.pragma('user_version = 4');
    db.exec(OLD_ROWS_SQLITE);
    db.close();
    const store = openSqliteStore(file);
    try {
      await expectOldRowsRead(store);
      const raw = new Database(file, { readonly: true });
      try {
        const [oldBody, newBody] = raw.prepare('SELECT typeof(body) AS type, length(body) AS bytes FROM outbox_body ORDER BY id').all() as { type: string; bytes: number }[];
        expect(oldBody.type).to.equal('text');
        expect(newBody.type).to.equal('blob');
        expect(newBody.bytes).to.be.below(BIG_BODY.length / 5);
        expect((raw.prepare("SELECT typeof(state) AS type FROM stays WHERE key = 'S2'").get() as { type: string }).type).to.equal('blob');
      } finally {
        raw.close();
      }
    } finally {
      await store.close();
    }
  });
});

/** A Bundle-like body that packs well, as real ones do (~6 kB of JSON with MedCom's profile URLs). */
const BIG_BODY = JSON.stringify({
  resourceType: 'Bundle',
  entry: Array.from({ length: 20 }, (_, i) => ({ fullUrl: `https://medcom.dk/fhir/Encounter/${i}`, resource: { meta: { profile: ['http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-hospitalNotification-encounter'] } } })),
});
const OLD_ROWS_SQLITE = `INSERT INTO stays (key, patient_key, hospital, open, state) VALUES ('S1', 'P1', 'H', 1, '{"key":"S1","old":true}');
  INSERT INTO processed (idempotency_key, outcome, at) VALUES ('K1', '{"old":true}', 0);
  INSERT INTO outbox (message_header_id, bundle_id, stay_key, advis, receiver_gln, receiver_sor, format, status, attempts, created_at, next_attempt_at)
    VALUES ('M1', 'B1', 'S1', 'STIN', '5790000000000', '1', 'json', 'queued', 0, 0, 0);
  INSERT INTO outbox_body (id, body) SELECT id, '{"resourceType":"Bundle","old":true}' FROM outbox WHERE message_header_id = 'M1';`;

/** The rows of OLD_ROWS_SQLITE read back through the current engine, then new ones written beside them. */
async function expectOldRowsRead(store: AdvisStore): Promise<void> {
  expect(await store.getStay('S1')).to.deep.equal({ key: 'S1', old: true });
  expect((await store.getProcessed('K1'))?.outcome).to.deep.equal({ old: true });
  expect((await store.getOutbox('M1'))?.body).to.equal('{"resourceType":"Bundle","old":true}');
  const state = { key: 'S2', patientKey: 'P2', hospital: 'H', status: 'admitted' } as unknown as StayState;
  await store.commit({
    stays: [state],
    outbox: [{ messageHeaderId: 'M2', bundleId: 'B2', stayKey: 'S2', advis: 'STIN', receiverGln: '5790000000000', receiverSor: '1', format: 'json', body: BIG_BODY, createdAt: AT }],
  });
  expect(await store.getStay('S2')).to.deep.equal(state);
  expect((await store.getOutbox('M2'))?.body).to.equal(BIG_BODY);
}

describeNeeding('store schema migrations: PostgreSQL', postgresMissing, function () {
  this.timeout(60_000);
  let server: TestPostgres;
  before(async () => {
    server = await startPostgres();
  });
  after(async () => await server?.destroy());

  const schemaRows = async (url: string): Promise<number[]> => {
    const client = new pg.Client({ connectionString: withLogin(url) });
    await client.connect();
    try {
      return (await client.query<{ version: number }>('SELECT version FROM advis_schema')).rows.map((r) => r.version);
    } finally {
      await client.end();
    }
  };
  const addNote: PostgresMigration = { version: POSTGRES_MIGRATIONS.length + 1, description: 'test only: a note on each stay', sql: 'ALTER TABLE stays ADD COLUMN note text' };

  it('migrates once when several instances start together, and records one version', async () => {
    const url = await server.database();
    const stores = await Promise.all([1, 2, 3, 4].map(() => openPostgresStore(url, { password: PG_PASSWORD })));
    await Promise.all(stores.map((s) => s.close()));
    expect(await schemaRows(url)).to.deep.equal([POSTGRES_MIGRATIONS.length]);
  });

  it('upgrades with an appended migration, and refuses a database a newer engine migrated', async () => {
    const url = await server.database();
    await (await openPostgresStore(url, { password: PG_PASSWORD })).close();
    await (await openPostgresStore(url, { password: PG_PASSWORD, migrations: [...POSTGRES_MIGRATIONS, addNote] })).close();
    expect(await schemaRows(url)).to.deep.equal([addNote.version]);
    const refused = await openPostgresStore(url, { password: PG_PASSWORD }).then(
      () => expect.fail('an older engine opened a newer schema'),
      (e: unknown) => e,
    );
    expect(refused).to.be.instanceOf(StoreError).with.property('code', 'newer-schema');
    expect((refused as Error).message).to.match(new RegExp(`schema version ${addNote.version}, but this version of the engine knows only up to ${POSTGRES_MIGRATIONS.length}`));
  });

  it('leaves the database at its version when a migration fails part-way', async () => {
    const url = await server.database();
    await (await openPostgresStore(url, { password: PG_PASSWORD })).close();
    const halfDone: PostgresMigration = { ...addNote, sql: 'CREATE TABLE half_done (x int); SELECT no_such_function()' };
    const failed = await openPostgresStore(url, { password: PG_PASSWORD, migrations: [...POSTGRES_MIGRATIONS, halfDone] }).then(
      () => expect.fail('a failing migration opened'),
      (e: unknown) => e,
    );
    expect(failed).to.be.instanceOf(StoreError).with.property('code', 'migration-failed');
    expect(await schemaRows(url)).to.deep.equal([POSTGRES_MIGRATIONS.length]);
    const store = await openPostgresStore(url, { password: PG_PASSWORD });
    await store.close();
  });

  it('version 2: text written at version 1 is read as it was, and new rows are packed', async () => {
    const url = await server.database();
    await (await openPostgresStore(url, { password: PG_PASSWORD, migrations: POSTGRES_MIGRATIONS.slice(0, 1) })).close();
    const client = new pg.Client({ connectionString: withLogin(url) });
    await client.connect();
    try {
      await client.query(OLD_ROWS_SQLITE);
    } finally {
      await client.end();
    }
    const store = await openPostgresStore(url, { password: PG_PASSWORD });
    try {
      await expectOldRowsRead(store);
    } finally {
      await store.close();
    }
    const check = new pg.Client({ connectionString: withLogin(url) });
    await check.connect();
    try {
      const { rows } = await check.query<{ first: number; bytes: number }>('SELECT get_byte(body, 0) AS first, length(body) AS bytes FROM outbox_body ORDER BY id');
      expect(rows.map((r) => r.first)).to.deep.equal(['{'.charCodeAt(0), 1]);
      expect(rows[1].bytes).to.be.below(BIG_BODY.length / 5);
    } finally {
      await check.end();
    }
  });

  it('says so when the server cannot be reached, and names the database without its password', async () => {
    const url = `postgres://advis:secret-in-url@127.0.0.1:${server.port + 1}/nowhere`;
    const error = await openPostgresStore(url, { connectTimeoutMs: 1000 }).then(
      () => expect.fail('opened a store on no server'),
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(StoreError).with.property('code', 'unavailable');
    expect((error as Error).message).to.include('127.0.0.1').and.not.include('secret-in-url');
  });
});
