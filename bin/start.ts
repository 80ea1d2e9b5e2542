// `npm start`: Node-RED headless (editor on http://127.0.0.1:1880) with the example region flow, this package's
// nodes, an embedded SQLite store and VANS outbox and inbox folders, all under a local data folder (./data, or
// $ADVIS_DATA_DIR).
//
// It prepares a Node-RED user directory the way an operator would (package linked into node_modules, the region flow
// and its site file copied in once so local edits survive restarts) and then runs Node-RED's own launcher.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const dataDir = path.resolve(process.env.ADVIS_DATA_DIR ?? path.join(root, 'data'));
const userDir = path.join(dataDir, 'node-red');
const port = process.env.PORT ?? '1880';
const host = process.env.ADVIS_HOST ?? '127.0.0.1';

function prepareUserDir(): void {
  fs.mkdirSync(path.join(userDir, 'node_modules', '@advis-engine'), { recursive: true });
  const pkg = path.join(userDir, 'package.json');
  if (!fs.existsSync(pkg)) fs.writeFileSync(pkg, JSON.stringify({ name: 'advis-node-red-data', private: true }, null, 2) + '\n');
  const link = path.join(userDir, 'node_modules', '@advis-engine', 'node-red');
  fs.rmSync(link, { force: true, recursive: true });
  fs.symlinkSync(root, link, 'dir');
  for (const [from, to] of [['region.json', 'flows.json'], ['region.site.json', 'site.json']]) {
    const target = path.join(userDir, to);
    if (!fs.existsSync(target)) fs.copyFileSync(path.join(root, 'flows', from), target);
  }
}

/**
 * The VANS folders under the data folder, created here: the delivery node never creates an outbox folder (a missing
 * one is usually a share that is not mounted), but these stand in for a VANS client that is not there.
 */
function vansFolder(which: 'out' | 'in'): string {
  const dir = path.join(dataDir, 'vans', which);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

prepareUserDir();
const env = {
  ...process.env,
  ADVIS_DATA_DIR: dataDir,
  ADVIS_SITE_FILE: process.env.ADVIS_SITE_FILE ?? path.join(userDir, 'site.json'),
  ADVIS_STORE_FILE: process.env.ADVIS_STORE_FILE ?? path.join(dataDir, 'advis.db'),
  ADVIS_MLLP_HOST: process.env.ADVIS_MLLP_HOST ?? '127.0.0.1',
  ADVIS_MLLP_PORT: process.env.ADVIS_MLLP_PORT ?? '2575',
  ADVIS_VANS_OUTBOX: process.env.ADVIS_VANS_OUTBOX ?? vansFolder('out'),
  ADVIS_VANS_INBOX: process.env.ADVIS_VANS_INBOX ?? vansFolder('in'),
  // Each VANS envelope file is flushed to disk on one of libuv's threads (4 by default), and a disk handles flushes
  // that come together in one go: with 32 threads 32 deliveries at once write 2-3 times as fast (README, Benchmarks).
  UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '32',
};
// ADVIS_NODE_RED picks another installed Node-RED package (the tests run the 5.x alias this way).
const redJs = require.resolve(`${process.env.ADVIS_NODE_RED ?? 'node-red'}/red.js`);
const args = [redJs, '--userDir', userDir, '--port', port, '-D', `uiHost=${host}`, '-D', 'editorTheme.tours=false', '-D', 'telemetry.enabled=false', 'flows.json'];
console.log(`advis: Node-RED on http://${host}:${port}/ with data in ${dataDir}`);
const child = spawn(process.execPath, args, { env, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
