// The `hl7 out` node: sends msg.payload (one HL7 message) to another MLLP endpoint and waits for its ACK; msg.ack
// ({code, text, controlId}) and msg.payload (the ACK) go on. AE/AR are results, passed on like AA for the flow to
// route; no connection, a broken connection and no ACK in time are errors (Catch), with msg.ack unset. Messages are
// sent one at a time in the order they arrive, on one connection that is opened again when it closes.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { MllpSender } from '../../lib/hl7';
import { CatalogError, translator } from '../shared/errors';
import { hl7Payload, portNumber, tlsOptions } from '../shared/settings';

interface Hl7OutDef extends NodeDef {
  host: string;
  port: string | number;
  tls: string;
  ackTimeout: string | number;
}

export = function (RED: NodeAPI): void {
  function Hl7Out(this: Node, def: Hl7OutDef): void {
    RED.nodes.createNode(this, def);
    const t = translator(RED);
    const host = def.host?.trim() || '127.0.0.1';
    let sender: MllpSender | null = null;
    let sent = 0;
    let failed = 0;
    try {
      sender = new MllpSender({
        host,
        port: portNumber(t, def.port, RED._('hl7-out.label.port')),
        tls: tlsOptions(RED, t, def.tls),
        ackTimeoutMs: Math.max(1, Number(def.ackTimeout) || 30) * 1000,
        connectTimeoutMs: 10_000,
      });
    } catch (error) {
      this.status({ fill: 'red', shape: 'ring', text: 'hl7-out.status.error' });
      this.error((error as Error).message);
    }

    this.on('input', (msg: NodeMessageInFlow & { ack?: unknown }, send, done) => {
      if (!sender) {
        done(new CatalogError('hl7-out.errors.not-configured', {}, t));
        return;
      }
      let payload;
      try {
        payload = hl7Payload(t, msg.payload);
      } catch (error) {
        done(error as Error);
        return;
      }
      sender.send(payload).then(
        (result) => {
          sent++;
          msg.ack = { code: result.code, text: result.text, controlId: result.controlId };
          msg.payload = result.ack;
          this.status({ fill: result.code.endsWith('A') ? 'green' : 'yellow', shape: 'dot', text: RED._('hl7-out.status.counts', { sent, failed, code: result.code }) });
          send(msg);
          done();
        },
        (error: Error) => {
          failed++;
          this.status({ fill: 'red', shape: 'dot', text: RED._('hl7-out.status.counts', { sent, failed, code: '-' }) });
          done(error);
        },
      );
    });
    this.on('close', (done: () => void) => {
      void (sender?.close() ?? Promise.resolve()).then(() => done());
    });
  }
  RED.nodes.registerType('hl7 out', Hl7Out);
};
