// Starts the product the way a user does, `npm start` through npm (Node-RED in the process the start script runs, this
// package linked into a fresh data folder, the region flow), on free loopback ports, for end-to-end tests. The
// `prestart` build is left out (`--ignore-scripts` runs the start script alone): the tests run from the dist/ that
// build would rewrite under them. test/e2e/new-user.test.ts runs the whole `npm install && npm start`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './free-port';
import { runtimePackage } from './node-red';

export interface RunningAdvis {
  base: string;
  port: number;
  /** The region flow's MLLP port (hl7 in). */
  mllpPort: number;
  dataDir: string;
  log(): string;
  /** The process Node-RED runs in: the one npm's start script started. */
  nodePid(): number;
  /** Sends the signal to Node-RED's process (default SIGTERM: Node-RED closes its nodes first; SIGKILL is a crash) and waits until npm exits. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  exitCode(): number | null;
}

/**
 * The test process's environment without what would make a child behave otherwise than for a user: the caller's
 * ADVIS_ settings and npm's own `npm_` variables (and `without`, e.g. CI).
 */
export function userEnvironment(...without: string[]): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ADVIS_') && !k.startsWith('npm_') && !without.includes(k)));
}

/** The environment of `npm start` in a test: no ADVIS_ settings of the caller's, the runtime package under test. */
export function startEnvironment(dataDir: string, port: number, mllpPort: number, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...userEnvironment(), ADVIS_DATA_DIR: dataDir, PORT: String(port), ADVIS_MLLP_PORT: String(mllpPort), ADVIS_NODE_RED: runtimePackage, ...extra };
}

/** A bcrypt hash as `node-red admin hash-pw` makes it, with the bcrypt library Node-RED itself checks logins with. */
export function bcryptHash(password: string): string {
  return (createRequire(require.resolve(`${runtimePackage}/package.json`))('bcryptjs') as { hashSync(p: string, rounds: number): string }).hashSync(password, 8);
}

/** Runs `npm start` (or `args`) in `cwd` in its own process group, so a test can always clean up after it. */
export function spawnNpm(args: string[], cwd: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn('npm', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
}

/** Whether something accepts TCP connections on the loopback port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
    socket.on('error', () => resolve(false));
  });
}

/** `dataDir`: start again on the data folder of an earlier run (its flows, store and VANS folders), as after a restart. */
export async function startAdvis(options: { dataDir?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunningAdvis> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'advis-start-'));
  const port = await freePort();
  const mllpPort = await freePort();
  const child = spawnNpm(['start', '--silent', '--ignore-scripts'], process.cwd(), startEnvironment(dataDir, port, mllpPort, options.env));
  let log = '';
  child.stdout!.on('data', (b: Buffer) => (log += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 45000;
  // Started means the flows started and the EPR's MLLP port takes connections (a test sends to it at once).
  while (!/Started flows/.test(log) || !(await accepts(mllpPort))) {
    if (child.exitCode !== null || Date.now() > deadline || /cannot listen on/.test(log)) {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
      throw new Error(`Node-RED did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const nodePid = (): number => {
    const ps = spawnSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)], { encoding: 'utf8' });
    const pids = ps.stdout.trim().split(/\s+/).filter(Boolean).map(Number);
    if (pids.length !== 1) throw new Error(`npm (pid ${child.pid}) should have one child, Node-RED; it has ${pids.length}`);
    return pids[0]!;
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) process.kill(nodePid(), signal);
    await exited;
  };
  return { base: `http://127.0.0.1:${port}`, port, mllpPort, dataDir, log: () => log, nodePid, stop, exitCode: () => child.exitCode };
}

/**
 * This package as the palette manager installs it: `npm pack` (of the dist/ this test run built, as prepack would),
 * then `npm install <tarball>` into a fresh Node-RED user directory `work/node-red`. Returns that directory and the
 * installed package's folder in it.
 */
export function installPackedPackage(work: string): { userDir: string; installed: string } {
  const userDir = path.join(work, 'node-red');
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: process.cwd(), encoding: 'utf8' });
  if (pack.status !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
  const tarball = path.join(work, (JSON.parse(pack.stdout) as { filename: string }[])[0]!.filename);
  fs.mkdirSync(userDir);
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true }));
  const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: userDir, encoding: 'utf8' });
  if (install.status !== 0) throw new Error(`npm install of the packed package failed: ${install.stderr}`);
  return { userDir, installed: path.join(userDir, 'node_modules', '@advis-engine', 'node-red') };
}
