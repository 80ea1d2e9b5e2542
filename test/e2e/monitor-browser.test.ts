// The advis monitor in a real browser, as an operator meets it: this package installed from `npm pack` into a fresh
// Node-RED user directory with adminAuth on (an administrator and a read-only operator), the REST region flow
// delivering to a local FHIR receiver, ADT over MLLP, and Debian's Chromium driven by playwright-core. The operator
// sees an acknowledged, a failed and a queued message and a held one; resends the failed one (it becomes delivered,
// and the queued one behind it follows); fixes the site file and releases the held one (it is sent). The read-only
// user sees the counts but no action and no personal data; a Danish browser gets Danish texts. With
// ADVIS_SCREENSHOTS=docs/images the screenshots the README shows are written.
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort } from '../support/free-port';
import { startFhirReceiver, type FhirReceiver } from '../support/fhir-receiver';
import { runtimePackage } from '../support/node-red';
import { accepts, bcryptHash, installPackedPackage, userEnvironment } from '../support/runtime';
import { describeNeeding, sharedDir } from '../support/shared';

const CHROMIUM = process.env.ADVIS_CHROMIUM ?? '/usr/bin/chromium';
const missing = !sharedDir ? '../shared is not beside the checkout' : fs.existsSync(CHROMIUM) ? null : `no Chromium at ${CHROMIUM} (apt-get install chromium)`;
const root = process.cwd();
const fixture = (name: string): string => fs.readFileSync(path.join(root, 'test', 'fixtures', 'adt', name), 'utf8');
const CPR = '0101800005';
const screenshots = process.env.ADVIS_SCREENSHOTS;

declare const RED: { sidebar: { show(id: string): void } };

describeNeeding(`the advis monitor in Chromium, installed from npm pack, adminAuth on (${runtimePackage})`, missing, function () {
  this.timeout(180000);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-monitor-ui-'));
  let userDir = '';
  let installed = '';
  const siteFile = path.join(work, 'site.json');
  let child: ChildProcess | undefined;
  let log = '';
  let base = '';
  let mllpPort = 0;
  let receiver: FhirReceiver;
  let browser: Browser;

  const token = async (username: string, password: string): Promise<object> => {
    const r = await fetch(`${base}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: '', username, password }),
    });
    expect(r.status).to.equal(200);
    return (await r.json()) as object;
  };
  /** The editor, logged in as `username`, with the advis tab open. */
  const editor = async (username: string, password: string, locale = 'en-US'): Promise<{ page: Page; errors: string[] }> => {
    const tokens = await token(username, password);
    const context = await browser.newContext({ locale, viewport: { width: 1400, height: 1000 } });
    await context.addInitScript((t) => localStorage.setItem('auth-tokens', t), JSON.stringify(tokens));
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/`);
    await page.waitForSelector('.red-ui-palette-node[data-palette-type="advis"]', { timeout: 60000 });
    await page.evaluate(() => RED.sidebar.show('advis-monitor'));
    await page.waitForSelector('.advis-monitor-count-delivered', { timeout: 20000 });
    // Wider, as an operator drags it: the tables then fit.
    const separator = (await page.locator('#red-ui-sidebar-separator').boundingBox())!;
    await page.mouse.move(separator.x + separator.width / 2, separator.y + 200);
    await page.mouse.down();
    await page.mouse.move(separator.x - 300, separator.y + 200, { steps: 5 });
    await page.mouse.up();
    return { page, errors };
  };
  const send = (text: string, name: string): void => {
    const file = path.join(work, `${name}.hl7`);
    fs.writeFileSync(file, text);
    const run = spawnSync(process.execPath, [path.join(installed, 'dist', 'bin', 'advis.js'), 'send', '--port', String(mllpPort), file], { encoding: 'utf8' });
    expect(run.status, run.stderr + run.stdout).to.equal(0);
  };
  const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 20000): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const count = (page: Page, state: string) => page.textContent(`.advis-monitor-count-${state}`).then(Number);
  const shot = async (page: Page, name: string): Promise<void> => {
    if (!screenshots) return;
    fs.mkdirSync(screenshots, { recursive: true });
    await page.screenshot({ path: path.join(screenshots, `${name}.png`) });
  };

  before(async () => {
    receiver = await startFhirReceiver();
    ({ userDir, installed } = installPackedPackage(work));

    // The REST region flow, without OAuth2 for this local receiver, and network retries an hour apart, so a failed
    // message stays failed until the operator resends it.
    const flow = (JSON.parse(fs.readFileSync(path.join(installed, 'flows', 'region-rest.json'), 'utf8')) as Record<string, unknown>[]).map((n) =>
      n.type === 'medcom-rest' ? { ...n, authType: 'none' } : n.type === 'medcom out' ? { ...n, networkBaseDelay: '3600', networkMaxDelay: '60' } : n,
    );
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow));
    fs.copyFileSync(path.join(installed, 'flows', 'region.site.json'), siteFile);
    const port = await freePort();
    mllpPort = await freePort();
    base = `http://127.0.0.1:${port}`;
    fs.writeFileSync(
      path.join(userDir, 'settings.js'),
      `module.exports = ${JSON.stringify({
        uiHost: '127.0.0.1',
        uiPort: port,
        flowFile: 'flows.json',
        credentialSecret: 'monitor-ui-test',
        editorTheme: { tours: false },
        telemetry: { enabled: false },
        adminAuth: {
          type: 'credentials',
          users: [
            { username: 'admin', password: bcryptHash('admin-pass'), permissions: '*' },
            { username: 'reader', password: bcryptHash('reader-pass'), permissions: 'read' },
          ],
        },
      })};\n`,
    );
    const env = {
      ...userEnvironment(),
      ADVIS_SITE_FILE: siteFile,
      ADVIS_STORE: path.join(work, 'advis.db'),
      ADVIS_MLLP_HOST: '127.0.0.1',
      ADVIS_MLLP_PORT: String(mllpPort),
      ADVIS_FHIR_URL: receiver.base,
    };
    child = spawn(process.execPath, [require.resolve(`${runtimePackage}/red.js`), '--settings', path.join(userDir, 'settings.js'), '--userDir', userDir, 'flows.json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (b: Buffer) => (log += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    await until('Node-RED to start', () => /Started flows/.test(log) || child!.exitCode !== null, 60000);
    expect(log).to.match(/Started flows/);
    await until('the MLLP port', () => accepts(mllpPort));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });

    // Stay 1 acknowledged; stay 2's STIN refused for now (HTTP 503: failed, retried in an hour) with its SLHJ queued
    // behind it; stay 3 held for a municipality the site does not know.
    const a01 = fixture('A01_admitted.hl7');
    const a03 = fixture('A03_home.hl7');
    receiver.answerNext('ok', 'http-503');
    send(a01, 'stay1');
    await until('the first delivery', () => receiver.received.length === 1);
    send(a01.replace(/MSG-A01-0001/g, 'S2-A01').replace(/V100200/g, 'V200'), 'stay2-a01');
    await until('the refused delivery', () => receiver.received.length === 2);
    send(a03.replace(/MSG-A03-0001/g, 'S2-A03').replace(/V100200/g, 'V200'), 'stay2-a03');
    send(a01.replace(/MSG-A01-0001/g, 'S3-A01').replace(/V100200/g, 'V300').replace('^H^^163|', '^H^^175|'), 'stay3');
  });

  after(async () => {
    await browser?.close();
    child?.kill('SIGKILL');
    await receiver?.close();
  });

  it('shows the administrator an acknowledged, a failed, a queued and a held message; resending the failed one delivers it and the one behind it', async () => {
    const { page, errors } = await editor('admin', 'admin-pass');
    await until('the counts', async () => (await count(page, 'delivered')) === 1 && (await count(page, 'failed')) === 1 && (await count(page, 'queued')) === 1);
    expect(await page.textContent('.advis-monitor-held')).to.include('unknown-municipality').and.include('0175');
    expect(await page.textContent('.advis-monitor')).not.to.include(CPR);
    await shot(page, 'monitor-summary');

    await page.selectOption('.advis-monitor-input-status', 'failed');
    await page.click('.advis-monitor-search-button');
    await page.click('.advis-monitor-results .advis-monitor-open');
    await page.waitForSelector('.advis-monitor-resend');
    expect(await page.textContent('.advis-monitor-detail-status')).to.equal('failed (retrying)');
    await page.locator('[data-message]').scrollIntoViewIfNeeded();
    await shot(page, 'monitor-message');
    await page.click('.advis-monitor-resend');
    await page.click('.advis-monitor-confirm');
    await until('both messages of stay 2 delivered', async () => (await count(page, 'delivered')) === 3 && (await count(page, 'failed')) === 0 && (await count(page, 'queued')) === 0);

    await page.click('.advis-monitor-personal');
    await page.waitForSelector('.advis-monitor-patient');
    expect(await page.textContent('.advis-monitor-patient')).to.include(CPR);
    // The audit of people is read again with the counts (every five seconds while the tab is shown).
    await until('the view in the audit of people', async () => /admin.*viewed personal data/.test((await page.textContent('.advis-monitor-audit')) ?? ''));
    expect(await page.textContent('.advis-monitor-audit')).to.include('resent');
    expect(errors).to.deep.equal([]);
  });

  it('releases the held advis once the site file is fixed: it is sent', async () => {
    const { page, errors } = await editor('admin', 'admin-pass');
    const site = JSON.parse(fs.readFileSync(siteFile, 'utf8')) as { municipalities: object[] };
    site.municipalities.push({ code: '0175', name: 'Sygehusadviser, Rødovre Kommune (test)', sor: '953771000016002', gln: '5790000000135' });
    fs.writeFileSync(siteFile, JSON.stringify(site, null, 2));
    await page.click('.advis-monitor-release');
    await page.click('.advis-monitor-confirm');
    await until('the released STIN delivered', async () => (await count(page, 'delivered')) === 4);
    expect(await page.isVisible('.advis-monitor-held')).to.equal(false);
    expect(receiver.received.at(-1)!.answer).to.equal('ok');
    expect(await page.textContent('.advis-monitor-audit')).to.include('released held advis');
    await page.locator('.advis-monitor-audit').scrollIntoViewIfNeeded();
    await shot(page, 'monitor-audit');
    expect(errors).to.deep.equal([]);
  });

  it('shows a read-only operator the counts and the messages, without actions or personal data', async () => {
    const { page, errors } = await editor('reader', 'reader-pass');
    await until('the counts', async () => (await count(page, 'delivered')) === 4);
    expect(await page.isVisible('.advis-monitor-input-cpr')).to.equal(false);
    await page.click('.advis-monitor-search-button');
    await page.click('.advis-monitor-results .advis-monitor-open');
    await page.waitForSelector('.advis-monitor-detail-status');
    for (const button of ['.advis-monitor-resend', '.advis-monitor-dead-letter', '.advis-monitor-personal', '.advis-monitor-release']) expect(await page.isVisible(button), button).to.equal(false);
    expect(await page.textContent('.advis-monitor')).not.to.include(CPR);
    await shot(page, 'monitor-read-only');
    expect(errors).to.deep.equal([]);
  });

  it('speaks Danish in a Danish browser', async () => {
    const { page, errors } = await editor('reader', 'reader-pass', 'da');
    expect(await page.textContent('.advis-monitor')).to.include('Udbakke').and.include('leveret').and.include('Find beskeder');
    await shot(page, 'monitor-da');
    expect(errors).to.deep.equal([]);
  });
});
