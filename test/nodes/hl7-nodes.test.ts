// The HL7 nodes in a running Node-RED: an EPR (our MllpSender) sends ADT over MLLP to `hl7 in` → `adt parse` →
// `advis` → `hl7 response`, with a Catch node for negative ACKs; `hl7 out` against a listener; TLS through
// Node-RED's own tls-config node.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MllpListener, MllpSender, parseHl7, type SendResult } from '../../lib/hl7';
import type { AdvisSiteNode } from '../../nodes/advis-site/advis-site-node';
import { freePort } from '../support/free-port';
import { hl7 } from '../support/mllp-peer';
import { coreNode, helper, nodes, runtimePackage } from '../support/node-red';
import { describeShared, medcomPackages } from '../support/shared';
import { makeTestCa } from '../support/test-ca';

const fixture = (name: string): string => fs.readFileSync(path.join(process.cwd(), 'test', 'fixtures', 'adt', name), 'utf8');
const siteFile = path.join(process.cwd(), 'flows', 'region.site.json');
const hl7Nodes = [nodes.listener, nodes.hl7In, nodes.hl7Response, nodes.hl7Out, nodes.site, nodes.parse, nodes.advis, coreNode('common/25-catch.js'), coreNode('network/05-tls.js')];

/** The EPR's side: waits until the listener accepts connections, then sends. */
async function epr(port: number, tls?: object): Promise<MllpSender> {
  const sender = new MllpSender({ host: '127.0.0.1', port, ackTimeoutMs: 10_000, connectTimeoutMs: 2000, ...(tls ? { tls } : {}) });
  return sender;
}

async function sendWhenListening(sender: MllpSender, message: string): Promise<SendResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await sender.send(message);
    } catch (error) {
      if ((error as { kind?: string }).kind !== 'connect' || attempt > 100) throw error;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

function advisFlow(port: number, listener: Record<string, unknown> = {}): object[] {
  return [
    { id: 'tab', type: 'tab' },
    { id: 'mllp', type: 'hl7-listener', z: '', host: '127.0.0.1', port, tls: '', clientCert: false, maxFrameKiB: 1024, idleTimeout: 0, app: 'ADVIS', facility: 'REGION', ...listener },
    { id: 'site1', type: 'advis-site', z: 'tab', siteSource: 'file', siteFile, site: '', storeFile: ':memory:', profiles: medcomPackages() },
    { id: 'in1', type: 'hl7 in', z: 'tab', listener: 'mllp', ackMode: 'flow', responseTimeout: 30, wires: [['parse1']] },
    { id: 'parse1', type: 'adt parse', z: 'tab', site: 'site1', wires: [['advis1']] },
    { id: 'advis1', type: 'advis', z: 'tab', site: 'site1', wires: [['response1'], ['response1']] },
    { id: 'catch1', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['response1']] },
    { id: 'response1', type: 'hl7 response', z: 'tab' },
  ];
}

describeShared(`HL7 nodes on ${runtimePackage}`, function () {
  before((done) => {
    helper.startServer(done);
  });
  after((done) => {
    helper.stopServer(done);
  });
  afterEach(() => helper.unload());

  it('hl7 in → adt parse → advis → hl7 response: the AA arrives only once the advis is in the store', async () => {
    const port = await freePort();
    await helper.load(hl7Nodes, advisFlow(port));
    const store = (await (helper.getNode('site1') as unknown as AdvisSiteNode).runtime()).store;
    const sender = await epr(port);
    try {
      const a01 = fixture('A01_admitted.hl7');
      const result = await sendWhenListening(sender, a01);
      // Read the store the moment the ACK is in: the outbox entry must already be there.
      const outbox = await store.outboxByStay('V100200|HGH');
      expect([result.code, result.controlId]).to.deep.equal(['AA', parseHl7(a01).get('MSH', 10)]);
      expect(outbox.map((e) => e.advis)).to.deep.equal(['STIN']);
      // The same message again: replayed (no second advis), and still acknowledged.
      expect((await sender.send(a01)).code).to.equal('AA');
      expect(await store.outboxByStay('V100200|HGH')).to.have.length(1);
    } finally {
      await sender.close();
    }
  });

  it('a message adt parse cannot read gets an AR naming the field; an engine failure gets an AE; the connection goes on', async () => {
    const port = await freePort();
    const flow = advisFlow(port);
    await helper.load(hl7Nodes, flow);
    const sender = await epr(port);
    try {
      const badTime = fixture('A01_admitted.hl7').replace(/^EVN\|A01\|[^|\r\n]*/m, 'EVN|A01|2025-13-45');
      const refused = await sendWhenListening(sender, badTime);
      expect(refused.code).to.equal('AR');
      expect(refused.text).to.match(/EVN-2/);
      expect(parseHl7(refused.ack).get('ERR', 2)).to.match(/EVN/);
      // Break the engine: the advis node's store is closed under it.
      await (await (helper.getNode('site1') as unknown as AdvisSiteNode).runtime()).store.close();
      const failed = await sender.send(fixture('A03_home.hl7'));
      expect(failed.code).to.equal('AE');
      expect(failed.text).to.match(/^the message was not processed: /);
      expect(failed.text).to.not.match(/0101800005/);
    } finally {
      await sender.close();
    }
  });

  it('hl7 response logs a warning, and nothing else happens, when the connection has closed; without msg.hl7 it is an error', async () => {
    const port = await freePort();
    await helper.load(hl7Nodes, advisFlow(port));
    const response = helper.getNode('response1') as unknown as { warn: (text: string) => void; receive: (msg: object) => void };
    const warnings: string[] = [];
    const warn = response.warn.bind(response);
    response.warn = (text) => (warnings.push(text), warn(text));
    const caught = new Promise<{ error: { message: string } }>((resolve) => {
      helper.getNode('catch1').on('input', (msg) => resolve(msg as never));
    });
    response.receive({ hl7: { listener: 'mllp', connection: 999, seq: 1, controlId: 'GONE-1', messageType: 'ADT^A01', remoteAddress: '127.0.0.1' } });
    response.receive({ payload: 'no hl7 here' });
    expect((await caught).error.message).to.match(/msg\.hl7 is missing/);
    expect(warnings).to.have.length(1);
  });

  it('ACK on receipt: AA before the flow has run; status counts connections and messages without patient data', async () => {
    const port = await freePort();
    const flow = advisFlow(port).map((n) => ((n as { id: string }).id === 'in1' ? { ...n, ackMode: 'receipt', wires: [['sink']] } : n));
    flow.push({ id: 'sink', type: 'helper', z: 'tab' });
    await helper.load([...hl7Nodes, coreNode('common/21-debug.js')], flow);
    const statuses: object[] = [];
    const node = helper.getNode('in1') as unknown as { status: (s: object) => void };
    const status = node.status.bind(node);
    node.status = (s) => (statuses.push(s), status(s));
    const got = new Promise<Record<string, unknown>>((resolve) => helper.getNode('sink').on('input', (msg) => resolve(msg as Record<string, unknown>)));
    const sender = await epr(port);
    try {
      expect((await sendWhenListening(sender, hl7('RCPT1'))).code).to.equal('AA');
      const msg = await got;
      expect(msg.payload).to.equal(hl7('RCPT1'));
      expect(msg.hl7).to.include({ listener: 'mllp', controlId: 'RCPT1', messageType: 'ADT^A01^ADT_A01' });
      // A dot while a connection is open; status updates are at most a few a second.
      for (let i = 0; i < 100 && !statuses.some((st) => (st as { shape?: string }).shape === 'dot'); i++) await new Promise((r) => setTimeout(r, 20));
      expect(statuses.at(-1)).to.include({ fill: 'green', shape: 'dot' });
      expect(JSON.stringify(statuses)).to.not.match(/0101800005|Hansen/);
    } finally {
      await sender.close();
    }
  });

  it('warns, in the log and the hl7 in status, when it listens beyond loopback without TLS or allowed senders; not with them', async () => {
    const statusOf = async (listener: Record<string, unknown>) => {
      const port = await freePort();
      await helper.load(hl7Nodes, advisFlow(port, listener));
      const node = helper.getNode('in1') as unknown as { status: { args: { text?: string; fill?: string }[][] } };
      for (let i = 0; i < 100 && !node.status.args.some(([st]) => /conn\./.test(st?.text ?? '')); i++) await new Promise((r) => setTimeout(r, 20));
      const warnings = (helper.getNode('mllp') as unknown as { warn: { args: unknown[][] } }).warn.args.map((a) => String(a[0]));
      const last = node.status.args.at(-1)![0]!;
      await helper.unload();
      return { port, warnings, last };
    };
    const open = await statusOf({ host: '0.0.0.0' });
    expect(open.warnings).to.deep.equal([
      `listening on 0.0.0.0:${open.port} beyond this machine without TLS and without an allow-list: anyone who can reach the port can send ADT, in clear text. Set the allowed senders, TLS, or both`,
    ]);
    expect(open.last).to.include({ fill: 'yellow', text: `0.0.0.0:${open.port} OPEN (no TLS, no allow-list): 0 conn., 0 msgs, 0 rejected` });
    const listed = await statusOf({ host: '0.0.0.0', allow: '127.0.0.1, 10.20.0.0/16' });
    expect(listed.warnings).to.deep.equal([]);
    expect(listed.last).to.include({ fill: 'green' });
    const loopback = await statusOf({});
    expect(loopback.warnings).to.deep.equal([]);
  });

  it('takes ADT only from the allowed senders', async () => {
    const port = await freePort();
    await helper.load(hl7Nodes, advisFlow(port, { allow: '192.0.2.0/24' }));
    const sender = await epr(port);
    try {
      const refused = await sendWhenListening(sender, fixture('A01_admitted.hl7')).then(() => 'answered', (e: { kind?: string }) => e.kind ?? 'error');
      expect(refused).to.not.equal('answered');
      const warnings = (helper.getNode('mllp') as unknown as { warn: { args: unknown[][] } }).warn.args.map((a) => String(a[0]));
      expect(warnings).to.deep.equal(["a connection from 127.0.0.1 was refused: it is not on the listener's allow-list"]);
    } finally {
      await sender.close();
    }
    await helper.unload();
    await helper.load(hl7Nodes, advisFlow(port, { allow: 'nonsense' }));
    const errors = (helper.getNode('in1') as unknown as { error: { args: unknown[][] } }).error.args.map((a) => String(a[0]));
    expect(errors).to.deep.equal(['the allowed senders: "nonsense" is not an IP address or a network in CIDR notation (such as 10.20.0.0/16)']);
  });

  it('listens with TLS from a tls-config node and, with client certificates required, refuses a stranger', async () => {
    const ca = makeTestCa();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-tls-'));
    for (const [name, text] of Object.entries({ 'server.crt': ca.server.cert, 'server.key': ca.server.key, 'ca.crt': ca.ca.cert })) fs.writeFileSync(path.join(dir, name), text);
    const port = await freePort();
    const flow = advisFlow(port, { tls: 'tls1', clientCert: true });
    flow.push({ id: 'tls1', type: 'tls-config', z: '', cert: path.join(dir, 'server.crt'), key: path.join(dir, 'server.key'), ca: path.join(dir, 'ca.crt'), verifyservercert: true });
    await helper.load(hl7Nodes, flow);
    const trusted = await epr(port, { ca: ca.ca.cert, servername: 'localhost', cert: ca.client.cert, key: ca.client.key });
    const stranger = await epr(port, { ca: ca.ca.cert, servername: 'localhost', cert: ca.stranger.cert, key: ca.stranger.key });
    try {
      expect((await sendWhenListening(trusted, fixture('A01_admitted.hl7'))).code).to.equal('AA');
      const error = await stranger.send(hl7('STRANGER')).then(() => null, (e: { kind: string }) => e.kind);
      expect(error).to.be.oneOf(['connect', 'connection']);
    } finally {
      await trusted.close();
      await stranger.close();
    }
  });

  it('hl7 out sends to an MLLP endpoint and passes on msg.ack; no connection is an error for Catch', async () => {
    const endpoint = new MllpListener({ host: '127.0.0.1', port: 0, maxFrameBytes: 1 << 20, idleTimeoutMs: 0, responseTimeoutMs: 10_000, ackMode: 'flow', application: { app: 'X', facility: 'X' } });
    endpoint.on('message', (m) => endpoint.acknowledge(m.ref, m.message.get('MSH', 10) === 'OUT2' ? 'AR' : 'AA', { text: 'seen' }));
    await endpoint.start();
    const closedPort = await freePort();
    try {
      await helper.load([nodes.hl7Out, coreNode('common/25-catch.js')], [
        { id: 'tab', type: 'tab' },
        { id: 'out1', type: 'hl7 out', z: 'tab', host: '127.0.0.1', port: endpoint.port, tls: '', ackTimeout: 5, wires: [['acks']] },
        { id: 'out2', type: 'hl7 out', z: 'tab', host: '127.0.0.1', port: closedPort, tls: '', ackTimeout: 5, wires: [['acks']] },
        { id: 'acks', type: 'helper', z: 'tab' },
        { id: 'catch1', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'tab' },
      ]);
      const acks: Record<string, unknown>[] = [];
      helper.getNode('acks').on('input', (msg) => acks.push(msg as Record<string, unknown>));
      const caught = new Promise<{ error: { message: string } }>((resolve) => helper.getNode('caught').on('input', (msg) => resolve(msg as never)));
      helper.getNode('out1').receive({ payload: hl7('OUT1') });
      helper.getNode('out1').receive({ payload: hl7('OUT2') });
      helper.getNode('out2').receive({ payload: hl7('OUT3') });
      expect((await caught).error.message).to.match(/cannot connect to 127\.0\.0\.1/);
      for (let i = 0; acks.length < 2 && i < 200; i++) await new Promise((r) => setTimeout(r, 10));
      expect(acks.map((m) => m.ack)).to.deep.equal([
        { code: 'AA', text: 'seen', controlId: 'OUT1' },
        { code: 'AR', text: 'seen', controlId: 'OUT2' },
      ]);
      expect(parseHl7(acks[0]!.payload as string).get('MSA', 2)).to.equal('OUT1');
    } finally {
      await endpoint.stop();
    }
  });
});
