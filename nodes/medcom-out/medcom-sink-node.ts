// What the sink config nodes (`medcom-vans`, `medcom-rest`) offer the `medcom out` node (a separate module because a
// node file itself must be a bare `export =` for Node-RED).
import type { Node } from 'node-red';
import type { Transport } from '../../lib/delivery';

export interface MedcomSinkNode extends Node {
  /** The transport, opened on first use and shared; throws an Error saying what is wrong with the configuration. */
  transport(): Transport;
  /** Keeps the transport open past this config node's close until the function returned is called (nodes/shared/holds.ts). */
  hold(): () => void;
  /** How often the worker looks at the inbox, overdue acknowledgements and retries that fell due. */
  pollIntervalMs: number;
}
