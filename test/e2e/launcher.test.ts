// `npm start` as a supervisor sees it: Node-RED runs in the process the start script runs (no child to orphan), a
// stop signal ends it cleanly, the editor never listens beyond loopback without a login, and the credential secret
// comes from the environment.
import { expect } from 'chai';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../support/free-port';
import { runtimePackage } from '../support/node-red';
import { bcryptHash, spawnNpm, startAdvis, startEnvironment, type RunningAdvis } from '../support/runtime';

const listening = (port: number, host = '127.0.0.1'): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect(port, host, () => (socket.destroy(), resolve(true)));
    socket.on('error', () => resolve(false));
  });

const processExists = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};


describe(`npm start under a supervisor (${runtimePackage}, real runtime)`, function () {
  this.timeout(60000);
  let advis: RunningAdvis | undefined;
  afterEach(() => advis?.stop('SIGKILL'));

  it('runs Node-RED in the process npm started: SIGKILL of it frees the editor and MLLP ports and ends npm', async () => {
    advis = await startAdvis();
    const pid = advis.nodePid();
    // npm's one child is Node-RED itself (it names its process), not a launcher with Node-RED below it.
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]).to.equal('node-red');
    expect(await listening(advis.port)).to.equal(true);
    expect(await listening(advis.mllpPort)).to.equal(true);
    await advis.stop('SIGKILL');
    expect(processExists(pid)).to.equal(false);
    expect(await listening(advis.port)).to.equal(false);
    expect(await listening(advis.mllpPort)).to.equal(false);
  });

  it('stops its flows and exits 0 on SIGTERM', async () => {
    advis = await startAdvis();
    await advis.stop('SIGTERM');
    expect(advis.log()).to.match(/Stopped flows/);
    expect(advis.exitCode()).to.equal(0);
  });

  it('refuses to open the editor beyond loopback without a login, before it listens', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-open-'));
    const port = await freePort();
    const child = spawnNpm(['start', '--silent', '--ignore-scripts'], process.cwd(), startEnvironment(dataDir, port, await freePort(), { ADVIS_HOST: '0.0.0.0' }));
    let log = '';
    child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    child.stdout!.on('data', (b: Buffer) => (log += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).to.equal(1);
    expect(log).to.include('advis: the editor would listen on 0.0.0.0 without a login: set ADVIS_ADMIN_USER and ADVIS_ADMIN_PASSWORD_HASH');
    expect(log).to.include('editoren ville lytte på 0.0.0.0 uden login');
    expect(log).not.to.match(/Server now running/);
    expect(fs.existsSync(path.join(dataDir, 'node-red', 'flows.json'))).to.equal(false);
  });

  it('opens the editor on all interfaces behind adminAuth from ADVIS_ADMIN_USER and ADVIS_ADMIN_PASSWORD_HASH', async () => {
    advis = await startAdvis({ env: { ADVIS_HOST: '0.0.0.0', ADVIS_ADMIN_USER: 'integration', ADVIS_ADMIN_PASSWORD_HASH: bcryptHash('s3cret-Pa55') } });
    expect((await fetch(`${advis.base}/flows`)).status).to.equal(401);
    const token = await fetch(`${advis.base}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: '*', username: 'integration', password: 's3cret-Pa55' }),
    });
    expect(token.status).to.equal(200);
    const { access_token } = (await token.json()) as { access_token: string };
    expect((await fetch(`${advis.base}/flows`, { headers: { authorization: `Bearer ${access_token}` } })).status).to.equal(200);
    const wrong = await fetch(`${advis.base}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: '*', username: 'integration', password: 'guess' }),
    });
    expect(wrong.status).to.equal(403);
  });

  it("gives the flows' HTTP endpoints the login of ADVIS_HTTP_USER and ADVIS_HTTP_PASSWORD_HASH: no advis without it", async () => {
    advis = await startAdvis({ env: { ADVIS_HTTP_USER: 'epr', ADVIS_HTTP_PASSWORD_HASH: bcryptHash('http-s3cret') } });
    const a01 = fs.readFileSync(path.join('test', 'fixtures', 'adt', 'A01_admitted.hl7'), 'utf8');
    const post = (headers: Record<string, string>) => fetch(`${advis!.base}/advis/adt`, { method: 'POST', headers: { 'content-type': 'text/plain', ...headers }, body: a01 });
    expect((await post({})).status).to.equal(401);
    expect((await post({ authorization: `Basic ${Buffer.from('epr:guess').toString('base64')}` })).status).to.equal(401);
    const ok = await post({ authorization: `Basic ${Buffer.from('epr:http-s3cret').toString('base64')}` });
    expect(ok.status).to.equal(200);
    expect(await ok.json()).to.include({ advis: 'STIN' });
  });

  it('refuses a password in place of its bcrypt hash', async () => {
    const child = spawnNpm(['start', '--silent', '--ignore-scripts'], process.cwd(), startEnvironment(fs.mkdtempSync(path.join(os.tmpdir(), 'advis-pw-')), await freePort(), await freePort(), { ADVIS_ADMIN_USER: 'a', ADVIS_ADMIN_PASSWORD_HASH: 'plain' }));
    let log = '';
    child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    expect(await new Promise((resolve) => child.once('exit', resolve))).to.equal(1);
    expect(log).to.include('ADVIS_ADMIN_PASSWORD_HASH must be a bcrypt hash');
  });

  it('encrypts the flow credentials with NODE_RED_CREDENTIAL_SECRET', async () => {
    const secret = 'region-h-credential-secret';
    advis = await startAdvis({ env: { NODE_RED_CREDENTIAL_SECRET: secret } });
    expect(advis.log()).not.to.match(/system-generated key/);
    const flows = (await (await fetch(`${advis.base}/flows`)).json()) as object[];
    const rest = { id: 'rest1', type: 'medcom-rest', name: 'municipality', url: 'https://fhir.example/fhir', authType: 'oauth2', credentials: { clientSecret: 'the-client-secret' } };
    const deployed = await fetch(`${advis.base}/flows`, { method: 'POST', headers: { 'content-type': 'application/json', 'node-red-deployment-type': 'full' }, body: JSON.stringify([...flows, rest]) });
    expect(deployed.ok, String(deployed.status)).to.equal(true);
    const stored = JSON.parse(fs.readFileSync(path.join(advis.dataDir, 'node-red', 'flows_cred.json'), 'utf8')) as { $: string };
    const decipher = crypto.createDecipheriv('aes-256-ctr', crypto.createHash('sha256').update(secret).digest(), Buffer.from(stored.$.slice(0, 32), 'hex'));
    const plain = JSON.parse(decipher.update(stored.$.slice(32), 'base64', 'utf8') + decipher.final('utf8'));
    expect(plain.rest1).to.include({ clientSecret: 'the-client-secret' });
    expect(fs.readFileSync(path.join(advis.dataDir, 'node-red', 'flows.json'), 'utf8')).not.to.include('the-client-secret');
  });
});
