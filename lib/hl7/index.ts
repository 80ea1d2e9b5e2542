// lib/hl7: HL7 v2 reading (tokenizer, times, AdtEvent), acknowledgements and MLLP (framer, listener, sender).
// Imports nothing from the other layers.
export { buildAck, type AckCode, type AckOptions } from './ack';
export { cprStatus, parseAdt, readAdtEvent, type AdtParseResult } from './adt';
export { ADT_EVENT_VERSION, type AdtEvent, type AdtLocation, type AdtSegmentId, type CprStatus, type Disposition, type StayClass } from './adt-event';
export { DEFAULT_ADT_SOURCES, type AdtSources } from './adt-sources';
export { HL7_ERROR_CONDITIONS, Hl7Error, type Hl7ErrorCode } from './errors';
export {
  Hl7Message,
  Hl7Segment,
  parseFieldPath,
  parseHl7,
  type Hl7Charset,
  type Hl7Delimiters,
  type Hl7FieldPath,
  type Hl7FieldPosition,
  type Hl7Position,
} from './message';
export { copenhagenTime, hl7TimeToIso } from './time';
export { allowList, MllpListener, type AckDetails, type AckMode, type AckRef, type AckResult, type ListenerOptions, type ListenerStats, type ReceivedMessage } from './listener';
export { MLLP_END, MLLP_START, MllpFramer, mllpFrame, type MllpEvent } from './mllp';
export { MllpSender, SendError, type SendErrorKind, type SendResult, type SenderOptions } from './sender';
