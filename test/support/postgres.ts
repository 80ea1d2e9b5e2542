// A throw-away PostgreSQL server for tests and benchmarks: Debian's server binaries (.ci/run installs the
// `postgresql` package when they are missing), `initdb` into a temporary directory and `pg_ctl` on a free port, with a
// password login (the store's URL carries none: PGPASSWORD or the password option gives it) and TLS from a
// throw-away CA. PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user the Debian
// package creates, and every command runs as that user.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './free-port';
import { makeTestCa } from './test-ca';

/** Where Debian puts the server binaries (initdb and pg_ctl are not on PATH there), newest version first. */
function binDir(): string | null {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => path.join(root, v, 'bin')).find((dir) => fs.existsSync(path.join(dir, 'initdb')));
  return found ?? null;
}

const BIN = binDir();
const asRoot = process.getuid?.() === 0;

/** Why PostgreSQL tests cannot run here, or null. For describeNeeding. */
export const postgresMissing: string | null = !BIN
  ? "PostgreSQL's server is not installed (apt-get install postgresql)"
  : asRoot && spawnSync('id', ['-u', 'postgres']).status !== 0
    ? 'running as root, and there is no postgres user to run the PostgreSQL server as'
    : null;

export const PG_USER = 'advis';
export const PG_PASSWORD = 'advis-test-password';

export interface TestPostgres {
  port: number;
  /** A URL without a password, for the `postgres` database; `database()` makes others. */
  url: string;
  /** The CA that signed the server's certificate, as a file, for sslrootcert. */
  caFile: string;
  /** Creates a fresh, empty database and returns its URL (no password). */
  database(name?: string): Promise<string>;
  /** Stops the server (fast shutdown: connections are ended), keeping its data. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  destroy(): Promise<void>;
  /** The server's log, for a failing test to show. */
  log(): string;
}

let databases = 0;

/** `url` with the test password in it, for a plain node-postgres client (the store takes the password apart). */
export function withLogin(url: string): string {
  const login = new URL(url);
  login.password = PG_PASSWORD;
  return login.toString();
}

function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}): string {
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  return execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
}

/**
 * Starts a server. `durable: false` (tests) turns fsync off, which only matters if the machine itself crashes;
 * benchmarks keep it on, as a real server would.
 */
export async function startPostgres(options: { durable?: boolean } = {}): Promise<TestPostgres> {
  if (postgresMissing) throw new Error(postgresMissing);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-pg-'));
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  const ca = makeTestCa();
  const files = { pw: path.join(dir, 'pw'), cert: path.join(dir, 'server.crt'), key: path.join(dir, 'server.key'), ca: path.join(dir, 'ca.crt') };
  fs.writeFileSync(files.pw, PG_PASSWORD);
  fs.writeFileSync(files.cert, ca.server.cert);
  fs.writeFileSync(files.key, ca.server.key, { mode: 0o600 });
  fs.writeFileSync(files.ca, ca.ca.cert);
  if (asRoot) execFileSync('chown', ['-R', 'postgres', dir]);
  fs.chmodSync(dir, 0o755); // the test process (root or not) reads the CA and the log
  run(path.join(BIN!, 'initdb'), ['-D', data, '-U', PG_USER, '--auth=scram-sha-256', `--pwfile=${files.pw}`, '-E', 'UTF8', '--no-instructions']);
  const port = await freePort();
  const settings = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses='127.0.0.1'",
    '-c ssl=on',
    `-c ssl_cert_file=${files.cert}`,
    `-c ssl_key_file=${files.key}`,
    '-c max_connections=200',
    ...(options.durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
  ].join(' ');
  const pgCtl = (...args: string[]): string => run(path.join(BIN!, 'pg_ctl'), ['-D', data, '-l', logFile, '-w', '-t', '60', ...args]);
  const start = async (): Promise<void> => void pgCtl('start', '-o', settings);
  const stop = async (): Promise<void> => void pgCtl('stop', '-m', 'fast');
  await start();
  const url = (database: string): string => `postgres://${PG_USER}@127.0.0.1:${port}/${database}`;
  const psql = (sql: string): string =>
    execFileSync('psql', [url('postgres'), '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { encoding: 'utf8', env: { ...process.env, PGPASSWORD: PG_PASSWORD } });
  return {
    port,
    url: url('postgres'),
    caFile: files.ca,
    async database(name = `advis_test_${process.pid}_${++databases}`) {
      psql(`CREATE DATABASE ${name}`);
      return url(name);
    },
    stop,
    start,
    async destroy() {
      try {
        await stop();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    log: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''),
  };
}
