// The `hl7-listener` config node: one MLLP port (address, port, TLS, limits). It owns the listening socket, which
// opens when its `hl7 in` node starts and closes with it; `hl7 response` nodes send ACKs through it.
import type { NodeAPI, NodeDef } from 'node-red';
import { allowList, MllpListener, type AckCode, type AckDetails, type AckRef } from '../../lib/hl7';
import { CatalogError, translator } from '../shared/errors';
import { monitor } from '../shared/monitor';
import { portNumber, tlsOptions } from '../shared/settings';
import type { Hl7ListenerNode, ListenerConsumer } from './hl7-listener-node';

interface Hl7ListenerDef extends NodeDef {
  host: string;
  port: string | number;
  tls: string;
  clientCert: boolean;
  maxFrameKiB: string | number;
  idleTimeout: string | number;
  app: string;
  facility: string;
  /** Sender addresses and networks (CIDR), separated by commas, spaces or new lines; empty: anyone. */
  allow?: string;
}

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

export = function (RED: NodeAPI): void {
  function Hl7Listener(this: Hl7ListenerNode, def: Hl7ListenerDef): void {
    RED.nodes.createNode(this, def);
    let listener: MllpListener | null = null;
    let consumer: ListenerConsumer | null = null;
    const t = translator(RED);
    const host = def.host?.trim() || '127.0.0.1';
    const address = `${host}:${String(def.port).trim()}`;
    const allow = (def.allow ?? '').split(/[\s,]+/).filter(Boolean);
    const exposed = !isLoopback(host) && !def.tls && !allow.length;
    // For the health check: bound, or why not. Registered while an hl7 in node uses the listener.
    let bound: true | string = 'not started';
    let unregister = (): void => undefined;

    const serverTls = (): Record<string, unknown> | undefined => {
      const options = tlsOptions(RED, t, def.tls);
      if (!options) return undefined;
      // Server side: "verify" means asking for and checking the client's certificate (mutual TLS).
      options.requestCert = Boolean(def.clientCert);
      options.rejectUnauthorized = Boolean(def.clientCert);
      return options;
    };

    this.attach = (next) => {
      if (consumer) {
        next.onError(new CatalogError('hl7-listener.errors.in-use', { address }, t));
        return;
      }
      consumer = next;
      bound = 'starting';
      unregister = monitor.addListener({ id: this.id, name: this.name || address, address, bound: () => bound });
      try {
        try {
          allowList(allow);
        } catch (error) {
          throw new CatalogError('hl7-listener.errors.allow', { error: (error as Error).message }, t);
        }
        listener = new MllpListener({
          host,
          port: portNumber(t, def.port, RED._('hl7-listener.label.port'), { zero: true }),
          tls: serverTls(),
          maxFrameBytes: Math.max(1, Number(def.maxFrameKiB) || 10_240) * 1024,
          idleTimeoutMs: Math.max(0, Number(def.idleTimeout) || 0) * 1000,
          ackMode: next.ackMode,
          responseTimeoutMs: next.responseTimeoutMs,
          application: { app: def.app?.trim() || 'ADVIS', facility: def.facility?.trim() || '' },
          allow,
        });
      } catch (error) {
        bound = (error as Error).message;
        next.onError(error as Error);
        return;
      }
      const started = listener;
      started.on('message', (received) => consumer?.onMessage(received));
      started.on('warning', (text) => this.warn(text));
      started.on('stats', (stats) => consumer?.onStats({ ...stats, address, exposed }));
      started.start().then(
        () => {
          bound = true;
          if (exposed) this.warn(RED._('hl7-listener.warn.exposed', { address }));
          consumer?.onStats({ ...started.stats, address, exposed });
        },
        (error: Error) => {
          const refused = new CatalogError('hl7-listener.errors.listen', { address, error: error.message }, t);
          bound = refused.message;
          consumer?.onError(refused);
        },
      );
    };

    this.detach = async (leaving) => {
      if (consumer !== leaving) return;
      consumer = null;
      unregister();
      const stopping = listener;
      listener = null;
      await stopping?.stop();
    };

    this.acknowledge = (ref: AckRef, code: AckCode, details: AckDetails) => listener?.acknowledge(ref, code, details) ?? 'connection-closed';

    this.on('close', (done: () => void) => {
      const stopping = listener;
      listener = null;
      consumer = null;
      unregister();
      void (stopping?.stop() ?? Promise.resolve()).then(() => done());
    });
  }
  RED.nodes.registerType('hl7-listener', Hl7Listener as never);
};
