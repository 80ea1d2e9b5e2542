// Schema migrations: a file is brought up to date once, in one transaction, keeps its data, and a file from a newer
// engine is refused rather than misread. The later migration here is test-only, injected the way a real one is
// appended to MIGRATIONS.
import { expect } from 'chai';
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MIGRATIONS, openSqliteStore, StoreError, type Migration } from '../../lib/store';

const AT = '2025-03-11T07:00:00.000Z';

/** The migrations with a record of which ones ran. */
function counted(migrations: readonly Migration[], ran: number[]): Migration[] {
  return migrations.map((m) => ({ ...m, up: (db) => (ran.push(m.version), m.up(db)) }));
}

const addNoteColumn: Migration = {
  version: 2,
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
  function openOnce(migrations: readonly Migration[], mark: string): number[] {
    const ran: number[] = [];
    const store = openSqliteStore(file, { migrations: counted(migrations, ran) });
    store.commit({ audit: [{ at: AT, outcome: 'none', idempotencyKey: mark }] });
    store.close();
    return ran;
  }

  it('creates a new file at the latest version and applies no migration twice on reopening', () => {
    expect(openOnce(MIGRATIONS, 'first')).to.deep.equal(MIGRATIONS.map((m) => m.version));
    expect(openOnce(MIGRATIONS, 'second')).to.deep.equal([]);
    expect(userVersion(file)).to.equal(MIGRATIONS.length);
  });

  it('upgrades a file created by version 1 when a migration is appended, keeping its data', () => {
    openOnce(MIGRATIONS, 'written at v1');
    expect(userVersion(file)).to.equal(1);

    expect(openOnce([...MIGRATIONS, addNoteColumn], 'written at v2')).to.deep.equal([2]);
    expect(userVersion(file)).to.equal(2);
    expect(columns(file, 'stays')).to.include('note');
    expect(openOnce([...MIGRATIONS, addNoteColumn], 'again at v2')).to.deep.equal([]);

    const store = openSqliteStore(file, { migrations: [...MIGRATIONS, addNoteColumn] });
    try {
      expect(store.audit().map((a) => a.idempotencyKey)).to.deep.equal(['written at v1', 'written at v2', 'again at v2']);
      expect(store.stats().schemaVersion).to.equal(2);
    } finally {
      store.close();
    }
  });

  it('refuses a file written by a newer engine, and leaves it untouched', () => {
    openOnce([...MIGRATIONS, addNoteColumn], 'v2');
    expect(() => openSqliteStore(file))
      .to.throw(StoreError, /schema version 2, but this version of the engine knows only up to 1/)
      .with.property('code', 'newer-schema');
    expect(userVersion(file)).to.equal(2);
  });

  it('leaves the file at its version when a migration fails part-way', () => {
    openOnce(MIGRATIONS, 'v1');
    const halfDone: Migration = {
      version: 2,
      description: 'test only: fails after its first step',
      up: (db) => {
        db.exec('CREATE TABLE half_done (x)');
        throw new Error('second step failed');
      },
    };
    expect(() => openSqliteStore(file, { migrations: [...MIGRATIONS, halfDone] }))
      .to.throw(StoreError, /to version 2 .*second step failed/)
      .with.property('code', 'migration-failed');
    expect(userVersion(file)).to.equal(1);
    const db = new Database(file, { readonly: true });
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half_done'").all()).to.deep.equal([]);
    db.close();
  });

  it('refuses a migration list with a gap', () => {
    expect(() => openSqliteStore(file, { migrations: [...MIGRATIONS, { ...addNoteColumn, version: 3 }] })).to.throw(/numbered 1, 2, 3/);
  });
});
