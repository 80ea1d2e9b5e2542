// The `hl7 response` node: sends the ACK for msg back on the connection msg.hl7 names (set by `hl7 in`). Which ACK:
//  - msg.ack = {code, text} when the flow says so itself;
//  - AR when `adt parse` refused the message (msg.hl7error), AE when the engine failed (a Catch node's msg.error):
//    the EPR keeps an AE'd message and sends it again, and shows an AR to a person;
//  - AA otherwise.
// A message the listener has answered already (a second advis of the same ADT message, or its response timeout) is
// passed over quietly; one whose connection has closed is logged: the EPR sends it again on its next connection.
import type { Node, NodeAPI, NodeMessageInFlow } from 'node-red';
import { HL7_ERROR_CONDITIONS, type AckCode, type AckDetails, type Hl7ErrorCode } from '../../lib/hl7';
import { CatalogError, translator, type Translate } from '../shared/errors';
import type { Hl7ListenerNode, Hl7MessageRef } from '../hl7-listener/hl7-listener-node';

type ResponseMessage = NodeMessageInFlow & {
  hl7?: Hl7MessageRef;
  ack?: { code?: string; text?: string };
  hl7error?: { code?: string; message?: string; field?: string };
  error?: { message?: string };
};

const CODES = new Set<AckCode>(['AA', 'AE', 'AR']);

/**
 * The ACK the flow asks for (see the header). Texts name the reason, never message content; they go to the sender in
 * MSA-3 and ERR, so they are HL7's English, not the editor's language.
 */
function ackFor(msg: ResponseMessage, t: Translate): { code: AckCode; details: AckDetails } {
  if (msg.ack && typeof msg.ack === 'object') {
    const code = String(msg.ack.code ?? 'AA').toUpperCase() as AckCode;
    if (!CODES.has(code)) throw new CatalogError('hl7-response.errors.code', { code: String(msg.ack.code) }, t);
    return { code, details: { text: msg.ack.text } };
  }
  if (msg.hl7error && typeof msg.hl7error === 'object') {
    const condition = HL7_ERROR_CONDITIONS[msg.hl7error.code as Hl7ErrorCode];
    return {
      code: msg.hl7error.code === 'internal' ? 'AE' : 'AR',
      details: { text: msg.hl7error.message ?? 'the message could not be read', errorCode: condition ?? '207', errorField: msg.hl7error.field },
    };
  }
  if (msg.error && typeof msg.error === 'object') {
    return { code: 'AE', details: { text: `the message was not processed: ${msg.error.message ?? 'an error occurred'}`, errorCode: '207' } };
  }
  return { code: 'AA', details: {} };
}

export = function (RED: NodeAPI): void {
  function Hl7Response(this: Node, def: { id: string }): void {
    RED.nodes.createNode(this, def as never);
    const t = translator(RED);
    this.on('input', (msg: ResponseMessage, _send, done) => {
      const ref = msg.hl7;
      if (!ref || typeof ref !== 'object' || typeof ref.listener !== 'string') {
        done(new CatalogError('hl7-response.errors.no-hl7', {}, t));
        return;
      }
      const listener = RED.nodes.getNode(ref.listener) as Hl7ListenerNode | null;
      let ack;
      try {
        ack = ackFor(msg, t);
      } catch (error) {
        done(error as Error);
        return;
      }
      const result = listener ? listener.acknowledge(ref, ack.code, ack.details) : 'connection-closed';
      if (result === 'connection-closed') {
        this.warn(RED._('hl7-response.warn.closed', { controlId: ref.controlId, code: ack.code }));
      } else if (result === 'sent') {
        this.status({ fill: ack.code === 'AA' ? 'green' : 'yellow', shape: 'dot', text: `${ack.code} ${ref.controlId}` });
      }
      done();
    });
  }
  RED.nodes.registerType('hl7 response', Hl7Response);
};
