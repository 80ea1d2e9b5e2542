// The flows users import (examples/ under Import ▸ Examples, and the ready-made region flow) load and work, with
// their debug nodes swapped for helper nodes.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../support/free-port';
import { coreNode, helper, nodes, runtimePackage } from '../support/node-red';
import { describeShared, medcomPackages } from '../support/shared';
import { startFhirReceiver } from '../support/fhir-receiver';
import { startSftpServer } from '../support/sftp-server';

type FlowNode = { id: string; type: string; wires?: string[][] };

/** A flow as the editor imports it: nodes onto a tab (examples carry none), debug nodes swapped for helpers. */
function loadFlow(file: string): FlowNode[] {
  const flow = JSON.parse(fs.readFileSync(file, 'utf8')) as (FlowNode & { z?: string; x?: number })[];
  const tab = flow.find((n) => n.type === 'tab')?.id ?? 'imported';
  const placed = flow.map((n) => ('x' in n && !n.z ? { ...n, z: tab } : n));
  const nodes = placed.map((n) => (n.type === 'debug' ? { id: n.id, type: 'helper', z: n.z } : n));
  return flow.some((n) => n.type === 'tab') ? nodes : [{ id: tab, type: 'tab' }, ...nodes];
}

const core = ['common/20-inject.js', 'common/90-comment.js', 'common/25-catch.js', 'function/15-change.js', 'function/10-switch.js', 'network/21-httpin.js'].map(coreNode);
const hl7 = [nodes.listener, nodes.hl7In, nodes.hl7Response];

function firstMessage(id: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => helper.getNode(id).on('input', (msg) => resolve(msg)));
}

describeShared(`shipped flows on ${runtimePackage}`, function () {
  before((done) => {
    helper.startServer(done);
  });
  after((done) => {
    helper.stopServer(done);
  });
  const saved = { ...process.env };
  afterEach(async () => {
    await helper.unload();
    for (const key of ['ADVIS_SITE_FILE', 'ADVIS_STORE', 'ADVIS_FHIR_PACKAGES', 'ADVIS_MLLP_HOST', 'ADVIS_MLLP_PORT', 'ADVIS_VANS_OUTBOX', 'ADVIS_VANS_INBOX']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });
  beforeEach(() => {
    process.env.ADVIS_SITE_FILE = path.join(process.cwd(), 'flows', 'region.site.json');
    process.env.ADVIS_STORE = ':memory:';
    process.env.ADVIS_FHIR_PACKAGES = medcomPackages();
    process.env.ADVIS_MLLP_HOST = '127.0.0.1';
    process.env.ADVIS_MLLP_PORT = '0';
  });

  it('example "adt parse - read an ADT message" shows msg.adt', async () => {
    await helper.load([...core, nodes.site, nodes.parse], loadFlow(path.join('examples', 'adt parse - read an ADT message.json')));
    const got = firstMessage('d1');
    helper.getNode('i1').receive({});
    const msg = (await got) as { adt: { event: string; patient: { cprStatus: string } } };
    expect(msg.adt.event).to.equal('A01');
    expect(msg.adt.patient.cprStatus).to.equal('valid');
  });

  it('example "advis - ADT to HospitalNotification" gives a STIN and then an SLHJ', async () => {
    await helper.load([...core, nodes.site, nodes.parse, nodes.advis], loadFlow(path.join('examples', 'advis - ADT to HospitalNotification.json')));
    const stin = firstMessage('d1');
    helper.getNode('i1').receive({});
    expect(((await stin) as { advis: { advis: string } }).advis.advis).to.equal('STIN');
  });

  it('example "hl7 in, hl7 response, hl7 out" sends an A01 to its own listener and gets the AA back', async () => {
    const flow = loadFlow(path.join('examples', 'hl7 in, hl7 response, hl7 out - MLLP on this machine.json')) as (FlowNode & { port?: number })[];
    const port = await freePort();
    for (const n of flow) if (n.type === 'hl7-listener' || n.type === 'hl7 out') n.port = port;
    await helper.load([...core, ...hl7, nodes.hl7Out], flow);
    const received = firstMessage('hd2');
    const ack = firstMessage('hd1');
    // The listener opens as the flow starts; the first send may find it not yet listening.
    for (let i = 0; i < 50; i++) {
      const waited = new Promise((resolve) => setTimeout(resolve, 100, 'waiting'));
      helper.getNode('hi1').receive({});
      if ((await Promise.race([ack.then(() => 'acked'), waited])) === 'acked') break;
    }
    expect((await received).hl7).to.include({ controlId: 'MSG-A01-0001' });
    expect((await ack).ack).to.deep.equal({ code: 'AA', text: '', controlId: 'MSG-A01-0001' });
  });

  it('example "medcom out - deliver to a VANS folder" writes the STIN\'s envelope into the VANS outbox folder', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-example-vans-'));
    try {
      for (const [key, folder] of [['ADVIS_VANS_OUTBOX', 'out'], ['ADVIS_VANS_INBOX', 'in']]) {
        process.env[key] = path.join(dir, folder);
        fs.mkdirSync(process.env[key]!);
      }
      await helper.load([...core, nodes.site, nodes.parse, nodes.advis, nodes.medcomOut, nodes.medcomVans], loadFlow(path.join('examples', 'medcom out - deliver to a VANS folder.json')));
      const sent = new Promise<void>((resolve) => helper.getNode('d2').on('input', (msg) => (msg as { topic: string }).topic === 'sent' && resolve()));
      helper.getNode('i1').receive({});
      await sent;
      expect(fs.readdirSync(path.join(dir, 'out')).filter((f) => f.endsWith('.xml'))).to.have.length(1);
    } finally {
      await helper.unload();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('example "medcom out - deliver over FHIR REST" posts the STIN with a token got by OAuth2 client credentials, the secret a credential', async () => {
    const receiver = await startFhirReceiver({ auth: { type: 'oauth2', clientId: 'region-h', clientSecret: 'client-s3cret' } });
    const settings = { ADVIS_FHIR_URL: receiver.base, ADVIS_OAUTH_TOKEN_URL: receiver.tokenUrl, ADVIS_OAUTH_CLIENT_ID: 'region-h' };
    try {
      Object.assign(process.env, settings);
      const file = path.join('examples', 'medcom out - deliver over FHIR REST.json');
      expect(fs.readFileSync(file, 'utf8')).not.to.include('client-s3cret');
      await helper.load([...core, nodes.site, nodes.parse, nodes.advis, nodes.medcomOut, nodes.medcomRest], loadFlow(file), { exrest: { clientSecret: 'client-s3cret' } });
      const acknowledged = new Promise<void>((resolve) => helper.getNode('d2').on('input', (msg) => (msg as { topic: string }).topic === 'acknowledged' && resolve()));
      helper.getNode('i1').receive({});
      await acknowledged;
      expect(receiver.tokenRequests.map((t) => t.granted)).to.deep.equal([true]);
      expect(receiver.received.map((m) => [m.answer, m.problems])).to.deep.equal([['ok', []]]);
    } finally {
      await helper.unload();
      for (const key of Object.keys(settings)) delete process.env[key];
      await receiver.close();
    }
  });

  it('example "medcom out - alerts by e-mail" mails a subject and a text when a message goes dead, without a CPR number', async () => {
    const receiver = await startFhirReceiver();
    receiver.answerNext('fatal-error');
    try {
      process.env.ADVIS_FHIR_URL = receiver.base;
      // The e-mail node (node-red-node-email) is the user's to install: a helper stands in for it.
      const flow = loadFlow(path.join('examples', 'medcom out - alerts by e-mail.json')).map((n) => (n.type === 'e-mail' ? { id: n.id, type: 'helper', z: (n as { z?: string }).z } : n));
      await helper.load([...core, nodes.site, nodes.parse, nodes.advis, nodes.medcomOut, nodes.medcomRest], flow);
      const mail = firstMessage('e1');
      helper.getNode('i1').receive({});
      const msg = (await mail) as { topic: string; payload: string };
      expect(msg.topic).to.equal('advis alert: dead');
      expect(msg.payload).to.match(/^message \S+ to 5790001348120 \(stay V100200\|HGH\) was given up \(rejected\): resend or dead-letter it in the advis monitor\n\n\{"kind":"dead"/);
      expect(msg.payload).to.include('"reason":"rejected"').and.not.to.include('0101800005');
    } finally {
      await helper.unload();
      delete process.env.ADVIS_FHIR_URL;
      await receiver.close();
    }
  });

  it('example "medcom out - deliver over SFTP" uploads the STIN\'s envelope to the SFTP server\'s outbox', async () => {
    const server = await startSftpServer();
    const keyFile = path.join(server.root, '..', `${path.basename(server.root)}.key`);
    fs.writeFileSync(keyFile, server.clientKey.privateKey, { mode: 0o600 });
    fs.mkdirSync(path.join(server.root, 'outbox'));
    fs.mkdirSync(path.join(server.root, 'inbox'));
    const settings = { ADVIS_SFTP_HOST: server.host, ADVIS_SFTP_PORT: String(server.port), ADVIS_SFTP_USER: server.username, ADVIS_SFTP_HOST_KEY: server.fingerprint, ADVIS_SFTP_KEY_FILE: keyFile };
    try {
      Object.assign(process.env, settings);
      const flow = loadFlow(path.join('examples', 'medcom out - deliver over SFTP.json'));
      // The key's passphrase is a credential: the editor keeps it out of the flow file, so the example has none.
      await helper.load([...core, nodes.site, nodes.parse, nodes.advis, nodes.medcomOut, nodes.medcomVans], flow, { exvans: { passphrase: server.clientKey.passphrase } });
      const sent = new Promise<void>((resolve) => helper.getNode('d2').on('input', (msg) => (msg as { topic: string }).topic === 'sent' && resolve()));
      helper.getNode('i1').receive({});
      await sent;
      expect(fs.readdirSync(path.join(server.root, 'outbox')).filter((f) => f.endsWith('.xml'))).to.have.length(1);
    } finally {
      await helper.unload();
      for (const key of Object.keys(settings)) delete process.env[key];
      fs.rmSync(keyFile, { force: true });
      await server.close();
    }
  });

  it('the region flow (flows/region.json) turns its injected A01 and A03 into STIN and SLHJ, and delivers them', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-region-vans-'));
    for (const [key, folder] of [['ADVIS_VANS_OUTBOX', 'out'], ['ADVIS_VANS_INBOX', 'in']]) {
      process.env[key] = path.join(dir, folder);
      fs.mkdirSync(process.env[key]!);
    }
    await helper.load([...core, ...hl7, nodes.site, nodes.parse, nodes.advis, nodes.medcomOut, nodes.medcomVans], loadFlow(path.join('flows', 'region.json')));
    const sent: string[] = [];
    const delivered = new Promise<void>((resolve) =>
      helper.getNode('dbg4').on('input', (msg) => {
        if ((msg as { topic: string }).topic === 'sent') sent.push((msg as { payload: { advis: string } }).payload.advis);
        if (sent.length === 2) resolve();
      }),
    );
    const seen: string[] = [];
    const done = new Promise<void>((resolve) =>
      helper.getNode('dbg1').on('input', (msg) => {
        seen.push((msg as { advis: { advis: string } }).advis.advis);
        if (seen.length === 2) resolve();
      }),
    );
    helper.getNode('inj1').receive({});
    helper.getNode('inj2').receive({});
    await done;
    expect(seen).to.deep.equal(['STIN', 'SLHJ']);
    await delivered;
    expect(sent).to.deep.equal(['STIN', 'SLHJ']);
    expect(fs.readdirSync(path.join(dir, 'out')).filter((f) => f.endsWith('.xml'))).to.have.length(2);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
