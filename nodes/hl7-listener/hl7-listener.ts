// The `hl7-listener` config node: one MLLP port (address, port, TLS, limits). It owns the listening socket, which
// opens when its `hl7 in` node starts and closes with it; `hl7 response` nodes send ACKs through it.
import type { NodeAPI, NodeDef } from 'node-red';
import { MllpListener, type AckCode, type AckDetails, type AckRef } from '../../lib/hl7';
import { monitor } from '../shared/monitor';
import type { Hl7ListenerNode, ListenerConsumer, TlsConfigNode } from './hl7-listener-node';

interface Hl7ListenerDef extends NodeDef {
  host: string;
  port: string | number;
  tls: string;
  clientCert: boolean;
  maxFrameKiB: string | number;
  idleTimeout: string | number;
  app: string;
  facility: string;
}

export = function (RED: NodeAPI): void {
  function Hl7Listener(this: Hl7ListenerNode, def: Hl7ListenerDef): void {
    RED.nodes.createNode(this, def);
    let listener: MllpListener | null = null;
    let consumer: ListenerConsumer | null = null;
    const host = def.host?.trim() || '127.0.0.1';
    const port = Number(def.port);
    const address = `${host}:${port}`;
    // For the health check: bound, or why not. Registered while an hl7 in node uses the listener.
    let bound: true | string = 'not started';
    let unregister = (): void => undefined;

    const tlsOptions = (): Record<string, unknown> | undefined => {
      if (!def.tls) return undefined;
      const tlsNode = RED.nodes.getNode(def.tls) as TlsConfigNode | null;
      if (!tlsNode) throw new Error('the TLS configuration chosen for this listener is missing');
      const options = tlsNode.addTLSOptions({});
      // Server side: "verify" means asking for and checking the client's certificate (mutual TLS).
      options.requestCert = Boolean(def.clientCert);
      options.rejectUnauthorized = Boolean(def.clientCert);
      return options;
    };

    this.attach = (next) => {
      if (consumer) {
        next.onError(new Error(`the HL7 listener on ${address} already serves another hl7 in node`));
        return;
      }
      consumer = next;
      bound = 'starting';
      unregister = monitor.addListener({ id: this.id, name: this.name || address, address, bound: () => bound });
      try {
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`the port "${def.port}" is not a TCP port number`);
        listener = new MllpListener({
          host,
          port,
          tls: tlsOptions(),
          maxFrameBytes: Math.max(1, Number(def.maxFrameKiB) || 10_240) * 1024,
          idleTimeoutMs: Math.max(0, Number(def.idleTimeout) || 0) * 1000,
          ackMode: next.ackMode,
          responseTimeoutMs: next.responseTimeoutMs,
          application: { app: def.app?.trim() || 'ADVIS', facility: def.facility?.trim() || '' },
        });
      } catch (error) {
        bound = (error as Error).message;
        next.onError(error as Error);
        return;
      }
      const started = listener;
      started.on('message', (received) => consumer?.onMessage(received));
      started.on('warning', (text) => this.warn(text));
      started.on('stats', (stats) => consumer?.onStats({ ...stats, address }));
      started.start().then(
        () => {
          bound = true;
          consumer?.onStats({ ...started.stats, address });
        },
        (error: Error) => {
          bound = `cannot listen on ${address}: ${error.message}`;
          consumer?.onError(new Error(bound));
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
