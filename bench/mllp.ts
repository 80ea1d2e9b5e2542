// MLLP through a real Node-RED runtime: EPR-like senders (one message at a time per connection, each awaiting its
// ACK) → `hl7 in` (ACK after the flow) → `hl7 response`, over loopback. Messages per second with 1 and 10
// connections, and the ACK latency (send → ACK received) at full speed and at a steady 200 messages/s.
// Node-RED is embedded as an operator runs it (its own runtime, this package's nodes from dist/nodes, no editor), not
// through node-red-node-test-helper, whose spies record every call. The senders run in the same process, so with
// one pinned core they share it with Node-RED. Also the listener alone beside @medplum/hl7's Hl7Server.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { Hl7Server } from '@medplum/hl7';
import { MllpListener, MllpSender } from '../lib/hl7';
import { freePort } from '../test/support/free-port';

const A01 = (id: string): string =>
  [
    `MSH|^~\\&|EPJ|HGH|ADVIS|REGION|20250311080000||ADT^A01^ADT_A01|${id}|P|2.5|||AL|NE||UNICODE UTF-8`,
    'EVN|A01|20250311080000|||||20250311075500',
    'PID|1||0101800005^^^CPR^CPR||Hansen^Jens||19800101|M|||Hovedgaden 1^^Herlev^^2730^DK^H^^163',
    'PV1|1|I|HJA^1^1^HGH||||||||||||||||V100200^^^HGH^VN|||||||||||||||||||||||||20250311075500',
  ].join('\r');

export interface MllpFigures {
  connections: number;
  /** Messages sent per second per connection; 0 = as fast as ACKs come back. */
  pace: number;
  messagesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

async function run(port: number, connections: number, perConnection: number, pace: number, tag: string): Promise<MllpFigures> {
  const latencies: number[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async (_, c) => {
      const sender = new MllpSender({ host: '127.0.0.1', port, ackTimeoutMs: 10_000, connectTimeoutMs: 5000 });
      try {
        for (let i = 0; i < perConnection; i++) {
          if (pace > 0) {
            const due = start + (i * 1000) / pace;
            const wait = due - performance.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          }
          const sent = performance.now();
          const result = await sender.send(A01(`${tag}-${c}-${i}`));
          if (result.code !== 'AA') throw new Error(`expected AA, got ${result.code} ${result.text}`);
          latencies.push(performance.now() - sent);
        }
      } finally {
        await sender.close();
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { connections, pace, messagesPerSecond: latencies.length / seconds, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99) };
}

interface EmbeddedRed {
  init(server: http.Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function benchMllp(): Promise<MllpFigures[]> {
  const port = await freePort();
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-bench-mllp-'));
  fs.writeFileSync(
    path.join(userDir, 'flows.json'),
    JSON.stringify([
      { id: 'tab', type: 'tab' },
      { id: 'mllp', type: 'hl7-listener', host: '127.0.0.1', port, tls: '', maxFrameKiB: 10240, idleTimeout: 0, app: 'ADVIS', facility: '' },
      { id: 'in1', type: 'hl7 in', z: 'tab', listener: 'mllp', ackMode: 'flow', responseTimeout: 30, wires: [['ack1']] },
      { id: 'ack1', type: 'hl7 response', z: 'tab', wires: [] },
    ]),
  );
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- Node-RED's embedding API is CommonJS.
  const RED = require('node-red') as EmbeddedRed;
  RED.init(http.createServer(), {
    userDir,
    flowFile: 'flows.json',
    nodesDir: [path.resolve(__dirname, '..', 'nodes')],
    httpAdminRoot: false,
    httpNodeRoot: false,
    credentialSecret: false,
    logging: { console: { level: 'warn' } },
  });
  await RED.start();
  try {
    for (let i = 0; ; i++) {
      // The listener opens when the flow starts; wait for it.
      const probe = await run(port, 1, 1, 0, `probe${i}`).catch(() => null);
      if (probe) break;
      if (i > 100) throw new Error('the hl7 in listener did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    await run(port, 10, 500, 0, 'warm');
    return [await run(port, 1, 20_000, 0, 'one'), await run(port, 10, 4_000, 0, 'ten'), await run(port, 1, 2_000, 200, 'paced')];
  } finally {
    await RED.stop();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
}

/**
 * The MLLP listener alone against @medplum/hl7's Hl7Server, with the same senders: each answers every message with
 * its own AA at once (this listener in `receipt` mode, Hl7Server with `buildAck()`), 10 connections, loopback.
 */
export async function benchListeners(perConnection = 2000): Promise<{ engine: MllpFigures; medplum: MllpFigures }> {
  const listener = new MllpListener({
    host: '127.0.0.1',
    port: 0,
    maxFrameBytes: 10 * 1024 * 1024,
    idleTimeoutMs: 0,
    ackMode: 'receipt',
    responseTimeoutMs: 10_000,
    application: { app: 'ADVIS', facility: 'REGION' },
  });
  await listener.start();
  const medplumPort = await freePort();
  const server = new Hl7Server((connection) => connection.addEventListener('message', ({ message }) => connection.send(message.buildAck())));
  await server.start(medplumPort);
  try {
    await run(listener.port, 10, 200, 0, 'warm-engine');
    await run(medplumPort, 10, 200, 0, 'warm-medplum');
    return { engine: await run(listener.port, 10, perConnection, 0, 'engine'), medplum: await run(medplumPort, 10, perConnection, 0, 'medplum') };
  } finally {
    await listener.stop();
    await server.stop({ forceDrainTimeoutMs: 1000 });
  }
}
