// The MLLP sender: sends HL7 messages one at a time to another MLLP endpoint (plain TCP or TLS) and awaits each ACK.
// Used by the `hl7 out` node and `advis send`.
//
// Own code on node:net/node:tls and the project's framer rather than node-hl7-client 4.0.0, which the first design named for
// this job: measured here (see docs/mllp.md), once the peer has closed an idle connection, node-hl7-client writes the
// next message into the closed socket and reports nothing, no error, no reconnect, no ACK: the message is silently
// lost, which an interface engine cannot accept; with its default waitAck, a send made while an ACK is pending also
// livelocks. node-hl7-client stays the real peer our listener is tested against.
//
// One message is in flight at a time, so an ACK always belongs to the message just sent (MSA-2 is checked too). A
// closed or broken connection is opened again on the next send; a message is never written twice by this code: when
// the connection fails after the write, the caller is told and decides (HL7 receivers deduplicate on MSH-10).

import * as net from 'node:net';
import * as tls from 'node:tls';
import { Hl7Error } from './errors';
import { parseHl7, type Hl7Message } from './message';
import { MllpFramer, mllpFrame } from './mllp';

export interface SenderOptions {
  host: string;
  port: number;
  /** TLS client options (CA, client certificate and key, servername); plain TCP when absent. */
  tls?: tls.ConnectionOptions;
  /** How long to wait for the ACK of one message. */
  ackTimeoutMs: number;
  /** How long to wait for a connection (and the TLS handshake). */
  connectTimeoutMs: number;
  /** Largest ACK accepted. */
  maxFrameBytes?: number;
}

export interface SendResult {
  /** MSA-1: AA, AE, AR (or CA, CE, CR in enhanced mode). */
  code: string;
  /** MSA-3, the receiver's text. */
  text: string;
  /** MSH-10 of the message sent (= MSA-2 of its ACK). */
  controlId: string;
  /** The ACK as received. */
  ack: string;
}

export type SendErrorKind =
  /** The message is not one HL7 message (or has no MSH-10): nothing was sent. */
  | 'invalid-message'
  /** No connection could be made: nothing was sent. */
  | 'connect'
  /** The connection broke after the message was written, before its ACK. */
  | 'connection'
  /** No ACK within the ACK timeout. */
  | 'timeout';

export class SendError extends Error {
  override readonly name = 'SendError';
  constructor(
    readonly kind: SendErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface Waiter {
  controlId: string;
  resolve: (ack: Hl7Message) => void;
  reject: (error: SendError) => void;
}

export class MllpSender {
  private socket: net.Socket | null = null;
  private waiter: Waiter | null = null;
  /** The sends, chained: one message in flight at a time, in the order send() was called. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(readonly options: SenderOptions) {}

  /** Sends one message and resolves with its ACK; rejects with a SendError. Calls are queued, never interleaved. */
  send(message: string | Uint8Array): Promise<SendResult> {
    const result = this.queue.then(() => this.sendNow(message));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Closes the connection; a message in flight is rejected. */
  async close(): Promise<void> {
    this.closed = true;
    this.drop(new SendError('connection', 'the sender was closed'));
  }

  private async sendNow(input: string | Uint8Array): Promise<SendResult> {
    let message: Hl7Message;
    try {
      message = parseHl7(input);
    } catch (error) {
      throw new SendError('invalid-message', `not sent: ${error instanceof Hl7Error ? error.message : String(error)}`, { cause: error });
    }
    const controlId = message.get('MSH', 10);
    if (controlId === '') throw new SendError('invalid-message', 'not sent: MSH-10 (message control id) is empty, so its ACK could not be recognised');
    if (this.closed) throw new SendError('connect', 'not sent: the sender was closed');
    const socket = await this.connection();
    const acked = new Promise<Hl7Message>((resolve, reject) => {
      this.waiter = { controlId, resolve, reject };
    });
    const timer = setTimeout(() => {
      this.drop(new SendError('timeout', `no ACK for message ${controlId} within ${this.options.ackTimeoutMs / 1000} s`));
    }, this.options.ackTimeoutMs);
    try {
      socket.write(mllpFrame(message.text, message.charset === 'iso-8859-1' ? 'latin1' : 'utf8'));
      const ack = await acked;
      return { code: ack.get('MSA', 1), text: ack.get('MSA', 3), controlId, ack: ack.text };
    } finally {
      clearTimeout(timer);
      this.waiter = null;
    }
  }

  /** The open connection, or a new one. */
  private async connection(): Promise<net.Socket> {
    if (this.socket && !this.socket.destroyed && this.socket.writable) return this.socket;
    const { host, port } = this.options;
    const socket = this.options.tls ? tls.connect({ host, port, minVersion: 'TLSv1.2', ...this.options.tls }) : net.connect({ host, port });
    const ready = this.options.tls ? 'secureConnect' : 'connect';
    await new Promise<void>((resolve, reject) => {
      const fail = (error: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(new SendError('connect', `not sent: cannot connect to ${host}:${port}: ${error.message}`, { cause: error }));
      };
      const timer = setTimeout(() => fail(new Error(`no connection within ${this.options.connectTimeoutMs / 1000} s`)), this.options.connectTimeoutMs);
      socket.once('error', fail);
      socket.once(ready, () => {
        clearTimeout(timer);
        socket.off('error', fail);
        resolve();
      });
    });
    socket.setNoDelay(true);
    const framer = new MllpFramer(this.options.maxFrameBytes ?? 1024 * 1024);
    socket.on('data', (chunk: Buffer) => {
      for (const event of framer.push(chunk)) if (event.kind === 'frame') this.onAck(event.bytes);
    });
    socket.on('error', () => undefined); // 'close' follows and reports it
    socket.on('close', () => {
      if (this.socket === socket) this.drop(new SendError('connection', `the connection to ${host}:${port} closed before the ACK arrived`));
    });
    this.socket = socket;
    return socket;
  }

  private onAck(bytes: Buffer): void {
    const waiter = this.waiter;
    if (!waiter) return; // a late ACK of a message that already timed out: its connection is being dropped
    let ack: Hl7Message;
    try {
      ack = parseHl7(bytes);
    } catch (error) {
      this.drop(new SendError('connection', `the answer to message ${waiter.controlId} is not an HL7 message: ${error instanceof Error ? error.message : String(error)}`));
      return;
    }
    if (ack.get('MSA', 2) !== waiter.controlId) return;
    waiter.resolve(ack);
  }

  /** Ends the connection and fails the message in flight, so a late ACK can never be taken for the next message's. */
  private drop(error: SendError): void {
    const socket = this.socket;
    this.socket = null;
    socket?.destroy();
    this.waiter?.reject(error);
    this.waiter = null;
  }
}
