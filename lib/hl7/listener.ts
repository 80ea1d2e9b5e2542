// The MLLP listener: accepts an EPR's connections (plain TCP or TLS), frames and reads each message, and sends the
// ACKs back, on each connection in the order its messages arrived.
//
// Hand-written on node:net/node:tls for the reasons in mllp.ts. How ACKs are made is the `ackMode`:
//  - 'flow':    the application acknowledges (acknowledge()) once it has done its part, e.g. once the advis is stored;
//               a message it never answers within `responseTimeoutMs` gets an AE, so the sender is not left waiting;
//  - 'receipt': AA as soon as the message has been read (HL7's "accept acknowledgement");
//  - 'none':    no ACK at all.
// A frame that does not read as one HL7 message (or has no MSH-10 to acknowledge) never reaches the application: it
// gets an AR with the reason in MSA-3 and ERR (except in 'none' mode) and the connection goes on with the next frame.
// Texts given to the 'warning' event name counts, addresses and reasons, never message content.

import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { buildAck, type AckCode } from './ack';
import { HL7_ERROR_CONDITIONS, Hl7Error } from './errors';
import { parseHl7, type Hl7Message } from './message';
import { MllpFramer, mllpFrame, type MllpEvent } from './mllp';

export type AckMode = 'flow' | 'receipt' | 'none';

export interface ListenerOptions {
  host: string;
  port: number;
  /** TLS server options (certificate, key, CA; requestCert/rejectUnauthorized for client certificates); plain TCP when absent. */
  tls?: tls.TlsOptions;
  maxFrameBytes: number;
  /** Close a connection that sent nothing for this long; 0 keeps idle connections open. */
  idleTimeoutMs: number;
  ackMode: AckMode;
  /** In 'flow' mode: how long a message may wait for its ACK before it gets an AE. */
  responseTimeoutMs: number;
  /** MSH-3/MSH-4 of ACKs for frames too broken to say whom they came from. */
  application: { app: string; facility: string };
  /**
   * The senders that may connect: IPv4 or IPv6 addresses and networks in CIDR notation (`10.20.0.0/16`). A connection
   * from anywhere else is closed before a byte of it is read (and before a TLS handshake). Absent or empty: anyone.
   */
  allow?: readonly string[];
}

/** Most refused addresses remembered, so each is logged once without the memory growing under a scan. */
const REFUSED_REMEMBERED = 1000;

/**
 * The allow-list as Node's own BlockList (an address matcher for IPv4 and IPv6 addresses and subnets), or undefined
 * for "anyone". Throws an Error naming an entry that is neither an address nor a network.
 */
export function allowList(entries: readonly string[] | undefined): net.BlockList | undefined {
  const wanted = (entries ?? []).map((e) => e.trim()).filter(Boolean);
  if (!wanted.length) return undefined;
  const list = new net.BlockList();
  for (const entry of wanted) {
    const [address, prefix, ...rest] = entry.split('/');
    const family = net.isIPv4(address!) ? 'ipv4' : net.isIPv6(address!) ? 'ipv6' : undefined;
    const bits = prefix === undefined ? undefined : Number(prefix);
    const max = family === 'ipv4' ? 32 : 128;
    if (!family || rest.length || (bits !== undefined && !(Number.isInteger(bits) && bits >= 0 && bits <= max))) {
      throw new Error(`"${entry}" is not an IP address or a network in CIDR notation (such as 10.20.0.0/16)`);
    }
    if (bits === undefined) list.addAddress(address!, family);
    else list.addSubnet(address!, bits, family);
  }
  return list;
}

/** Whether `address` (as a socket reports it: IPv4 may come IPv4-mapped, `::ffff:10.0.0.1`) is on the list. */
function allowed(list: net.BlockList, address: string | undefined): boolean {
  if (!address) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return list.check(mapped[1]!, 'ipv4') || list.check(address, 'ipv6');
  return list.check(address, net.isIPv4(address) ? 'ipv4' : 'ipv6');
}

/** Which message an ACK is for: a plain value, so it survives being copied along a flow. */
export interface AckRef {
  connection: number;
  seq: number;
}

export interface ReceivedMessage {
  ref: AckRef;
  message: Hl7Message;
  remoteAddress: string;
}

export interface AckDetails {
  /** MSA-3 (and ERR-8 for AE/AR); never patient data. */
  text?: string;
  /** ERR-3, an HL7 table 0357 condition. */
  errorCode?: string;
  /** ERR-2, a field path like `EVN-6`. */
  errorField?: string;
}

/** What became of an acknowledge() call. */
export type AckResult =
  /** Written to the connection, or queued behind ACKs of earlier messages. */
  | 'sent'
  /** The message had been answered already (by an earlier call or its response timeout). */
  | 'already-answered'
  /** The connection closed before the ACK could be sent: the sender will send the message again. */
  | 'connection-closed';

export interface ListenerStats {
  connections: number;
  received: number;
  rejected: number;
}

interface Slot {
  seq: number;
  message: Hl7Message | null;
  ack: Buffer | null;
  timer?: NodeJS.Timeout;
}

interface Connection {
  id: number;
  socket: net.Socket;
  framer: MllpFramer;
  slots: Slot[];
  nextSeq: number;
  warnedSkipped: boolean;
}

/** The listener's events; `warning` texts name counts, addresses and reasons, never message content. */
interface ListenerEvents {
  message: [received: ReceivedMessage];
  warning: [text: string];
  stats: [stats: ListenerStats];
}

export class MllpListener extends EventEmitter<ListenerEvents> {
  private server: net.Server | null = null;
  private readonly connections = new Map<number, Connection>();
  private nextConnection = 1;
  private controlIds = 0;
  readonly stats: ListenerStats = { connections: 0, received: 0, rejected: 0 };

  private readonly allow: net.BlockList | undefined;
  private readonly refused = new Set<string>();

  /** Throws an Error when the allow-list has an entry that is no address or network. */
  constructor(readonly options: ListenerOptions) {
    super();
    this.allow = allowList(options.allow);
  }

  /** Starts listening; rejects with the system's reason (address in use, permission) when it cannot. */
  async start(): Promise<void> {
    const onSocket = (socket: net.Socket): void => this.accept(socket);
    const server = this.options.tls ? tls.createServer({ minVersion: 'TLSv1.2', ...this.options.tls }, onSocket) : net.createServer(onSocket);
    // A sender not on the allow-list is closed before the server's own handlers see its socket: nothing of it is
    // read, and for TLS no handshake is begun (one begun and cut off would be logged as a failed handshake too).
    const handlers = server.listeners('connection') as ((socket: net.Socket) => void)[];
    server.removeAllListeners('connection');
    server.on('connection', (socket: net.Socket) => {
      if (this.admits(socket)) for (const handle of handlers) handle.call(server, socket);
    });
    server.on('tlsClientError', (error: Error, socket: tls.TLSSocket) => {
      this.emit('warning', `TLS handshake with ${socket.remoteAddress ?? 'a client'} failed: ${error.message}`);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.options.host, port: this.options.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.emit('warning', `listener error: ${error.message}`));
    this.server = server;
  }

  /** True for a sender the allow-list admits; else closes it and logs its address, once (a scan must not flood the log). */
  private admits(socket: net.Socket): boolean {
    if (!this.allow || allowed(this.allow, socket.remoteAddress)) return true;
    socket.destroy();
    const address = socket.remoteAddress ?? 'an unknown address';
    if (!this.refused.has(address)) {
      if (this.refused.size >= REFUSED_REMEMBERED) this.refused.clear();
      this.refused.add(address);
      this.emit('warning', `a connection from ${address} was refused: it is not on the listener's allow-list`);
    }
    return false;
  }

  /** The port actually bound (useful with port 0). */
  get port(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : this.options.port;
  }

  /** Stops listening and closes every connection; unanswered messages get no ACK, so their senders send them again. */
  async stop(): Promise<void> {
    for (const connection of this.connections.values()) connection.socket.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Sends the ACK for a message delivered with 'message' (in 'flow' mode). */
  acknowledge(ref: AckRef, code: AckCode, details: AckDetails = {}): AckResult {
    const connection = this.connections.get(ref.connection);
    if (!connection) return 'connection-closed';
    const slot = connection.slots.find((s) => s.seq === ref.seq);
    if (!slot || slot.ack) return 'already-answered';
    this.answer(connection, slot, code, details);
    return 'sent';
  }

  private accept(socket: net.Socket): void {
    const connection: Connection = {
      id: this.nextConnection++,
      socket,
      framer: new MllpFramer(this.options.maxFrameBytes),
      slots: [],
      nextSeq: 1,
      warnedSkipped: false,
    };
    this.connections.set(connection.id, connection);
    this.stats.connections++;
    this.emit('stats', this.stats);
    const remote = socket.remoteAddress ?? 'unknown address';
    if (this.options.idleTimeoutMs > 0) {
      socket.setTimeout(this.options.idleTimeoutMs, () => socket.destroy());
    }
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (const event of connection.framer.push(chunk)) this.onFrameEvent(connection, event, remote);
    });
    socket.on('error', (error) => this.emit('warning', `connection from ${remote}: ${error.message}`));
    socket.on('close', () => {
      const lost = connection.framer.pendingBytes;
      if (lost > 0) this.emit('warning', `connection from ${remote} closed in the middle of a frame (${lost} bytes dropped; the sender will resend)`);
      for (const slot of connection.slots) clearTimeout(slot.timer);
      this.connections.delete(connection.id);
      this.stats.connections--;
      this.emit('stats', this.stats);
    });
  }

  private onFrameEvent(connection: Connection, event: MllpEvent, remote: string): void {
    switch (event.kind) {
      case 'skipped':
        if (!connection.warnedSkipped) {
          connection.warnedSkipped = true;
          this.emit('warning', `connection from ${remote}: skipped ${event.count} bytes outside any MLLP frame (reported once per connection)`);
        }
        return;
      case 'truncated':
        this.emit('warning', `connection from ${remote}: a frame of ${event.size} bytes was cut short by the start of the next one and dropped`);
        return;
      case 'oversized':
        this.reject(connection, headerOf(event.head), new Hl7Error('framing', `the message is ${event.size} bytes, more than the ${this.options.maxFrameBytes} bytes this listener accepts`));
        return;
      case 'frame':
        this.receive(connection, event.bytes, remote);
    }
  }

  private receive(connection: Connection, bytes: Buffer, remote: string): void {
    let message: Hl7Message;
    try {
      message = parseHl7(bytes);
      if (message.get('MSH', 10) === '') throw new Hl7Error('missing-field', 'MSH-10 (message control id) is empty, so the message cannot be acknowledged', 'MSH-10');
    } catch (error) {
      const reason = error instanceof Hl7Error ? error : new Hl7Error('internal', 'the engine failed while reading the message', undefined, { cause: error });
      this.reject(connection, headerOf(bytes), reason);
      return;
    }
    this.stats.received++;
    this.emit('stats', this.stats);
    const slot: Slot = { seq: connection.nextSeq++, message, ack: null };
    const mode = this.options.ackMode;
    if (mode === 'receipt') this.answer(connection, slot, 'AA', {}, false);
    if (mode === 'flow') {
      connection.slots.push(slot);
      slot.timer = setTimeout(() => {
        this.answer(connection, slot, 'AE', { text: `no response from the application within ${this.options.responseTimeoutMs / 1000} s; send the message again`, errorCode: '207' });
      }, this.options.responseTimeoutMs);
      slot.timer.unref();
    }
    this.emit('message', { ref: { connection: connection.id, seq: slot.seq }, message, remoteAddress: remote });
  }

  private reject(connection: Connection, header: Hl7Message | null, error: Hl7Error): void {
    this.stats.rejected++;
    this.emit('stats', this.stats);
    this.emit('warning', `rejected a message from ${connection.socket.remoteAddress ?? 'unknown address'}: ${error.message}`);
    if (this.options.ackMode === 'none') return;
    const code: AckCode = error.code === 'internal' ? 'AE' : 'AR';
    const slot: Slot = { seq: connection.nextSeq++, message: header, ack: null };
    this.answer(connection, slot, code, { text: error.message, errorCode: HL7_ERROR_CONDITIONS[error.code], errorField: error.field }, false);
  }

  /** Builds the ACK into the slot and writes every ACK that is now first in line. */
  private answer(connection: Connection, slot: Slot, code: AckCode, details: AckDetails, queued = true): void {
    clearTimeout(slot.timer);
    const text = buildAck(slot.message, code, {
      ...details,
      now: new Date(),
      controlId: `ACK${Date.now().toString(36)}${(this.controlIds++).toString(36)}`,
      application: this.options.application,
    });
    slot.ack = mllpFrame(text, slot.message?.charset === 'iso-8859-1' ? 'latin1' : 'utf8');
    if (!queued) connection.slots.push(slot);
    while (connection.slots.length > 0 && connection.slots[0]!.ack) {
      const next = connection.slots.shift()!;
      if (!connection.socket.destroyed) connection.socket.write(next.ack!);
    }
  }
}

/** The MSH segment of a frame that did not read as a whole, so its refusal can still name its sender and MSH-10. */
function headerOf(bytes: Buffer): Hl7Message | null {
  let end = bytes.indexOf(0x0d);
  const lf = bytes.indexOf(0x0a);
  if (end < 0 || (lf >= 0 && lf < end)) end = lf;
  try {
    return parseHl7(end < 0 ? bytes : bytes.subarray(0, end));
  } catch {
    return null;
  }
}
