// The MLLP listener against real peers: node-hl7-client (plain and TLS with a CA made here) and raw sockets that
// send every framing case. ACKs are read back as the EPR would read them.
import { expect } from 'chai';
import Client, { Message } from 'node-hl7-client';
import { MllpListener, mllpFrame, type AckMode, type ListenerOptions, type ReceivedMessage } from '../../lib/hl7';
import { connectPeer, hl7 } from '../support/mllp-peer';
import { makeTestCa, type TestCa } from '../support/test-ca';

async function listen(options: Partial<ListenerOptions> & { ackMode: AckMode }): Promise<{ listener: MllpListener; received: ReceivedMessage[]; warnings: string[] }> {
  const listener = new MllpListener({
    host: '127.0.0.1',
    port: 0,
    maxFrameBytes: 10 * 1024 * 1024,
    idleTimeoutMs: 0,
    responseTimeoutMs: 10_000,
    application: { app: 'ADVIS', facility: 'REGION' },
    ...options,
  });
  const received: ReceivedMessage[] = [];
  const warnings: string[] = [];
  listener.on('message', (m) => received.push(m));
  listener.on('warning', (w) => warnings.push(w));
  await listener.start();
  return { listener, received, warnings };
}

const until = async (check: () => boolean, what: string, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('MLLP listener', () => {
  let running: MllpListener | undefined;
  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });
  const start = async (options: Partial<ListenerOptions> & { ackMode: AckMode }) => {
    const l = await listen(options);
    running = l.listener;
    return l;
  };

  describe('with node-hl7-client as the sender', () => {
    let ca: TestCa;
    before(function () {
      this.timeout(20_000);
      ca = makeTestCa();
    });

    async function sendWithClient(port: number, ids: string[], tls?: object): Promise<string[]> {
      const acks: string[] = [];
      const client = new Client({ host: '127.0.0.1', version: '2.5', ...(tls ? { tls } : {}) });
      const connection = client.createConnection({ port, waitAck: true, version: '2.5' }, async (res) => {
        acks.push(`${res.getMessage().get('MSA.1').toString()} ${res.getMessage().get('MSA.2').toString()}`);
      });
      try {
        // One at a time: node-hl7-client 4.0.0 spins (never yielding) when sent to while an ACK is pending.
        for (const [i, id] of ids.entries()) {
          await connection.sendMessage(new Message({ text: hl7(id) }));
          await until(() => acks.length === i + 1, `the ACK of ${id}`);
        }
      } finally {
        await connection.close();
        client.closeAll();
      }
      return acks;
    }

    it('receives its messages over plain TCP and ACKs each after the application says so', async () => {
      const { listener, received } = await start({ ackMode: 'flow' });
      listener.on('message', (m) => setTimeout(() => listener.acknowledge(m.ref, 'AA'), 5));
      const acks = await sendWithClient(listener.port, ['P1', 'P2', 'P3']);
      expect(acks).to.deep.equal(['AA P1', 'AA P2', 'AA P3']);
      expect(received.map((m) => m.message.get('MSH', 10))).to.deep.equal(['P1', 'P2', 'P3']);
      expect(received[0]!.message.get('PID', 5)).to.equal('Hansen');
    });

    it('receives its messages over TLS with a certificate from a test CA', async () => {
      const { listener, received } = await start({ ackMode: 'receipt', tls: { cert: ca.server.cert, key: ca.server.key } });
      const acks = await sendWithClient(listener.port, ['T1', 'T2'], { ca: ca.ca.cert, servername: 'localhost' });
      expect(acks).to.deep.equal(['AA T1', 'AA T2']);
      expect(received).to.have.length(2);
    });
  });

  describe('TLS', () => {
    let ca: TestCa;
    before(function () {
      this.timeout(20_000);
      ca = makeTestCa();
    });
    const mutual = () => ({ cert: ca.server.cert, key: ca.server.key, ca: ca.ca.cert, requestCert: true, rejectUnauthorized: true });

    it('with client certificates required, accepts a client whose certificate the CA signed', async () => {
      const { listener } = await start({ ackMode: 'receipt', tls: mutual() });
      const peer = await connectPeer(listener.port, { ca: ca.ca.cert, servername: 'localhost', cert: ca.client.cert, key: ca.client.key });
      peer.write(mllpFrame(hl7('M1')));
      const [ack] = await peer.acks(1);
      expect(ack!.get('MSA', 1)).to.equal('AA');
      peer.end();
    });

    it('refuses a client without a certificate, or with one from another CA, and delivers nothing', async () => {
      const { listener, received, warnings } = await start({ ackMode: 'receipt', tls: mutual() });
      for (const client of [{}, { cert: ca.stranger.cert, key: ca.stranger.key }]) {
        const outcome = await connectPeer(listener.port, { ca: ca.ca.cert, servername: 'localhost', ...client }).then(
          async (peer) => {
            // TLS 1.3 reports the refusal after the handshake: the first write finds the connection closed.
            peer.write(mllpFrame(hl7('X1')));
            await peer.closed;
            return 'closed';
          },
          () => 'refused',
        );
        expect(outcome).to.be.oneOf(['closed', 'refused']);
      }
      expect(received).to.deep.equal([]);
      await until(() => warnings.filter((w) => /TLS handshake/.test(w)).length === 2, 'two handshake warnings');
    });
  });

  describe('allowed senders', () => {
    let ca: TestCa;
    before(function () {
      this.timeout(20_000);
      ca = makeTestCa();
    });
    /** What a sender from 127.0.0.1 gets: an ACK, or a closed connection with nothing read. */
    const attempt = async (port: number, id: string, tlsOptions?: object): Promise<string> => {
      const peer = await connectPeer(port, tlsOptions).catch(() => undefined);
      if (!peer) return 'refused';
      peer.write(mllpFrame(hl7(id)));
      const answer = await Promise.race([peer.acks(1, 3000).then(([ack]) => ack!.get('MSA', 1)), peer.closed.then(() => 'closed')]);
      peer.end();
      return answer;
    };

    it('takes ADT from an address or network on the list (IPv4, IPv4-mapped, CIDR) and closes others, logging each address once', async () => {
      for (const allow of [['127.0.0.1'], ['127.0.0.0/8'], ['10.1.2.3', '127.0.0.0/30']]) {
        const { listener, received } = await start({ ackMode: 'receipt', allow });
        expect(await attempt(listener.port, 'OK1'), String(allow)).to.equal('AA');
        expect(received).to.have.length(1);
        await listener.stop();
      }
      const { listener, received, warnings } = await start({ ackMode: 'receipt', allow: ['10.0.0.0/8', '::1'] });
      expect(await attempt(listener.port, 'NO1')).to.equal('closed');
      expect(await attempt(listener.port, 'NO2')).to.equal('closed');
      expect(received).to.deep.equal([]);
      expect(listener.stats.received).to.equal(0);
      expect(warnings).to.deep.equal(["a connection from 127.0.0.1 was refused: it is not on the listener's allow-list"]);
    });

    it('closes a sender not on the list before the TLS handshake', async () => {
      const { listener, received, warnings } = await start({ ackMode: 'receipt', tls: { cert: ca.server.cert, key: ca.server.key }, allow: ['192.0.2.0/24'] });
      expect(await attempt(listener.port, 'T1', { ca: ca.ca.cert, servername: 'localhost' })).to.be.oneOf(['refused', 'closed']);
      expect(received).to.deep.equal([]);
      await new Promise((r) => setTimeout(r, 50));
      expect(warnings.filter((w) => /allow-list/.test(w))).to.have.length(1);
      expect(warnings.filter((w) => /TLS handshake/.test(w)), 'no handshake was tried').to.deep.equal([]);
    });

    it('refuses an allow-list entry that is no address or network, naming it', () => {
      for (const entry of ['10.0.0.0/33', 'host.example', '10.0.0.1/8/2', '::1/129']) {
        expect(() => new MllpListener({ host: '127.0.0.1', port: 0, maxFrameBytes: 1024, idleTimeoutMs: 0, responseTimeoutMs: 1000, ackMode: 'receipt', application: { app: 'A', facility: 'F' }, allow: [entry] }), entry).to.throw(`"${entry}" is not an IP address or a network in CIDR notation`);
      }
    });
  });

  describe('framing on the wire', () => {
    it('reads several frames of one write and ACKs them in order', async () => {
      const { listener, received } = await start({ ackMode: 'receipt' });
      const peer = await connectPeer(listener.port);
      peer.write(Buffer.concat([mllpFrame(hl7('A')), mllpFrame(hl7('B')), mllpFrame(hl7('C'))]));
      const acks = await peer.acks(3);
      expect(acks.map((a) => a.get('MSA', 2))).to.deep.equal(['A', 'B', 'C']);
      expect(received.map((m) => m.message.get('MSH', 10))).to.deep.equal(['A', 'B', 'C']);
      peer.end();
    });

    it('joins a frame written in pieces, split inside a UTF-8 character', async () => {
      const { listener, received } = await start({ ackMode: 'receipt' });
      const peer = await connectPeer(listener.port);
      const framed = mllpFrame(hl7('U1', { extra: 'NK1|1|Ærø^Åse\r' }));
      const cut = framed.indexOf(Buffer.from('Æ')) + 1;
      peer.write(framed.subarray(0, cut));
      await new Promise((r) => setTimeout(r, 20));
      peer.write(framed.subarray(cut));
      await peer.acks(1);
      expect(received[0]!.message.get('NK1', 2)).to.equal('Ærø');
      peer.end();
    });

    it('decodes ISO-8859-1 by MSH-18 and answers in ISO-8859-1', async () => {
      const { listener, received } = await start({ ackMode: 'flow' });
      listener.on('message', (m) => listener.acknowledge(m.ref, 'AE', { text: 'Søren må vente' }));
      const peer = await connectPeer(listener.port);
      peer.write(mllpFrame(hl7('L1', { charset: '8859/1', extra: 'NK1|1|Ærø^Åse\r' }), 'latin1'));
      const raw: Buffer[] = [];
      peer.socket.on('data', (d: Buffer) => raw.push(d));
      await peer.acks(1);
      expect(received[0]!.message.get('NK1', 2)).to.equal('Ærø');
      const bytes = Buffer.concat(raw);
      expect(bytes.includes(Buffer.from('Søren må vente', 'latin1'))).to.equal(true);
      expect(bytes.includes(Buffer.from('Søren', 'utf8'))).to.equal(false);
      peer.end();
    });

    it('refuses an oversized frame with AR and goes on with the next frame on the same connection', async () => {
      const { listener, received } = await start({ ackMode: 'receipt', maxFrameBytes: 64 * 1024 });
      const peer = await connectPeer(listener.port);
      peer.write(mllpFrame(hl7('BIG', { extra: `NTE|1||${'x'.repeat(200_000)}\r` })));
      peer.write(mllpFrame(hl7('SMALL')));
      const [refusal, ack] = await peer.acks(2);
      expect([refusal!.get('MSA', 1), refusal!.get('MSA', 2)]).to.deep.equal(['AR', 'BIG']);
      expect(refusal!.get('MSA', 3)).to.match(/more than the 65536 bytes/);
      expect([ack!.get('MSA', 1), ack!.get('MSA', 2)]).to.deep.equal(['AA', 'SMALL']);
      expect(received.map((m) => m.message.get('MSH', 10))).to.deep.equal(['SMALL']);
      peer.end();
    });

    it('accepts a 1 MB message', async () => {
      const { listener, received } = await start({ ackMode: 'receipt' });
      const peer = await connectPeer(listener.port);
      const big = hl7('MB1', { extra: `NTE|1||${'y'.repeat(1024 * 1024)}\r` });
      peer.write(mllpFrame(big));
      const [ack] = await peer.acks(1);
      expect(ack!.get('MSA', 1)).to.equal('AA');
      expect(received[0]!.message.text).to.equal(big);
      peer.end();
    });

    it('answers a frame that is not HL7 with AR and ERR, never delivers it, and reads the next frame', async () => {
      const { listener, received } = await start({ ackMode: 'receipt' });
      const peer = await connectPeer(listener.port);
      peer.write(mllpFrame('this is not an HL7 message'));
      peer.write(mllpFrame(hl7('OK1')));
      const [refusal, ack] = await peer.acks(2);
      expect(refusal!.get('MSA', 1)).to.equal('AR');
      expect(refusal!.get('MSA', 3)).to.not.equal('');
      expect(refusal!.has('ERR')).to.equal(true);
      expect(ack!.get('MSA', 2)).to.equal('OK1');
      expect(received.map((m) => m.message.get('MSH', 10))).to.deep.equal(['OK1']);
      peer.end();
    });

    it('answers a message without MSH-10 with AR naming MSH-10', async () => {
      const { listener, received } = await start({ ackMode: 'flow' });
      const peer = await connectPeer(listener.port);
      peer.write(mllpFrame(hl7('')));
      const [refusal] = await peer.acks(1);
      expect(refusal!.get('MSA', 1)).to.equal('AR');
      expect(refusal!.get('MSA', 3)).to.match(/MSH-10/);
      expect(refusal!.get('ERR', 2)).to.match(/MSH/);
      expect(received).to.deep.equal([]);
      peer.end();
    });

    it('skips bytes outside frames, warns once per connection, and keeps the frames', async () => {
      const { listener, received, warnings } = await start({ ackMode: 'receipt' });
      const peer = await connectPeer(listener.port);
      peer.write('garbage');
      peer.write(mllpFrame(hl7('G1')));
      peer.write('more garbage');
      peer.write(mllpFrame(hl7('G2')));
      await peer.acks(2);
      expect(received).to.have.length(2);
      expect(warnings.filter((w) => /skipped/.test(w))).to.have.length(1);
      expect(warnings.join('\n')).to.not.match(/Hansen|0101800005/);
      peer.end();
    });

    it('drops a frame cut off by a client that disconnects, and keeps serving others', async () => {
      const { listener, received, warnings } = await start({ ackMode: 'receipt' });
      const quitter = await connectPeer(listener.port);
      quitter.write(mllpFrame(hl7('HALF')).subarray(0, 40));
      await new Promise((r) => setTimeout(r, 20));
      quitter.end();
      await until(() => warnings.some((w) => /middle of a frame \(39 bytes dropped/.test(w)), 'the warning');
      const other = await connectPeer(listener.port);
      other.write(mllpFrame(hl7('WHOLE')));
      await other.acks(1);
      expect(received.map((m) => m.message.get('MSH', 10))).to.deep.equal(['WHOLE']);
      other.end();
    });

    it('serves several connections at once and counts them', async () => {
      const { listener } = await start({ ackMode: 'receipt' });
      const peers = await Promise.all([1, 2, 3].map(() => connectPeer(listener.port)));
      await until(() => listener.stats.connections === 3, 'three connections');
      peers.forEach((p, i) => p.write(mllpFrame(hl7(`C${i}`))));
      const acks = await Promise.all(peers.map((p) => p.acks(1)));
      expect(acks.map(([a]) => a!.get('MSA', 2))).to.deep.equal(['C0', 'C1', 'C2']);
      peers.forEach((p) => p.end());
      await until(() => listener.stats.connections === 0, 'the connections to close');
    });
  });

  describe('ACK modes', () => {
    it('after the flow: 100 pipelined messages answered in reverse still get their ACKs in arrival order', async () => {
      const { listener, received } = await start({ ackMode: 'flow' });
      const peer = await connectPeer(listener.port);
      peer.write(Buffer.concat(Array.from({ length: 100 }, (_, i) => mllpFrame(hl7(`Q${i}`)))));
      await until(() => received.length === 100, '100 messages');
      for (const m of [...received].reverse()) expect(listener.acknowledge(m.ref, 'AA')).to.equal('sent');
      const acks = await peer.acks(100);
      expect(acks.map((a) => a.get('MSA', 2))).to.deep.equal(Array.from({ length: 100 }, (_, i) => `Q${i}`));
      peer.end();
    });

    it('after the flow: holds an ACK until every earlier message on the connection is answered', async () => {
      const { listener, received } = await start({ ackMode: 'flow' });
      const peer = await connectPeer(listener.port);
      peer.write(Buffer.concat([mllpFrame(hl7('F1')), mllpFrame(hl7('F2'))]));
      await until(() => received.length === 2, 'two messages');
      listener.acknowledge(received[1]!.ref, 'AA');
      await new Promise((r) => setTimeout(r, 50));
      await peer.acks(0);
      const early = await peer.acks(1, 30).catch(() => null);
      expect(early, 'F2 must wait for F1').to.equal(null);
      listener.acknowledge(received[0]!.ref, 'AE', { text: 'the store is full', errorCode: '207' });
      const [first, second] = await peer.acks(2);
      expect([first!.get('MSA', 1), first!.get('MSA', 2), first!.get('MSA', 3)]).to.deep.equal(['AE', 'F1', 'the store is full']);
      expect([second!.get('MSA', 1), second!.get('MSA', 2)]).to.deep.equal(['AA', 'F2']);
      peer.end();
    });

    it('after the flow: a message not answered within the response time gets AE; a later answer is refused', async () => {
      const { listener, received } = await start({ ackMode: 'flow', responseTimeoutMs: 100 });
      const peer = await connectPeer(listener.port);
      peer.write(mllpFrame(hl7('SLOW')));
      const [ack] = await peer.acks(1);
      expect([ack!.get('MSA', 1), ack!.get('MSA', 2)]).to.deep.equal(['AE', 'SLOW']);
      expect(ack!.get('MSA', 3)).to.match(/no response from the application/);
      expect(listener.acknowledge(received[0]!.ref, 'AA')).to.equal('already-answered');
      peer.end();
    });

    it('after the flow: answering twice, or after the connection closed, is reported, not thrown', async () => {
      const { listener, received } = await start({ ackMode: 'flow' });
      const peer = await connectPeer(listener.port);
      peer.write(mllpFrame(hl7('TWICE')));
      await until(() => received.length === 1, 'the message');
      expect(listener.acknowledge(received[0]!.ref, 'AA')).to.equal('sent');
      expect(listener.acknowledge(received[0]!.ref, 'AA')).to.equal('already-answered');
      peer.write(mllpFrame(hl7('GONE')));
      await until(() => received.length === 2, 'the second message');
      peer.end();
      await until(() => listener.stats.connections === 0, 'the close');
      expect(listener.acknowledge(received[1]!.ref, 'AA')).to.equal('connection-closed');
    });

    it('on receipt: AA at once; none: no ACK at all, refusals included', async () => {
      const receipt = await start({ ackMode: 'receipt' });
      const a = await connectPeer(receipt.listener.port);
      a.write(mllpFrame(hl7('R1')));
      expect((await a.acks(1))[0]!.get('MSA', 1)).to.equal('AA');
      a.end();
      await receipt.listener.stop();

      const none = await start({ ackMode: 'none' });
      const b = await connectPeer(none.listener.port);
      b.write(Buffer.concat([mllpFrame(hl7('N1')), mllpFrame('not hl7')]));
      await until(() => none.received.length === 1 && none.listener.stats.rejected === 1, 'one message and one refusal');
      expect(await b.acks(1, 100).catch(() => 'none')).to.equal('none');
      b.end();
    });
  });

  it('closes a connection that stays idle longer than the idle timeout', async () => {
    const { listener } = await start({ ackMode: 'receipt', idleTimeoutMs: 100 });
    const peer = await connectPeer(listener.port);
    await peer.closed;
    await until(() => listener.stats.connections === 0, 'the listener to count the close');
  });

  it('reports a port that is already in use when it starts', async () => {
    const { listener } = await start({ ackMode: 'receipt' });
    const second = new MllpListener({ ...listener.options, port: listener.port });
    let error: Error | undefined;
    await second.start().catch((e: Error) => (error = e));
    expect(error?.message).to.match(/EADDRINUSE/);
  });
});
