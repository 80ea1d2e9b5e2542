// The VANSEnvelope 1.0.4 around every MedCom FHIR message on the VANS network (docs/delivery.md; MedCom governance
// "FHIR messages and network envelopes", "Reliable messaging using VANSEnvelope"), and the envelopes that come back
// to the inbox: VANS receipts and envelopes holding MedCom Acknowledgements.
//
// Built as text, not with an XML library: the envelope has a fixed shape of a dozen elements, every value is checked
// against the XSD's type or escaped, and the tests validate the output against MedCom's XSD with libxml2. Read with
// @xmldom/xmldom (message.ts `parseXml`): namespace-aware, no DTD loaded, no entity expanded, a DOCTYPE refused.
//
// Which ids go where (the governance names the fields, not their values):
// - EnvelopeIdentifier = Bundle.id. Both are new on every transmission: a resend gets a new Bundle.id (MR7.R) and
//   VANS requires a new EnvelopeIdentifier; a VANS receipt then names the very Bundle it is about.
// - MetaInformation/Identifier = MessageHeader.id. Both stay the same on a resend, so VANS recognises a resent
//   message exactly as MedCom's FHIR rules do (MR8.R: same MessageHeader.id = duplicate), and a receipt for any
//   transmission of a message correlates with its outbox entry.

import type { Element } from '@xmldom/xmldom';
import type { Bundle } from 'fhir/r4';
import { copenhagenTime } from '../hl7/time';
import { MedComError } from './errors';
import { currentProvenance, messageHeaderOf, parseXml, readBundle, type WireFormat } from './message';

export const VANS_NAMESPACE = 'urn:oio:medcom:vans-envelope:1.0.4';

/** The MCM:MIME service tag value for each wire format. */
export const MIME_TYPE: Readonly<Record<WireFormat, string>> = {
  json: 'application/fhir+json',
  xml: 'application/fhir+xml',
};

/**
 * How the Document/Name postfix is chosen for a HospitalNotification. `statistical` (default): MedCom's statistical
 * code (`MCM:FDIS20#AdmissionInpatient`), the only values the combined Name can take in the VansStatisticalCodeCombination
 * CodeSystem that the governance says Name MUST conform to. `activity`: the Provenance activity code itself
 * (`MCM:FDIS20#admit-inpatient`), as the same page's sentence about the postfix's ValueSet reads. See docs/delivery.md.
 */
export type NamePostfix = 'statistical' | 'activity';

export interface VansEnvelopeInput {
  /** The sending organisation's GLN (lokationsnummer), registered in SOR for the message type. */
  senderGln: string;
  /** The receiver's GLN: for an advis, the municipality's "Sygehusadviser" unit. */
  receiverGln: string;
  /** The FHIR message exactly as it goes on the wire (an outbox entry's body). Its ids name the envelope. */
  body: string;
  format: WireFormat;
  sentAt: Date;
  namePostfix?: NamePostfix;
}

/** The MedCom document type of a message: Format is always `HL7` for FHIR. */
export interface VansDocument {
  name: string;
  version: string;
}

/** The envelope of one message as an XML document (UTF-8), ready for the VANS outbox folder. */
export function buildVansEnvelope(input: VansEnvelopeInput): string {
  const bundle = readBundle(input.body, input.format);
  const envelopeId = uuid(bundle.id, 'Bundle.id (the EnvelopeIdentifier)');
  const messageId = uuid(messageHeaderOf(bundle).id, 'MessageHeader.id (the MetaInformation Identifier)');
  const document = vansDocument(bundle, input.namePostfix ?? 'statistical');
  const bytes = Buffer.from(input.body, 'utf8');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<VANSEnvelope xmlns="${VANS_NAMESPACE}">`,
    `  <SenderID EndPointType="EAN">${gln(input.senderGln, 'sender')}</SenderID>`,
    `  <ReceiverID EndPointType="EAN">${gln(input.receiverGln, 'receiver')}</ReceiverID>`,
    `  <EnvelopeIdentifier>${envelopeId}</EnvelopeIdentifier>`,
    `  <SentDateTime>${copenhagenTime(input.sentAt)}</SentDateTime>`,
    '  <Message>',
    '    <MetaInformation>',
    `      <Identifier>${messageId}</Identifier>`,
    '      <Document>',
    '        <Format>HL7</Format>',
    `        <Name>${escapeXml(document.name)}</Name>`,
    `        <Version>${escapeXml(document.version)}</Version>`,
    `        <SizeInBytes>${bytes.length}</SizeInBytes>`,
    '      </Document>',
    '      <Transport>',
    // Reliable: VANS returns a receipt (governance 032 §2.2: "reliable" or default for FHIR messaging).
    '        <Type>reliable</Type>',
    // The FHIR message is delivered as sent; VANS must not convert it.
    '        <TransformMessage>false</TransformMessage>',
    `        <ServiceTag name="MCM:MIME">${MIME_TYPE[input.format]}</ServiceTag>`,
    '      </Transport>',
    '    </MetaInformation>',
    `    <Data>${bytes.toString('base64')}</Data>`,
    '  </Message>',
    '</VANSEnvelope>',
    '',
  ].join('\n');
}

/**
 * Document Name and Version for a HospitalNotification (`MCM:FDIS20#<postfix>`, `3.0.0`) or an Acknowledgement
 * (`MCM:FCTL#<response code>`, `2.0.0`), from MedCom's table of FHIR message types.
 */
export function vansDocument(bundle: Bundle, namePostfix: NamePostfix = 'statistical'): VansDocument {
  const header = messageHeaderOf(bundle);
  switch (header.eventCoding?.code) {
    case 'hospital-notification-message': {
      const activity = currentProvenance(bundle).activity?.coding?.[0]?.code;
      if (!activity) throw new MedComError('incomplete-message', 'the Provenance of the message has no activity code');
      return { name: `MCM:FDIS20#${namePostfix === 'activity' ? activity : statisticalCode(activity)}`, version: '3.0.0' };
    }
    case 'acknowledgement-message': {
      const code = header.response?.code;
      if (!code) throw new MedComError('incomplete-message', 'the acknowledgement has no MessageHeader.response.code');
      return { name: `MCM:FCTL#${code}`, version: '2.0.0' };
    }
    default:
      throw new MedComError('invalid-value', 'only HospitalNotification and Acknowledgement messages have a VANS document type here');
  }
}

/**
 * The statistical code for a HospitalNotification activity. Corrections and cancellations count as the advis they
 * correct or cancel; a death (MORS) carries the activity of the stay's current state, so it counts as that.
 */
export function statisticalCode(activity: string): string {
  const base = activity.replace(/^(revise|cancel)-/, '');
  const code = STATISTICAL_CODES[base];
  if (!code) throw new MedComError('invalid-value', `no VANS statistical code for the activity ${JSON.stringify(activity)}`);
  return code;
}

const STATISTICAL_CODES: Readonly<Record<string, string>> = {
  'admit-emergency': 'AcuteAmbulant',
  'admit-inpatient': 'AdmissionInpatient',
  'start-leave-inpatient': 'OnLeave',
  'end-leave-inpatient': 'EndOfLeave',
  'discharge-emergency-home': 'EndHospitalStay',
  'discharge-inpatient-home': 'EndHospitalStay',
};

export interface VansEndpoint {
  id: string;
  type: 'EAN' | 'CVR' | 'VANS';
}

/** MetaInformation: what the envelope says about the message it holds (or, in a receipt, the original message). */
export interface VansMetaInformation {
  /** The message's identifier; for our messages, the MessageHeader.id. */
  messageId: string;
  format: string;
  name: string;
  version?: string;
  sizeInBytes: number;
  transport?: 'reliable' | 'unreliable';
  /** ServiceTag values by name, e.g. `MCM:MIME`. */
  serviceTags: Record<string, string>;
}

export interface VansMessageContent {
  kind: 'message';
  meta: VansMetaInformation;
  /** The Data element decoded: for a FHIR message, its JSON or XML text. */
  body: string;
  /** From the MCM:MIME service tag, when it names a FHIR format. */
  format?: WireFormat;
}

export interface VansReceipt {
  kind: 'receipt';
  /** `positive`: delivered; `negative-message`: the receiver refused the message; `negative-vans`: VANS could not deliver it. */
  receipt: 'positive' | 'negative-message' | 'negative-vans';
  /** The EnvelopeIdentifier of the envelope the receipt is about: for our messages, that transmission's Bundle.id. */
  originalEnvelopeId: string;
  /** MetaInformation of the original message (absent in some negative VANS receipts). */
  originalMessage?: VansMetaInformation;
  error?: { code?: number; description: string };
}

export interface VansEnvelope {
  sender: VansEndpoint;
  receiver: VansEndpoint;
  envelopeId: string;
  /** SentDateTime as written (xs:dateTime, with or without an offset). */
  sentAt: string;
  content: VansMessageContent | VansReceipt;
}

/**
 * Reads an envelope from the VANS inbox. Checks the structure the XSD requires of the parts read here; throws
 * MedComError `malformed` (not XML, or a DOCTYPE) or `not-envelope`.
 */
export function parseVansEnvelope(xml: string): VansEnvelope {
  const root = parseXml(xml).documentElement;
  if (!root || root.localName !== 'VANSEnvelope' || root.namespaceURI !== VANS_NAMESPACE) {
    throw new MedComError('not-envelope', `the document is not a VANSEnvelope in the namespace ${VANS_NAMESPACE}`);
  }
  const message = child(root, 'Message');
  const receipt = child(root, 'Receipt');
  if (!message && !receipt) throw new MedComError('not-envelope', 'VANSEnvelope has neither Message nor Receipt');
  return {
    sender: endpoint(required(root, 'SenderID')),
    receiver: endpoint(required(root, 'ReceiverID')),
    envelopeId: uuid(text(required(root, 'EnvelopeIdentifier')), 'EnvelopeIdentifier', 'not-envelope'),
    sentAt: text(required(root, 'SentDateTime')),
    content: message ? messageContent(message) : receiptContent(receipt!),
  };
}

function messageContent(message: Element): VansMessageContent {
  const meta = metaInformation(required(message, 'MetaInformation'));
  const data = text(required(message, 'Data')).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data)) throw new MedComError('not-envelope', 'Message/Data is not base64');
  const mime = meta.serviceTags['MCM:MIME'];
  const format = (Object.keys(MIME_TYPE) as WireFormat[]).find((f) => MIME_TYPE[f] === mime);
  return { kind: 'message', meta, body: Buffer.from(data, 'base64').toString('utf8'), ...(format ? { format } : {}) };
}

function receiptContent(receipt: Element): VansReceipt {
  const kinds = [['PositiveMessage', 'positive'], ['NegativeMessage', 'negative-message'], ['NegativeVans', 'negative-vans']] as const;
  for (const [element, kind] of kinds) {
    const body = child(receipt, element);
    if (!body) continue;
    const original = child(body, 'OriginalMessage');
    const error = child(body, 'Error');
    if (kind !== 'positive' && !error) throw new MedComError('not-envelope', `Receipt/${element} has no Error`);
    if (kind !== 'negative-vans' && !original) throw new MedComError('not-envelope', `Receipt/${element} has no OriginalMessage`);
    const code = error && child(error, 'Code');
    return {
      kind: 'receipt',
      receipt: kind,
      originalEnvelopeId: uuid(text(required(body, 'OriginalEnvelopeIdentifier')), 'OriginalEnvelopeIdentifier', 'not-envelope'),
      ...(original ? { originalMessage: metaInformation(original) } : {}),
      ...(error ? { error: { ...(code ? { code: Number(text(code)) } : {}), description: text(required(error, 'Description')) } } : {}),
    };
  }
  throw new MedComError('not-envelope', 'Receipt is none of PositiveMessage, NegativeMessage, NegativeVans');
}

function metaInformation(meta: Element): VansMetaInformation {
  const document = required(meta, 'Document');
  const transport = child(meta, 'Transport');
  const version = child(document, 'Version');
  const type = transport && child(transport, 'Type');
  const size = Number(text(required(document, 'SizeInBytes')));
  if (!Number.isInteger(size)) throw new MedComError('not-envelope', 'Document/SizeInBytes is not an integer');
  const serviceTags: Record<string, string> = {};
  for (const tag of transport ? children(transport, 'ServiceTag') : []) serviceTags[tag.getAttribute('name') ?? ''] = text(tag);
  const transportType = type ? text(type) : undefined;
  if (transportType !== undefined && transportType !== 'reliable' && transportType !== 'unreliable') {
    throw new MedComError('not-envelope', 'Transport/Type is neither reliable nor unreliable');
  }
  return {
    messageId: uuid(text(required(meta, 'Identifier')), 'MetaInformation/Identifier', 'not-envelope'),
    format: text(required(document, 'Format')),
    name: text(required(document, 'Name')),
    ...(version ? { version: text(version) } : {}),
    sizeInBytes: size,
    ...(transportType ? { transport: transportType } : {}),
    serviceTags,
  };
}

function endpoint(element: Element): VansEndpoint {
  const type = element.getAttribute('EndPointType');
  if (type !== 'EAN' && type !== 'CVR' && type !== 'VANS') throw new MedComError('not-envelope', `${element.localName} has no valid EndPointType`);
  return { id: text(element), type };
}

function children(parent: Element, name: string): Element[] {
  const found: Element[] = [];
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === node.ELEMENT_NODE && (node as Element).localName === name && (node as Element).namespaceURI === VANS_NAMESPACE) {
      found.push(node as Element);
    }
  }
  return found;
}

function child(parent: Element, name: string): Element | undefined {
  return children(parent, name)[0];
}

function required(parent: Element, name: string): Element {
  const found = child(parent, name);
  if (!found) throw new MedComError('not-envelope', `${parent.localName} has no ${name}`);
  return found;
}

function text(element: Element): string {
  return (element.textContent ?? '').trim();
}

// The XSD's UUIDType pattern, written as it means (its `[aA-fF0-9]` also admits the characters between A and f).
const UUID = /^[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}$/;

function uuid(value: string | undefined, what: string, code: 'invalid-value' | 'not-envelope' = 'invalid-value'): string {
  if (!value || !UUID.test(value)) throw new MedComError(code, `${what} is not a UUID`);
  return value;
}

function gln(value: string, which: string): string {
  if (!/^[0-9]{13}$/.test(value)) throw new MedComError('invalid-value', `the ${which} GLN is not 13 digits`);
  return value;
}

/** Danish local time with its offset (+01:00/+02:00), to the second: unambiguous also in the autumn DST hour. */
function escapeXml(s: string): string {
  return s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);
}
