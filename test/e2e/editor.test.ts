// The editor side, which node-red-node-test-helper never loads: the nodes' .html definitions, their edit dialogs,
// help and the English and Danish catalogs, in Debian's Chromium driven by playwright-core.
import { expect } from 'chai';
import * as fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runtimePackage } from '../support/node-red';
import { startAdvis, type RunningAdvis } from '../support/runtime';
import { describeNeeding, sharedDir } from '../support/shared';

const CHROMIUM = process.env.ADVIS_CHROMIUM ?? '/usr/bin/chromium';
const missing = !sharedDir ? '../shared is not beside the checkout' : fs.existsSync(CHROMIUM) ? null : `no Chromium at ${CHROMIUM} (apt-get install chromium)`;

declare const RED: {
  nodes: { getType(t: string): { category: string; outputs: number } | undefined; node(id: string): unknown };
  editor: { edit(node: unknown): void; editConfig(a: string, type: string, id: string): void };
  view: { importNodes(nodes: object[]): void };
  workspaces: { active(): string };
};

describeNeeding(`Node-RED editor in Chromium (${runtimePackage})`, missing, function () {
  this.timeout(90000);
  let advis: RunningAdvis;
  let browser: Browser;

  before(async () => {
    advis = await startAdvis();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  after(async () => {
    await browser?.close();
    await advis?.stop();
  });

  async function open(locale: string): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ locale });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(advis.base + '/');
    await page.waitForSelector('.red-ui-palette-node[data-palette-type="advis"]', { timeout: 30000 });
    return { page, errors };
  }

  it('shows the nodes in the palette, opens their edit dialogs and the site editor without script errors', async () => {
    const { page, errors } = await open('en-US');
    const types = await page.evaluate(() => ['adt parse', 'advis', 'advis-site'].map((t) => RED.nodes.getType(t) && [t, RED.nodes.getType(t)!.category, RED.nodes.getType(t)!.outputs]));
    expect(types).to.deep.equal([['adt parse', 'advis', 1], ['advis', 'advis', 2], ['advis-site', 'config', undefined]]);
    await page.evaluate(() => RED.editor.edit(RED.nodes.node('advis1')));
    await page.waitForSelector('#node-input-site', { state: 'attached' });
    expect(await page.textContent('label[for="node-input-site"]')).to.include('Site');
    await page.click('#node-dialog-cancel');
    await page.evaluate(() => RED.editor.editConfig('', 'advis-site', 'site1'));
    await page.waitForSelector('#node-config-input-siteFile', { state: 'visible' });
    expect(await page.inputValue('#node-config-input-siteFile')).to.equal('${ADVIS_SITE_FILE}');
    await page.selectOption('#node-config-input-siteSource', 'inline');
    await page.waitForSelector('#node-config-input-site-editor', { state: 'visible' });
    expect(errors).to.deep.equal([]);
  });

  it('offers the HL7 nodes and opens the hl7 in and listener dialogs', async () => {
    const { page, errors } = await open('en-US');
    const hl7Types = await page.evaluate(() => ['hl7 in', 'hl7 response', 'hl7 out', 'hl7-listener'].map((t) => [t, RED.nodes.getType(t)?.category, RED.nodes.getType(t)?.outputs]));
    expect(hl7Types).to.deep.equal([['hl7 in', 'advis', 1], ['hl7 response', 'advis', 0], ['hl7 out', 'advis', 1], ['hl7-listener', 'config', undefined]]);
    await page.evaluate(() => RED.editor.edit(RED.nodes.node('hl7in1')));
    await page.waitForSelector('#node-input-ackMode', { state: 'visible' });
    expect(await page.inputValue('#node-input-ackMode')).to.equal('flow');
    expect(await page.isVisible('#node-input-responseTimeout')).to.equal(true);
    await page.selectOption('#node-input-ackMode', 'receipt');
    expect(await page.isVisible('#node-input-responseTimeout')).to.equal(false);
    await page.click('#node-dialog-cancel');
    await page.evaluate(() => RED.editor.editConfig('', 'hl7-listener', 'mllp1'));
    await page.waitForSelector('#node-config-input-port', { state: 'visible' });
    expect(await page.inputValue('#node-config-input-port')).to.equal('${ADVIS_MLLP_PORT}');
    expect(errors).to.deep.equal([]);
  });

  it('opens the delivery nodes: medcom out switches between VANS and REST, medcom-rest shows the chosen authentication', async () => {
    const { page, errors } = await open('en-US');
    await page.evaluate(() =>
      RED.view.importNodes([{ id: 'mout1', type: 'medcom out', z: RED.workspaces.active(), x: 400, y: 400, site: 'site1', transport: 'vans', wires: [[], []] }]),
    );
    await page.evaluate(() => RED.editor.edit(RED.nodes.node('mout1')));
    await page.waitForSelector('#node-input-transport', { state: 'visible' });
    expect([await page.isVisible('#node-input-vans'), await page.isVisible('#node-input-rest')]).to.deep.equal([true, false]);
    await page.selectOption('#node-input-transport', 'rest');
    expect([await page.isVisible('#node-input-vans'), await page.isVisible('#node-input-rest')]).to.deep.equal([false, true]);
    // The resend settings: blank shows MedCom's default; a value out of range is marked, with what it must be.
    expect(await page.getAttribute('#node-input-ackTimeout', 'placeholder')).to.equal('30');
    expect(await page.inputValue('#node-input-resendOn')).to.equal('');
    expect(await page.textContent('#node-input-resendOn option:checked')).to.match(/^transient-error/);
    const maxResendsMarked = async (value: string) => {
      await page.fill('#node-input-maxResends', value);
      await page.dispatchEvent('#node-input-maxResends', 'change'); // the editor validates on change, not on input
      return page.$eval('#node-input-maxResends', (e) => e.classList.contains('input-error'));
    };
    expect(await maxResendsMarked('4')).to.equal(true);
    expect(await maxResendsMarked('2')).to.equal(false);
    expect(await maxResendsMarked('')).to.equal(false);
    const reason = await page.evaluate(() => {
      const type = RED.nodes.getType('medcom out') as unknown as { defaults: Record<string, { validate(this: unknown, v: string, opt: object): unknown }> };
      return type.defaults.maxResends.validate.call(RED.nodes.node('mout1'), '4', {});
    });
    expect(reason).to.match(/^A whole number from 0 to 3/);
    await page.click('#node-dialog-cancel');
    await page.evaluate(() => RED.editor.editConfig('', 'medcom-rest', '_ADD_'));
    await page.waitForSelector('#node-config-input-url', { state: 'visible' });
    const shown = () => Promise.all(['#node-config-input-password', '#node-config-input-token', '#node-config-input-clientSecret'].map((id) => page.isVisible(id)));
    expect(await shown()).to.deep.equal([false, false, false]);
    await page.selectOption('#node-config-input-authType', 'basic');
    expect(await shown()).to.deep.equal([true, false, false]);
    await page.selectOption('#node-config-input-authType', 'oauth2');
    expect(await shown()).to.deep.equal([false, false, true]);
    expect(await page.textContent('label[for="node-config-input-clientSecret"]')).to.include('Client secret');
    await page.click('#node-config-dialog-cancel');
    await page.evaluate(() => RED.editor.editConfig('', 'medcom-vans', '_ADD_'));
    await page.waitForSelector('#node-config-input-outbox', { state: 'visible' });
    expect(await page.inputValue('#node-config-input-outbox')).to.equal('${ADVIS_VANS_OUTBOX}');
    const sftpShown = () => Promise.all(['#node-config-input-outbox', '#node-config-input-host', '#node-config-input-hostKey', '#node-config-input-privateKey'].map((id) => page.isVisible(id)));
    expect(await sftpShown()).to.deep.equal([true, false, false, false]);
    await page.selectOption('#node-config-input-transport', 'sftp');
    expect(await sftpShown()).to.deep.equal([false, true, true, true]);
    expect(await page.textContent('label[for="node-config-input-hostKey"]')).to.include('Host key fingerprint');
    await page.click('#node-config-dialog-cancel');
    expect(errors.join('\n')).to.equal('');
  });

  it('speaks Danish in a Danish browser', async () => {
    const { page, errors } = await open('da-DK');
    await page.evaluate(() => RED.editor.edit(RED.nodes.node('advis1')));
    await page.waitForSelector('label[for="node-input-site"]');
    expect(await page.textContent('label[for="node-input-site"]')).to.include('Sted');
    await page.click('#node-dialog-cancel');
    await page.evaluate(() => RED.editor.edit(RED.nodes.node('hl7in1')));
    await page.waitForSelector('#node-input-ackMode', { state: 'visible' });
    expect(await page.textContent('#node-input-ackMode option[value="flow"]')).to.equal('efter flowet (hl7 response-node)');
    await page.click('#node-dialog-cancel');
    await page.evaluate(() => RED.editor.editConfig('', 'medcom-vans', '_ADD_'));
    await page.waitForSelector('label[for="node-config-input-outbox"]', { state: 'visible' });
    expect(await page.textContent('label[for="node-config-input-outbox"]')).to.include('Udbakkemappe');
    expect(await page.textContent('#node-config-input-transport option[value="sftp"]')).to.equal('SFTP (VANS-leverandørens server)');
    expect(errors).to.deep.equal([]);
  });
});
