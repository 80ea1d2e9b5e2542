// lib/hl7: HL7 v2 reading (tokenizer, AdtEvent) and acknowledgements. Imports nothing from the other layers.
export { buildAck, type AckCode, type AckOptions } from './ack';
export { cprStatus, parseAdt, readAdtEvent, type AdtParseResult } from './adt';
export type { AdtEvent, AdtLocation, CprStatus, Disposition, StayClass } from './adt-event';
export { DEFAULT_ADT_SOURCES, type AdtSources } from './adt-sources';
export { Hl7Error, type Hl7ErrorCode } from './errors';
export { HL7_NULL, Hl7Message, parseHl7, parsePath, type Hl7Charset, type Hl7Delimiters, type Hl7Position, Hl7Segment } from './message';
export { hl7TimeToIso } from './time';
