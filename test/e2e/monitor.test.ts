// The advis monitor as operators meet it: `npm start` with adminAuth on and three people (an administrator, a
// read-only operator, a clerk allowed to see personal data) plus the scraper's token, ADT over MLLP from the EPR, and
// the admin endpoints the sidebar and Prometheus read. A read-only user sees counts but no CPR number and cannot
// resend; each view of personal data and each action lands in the audit of people that `advis audit` prints.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runtimePackage } from '../support/node-red';
import { bcryptHash, startAdvis, type RunningAdvis } from '../support/runtime';
import { describeShared } from '../support/shared';

const fixture = (name: string): string => fs.readFileSync(path.join(process.cwd(), 'test', 'fixtures', 'adt', name), 'utf8');
const CPR = '0101800005';
const TOKEN = 'monitor-token-0123456789abcdef0123456789abcdef';
const advisCli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [path.join(process.cwd(), 'dist', 'bin', 'advis.js'), ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

describeShared(`the advis monitor behind adminAuth (${runtimePackage}, npm start)`, function () {
  this.timeout(60000);
  let advis: RunningAdvis;
  const tokens: Record<string, string> = {};
  let messageHeaderId: string;

  const login = async (username: string, password: string): Promise<string> => {
    const r = await fetch(`${advis.base}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: '', username, password }),
    });
    expect(r.status, `login of ${username}`).to.equal(200);
    return ((await r.json()) as { access_token: string }).access_token;
  };
  const as = (who: string | null, url: string, method = 'GET') =>
    fetch(`${advis.base}${url}`, { method, headers: who ? { authorization: `Bearer ${who === 'token' ? TOKEN : tokens[who]}` } : {} });
  const send = (text: string) => {
    const file = path.join(advis.dataDir, `in-${Date.now()}.hl7`);
    fs.writeFileSync(file, text);
    const run = advisCli(['send', '--port', String(advis.mllpPort), file]);
    expect(run.status, `${run.stdout}${run.stderr}\n${advis.log().slice(-3000)}`).to.equal(0);
    expect(run.stdout).to.include('"code":"AA"');
  };

  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-monitor-'));
    const users = path.join(dir, 'users.json');
    fs.writeFileSync(
      users,
      JSON.stringify([
        { username: 'reader', password: bcryptHash('reader-pass'), permissions: 'read' },
        { username: 'clerk', password: bcryptHash('clerk-pass'), permissions: ['read', 'advis.read-personal'] },
      ]),
    );
    advis = await startAdvis({ env: { ADVIS_ADMIN_USER: 'admin', ADVIS_ADMIN_PASSWORD_HASH: bcryptHash('admin-pass'), ADVIS_ADMIN_USERS_FILE: users, ADVIS_MONITOR_TOKEN: TOKEN } });
    tokens.admin = await login('admin', 'admin-pass');
    tokens.reader = await login('reader', 'reader-pass');
    tokens.clerk = await login('clerk', 'clerk-pass');
    send(fixture('A01_admitted.hl7'));
    send(fixture('A01_admitted.hl7').replace(/MSG-A01-0001/g, 'MSG-HELD').replace(/V100200/g, 'V999').replace('^H^^163|', '^H^^175|'));
  });
  after(() => advis?.stop());

  it('shows a read-only user the counts, the oldest unacknowledged message and what is held, with no CPR number', async () => {
    const summary = await as('reader', '/advis/monitor/summary');
    expect(summary.status).to.equal(200);
    const text = await summary.text();
    const [site] = (JSON.parse(text) as { sites: { counts: Record<string, number>; oldestUnacknowledged: { messageHeaderId: string }; held: { reason: string }[] }[] }).sites;
    expect(site.counts.sent + site.counts.queued).to.equal(1);
    messageHeaderId = site.oldestUnacknowledged.messageHeaderId;
    expect(site.held.map((h) => h.reason)).to.deep.equal(['unknown-municipality']);
    expect(text).not.to.include(CPR).and.not.to.include('Hansen');

    const list = await (await as('reader', '/advis/monitor/messages?advis=STIN')).text();
    expect(list).to.include(messageHeaderId).and.not.to.include(CPR);
    const detail = await (await as('reader', `/advis/monitor/messages/${messageHeaderId}`)).json();
    expect(detail.notification).to.include({ advis: 'STIN', activity: 'admit-inpatient' }).and.not.to.have.property('patient');
    expect(JSON.stringify(detail)).not.to.include(CPR);
  });

  it('refuses a read-only user the personal views, resends, dead-letters and releases', async () => {
    expect((await as('reader', `/advis/monitor/personal/messages/${messageHeaderId}`)).status).to.equal(401);
    expect((await as('reader', `/advis/monitor/personal/messages?cpr=${CPR}`)).status).to.equal(401);
    expect((await as('reader', `/advis/monitor/messages/${messageHeaderId}/resend`, 'POST')).status).to.equal(401);
    expect((await as('reader', `/advis/monitor/messages/${messageHeaderId}/dead-letter`, 'POST')).status).to.equal(401);
    expect((await as('reader', '/advis/monitor/held/release', 'POST')).status).to.equal(401);
    expect((await as('clerk', `/advis/monitor/messages/${messageHeaderId}/resend`, 'POST')).status).to.equal(401);
    expect((await as(null, '/advis/monitor/summary')).status).to.equal(401);
  });

  it('shows a clerk the patient and the Bundle, and finds by CPR number, each audited', async () => {
    const personal = await (await as('clerk', `/advis/monitor/personal/messages/${messageHeaderId}`)).json();
    expect(personal.notification.patient.cpr).to.equal(CPR);
    expect(personal.bundle).to.include(CPR);
    const found = await (await as('clerk', `/advis/monitor/personal/messages?cpr=${CPR}`)).json();
    expect(found.messages.map((m: { messageHeaderId: string }) => m.messageHeaderId)).to.deep.equal([messageHeaderId]);
    const exported = await as('clerk', `/advis/monitor/personal/messages/${messageHeaderId}/bundle`);
    expect(exported.headers.get('content-disposition')).to.equal(`attachment; filename="${messageHeaderId}.json"`);
    expect(((await exported.json()) as { resourceType: string }).resourceType).to.equal('Bundle');
    expect((await as('reader', `/advis/monitor/personal/messages/${messageHeaderId}/bundle`)).status).to.equal(401);
  });

  it('lets the administrator resend, and release held advis once the site file is fixed; the audit of people (monitor and advis audit) says who did what', async () => {
    const resent = await as('admin', `/advis/monitor/messages/${messageHeaderId}/resend`, 'POST');
    expect(resent.status).to.equal(200);
    expect((await resent.json()).message).to.include({ messageHeaderId, status: 'queued' });
    const release = () => as('admin', '/advis/monitor/held/release', 'POST').then((r) => r.json());
    expect(await release()).to.deep.equal({ released: 0, stillHeld: 1 });

    // The fix: Rødovre (0175) added to the site file the flow reads.
    const siteFile = path.join(advis.dataDir, 'node-red', 'site.json');
    const site = JSON.parse(fs.readFileSync(siteFile, 'utf8')) as { municipalities: object[] };
    site.municipalities.push({ code: '0175', name: 'Sygehusadviser, Rødovre Kommune (test)', sor: '953771000016002', gln: '5790000000135' });
    fs.writeFileSync(siteFile, JSON.stringify(site, null, 2));
    expect(await release()).to.deep.equal({ released: 1, stillHeld: 0 });
    const sent = (await (await as('reader', '/advis/monitor/messages?receiverGln=5790000000135')).json()).messages as { stayKey: string; advis: string }[];
    expect(sent.map((m) => [m.stayKey, m.advis])).to.deep.equal([['V999|HGH', 'STIN']]);

    const audit = (await (await as('reader', '/advis/monitor/audit')).json()).audit as { user: string; action: string; detail: string | null }[];
    expect(audit.map((a) => [a.user, a.action])).to.deep.equal([
      ['admin', 'release'],
      ['admin', 'release'],
      ['admin', 'resend'],
      ['clerk', 'export'],
      ['clerk', 'search-personal'],
      ['clerk', 'view-personal'],
    ]);
    expect(audit[0].detail).to.equal('1 released (1 advis), 0 still held');
    expect(JSON.stringify(audit)).not.to.include(CPR);
    const cli = advisCli(['audit', '--store', path.join(advis.dataDir, 'advis.db'), '--user', 'clerk']);
    expect(cli.status, cli.stderr).to.equal(0);
    expect(cli.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { action: string }).action)).to.deep.equal(['export', 'search-personal', 'view-personal']);
  });

  it('serves health and Prometheus metrics to the monitor token, which can do nothing else; the container healthcheck uses it', async () => {
    const metrics = await as('token', '/advis/metrics');
    expect(metrics.status).to.equal(200);
    expect(metrics.headers.get('content-type')).to.match(/^text\/plain/);
    const text = await metrics.text();
    expect(text).to.include('advis_adt_messages_total{site="Example region",event="A01"} 2');
    expect(text).to.include('advis_notifications_total{site="Example region",advis="STIN"} 2');
    expect(text).to.include('advis_held{site="Example region"} 0');
    expect(text).to.match(/advis_store_bytes\{site="Example region"\} \d+/);
    expect(text).not.to.include(CPR);
    const health = await as('token', '/advis/health');
    expect(health.status).to.equal(200);
    expect(((await health.json()) as { checks: { part: string; ok: boolean }[] }).checks.map((c) => [c.part, c.ok])).to.deep.equal([
      ['store', true],
      ['profiles', true],
      ['oldest-unacknowledged', true],
      ['mllp', true],
      ['sink', true],
    ]);
    expect((await as('token', '/flows')).status).to.equal(401);
    expect((await as('token', `/advis/monitor/messages/${messageHeaderId}/resend`, 'POST')).status).to.equal(401);
    expect((await as(null, '/advis/metrics')).status).to.equal(401);

    const check = spawnSync(process.execPath, [path.join(process.cwd(), 'dist', 'bin', 'healthcheck.js')], {
      encoding: 'utf8',
      env: { ...process.env, PORT: String(advis.port), ADVIS_ADMIN_USER: 'admin', ADVIS_MONITOR_TOKEN: TOKEN },
    });
    expect([check.status, check.stderr]).to.deep.equal([0, '']);
    const wrong = spawnSync(process.execPath, [path.join(process.cwd(), 'dist', 'bin', 'healthcheck.js')], {
      encoding: 'utf8',
      env: { ...process.env, PORT: String(advis.port), ADVIS_ADMIN_USER: 'admin', ADVIS_MONITOR_TOKEN: 'x'.repeat(40) },
    });
    expect(wrong.status).to.equal(1);
  });

  it('loads the sidebar plugin with its Danish catalog', async () => {
    const plugins = await (await as('reader', '/plugins')).text();
    expect(plugins).to.include("RED.sidebar.addTab");
    const da = (await (await as('reader', '/plugins/messages?lng=da')).json()) as Record<string, { 'advis-monitor': { state: Record<string, string> } }>;
    expect(da['@advis-engine/node-red/advis-monitor']['advis-monitor'].state.sent).to.equal('afventer kvittering');
  });
});
