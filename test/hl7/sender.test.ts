// The MLLP sender (hl7 out, advis send) against the project's listener and against raw peers that misbehave: ACK
// results, a peer that closes the idle connection, no ACK, no connection, a connection that breaks, TLS.
import { expect } from 'chai';
import * as net from 'node:net';
import { MllpFramer, MllpListener, MllpSender, SendError, mllpFrame, parseHl7, type AckMode, type ListenerOptions } from '../../lib/hl7';
import { hl7 } from '../support/mllp-peer';
import { makeTestCa } from '../support/test-ca';

async function listener(ackMode: AckMode, extra: Partial<ListenerOptions> = {}): Promise<MllpListener> {
  const l = new MllpListener({ host: '127.0.0.1', port: 0, maxFrameBytes: 1 << 20, idleTimeoutMs: 0, responseTimeoutMs: 10_000, ackMode, application: { app: 'R', facility: 'R' }, ...extra });
  await l.start();
  return l;
}

/** A raw peer: `onFrame` decides what happens to each frame received (answer, close, say nothing). */
async function rawPeer(onFrame: (socket: net.Socket, text: string, count: number) => void): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let count = 0;
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    const framer = new MllpFramer(1 << 20);
    socket.on('data', (chunk: Buffer) => {
      for (const e of framer.push(chunk)) if (e.kind === 'frame') onFrame(socket, e.bytes.toString(), ++count);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => connections,
    close: () => {
      sockets.forEach((s) => s.destroy());
      return new Promise((r) => server.close(() => r()));
    },
  };
}

const ackOf = (text: string, code = 'AA'): Buffer => mllpFrame(`MSH|^~\\&|R|R|S|S|20250101||ACK|A${parseHl7(text).get('MSH', 10)}|P|2.5\rMSA|${code}|${parseHl7(text).get('MSH', 10)}\r`);

const sender = (port: number, extra: Partial<ConstructorParameters<typeof MllpSender>[0]> = {}): MllpSender =>
  new MllpSender({ host: '127.0.0.1', port, ackTimeoutMs: 2000, connectTimeoutMs: 2000, ...extra });

async function failure(promise: Promise<unknown>): Promise<SendError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).to.be.instanceOf(SendError);
  return error as SendError;
}

describe('MLLP sender', () => {
  it('sends messages in order on one connection and reports AA, AE and AR with MSA-3', async () => {
    const l = await listener('flow');
    const codes = ['AA', 'AE', 'AR'] as const;
    let i = 0;
    l.on('message', (m) => l.acknowledge(m.ref, codes[i++ % 3]!, { text: `answer ${i}` }));
    const s = sender(l.port);
    try {
      const results = await Promise.all(['S1', 'S2', 'S3'].map((id) => s.send(hl7(id))));
      expect(results.map((r) => [r.code, r.controlId, r.text])).to.deep.equal([
        ['AA', 'S1', 'answer 1'],
        ['AE', 'S2', 'answer 2'],
        ['AR', 'S3', 'answer 3'],
      ]);
      expect(parseHl7(results[0]!.ack).get('MSA', 2)).to.equal('S1');
      expect(l.stats.received).to.equal(3);
    } finally {
      await s.close();
      await l.stop();
    }
  });

  it('delivers a message sent after the peer closed the idle connection (on a new connection)', async () => {
    const peer = await rawPeer((socket, text) => {
      socket.write(ackOf(text));
      setTimeout(() => socket.end(), 20); // the receiver closes idle connections
    });
    const s = sender(peer.port);
    try {
      expect((await s.send(hl7('BEFORE'))).code).to.equal('AA');
      await new Promise((r) => setTimeout(r, 100));
      const after = await s.send(hl7('AFTER'));
      expect([after.code, after.controlId]).to.deep.equal(['AA', 'AFTER']);
      expect(peer.connections()).to.equal(2);
    } finally {
      await s.close();
      await peer.close();
    }
  });

  it('reports a timeout when no ACK comes, and sends the next message on a fresh connection', async () => {
    const peer = await rawPeer((socket, text, count) => {
      if (count > 1) socket.write(ackOf(text));
    });
    const s = sender(peer.port, { ackTimeoutMs: 100 });
    try {
      const error = await failure(s.send(hl7('LOST')));
      expect(error.kind).to.equal('timeout');
      expect(error.message).to.match(/no ACK for message LOST/);
      expect((await s.send(hl7('NEXT'))).controlId).to.equal('NEXT');
      expect(peer.connections()).to.equal(2);
    } finally {
      await s.close();
      await peer.close();
    }
  });

  it('reports a connection that breaks before the ACK', async () => {
    const peer = await rawPeer((socket) => socket.destroy());
    const s = sender(peer.port);
    try {
      expect((await failure(s.send(hl7('BROKEN')))).kind).to.equal('connection');
    } finally {
      await s.close();
      await peer.close();
    }
  });

  it('reports that no connection could be made, and refuses what is not an HL7 message without sending', async () => {
    const free = await rawPeer(() => undefined);
    const port = free.port;
    await free.close();
    const s = sender(port);
    expect((await failure(s.send(hl7('NOBODY')))).kind).to.equal('connect');
    expect((await failure(s.send('hello'))).kind).to.equal('invalid-message');
    expect((await failure(s.send(hl7('')))).message).to.match(/MSH-10/);
    await s.close();
  });

  it('ignores an ACK for another message and waits for its own', async () => {
    const peer = await rawPeer((socket, text) => {
      socket.write(mllpFrame('MSH|^~\\&|R|R|S|S|20250101||ACK|X|P|2.5\rMSA|AA|SOMETHING-ELSE\r'));
      socket.write(ackOf(text, 'AE'));
    });
    const s = sender(peer.port);
    try {
      expect((await s.send(hl7('MINE'))).code).to.equal('AE');
    } finally {
      await s.close();
      await peer.close();
    }
  });

  it('sends over TLS, checking the server against the CA given', async () => {
    const ca = makeTestCa();
    const l = await listener('receipt', { tls: { cert: ca.server.cert, key: ca.server.key } });
    const trusted = sender(l.port, { tls: { ca: ca.ca.cert, servername: 'localhost' } });
    const untrusting = sender(l.port, { tls: { ca: ca.stranger.cert, servername: 'localhost' } });
    try {
      expect((await trusted.send(hl7('TLS1'))).code).to.equal('AA');
      const error = await failure(untrusting.send(hl7('TLS2')));
      expect(error.kind).to.equal('connect');
      expect(l.stats.received).to.equal(1);
    } finally {
      await trusted.close();
      await untrusting.close();
      await l.stop();
    }
  });
});
