// The published package, installed as the palette manager installs it: `npm pack`, then `npm install <tarball>` in a
// fresh Node-RED user directory, Node-RED started on it. Every node loads, the region flow from the installed package
// runs ADT to the VANS folder, and the installed `advis` command converts with no other set-up (no ../shared, an
// empty HOME) and certifies the region's site against MedCom's TouchStone scripts (read from ../shared).
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../support/free-port';
import { runtimePackage } from '../support/node-red';
import { installPackedPackage, userEnvironment } from '../support/runtime';
import { describeShared, shared } from '../support/shared';

const root = process.cwd();

describe(`the npm package installed into a fresh Node-RED user directory (${runtimePackage})`, function () {
  this.timeout(180000);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-package-'));
  let userDir = '';
  let installed = '';
  let child: ChildProcess | undefined;
  let log = '';
  let base = '';

  before(async () => {
    ({ userDir, installed } = installPackedPackage(work));
    for (const folder of ['out', 'in']) fs.mkdirSync(path.join(work, 'vans', folder), { recursive: true });
    fs.copyFileSync(path.join(installed, 'flows', 'region.json'), path.join(userDir, 'flows.json'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = {
      ...userEnvironment(),
      ADVIS_SITE_FILE: path.join(installed, 'flows', 'region.site.json'),
      ADVIS_STORE: path.join(work, 'advis.db'),
      ADVIS_MLLP_HOST: '127.0.0.1',
      ADVIS_MLLP_PORT: String(await freePort()),
      ADVIS_VANS_OUTBOX: path.join(work, 'vans', 'out'),
      ADVIS_VANS_INBOX: path.join(work, 'vans', 'in'),
    };
    child = spawn(process.execPath, [require.resolve(`${runtimePackage}/red.js`), '--userDir', userDir, '--port', String(port), '-D', 'uiHost=127.0.0.1', 'flows.json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (b: Buffer) => (log += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    const deadline = Date.now() + 60000;
    while (!/Started flows/.test(log) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(log).to.match(/Started flows/);
  });

  after(() => {
    child?.kill('SIGKILL');
  });

  it('is a real install, not a link to this checkout, and loads every node without error', async () => {
    expect(fs.lstatSync(installed).isSymbolicLink()).to.equal(false);
    const module = await (await fetch(`${base}/nodes/@advis-engine/node-red`, { headers: { accept: 'application/json' } })).json();
    const nodes = module.nodes as { name: string; err?: string; enabled: boolean }[];
    expect(nodes).to.have.length(10);
    expect(nodes.filter((n) => n.err || !n.enabled)).to.deep.equal([]);
    expect(log).not.to.match(/\[error\]/);
  });

  it('runs the shipped region flow: posted ADT becomes a STIN in its VANS envelope in the outbox folder', async () => {
    const adt = fs.readFileSync(path.join(root, 'test', 'fixtures', 'adt', 'A01_admitted.hl7'), 'utf8');
    const answer = await fetch(`${base}/advis/adt`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: adt });
    expect(await answer.json()).to.include({ advis: 'STIN' });
    const outbox = path.join(work, 'vans', 'out');
    const deadline = Date.now() + 20000;
    while (!fs.readdirSync(outbox).some((f) => f.endsWith('.xml')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(fs.readdirSync(outbox).filter((f) => f.endsWith('.xml'))).to.have.length(1);
    expect(log).to.include('MedCom profiles: hospitalnotification 3.0.2 (shipped)');
  });

  it('gives a working `advis convert` from the installed package, with an empty HOME and nothing beside it', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-home-'));
    const env = { ...userEnvironment(), HOME: home };
    const adt = path.join(root, 'test', 'fixtures', 'adt', 'A01_admitted.hl7');
    const run = spawnSync(path.join(userDir, 'node_modules', '.bin', 'advis'), ['convert', '--site', path.join(installed, 'flows', 'region.site.json'), adt], { cwd: home, env, encoding: 'utf8' });
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.include('"resourceType":"Bundle"');
  });

  describeShared('with MedCom\'s TouchStone scripts', () => {
    it('gives a working `advis certify` from the installed package: the shipped profiles, all 44 sender scripts passing', () => {
      const home = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-home-'));
      const env = { ...userEnvironment(), HOME: home };
      const run = spawnSync(path.join(userDir, 'node_modules', '.bin', 'advis'), ['certify', '--site', path.join(installed, 'flows', 'region.site.json'), '--touchstone', shared('medcom', 'touchstone-send')], { cwd: home, env, encoding: 'utf8' });
      expect(run.status, run.stderr + run.stdout).to.equal(0);
      expect(run.stdout).to.include('TouchStone sender scripts: 44 of 44 passed');
      expect(fs.existsSync(path.join(home, 'advis-certification', 'report.html'))).to.equal(true);
    });
  });
});
