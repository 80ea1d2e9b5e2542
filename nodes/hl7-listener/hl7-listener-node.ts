// What the `hl7-listener` config node offers the nodes that use it (a separate module because the node file itself
// must be a bare `export =` for Node-RED).
import type { Node } from 'node-red';
import type { AckCode, AckDetails, AckMode, AckRef, AckResult, ListenerStats, ReceivedMessage } from '../../lib/hl7';

/**
 * The listener's counts and the address it listens on, for node status; `exposed` when it listens beyond loopback
 * with neither TLS nor an allow-list, so that anyone who can reach the port may send ADT in clear text.
 */
export type ListenerStatus = ListenerStats & { address: string; exposed: boolean };

/** What the one `hl7 in` node of a listener takes from it. */
export interface ListenerConsumer {
  ackMode: AckMode;
  responseTimeoutMs: number;
  onMessage(received: ReceivedMessage): void;
  onStats(stats: ListenerStatus): void;
  onError(error: Error): void;
}

export interface Hl7ListenerNode extends Node {
  /** Starts listening for `consumer`; a listener serves one `hl7 in` node, so a second one gets an error. */
  attach(consumer: ListenerConsumer): void;
  /** Stops listening (when the `hl7 in` node closes). */
  detach(consumer: ListenerConsumer): Promise<void>;
  /** Sends the ACK for a message this listener delivered. */
  acknowledge(ref: AckRef, code: AckCode, details: AckDetails): AckResult;
}

/** What `hl7 in` puts in msg.hl7, so `hl7 response` finds the connection: plain values, copied along the flow. */
export interface Hl7MessageRef extends AckRef {
  listener: string;
  controlId: string;
  messageType: string;
  remoteAddress: string;
}

/** The parts of Node-RED's `tls-config` node used here. */
export interface TlsConfigNode extends Node {
  addTLSOptions(options: Record<string, unknown>): Record<string, unknown>;
}
