// The checks every node makes of its settings and input, written once: a setting that names an unset environment
// variable (Node-RED leaves `${VAR}` as the literal text), a port number, the TLS configuration a node chose, and
// msg.payload as HL7 text.
import type { NodeAPI } from 'node-red';
import type { TlsConfigNode } from '../hl7-listener/hl7-listener-node';
import { CatalogError, SHARED, type Translate } from './errors';

const UNSET = /^\$\{(\S+)\}$/;

/** A required setting, trimmed; `name` is what the editor calls it. */
export function setting(t: Translate, value: string | number | undefined, name: string): string {
  const v = String(value ?? '').trim();
  const unset = UNSET.exec(v);
  if (unset) throw new CatalogError(`${SHARED}.errors.unset-variable`, { name, variable: unset[1] }, t);
  if (!v) throw new CatalogError(`${SHARED}.errors.empty`, { name }, t);
  return v;
}

/** An optional setting: undefined when empty, else as `setting`. */
export function optionalSetting(t: Translate, value: string | number | undefined, name: string): string | undefined {
  return String(value ?? '').trim() ? setting(t, value, name) : undefined;
}

/** A TCP port from 1 to 65535 (0 too where the system may choose one: a listener's). */
export function portNumber(t: Translate, value: string | number | undefined, name: string, options: { zero?: boolean } = {}): number {
  const port = Number(setting(t, value, name));
  if (!Number.isInteger(port) || port < (options.zero ? 0 : 1) || port > 65535) throw new CatalogError(`${SHARED}.errors.port`, { name, value: String(value) }, t);
  return port;
}

/** The options of the `tls-config` node `id` names, or undefined when none is chosen. */
export function tlsOptions(RED: NodeAPI, t: Translate, id: string | undefined): Record<string, unknown> | undefined {
  if (!id) return undefined;
  const tlsNode = RED.nodes.getNode(id) as TlsConfigNode | null;
  if (!tlsNode) throw new CatalogError(`${SHARED}.errors.no-tls`, {}, t);
  return tlsNode.addTLSOptions({});
}

/** msg.payload as HL7: text or bytes. */
export function hl7Payload(t: Translate, payload: unknown): string | Uint8Array {
  if (typeof payload === 'string' || payload instanceof Uint8Array) return payload;
  throw new CatalogError(`${SHARED}.errors.not-hl7`, { type: payload === null ? 'null' : typeof payload }, t);
}
