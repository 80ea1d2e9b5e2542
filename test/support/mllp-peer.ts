// A raw MLLP client for listener tests: writes whatever bytes a test gives it (whole frames, halves, garbage) and
// collects the ACK frames that come back, read with the project's framer and tokenizer.
import * as net from 'node:net';
import * as tls from 'node:tls';
import { MllpFramer, parseHl7, type Hl7Message } from '../../lib/hl7';

export interface RawPeer {
  socket: net.Socket;
  write(bytes: Buffer | string): void;
  /** Resolves with the first `n` ACKs received on this connection (or rejects after `ms`). */
  acks(n: number, ms?: number): Promise<Hl7Message[]>;
  /** Resolves when the listener has closed the connection. */
  closed: Promise<void>;
  end(): void;
}

export async function connectPeer(port: number, tlsOptions?: tls.ConnectionOptions): Promise<RawPeer> {
  const socket = tlsOptions ? tls.connect({ host: '127.0.0.1', port, ...tlsOptions }) : net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once(tlsOptions ? 'secureConnect' : 'connect', resolve);
    socket.once('error', reject);
  });
  const framer = new MllpFramer(64 * 1024 * 1024);
  const received: Hl7Message[] = [];
  const waiting: (() => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    for (const event of framer.push(chunk)) if (event.kind === 'frame') received.push(parseHl7(event.bytes));
    waiting.splice(0).forEach((wake) => wake());
  });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    socket,
    closed,
    write: (bytes) => socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes),
    end: () => socket.destroy(),
    acks: (n, ms = 5000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`expected ${n} ACKs within ${ms} ms, got ${received.length}`)), ms);
        const check = (): void => {
          if (received.length >= n) {
            clearTimeout(timer);
            resolve(received.slice(0, n));
          } else waiting.push(check);
        };
        check();
      }),
  };
}

/** A minimal ADT message with MSH-10 `id`; extra segments and MSH-18 on request. */
export function hl7(id: string, { charset = '', extra = '' }: { charset?: string; extra?: string } = {}): string {
  return `MSH|^~\\&|EPJ|HGH|ADVIS|REGION|20250311080000||ADT^A01^ADT_A01|${id}|P|2.5|||AL|NE||${charset}\rEVN|A01|20250311080000\rPID|1||0101800005^^^CPR^CPR||Hansen^Jens\r${extra}`;
}
