// Why an HL7 v2 message could not be read, as a closed list of codes a flow can branch on.
//
// Messages name the problem and where it is (segment number, field path), never a value from the message: they end
// up in logs, node status, Catch nodes and the MSA-3/ERR-8 text of a negative ACK, and a value could be a CPR number
// or a name.

export type Hl7ErrorCode =
  /** Nothing but whitespace. */
  | 'empty'
  /** NUL bytes or mostly control characters: not text at all (a wrong port, a UTF-16 sender, a TLS handshake). */
  | 'binary'
  /** The text does not begin with an MSH segment. */
  | 'no-msh'
  /** MSH-1/MSH-2 do not define five distinct punctuation delimiters. */
  | 'bad-delimiters'
  /** A line that is not a segment: no 3-character upper-case id, or a break inside a segment. */
  | 'truncated-segment'
  /** MLLP start/end bytes inside the message, or a second MSH segment: two messages run together. */
  | 'framing'
  /** MSH-18 names a character set the engine cannot decode. */
  | 'unsupported-charset'
  /** The bytes are not valid in the character set MSH-18 declares. */
  | 'bad-encoding'
  /** A field the engine cannot do without (MSH-9.2, MSH-10) is empty. */
  | 'missing-field'
  /** A date/time field is not an HL7 TS/DTM value or names an impossible date. */
  | 'bad-datetime'
  /** A configured ADT source is not a field path like `PID-11.9`: the site configuration, not the message, is wrong. */
  | 'bad-source'
  /** A defect in the engine itself; the message may well be fine. */
  | 'internal';

/**
 * The HL7 table 0357 condition for each code, for ERR-3 of a negative ACK: 100 segment sequence error, 101 required
 * field missing, 102 data type error, 207 application internal error.
 */
export const HL7_ERROR_CONDITIONS: Readonly<Record<Hl7ErrorCode, string>> = {
  empty: '100',
  binary: '100',
  'no-msh': '100',
  'bad-delimiters': '100',
  'truncated-segment': '100',
  framing: '100',
  'unsupported-charset': '102',
  'bad-encoding': '102',
  'missing-field': '101',
  'bad-datetime': '102',
  'bad-source': '207',
  internal: '207',
};

export class Hl7Error extends Error {
  override readonly name = 'Hl7Error';

  constructor(
    readonly code: Hl7ErrorCode,
    message: string,
    /** The field the problem is in, as a path like `EVN-6`, when there is one. */
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
