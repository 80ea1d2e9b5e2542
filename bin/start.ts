// `npm start` and the container's entrypoint: Node-RED headless (editor on http://127.0.0.1:1880) with the example
// region flow, this package's nodes, an embedded SQLite store (or the PostgreSQL database $ADVIS_STORE names) and VANS
// outbox and inbox folders, all under a local data folder (./data, or $ADVIS_DATA_DIR).
//
// It prepares a Node-RED user directory the way an operator would (package linked into node_modules, the region flow
// and its site file copied in once so local edits survive restarts) and then runs Node-RED's own launcher in this
// process, so a supervisor (systemd, a container runtime, npm) that signals or kills this process reaches Node-RED
// itself: no child is left behind holding the ports.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dataDirectory, nodeRedSettings, SettingsError, type NodeRedSettings } from './node-red-settings';

const root = path.resolve(__dirname, '..', '..');
const dataDir = dataDirectory(process.env);
const userDir = path.join(dataDir, 'node-red');

/** The ready-made flow copied in on the first start: `$ADVIS_FLOW` names one in flows/ (region, region-rest). */
const flow = process.env.ADVIS_FLOW ?? 'region';

function prepareUserDir(): void {
  if (!/^[a-z0-9-]+$/.test(flow) || !fs.existsSync(path.join(root, 'flows', `${flow}.json`))) {
    const known = fs.readdirSync(path.join(root, 'flows')).filter((f) => f.endsWith('.json') && !f.endsWith('.site.json')).map((f) => f.slice(0, -5));
    console.error(`advis: ADVIS_FLOW=${flow} is not one of the ready-made flows: ${known.join(', ')} / ADVIS_FLOW=${flow} er ikke et af de færdige flows`);
    process.exit(1);
  }
  fs.mkdirSync(path.join(userDir, 'node_modules', '@advis-engine'), { recursive: true });
  const pkg = path.join(userDir, 'package.json');
  if (!fs.existsSync(pkg)) fs.writeFileSync(pkg, JSON.stringify({ name: 'advis-node-red-data', private: true }, null, 2) + '\n');
  const link = path.join(userDir, 'node_modules', '@advis-engine', 'node-red');
  fs.rmSync(link, { force: true, recursive: true });
  fs.symlinkSync(root, link, 'dir');
  for (const [from, to] of [[`${flow}.json`, 'flows.json'], ['region.site.json', 'site.json']]) {
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

let settings: NodeRedSettings;
try {
  settings = nodeRedSettings(process.env);
} catch (err) {
  if (!(err instanceof SettingsError)) throw err;
  console.error(`advis: ${err.message}`);
  process.exit(1);
}
prepareUserDir();
// The region flow's nodes read these (`${ADVIS_…}` in its properties).
Object.assign(process.env, {
  ADVIS_DATA_DIR: dataDir,
  ADVIS_SITE_FILE: process.env.ADVIS_SITE_FILE ?? path.join(userDir, 'site.json'),
  // A SQLite file or a postgres:// URL (docs/deployment.md); ADVIS_STORE_FILE is its older name.
  ADVIS_STORE: process.env.ADVIS_STORE ?? process.env.ADVIS_STORE_FILE ?? path.join(dataDir, 'advis.db'),
  ADVIS_MLLP_HOST: process.env.ADVIS_MLLP_HOST ?? '127.0.0.1',
  ADVIS_MLLP_PORT: process.env.ADVIS_MLLP_PORT ?? '2575',
  ADVIS_VANS_OUTBOX: process.env.ADVIS_VANS_OUTBOX ?? vansFolder('out'),
  ADVIS_VANS_INBOX: process.env.ADVIS_VANS_INBOX ?? vansFolder('in'),
});
// ADVIS_NODE_RED picks another Node-RED: a package name (the tests run the 5.x alias) or a folder (the container).
const redJs = require.resolve(`${process.env.ADVIS_NODE_RED ?? 'node-red'}/red.js`);
const scheme = settings.https ? 'https' : 'http';
console.log(`advis: Node-RED on ${scheme}://${settings.uiHost}:${settings.uiPort}/ with data in ${dataDir}`);
if (settings.httpNodeMiddleware) {
  console.log("advis: the flows' HTTP endpoints (POST /advis/adt) answer this machine only; ADVIS_HTTP_USER and ADVIS_HTTP_PASSWORD_HASH open them with a login");
}
process.argv = [process.execPath, redJs, '--settings', path.join(__dirname, 'settings.js'), '--userDir', userDir, settings.flowFile];
// Node-RED's launcher runs when it is loaded, from the package ADVIS_NODE_RED names at run time.
// eslint-disable-next-line @typescript-eslint/no-require-imports
require(redJs);
