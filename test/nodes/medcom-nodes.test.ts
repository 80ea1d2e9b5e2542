// The delivery nodes in a real flow: adt parse → advis → medcom out, delivering through a VANS folder or a VANS SFTP
// server (with the VANS simulator on the other side) or to the loopback FHIR receiver, with delivery events on the second output and
// manual resend and dead-letter by message.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DeliveryEvent } from '../../lib/delivery';
import { openSqliteStore } from '../../lib/store';
import type { AdvisSiteNode } from '../../nodes/advis-site/advis-site-node';
import { acknowledgement, startFhirReceiver, type FhirReceiver } from '../support/fhir-receiver';
import { coreNode, helper, nodes, runtimePackage } from '../support/node-red';
import { startSftpServer } from '../support/sftp-server';
import { describeShared, medcomPackages } from '../support/shared';
import { startVansSimulator } from '../support/vans-simulator';

const fixture = (name: string): string => fs.readFileSync(path.join(process.cwd(), 'test', 'fixtures', 'adt', name), 'utf8');
const siteFile = path.join(process.cwd(), 'flows', 'region.site.json');
const A01 = fixture('A01_admitted.hl7');
const CPR = '0101800005';

type Msg = { topic?: string; payload?: unknown; advis?: { messageHeaderId: string }; error?: { message: string } };

/** Every message a helper node receives from now on, and a way to wait until one matches. */
function collect(id: string): { all: Msg[]; until(match: (msg: Msg) => boolean): Promise<Msg> } {
  const all: Msg[] = [];
  const waiting: { match: (msg: Msg) => boolean; resolve: (msg: Msg) => void }[] = [];
  helper.getNode(id).on('input', (msg) => {
    all.push(msg as Msg);
    for (const w of [...waiting]) {
      if (w.match(msg as Msg)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(msg as Msg);
      }
    }
  });
  return {
    all,
    until: (match) => {
      const seen = all.find(match);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiting.push({ match, resolve }));
    },
  };
}

const event = (msg: Msg) => msg.payload as DeliveryEvent;
const is = (type: string, code?: string) => (msg: Msg) => msg.topic === type && (!code || event(msg).code === code);

function flow(delivery: object[], out: Record<string, unknown>): object[] {
  return [
    { id: 'tab', type: 'tab' },
    { id: 'site1', type: 'advis-site', z: 'tab', siteSource: 'file', siteFile, site: '', storeFile: ':memory:', profiles: medcomPackages() },
    { id: 'parse1', type: 'adt parse', z: 'tab', site: 'site1', wires: [['advis1']] },
    { id: 'advis1', type: 'advis', z: 'tab', site: 'site1', wires: [['out1'], []] },
    { id: 'out1', type: 'medcom out', z: 'tab', site: 'site1', concurrency: 4, ...out, wires: [['queued'], ['events']] },
    ...delivery,
    { id: 'queued', type: 'helper', z: 'tab' },
    { id: 'events', type: 'helper', z: 'tab' },
    { id: 'catch1', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
  ];
}

const deliveryNodes = [nodes.site, nodes.parse, nodes.advis, nodes.medcomOut, nodes.medcomVans, nodes.medcomRest, coreNode('common/25-catch.js')];

describeShared(`delivery nodes on ${runtimePackage}`, function () {
  let dir: string;
  before((done) => {
    helper.startServer(done);
  });
  after((done) => {
    helper.stopServer(done);
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-medcom-nodes-'));
  });
  afterEach(async () => {
    await helper.unload();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('VANS: the advis is queued, its envelope written, and the acknowledgement from the inbox delivers it', async () => {
    const outbox = path.join(dir, 'out');
    const inbox = path.join(dir, 'in');
    fs.mkdirSync(outbox);
    fs.mkdirSync(inbox);
    const vans = startVansSimulator({ outbox, inbox });
    await helper.load(deliveryNodes, flow([{ id: 'vans1', type: 'medcom-vans', outbox, inbox, pollInterval: 3600, senderGln: '', namePostfix: 'statistical' }], { transport: 'vans', vans: 'vans1' }));
    const events = collect('events');
    const queued = collect('queued');
    helper.getNode('parse1').receive({ payload: A01 });
    const advis = await queued.until(() => true);
    const id = advis.advis!.messageHeaderId;
    await events.until(is('sent'));
    expect(vans.step().map((d) => [d.messageHeaderId, d.problems])).to.deep.equal([[id, []]]);
    helper.getNode('out1').receive({ topic: 'poll' });
    await events.until(is('acknowledged', 'ok'));
    expect(events.all.map((m) => m.topic)).to.deep.equal(['queued', 'sent', 'acknowledged']);
    expect(event(events.all[1])).to.include({ messageHeaderId: id, stayKey: 'V100200|HGH', receiverGln: '5790001348120', advis: 'STIN', attempts: 1 });
    const store = (await (helper.getNode('site1') as unknown as AdvisSiteNode).runtime()).store;
    expect((await store.getOutbox(id))!.status).to.equal('delivered');
    expect(JSON.stringify(events.all)).not.to.include(CPR);
    // The status counts the outbox.
    const status = helper.getNode('out1').status as unknown as { args: { text?: string; fill?: string }[][] };
    const counts = () => status.args.map(([s]) => s).find((s) => s.text === '0 queued, 0 awaiting ack, 0 failed');
    while (!counts()) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(counts()!.fill).to.equal('green');
  });

  it('VANS over SFTP: logs in with the credentials from Node-RED\'s store, the envelope lands on the server, and the acknowledgement from its inbox delivers it', async () => {
    const server = await startSftpServer();
    try {
      const outbox = path.join(server.root, 'out');
      const inbox = path.join(server.root, 'in');
      fs.mkdirSync(outbox);
      fs.mkdirSync(inbox);
      const vans = startVansSimulator({ outbox, inbox });
      const config = { id: 'vans1', type: 'medcom-vans', transport: 'sftp', host: server.host, port: String(server.port), username: server.username, hostKey: server.fingerprint, remoteOutbox: '/out', remoteInbox: '/in', pollInterval: 3600, senderGln: '', namePostfix: 'statistical' };
      const flowJson = flow([config], { transport: 'vans', vans: 'vans1' });
      await helper.load(deliveryNodes, flowJson, { vans1: { password: server.password } });
      // The editor sends these to the credential store, which keeps them out of the flow file.
      expect(helper.credentials.getDefinition('medcom-vans')).to.deep.equal({ password: { type: 'password' }, privateKey: { type: 'password' }, passphrase: { type: 'password' } });
      expect(JSON.stringify(flowJson)).not.to.include(server.password);
      const events = collect('events');
      const queued = collect('queued');
      helper.getNode('parse1').receive({ payload: A01 });
      const id = (await queued.until(() => true)).advis!.messageHeaderId;
      await events.until(is('sent'));
      expect(vans.step().map((d) => [d.messageHeaderId, d.problems])).to.deep.equal([[id, []]]);
      helper.getNode('out1').receive({ topic: 'poll' });
      await events.until(is('acknowledged', 'ok'));
      expect(events.all.map((m) => m.topic)).to.deep.equal(['queued', 'sent', 'acknowledged']);
      // The file is moved once the acknowledgement is handled, after the event.
      while (!fs.readdirSync(path.join(inbox, 'processed')).length) await new Promise<void>((resolve) => setImmediate(resolve));
      const store = (await (helper.getNode('site1') as unknown as AdvisSiteNode).runtime()).store;
      expect((await store.getOutbox(id))!.status).to.equal('delivered');
      expect(server.logins, 'the sink and the inbox share one connection').to.equal(1);
    } finally {
      await helper.unload();
      await server.close();
    }
  });

  it('VANS over SFTP: logs in with a private key file named by an environment variable, its passphrase a credential; the fingerprint as ssh-keygen -lf prints it', async () => {
    const server = await startSftpServer();
    try {
      fs.mkdirSync(path.join(server.root, 'out'));
      const keyFile = path.join(dir, 'vans.key');
      fs.writeFileSync(keyFile, server.clientKey.privateKey, { mode: 0o600 });
      process.env.ADVIS_TEST_VANS_KEY = keyFile;
      const config = { id: 'vans1', type: 'medcom-vans', transport: 'sftp', host: server.host, port: server.port, username: server.username, hostKey: `256 ${server.fingerprint} vans (ECDSA)`, privateKeyFile: '${ADVIS_TEST_VANS_KEY}', remoteOutbox: '/out', pollInterval: 3600 };
      await helper.load(deliveryNodes, flow([config], { transport: 'vans', vans: 'vans1' }), { vans1: { passphrase: server.clientKey.passphrase } });
      const events = collect('events');
      helper.getNode('parse1').receive({ payload: A01 });
      await events.until(is('sent'));
      expect(fs.readdirSync(path.join(server.root, 'out'))).to.have.length(1);
    } finally {
      delete process.env.ADVIS_TEST_VANS_KEY;
      await helper.unload();
      await server.close();
    }
  });

  it('VANS over SFTP: a server with another host key gets nothing; the failure names the key it showed', async () => {
    const server = await startSftpServer();
    try {
      fs.mkdirSync(path.join(server.root, 'out'));
      const other = `SHA256:${'A'.repeat(43)}`;
      const config = { id: 'vans1', type: 'medcom-vans', transport: 'sftp', host: server.host, port: server.port, username: server.username, hostKey: other, remoteOutbox: '/out', pollInterval: 3600 };
      await helper.load(deliveryNodes, flow([config], { transport: 'vans', vans: 'vans1' }), { vans1: { password: server.password } });
      const events = collect('events');
      helper.getNode('parse1').receive({ payload: A01 });
      const failed = event(await events.until(is('failed')));
      expect(failed).to.include({ reason: 'network', advis: 'STIN' });
      expect(failed.detail).to.include(`presented the host key ${server.fingerprint}, not the configured ${other}`);
      expect(server.logins).to.equal(0);
      expect(fs.readdirSync(path.join(server.root, 'out'))).to.deep.equal([]);
    } finally {
      await helper.unload();
      await server.close();
    }
  });

  it('REST: delivers with the credentials from Node-RED\'s store, resends and refuses to dead-letter by message', async () => {
    const receiver: FhirReceiver = await startFhirReceiver({ auth: { type: 'basic', username: 'region', password: 's3cret' } });
    try {
      const rest = { id: 'rest1', type: 'medcom-rest', url: receiver.base, target: 'process-message', authType: 'basic', username: 'region', connectTimeout: 5, timeout: 5 };
      await helper.load(deliveryNodes, flow([rest], { transport: 'rest', rest: 'rest1' }), { rest1: { password: 's3cret' } });
      const events = collect('events');
      const caught = collect('caught');
      helper.getNode('parse1').receive({ payload: A01 });
      const ok = await events.until(is('acknowledged', 'ok'));
      const id = event(ok).messageHeaderId;
      expect(receiver.received.map((r) => [r.path, r.answer, r.messageHeaderId])).to.deep.equal([['/fhir/$process-message', 'ok', id]]);

      helper.getNode('out1').receive({ topic: 'resend', payload: id });
      await events.until((m) => is('acknowledged', 'ok')(m) && event(m).attempts === 2);
      expect(events.all.map((m) => m.topic)).to.deep.equal(['queued', 'sent', 'acknowledged', 'queued', 'resent', 'acknowledged']);
      expect(new Set(receiver.received.map((r) => JSON.parse(r.body).id)).size, 'a resend has a new Bundle.id').to.equal(2);

      helper.getNode('out1').receive({ topic: 'dead-letter', payload: id });
      expect((await caught.until(() => true)).error!.message).to.include(`the message ${id} is already delivered`);
      helper.getNode('out1').receive({ payload: {} });
      expect((await caught.until((m) => /msg\.advis\.messageHeaderId/.test(m.error!.message))).error!.message).to.match(/first output of an advis node/);
    } finally {
      await receiver.close();
    }
  });

  it('a stop while a message is at the receiver waits for its answer and commits it, so a restart does not send it again', async () => {
    let arrived!: () => void;
    const atReceiver = new Promise<void>((resolve) => (arrived = resolve));
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const receiver = await startFhirReceiver({ beforeAnswer: () => (arrived(), answered) });
    const storeFile = path.join(dir, 'advis.db');
    const rest = { id: 'rest1', type: 'medcom-rest', url: receiver.base, target: 'process-message', authType: 'none' };
    const withStore = (nodes: object[]) => nodes.map((n) => ((n as { id: string }).id === 'site1' ? { ...n, storeFile } : n));
    try {
      await helper.load(deliveryNodes, withStore(flow([rest], { transport: 'rest', rest: 'rest1' })));
      helper.getNode('parse1').receive({ payload: A01 });
      await atReceiver;
      // Node-RED closes the site, the sink and medcom out together; the answer comes only once they are all closing.
      const stopped = helper.unload();
      setTimeout(answer, 100);
      await stopped;
      const store = openSqliteStore(storeFile);
      const entries = (await store.outboxByStatus('queued', 10)).concat(await store.outboxByStatus('delivered', 10));
      await store.close();
      expect(entries.map((e) => [e.status, e.attempts]), 'the answer that came during the stop is recorded').to.deep.equal([['delivered', 1]]);
    } finally {
      await receiver.close();
    }
  });

  it('alerts on the events output: a message given up once, the backlog past its size; no CPR number', async () => {
    const receiver = await startFhirReceiver();
    helper.settings({ advisAlertInterval: 50 });
    try {
      receiver.answerNext('fatal-error', 'hang', 'hang');
      const rest = { id: 'rest1', type: 'medcom-rest', url: receiver.base, target: 'process-message', authType: 'none', timeout: 1 };
      await helper.load(deliveryNodes, flow([rest], { transport: 'rest', rest: 'rest1', backlog: '1', repeatMinutes: '60' }));
      const events = collect('events');
      helper.getNode('parse1').receive({ payload: A01 });
      const dead = (await events.until((m) => m.topic === 'alert')).payload as { kind: string; messageHeaderId: string; reason: string; text: string };
      expect(dead).to.include({ kind: 'dead', reason: 'rejected' });
      expect(dead.text).to.equal(`message ${dead.messageHeaderId} to 5790001348120 (stay V100200|HGH) was given up (rejected): resend or dead-letter it in the advis monitor`);
      // Two stays waiting at a receiver that does not answer: a backlog of 2 passes the size 1.
      helper.getNode('parse1').receive({ payload: A01.replace(/MSG-A01-0001/g, 'MSG-2').replace(/V100200/g, 'V2') });
      helper.getNode('parse1').receive({ payload: A01.replace(/MSG-A01-0001/g, 'MSG-3').replace(/V100200/g, 'V3') });
      const backlog = (await events.until((m) => m.topic === 'alert' && (m.payload as { kind: string }).kind === 'backlog')).payload;
      expect(backlog).to.include({ kind: 'backlog', threshold: 1 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(events.all.filter((m) => m.topic === 'alert').map((m) => (m.payload as { kind: string }).kind), 'each once per repeat period').to.deep.equal(['dead', 'backlog']);
      expect(JSON.stringify(events.all)).not.to.include(CPR);
    } finally {
      helper.settings({});
      await helper.unload();
      await receiver.close();
    }
  });

  it('REST: warns at start when the receiver\'s certificate is not verified, and not when it is', async () => {
    const warnings = async (verifyservercert: boolean) => {
      const rest = { id: 'rest1', type: 'medcom-rest', z: '', url: 'https://fhir.example.invalid/fhir', target: 'process-message', authType: 'none', tls: 'tls1' };
      const tlsNode = { id: 'tls1', type: 'tls-config', z: '', cert: '', key: '', ca: '', verifyservercert };
      await helper.load([...deliveryNodes, coreNode('network/05-tls.js')], flow([rest, tlsNode], { transport: 'rest', rest: 'rest1' }));
      const node = helper.getNode('rest1') as unknown as { warn: { args: unknown[][] } };
      for (let i = 0; i < 50 && !node.warn.args.length; i++) await new Promise((r) => setTimeout(r, 10));
      const seen = node.warn.args.map((a) => String(a[0]));
      await helper.unload();
      return seen;
    };
    expect(await warnings(false)).to.deep.equal([
      'the certificate of https://fhir.example.invalid/fhir is not verified ("Verify server certificate" is off in its TLS configuration): whoever answers there gets the notifications. Turn verification on outside tests',
    ]);
    expect(await warnings(true)).to.deep.equal([]);
  });

  it('REST: an acknowledgement that comes later, through the flow, settles the message', async () => {
    const receiver = await startFhirReceiver();
    try {
      receiver.answerNext('accepted');
      const rest = { id: 'rest1', type: 'medcom-rest', url: receiver.base, target: 'process-message', authType: 'none' };
      await helper.load(deliveryNodes, flow([rest], { transport: 'rest', rest: 'rest1' }));
      const events = collect('events');
      const caught = collect('caught');
      helper.getNode('parse1').receive({ payload: A01 });
      const id = event(await events.until(is('sent'))).messageHeaderId;
      helper.getNode('out1').receive({ topic: 'acknowledgement', payload: JSON.parse(acknowledgement(id, 'ok', false)) });
      await events.until(is('acknowledged', 'ok'));
      helper.getNode('out1').receive({ topic: 'acknowledgement', payload: '<Bundle xmlns="http://hl7.org/fhir"/>' });
      expect((await caught.until(() => true)).error!.message).to.include('msg.payload is not a MedCom acknowledgement');
    } finally {
      await receiver.close();
    }
  });

  describe('resend settings', () => {
    /** A VANS folder whose inbox nobody fills: no acknowledgement ever comes. Rounds every 0.1 s. */
    const silentVans = () => {
      const outbox = path.join(dir, 'out');
      fs.mkdirSync(outbox);
      return { outbox, config: { id: 'vans1', type: 'medcom-vans', outbox, inbox: '', pollInterval: 0.1 } };
    };
    /** The delivery events after the first transmission (whether `queued` comes first depends on a round's timing). */
    const afterQueued = (all: Msg[]) => all.filter((m) => m.topic !== 'queued').map((m) => [m.topic, event(m).attempts, event(m).reason]);

    it('no acknowledgement within the configured timeout: resent up to the configured max resends, then failed', async () => {
      const vans = silentVans();
      // As the editor saves them: text. 0.005 minutes = 300 ms.
      await helper.load(deliveryNodes, flow([vans.config], { transport: 'vans', vans: 'vans1', ackTimeout: '0.005', maxResends: '2' }));
      const events = collect('events');
      helper.getNode('parse1').receive({ payload: A01 });
      const failed = await events.until(is('failed'));
      expect(afterQueued(events.all)).to.deep.equal([
        ['sent', 1, undefined],
        ['resent', 2, undefined],
        ['resent', 3, undefined],
        ['failed', 3, 'resends-exhausted'],
      ]);
      const bundleIds = events.all.filter((m) => m.topic === 'sent' || m.topic === 'resent').map((m) => event(m).bundleId);
      expect(new Set(bundleIds).size, 'each transmission has its own Bundle.id').to.equal(3);
      expect(fs.readdirSync(vans.outbox).filter((f) => f.endsWith('.xml'))).to.have.length(3);
      const store = (await (helper.getNode('site1') as unknown as AdvisSiteNode).runtime()).store;
      expect((await store.getOutbox(event(failed).messageHeaderId))!.status).to.equal('dead');
    });

    it('a blank max resends is MedCom\'s 3', async () => {
      const vans = silentVans();
      await helper.load(deliveryNodes, flow([vans.config], { transport: 'vans', vans: 'vans1', ackTimeout: 0.005, maxResends: '' }));
      const events = collect('events');
      helper.getNode('parse1').receive({ payload: A01 });
      await events.until(is('failed'));
      expect(afterQueued(events.all).map(([topic]) => topic)).to.deep.equal(['sent', 'resent', 'resent', 'resent', 'failed']);
      expect(event(events.all.at(-1)!).reason).to.equal('resends-exhausted');
    });

    it('a flow saved before the settings existed waits MedCom\'s 30 minutes for the acknowledgement', async () => {
      const outbox = path.join(dir, 'out');
      fs.mkdirSync(outbox);
      // flow() gives the node no resend settings at all, as in flows saved by earlier versions.
      await helper.load(deliveryNodes, flow([{ id: 'vans1', type: 'medcom-vans', outbox, inbox: '', pollInterval: 3600 }], { transport: 'vans', vans: 'vans1' }));
      const events = collect('events');
      helper.getNode('parse1').receive({ payload: A01 });
      const sent = event(await events.until(is('sent')));
      const store = (await (helper.getNode('site1') as unknown as AdvisSiteNode).runtime()).store;
      const entry = (await store.getOutbox(sent.messageHeaderId))!;
      expect(entry.status).to.equal('sent');
      expect(Date.parse(entry.nextAttemptAt) - Date.parse(sent.at)).to.equal(30 * 60_000);
    });

    it('resend on fatal-error, for receivers that follow the older rules, after the configured pause', async () => {
      const receiver = await startFhirReceiver();
      try {
        receiver.answerNext('fatal-error', 'fatal-error');
        const rest = { id: 'rest1', type: 'medcom-rest', url: receiver.base, target: 'process-message', authType: 'none' };
        await helper.load(deliveryNodes, flow([rest], { transport: 'rest', rest: 'rest1', resendOn: 'fatal-error', transientErrorDelay: '0', maxResends: '1' }));
        const events = collect('events');
        helper.getNode('parse1').receive({ payload: A01 });
        await events.until(is('acknowledged', 'fatal-error'));
        // The resend is due at once (no pause); a poll sends it without waiting for the REST worker's 10 s round.
        helper.getNode('out1').receive({ topic: 'poll' });
        await events.until(is('failed'));
        expect(afterQueued(events.all)).to.deep.equal([
          ['sent', 1, undefined],
          ['acknowledged', 1, undefined],
          ['resent', 2, undefined],
          ['acknowledged', 2, undefined],
          ['failed', 2, 'resends-exhausted'],
        ]);
        expect(receiver.received.map((r) => r.answer)).to.deep.equal(['fatal-error', 'fatal-error']);
      } finally {
        await receiver.close();
      }
    });

    it('a wrong setting stops the node with an error naming it, and no worker starts', async () => {
      const vans = silentVans();
      await helper.load(deliveryNodes, flow([vans.config], { transport: 'vans', vans: 'vans1', ackTimeout: 'soon', maxResends: 7 }));
      const caught = collect('caught');
      const status = helper.getNode('out1').status as unknown as { args: { text?: string; fill?: string }[][] };
      expect(status.args.at(-1)![0]).to.include({ fill: 'red', text: 'medcom-out.status.error' });
      helper.getNode('parse1').receive({ payload: A01 });
      const message = (await caught.until(() => true)).error!.message;
      expect(message).to.include('ackTimeout (Ack timeout): "soon" is not a number');
      expect(message).to.include('maxResends (Max resends): 7 is out of range');
      expect(fs.readdirSync(vans.outbox), 'nothing was sent').to.deep.equal([]);
    });
  });

  it('writes envelopes 0640 for the VANS client\'s file group, and names a group that does not exist', async () => {
    const outbox = path.join(dir, 'out');
    fs.mkdirSync(outbox);
    const vans = (fileGroup: string) => [{ id: 'vans1', type: 'medcom-vans', outbox, inbox: '', pollInterval: 3600, senderGln: '', namePostfix: 'statistical', fileGroup }];
    await helper.load(deliveryNodes, flow(vans(String(process.getgid!())), { transport: 'vans', vans: 'vans1' }));
    const events = collect('events');
    helper.getNode('parse1').receive({ payload: A01 });
    await events.until(is('sent'));
    const [file] = fs.readdirSync(outbox).filter((f) => f.endsWith('.xml'));
    expect(fs.statSync(path.join(outbox, file!)).mode & 0o777).to.equal(0o640);
    await helper.unload();
    await helper.load(deliveryNodes, flow(vans('no-such-group-advis'), { transport: 'vans', vans: 'vans1' }));
    const caught = collect('caught');
    helper.getNode('parse1').receive({ payload: A01 });
    expect((await caught.until(() => true)).error!.message).to.include('the file group "no-such-group-advis" is not a group on this machine');
  });

  it('names an unset environment variable in the SFTP settings', async () => {
    delete process.env.ADVIS_TEST_UNSET_HOST;
    const vans = { id: 'vans1', type: 'medcom-vans', transport: 'sftp', host: '${ADVIS_TEST_UNSET_HOST}', username: 'region', hostKey: `SHA256:${'A'.repeat(43)}`, remoteOutbox: '/out', pollInterval: 3600 };
    await helper.load(deliveryNodes, flow([vans], { transport: 'vans', vans: 'vans1' }), { vans1: { password: 'x' } });
    const caught = collect('caught');
    helper.getNode('out1').receive({ advis: { messageHeaderId: 'x' } });
    expect((await caught.until(() => true)).error!.message).to.include('the setting "SFTP server" uses the environment variable ADVIS_TEST_UNSET_HOST, which is not set');
  });

  it('names an unset environment variable in the folder settings', async () => {
    delete process.env.ADVIS_TEST_UNSET_OUTBOX;
    const vans = { id: 'vans1', type: 'medcom-vans', outbox: '${ADVIS_TEST_UNSET_OUTBOX}', inbox: '', pollInterval: 3600 };
    await helper.load(deliveryNodes, flow([vans], { transport: 'vans', vans: 'vans1' }));
    const caught = collect('caught');
    helper.getNode('out1').receive({ advis: { messageHeaderId: 'x' } });
    expect((await caught.until(() => true)).error!.message).to.include('the setting "Outbox folder" uses the environment variable ADVIS_TEST_UNSET_OUTBOX, which is not set');
  });

  it('lets only one medcom out node deliver for a site in one Node-RED (instances share the outbox through claims)', async () => {
    const vans = { id: 'vans1', type: 'medcom-vans', outbox: dir, inbox: '', pollInterval: 3600 };
    const second = { id: 'out2', type: 'medcom out', z: 'tab', site: 'site1', transport: 'vans', vans: 'vans1', wires: [[], []] };
    await helper.load(deliveryNodes, [...flow([vans], { transport: 'vans', vans: 'vans1' }), second]);
    const caught = collect('caught');
    helper.getNode('out2').receive({ advis: { messageHeaderId: 'x' } });
    expect((await caught.until(() => true)).error!.message).to.include('the medcom out node out1 already delivers for this site; a site has one');
  });
});
