// The other side of the VANS folder drop, for delivery tests: a VANS client and the municipalities behind it. Each
// `step` takes every complete envelope from the outbox folder in name order (as a VANS client does), checks it as
// MedCom's envelope rules and the VANS XSD's types demand (ids, GLNs, size, MIME, base64 of the very message),
// records it, and, as the test asks, writes the municipality's Acknowledgement in an envelope into the inbox folder,
// or a VANS receipt, or nothing. Driven by the test, not by a timer, so tests need no sleeping.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  buildAcknowledgement,
  buildVansEnvelope,
  messageHeaderOf,
  parseVansEnvelope,
  readBundle,
  type AcknowledgementCode,
  type VansEnvelope,
} from '../../lib/medcom';
import { writeBundle } from '../../lib/medcom/message';
import { counter } from '../medcom/messages';

/** `negative-receipt`: the receiver's mailbox refused it (names the message); `negative-vans`: VANS itself did (names only the envelope). */
export type VansAnswer = AcknowledgementCode | 'none' | 'negative-receipt' | 'negative-vans';

export interface VansDelivery {
  file: string;
  envelope: VansEnvelope;
  messageHeaderId: string;
  bundleId: string;
  /** What the envelope breaks of MedCom's rules; [] when it is right. */
  problems: string[];
  answer: VansAnswer;
}

export interface VansSimulator {
  received: VansDelivery[];
  /** Answers for the next envelopes, in order; after them every envelope gets `ok`. */
  answerNext(...answers: VansAnswer[]): void;
  /** Takes what is in the outbox, answers into the inbox; returns what it took. */
  step(): VansDelivery[];
}

const GLN = /^\d{13}$/;

export function startVansSimulator(options: { outbox: string; inbox: string; now?: () => Date }): VansSimulator {
  const received: VansDelivery[] = [];
  const queued: VansAnswer[] = [];
  const newId = counter('aaaaaaaa');
  const now = options.now ?? (() => new Date());
  let written = 0;

  const write = (xml: string): void => {
    // Written whole under a hidden name, then renamed, as a VANS client delivers into the inbox.
    const name = `${String(++written).padStart(6, '0')}.xml`;
    const temporary = path.join(options.inbox, `.${name}.part`);
    fs.writeFileSync(temporary, xml);
    fs.renameSync(temporary, path.join(options.inbox, name));
  };

  function take(file: string): VansDelivery {
    const xml = fs.readFileSync(path.join(options.outbox, file), 'utf8');
    fs.rmSync(path.join(options.outbox, file));
    const envelope = parseVansEnvelope(xml);
    const problems: string[] = [];
    if (envelope.content.kind !== 'message') throw new Error(`${file} holds no message`);
    const { meta, body, format } = envelope.content;
    if (!format) problems.push('no MCM:MIME service tag for a FHIR format');
    const bundle = readBundle(body, format ?? 'json');
    const header = messageHeaderOf(bundle);
    if (!GLN.test(envelope.sender.id) || envelope.sender.type !== 'EAN') problems.push('SenderID is not an EAN GLN');
    if (!GLN.test(envelope.receiver.id) || envelope.receiver.type !== 'EAN') problems.push('ReceiverID is not an EAN GLN');
    if (envelope.envelopeId !== bundle.id) problems.push('EnvelopeIdentifier is not the Bundle.id');
    if (meta.messageId !== header.id) problems.push('MetaInformation/Identifier is not the MessageHeader.id');
    if (meta.sizeInBytes !== Buffer.byteLength(body, 'utf8')) problems.push('SizeInBytes is not the byte length of the message');
    if (!/^MCM:FDIS20#/.test(meta.name) || meta.version !== '3.0.0') problems.push('Document Name/Version is not a HospitalNotification 3.0.0');
    if (meta.transport !== 'reliable') problems.push('Transport/Type is not reliable');
    const answer = queued.shift() ?? 'ok';
    const delivery: VansDelivery = { file, envelope, messageHeaderId: header.id!, bundleId: bundle.id!, problems, answer };
    received.push(delivery);

    const back = { senderGln: envelope.receiver.id, receiverGln: envelope.sender.id, sentAt: now() };
    if (answer === 'negative-receipt' || answer === 'negative-vans') {
      write(receiptEnvelope(back, newId(), envelope.envelopeId, answer === 'negative-receipt' ? header.id! : undefined));
    } else if (answer !== 'none') {
      const issues = answer === 'ok' ? [] : [{ severity: 'error' as const, code: answer === 'fatal-error' ? 'value' : 'transient', text: `the municipality answers ${answer}` }];
      const ack = buildAcknowledgement({ message: bundle, code: answer, issues, now: now().toISOString(), newId });
      write(buildVansEnvelope({ ...back, body: writeBundle(ack, 'json'), format: 'json' }));
    }
    return delivery;
  }

  return {
    received,
    answerNext: (...answers) => void queued.push(...answers),
    step: () =>
      fs
        .readdirSync(options.outbox)
        .filter((f) => f.endsWith('.xml') && !f.startsWith('.'))
        .sort()
        .map(take),
  };
}

/**
 * A negative receipt: with `messageId`, the receiver's VANS mailbox refused the envelope (NegativeMessage, which names
 * the message); without, VANS refused it (NegativeVans, which need only name the envelope).
 */
function receiptEnvelope(back: { senderGln: string; receiverGln: string; sentAt: Date }, id: string, originalEnvelopeId: string, messageId?: string): string {
  const kind = messageId ? 'NegativeMessage' : 'NegativeVans';
  const description = messageId ? 'mailbox out of operation' : 'receiver unknown to VANS';
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<VANSEnvelope xmlns="urn:oio:medcom:vans-envelope:1.0.4">',
    '  <SenderID EndPointType="VANS">MEDCOMVANS</SenderID>',
    `  <ReceiverID EndPointType="EAN">${back.receiverGln}</ReceiverID>`,
    `  <EnvelopeIdentifier>${id}</EnvelopeIdentifier>`,
    `  <SentDateTime>${back.sentAt.toISOString()}</SentDateTime>`,
    `  <Receipt><${kind}>`,
    `    <Error><Code>12</Code><Description>${description}</Description></Error>`,
    `    <OriginalEnvelopeIdentifier>${originalEnvelopeId}</OriginalEnvelopeIdentifier>`,
    ...(messageId
      ? [`    <OriginalMessage><Identifier>${messageId}</Identifier><Document><Format>HL7</Format><Name>MCM:FDIS20#AdmissionInpatient</Name><Version>3.0.0</Version><SizeInBytes>1</SizeInBytes></Document></OriginalMessage>`]
      : []),
    `  </${kind}></Receipt>`,
    '</VANSEnvelope>',
    '',
  ].join('\n');
}
