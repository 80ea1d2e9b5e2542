// The container without a container engine: what the image runs, run here. The Dockerfile's ENV, USER, VOLUME,
// HEALTHCHECK and CMD are read from the file itself; its CMD runs with its ENV in a copy of the image's working
// directory layout (this checkout), with a temporary folder standing in for the /data volume.
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../support/free-port';
import { runtimePackage } from '../support/node-red';
import { bcryptHash, userEnvironment } from '../support/runtime';

interface Dockerfile {
  from: string[];
  env: Record<string, string>;
  user: string;
  volumes: string[];
  healthcheck: string[];
  cmd: string[];
}

/** The instructions of the final stage this test needs; exec-form (JSON) CMD and HEALTHCHECK only, as the file uses. */
function readDockerfile(file: string): Dockerfile {
  const lines = fs.readFileSync(file, 'utf8').replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const result: Dockerfile = { from: [], env: {}, user: '', volumes: [], healthcheck: [], cmd: [] };
  for (const line of lines) {
    const [, instruction, rest] = /^(\w+)\s+(.*)$/.exec(line)!;
    switch (instruction!.toUpperCase()) {
      case 'FROM':
        result.from.push(rest!.split(/\s+/)[0]!);
        result.env = {}; // each stage starts afresh; the last one is the image
        break;
      case 'ENV': {
        const [, key, value] = /^(\w+)=(.*)$/.exec(rest!)!;
        result.env[key!] = value!;
        break;
      }
      case 'USER':
        result.user = rest!;
        break;
      case 'VOLUME':
        result.volumes = JSON.parse(rest!);
        break;
      case 'HEALTHCHECK':
        result.healthcheck = JSON.parse(rest!.slice(rest!.indexOf('CMD') + 3));
        break;
      case 'CMD':
        result.cmd = JSON.parse(rest!);
        break;
    }
  }
  return result;
}

const root = process.cwd();
const image = readDockerfile(path.join(root, 'Dockerfile'));
const run = (command: string[], env: NodeJS.ProcessEnv) => spawnSync(command[0] === 'node' ? process.execPath : command[0]!, command.slice(1), { cwd: root, env, encoding: 'utf8' });

describe(`the container (${runtimePackage}, its Dockerfile's ENV and CMD run for real)`, function () {
  this.timeout(60000);

  it('is Node 22 as a non-root user with uid 1000, one /data volume, Copenhagen time, a healthcheck, the launcher as entrypoint', () => {
    expect(image.from.every((f) => /^node:22[-.]/.test(f)), image.from.join()).to.equal(true);
    expect(image.user).to.equal('1000:1000');
    expect(image.volumes).to.deep.equal(['/data']);
    expect(image.env).to.include({ TZ: 'Europe/Copenhagen', ADVIS_DATA_DIR: '/data', ADVIS_HOST: '0.0.0.0', ADVIS_MLLP_HOST: '0.0.0.0' });
    expect(image.env.ADVIS_NODE_RED).to.equal('/opt/node-red/node_modules/node-red'); // here: the runtime under test
    expect(image.cmd).to.deep.equal(['node', 'dist/bin/start.js']);
    expect(image.healthcheck).to.deep.equal(['node', 'dist/bin/healthcheck.js']);
  });

  async function environment(extra: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-volume-'));
    const base = userEnvironment();
    return { ...base, ...image.env, ADVIS_DATA_DIR: data, PORT: String(await freePort()), ADVIS_MLLP_PORT: String(await freePort()), ADVIS_NODE_RED: runtimePackage, ...extra };
  }

  it('refuses to start with the image as it is: the editor would be open on all interfaces without a login', async () => {
    const env = await environment();
    const result = run(image.cmd, env);
    expect(result.status).to.equal(1);
    expect(result.stderr).to.include('advis: the editor would listen on 0.0.0.0 without a login');
    expect(fs.readdirSync(env.ADVIS_DATA_DIR!)).to.deep.equal([]);
  });

  it('with adminAuth: serves the region flow, delivers into the volume, is healthy, and stops cleanly on SIGTERM', async () => {
    const env = await environment({ ADVIS_ADMIN_USER: 'admin', ADVIS_ADMIN_PASSWORD_HASH: bcryptHash('a long passphrase'), NODE_RED_CREDENTIAL_SECRET: 'container-secret' });
    const child = spawn(process.execPath, image.cmd.slice(1), { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout!.on('data', (b: Buffer) => (log += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const deadline = Date.now() + 45000;
      while (!/Started flows/.test(log) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(log).to.match(/Started flows/);
      expect(run(image.healthcheck, env).status).to.equal(0);
      const base = `http://127.0.0.1:${env.PORT}`;
      expect((await fetch(`${base}/flows`)).status).to.equal(401);
      const adt = fs.readFileSync(path.join(root, 'test', 'fixtures', 'adt', 'A01_admitted.hl7'), 'utf8');
      const answer = await fetch(`${base}/advis/adt`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: adt });
      expect(await answer.json()).to.include({ advis: 'STIN' });
      const outbox = path.join(env.ADVIS_DATA_DIR!, 'vans', 'out');
      while (!fs.readdirSync(outbox).some((f) => f.endsWith('.xml')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(fs.readdirSync(outbox).filter((f) => f.endsWith('.xml'))).to.have.length(1);
      expect(fs.existsSync(path.join(env.ADVIS_DATA_DIR!, 'advis.db'))).to.equal(true);
      expect(fs.existsSync(path.join(env.ADVIS_DATA_DIR!, 'node-red', 'flows.json'))).to.equal(true);
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
      expect(log).to.match(/Stopped flows/);
      expect(log).not.to.match(/\[error\]/);
      expect(run(image.healthcheck, env).status).to.equal(1);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
