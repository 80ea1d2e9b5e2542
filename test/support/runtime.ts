// Starts the product the way `npm start` does (dist/bin/start.js: Node-RED's own launcher, this package linked into
// a fresh data folder, the region flow), on a free loopback port, for end-to-end tests.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './free-port';
import { runtimePackage } from './node-red';
import { medcomPackages } from './shared';

export interface RunningAdvis {
  base: string;
  /** The region flow's MLLP port (hl7 in). */
  mllpPort: number;
  dataDir: string;
  log(): string;
  /** Sends the signal (default SIGTERM: Node-RED closes its nodes first; SIGKILL is a crash) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** `dataDir`: start again on the data folder of an earlier run (its flows, store and VANS folders), as after a restart. */
export async function startAdvis(options: { dataDir?: string } = {}): Promise<RunningAdvis> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'advis-start-'));
  const port = await freePort();
  const mllpPort = await freePort();
  // A clean environment for the product's own settings: start.js decides them from the data folder.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ADVIS_')));
  const child = spawn(process.execPath, [path.join(process.cwd(), 'dist', 'bin', 'start.js')], {
    env: { ...env, ADVIS_DATA_DIR: dataDir, PORT: String(port), ADVIS_MLLP_PORT: String(mllpPort), ADVIS_FHIR_PACKAGES: medcomPackages(), ADVIS_NODE_RED: runtimePackage },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so a crash (SIGKILL) takes Node-RED with it
  });
  let log = '';
  child.stdout!.on('data', (b: Buffer) => (log += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  const deadline = Date.now() + 45000;
  while (!/Started flows/.test(log)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
      throw new Error(`Node-RED did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    // start.js passes SIGTERM on to Node-RED; a crash must take Node-RED itself, so SIGKILL goes to its process group.
    if (child.exitCode === null && child.signalCode === null) {
      if (signal === 'SIGKILL') process.kill(-child.pid!, 'SIGKILL');
      else child.kill(signal);
    }
    await exited;
  };
  return { base: `http://127.0.0.1:${port}`, mllpPort, dataDir, log: () => log, stop };
}
