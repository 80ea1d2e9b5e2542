// HL7 v2 acknowledgements in original mode: AA once the message is safely processed, AE when it was understood but
// could not be processed (the sender should resend later), AR when it was rejected (resending the same bytes will not
// help). The ACK mirrors the original: its delimiters, sender and receiver swapped, MSH-10 echoed in MSA-2, its
// processing id and version. A negative ACK says why in MSA-3 and in an ERR segment (ERR-3 condition from HL7 table
// 0357, ERR-4 severity, ERR-8 the text; ERR-1 as well for senders before 2.5, which only know that field), so the
// EPR's interface log shows the reason. A frame that could not be parsed at all still gets its AR.
//
// Built by hand like the tokenizer: an ACK is three segments, and the libraries' builders need their own message model.

import { DateTime } from 'luxon';
import { parseFieldPath, type Hl7Delimiters, type Hl7Message } from './message';

export type AckCode = 'AA' | 'AE' | 'AR';

export interface AckOptions {
  /** MSA-3 and, for AE/AR, ERR-8: why, or a short confirmation. Never patient data. */
  text?: string;
  /** ERR-3, an HL7 table 0357 condition code such as `207`; default 207 (application internal error) for AE, 100 for AR. */
  errorCode?: string;
  /** The field the error is in, as a path like `EVN-6` (see Hl7Error.field), for ERR-2. */
  errorField?: string;
  /** MSH-7 of the ACK, written as Copenhagen local time with its offset. */
  now: Date;
  /** MSH-10 of the ACK. */
  controlId: string;
  /** MSH-3/MSH-4 of the ACK when the original names no receiver to mirror (or there is no original). */
  application?: { app: string; facility: string };
}

const DEFAULT_DELIMITERS: Hl7Delimiters = { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' };
const DEFAULT_ERROR: Record<Exclude<AckCode, 'AA'>, string> = { AE: '207', AR: '100' };

/** HL7 table 0357, message error condition codes. */
const CONDITIONS: Readonly<Record<string, string>> = {
  '0': 'Message accepted',
  '100': 'Segment sequence error',
  '101': 'Required field missing',
  '102': 'Data type error',
  '103': 'Table value not found',
  '200': 'Unsupported message type',
  '201': 'Unsupported event code',
  '202': 'Unsupported processing id',
  '203': 'Unsupported version id',
  '204': 'Unknown key identifier',
  '205': 'Duplicate key identifier',
  '206': 'Application record locked',
  '207': 'Application internal error',
};

/** Builds the ACK for `original` (null when it could not be parsed); segments are each ended by CR, as the standard has it. */
export function buildAck(original: Hl7Message | null, code: AckCode, options: AckOptions): string {
  const d = original?.delimiters ?? DEFAULT_DELIMITERS;
  const escape = (text: string): string => escapeText(text, d);
  const msh = (field: number): string => original?.raw('MSH', field) ?? '';
  const version = msh(12) || '2.5';
  const text = escape(options.text ?? '');

  const segments = [
    [
      'MSH',
      msh(2) || '^~\\&',
      msh(5) || escape(options.application?.app ?? ''),
      msh(6) || escape(options.application?.facility ?? ''),
      msh(3),
      msh(4),
      DateTime.fromJSDate(options.now, { zone: 'Europe/Copenhagen' }).toFormat('yyyyLLddHHmmssZZZ'),
      '',
      ['ACK', escape(original?.get('MSH', 9, { component: 2 }) ?? ''), 'ACK'].join(d.component),
      escape(options.controlId),
      msh(11) || 'P',
      version,
    ],
    ['MSA', code, msh(10), text],
  ];
  if (code !== 'AA') {
    const condition = options.errorCode ?? DEFAULT_ERROR[code];
    const conditionText = escape(CONDITIONS[condition] ?? '');
    const location = options.errorField ? errorLocation(options.errorField) : [];
    const padded = [...location.slice(0, 3), '', '', ''].slice(0, 3);
    segments.push([
      'ERR',
      // ERR-1 (ELD: segment ^ occurrence ^ field ^ condition) is all senders before 2.5 read; later ones ignore it.
      /^2\.[1-4](\D|$)/.test(version) ? [...padded, [escape(condition), conditionText, 'HL70357'].join(d.subcomponent)].join(d.component) : '',
      location.join(d.component),
      [escape(condition), conditionText, 'HL70357'].join(d.component),
      'E',
      '',
      '',
      '',
      text,
    ]);
  }
  return segments.map((fields) => withoutTrailingEmpties(fields).join(d.field) + '\r').join('');
}

/** ERL (ERR-2): segment id ^ occurrence ^ field [^ repetition ^ component [^ subcomponent]], as deep as the path goes. */
function errorLocation(field: string): string[] {
  const path = parseFieldPath(field);
  const depth = field.split('.').length - 1;
  const location = [path.segment, '1', String(path.field)];
  if (depth >= 1) location.push('1', String(path.component));
  if (depth === 2) location.push(String(path.subcomponent));
  return location;
}

function withoutTrailingEmpties(fields: string[]): string[] {
  let end = fields.length;
  while (end > 1 && fields[end - 1] === '') end--;
  return fields.slice(0, end);
}

/** A text value with the delimiters escaped (`\F\ \S\ \T\ \R\ \E\`) and line breaks and control characters as spaces. */
function escapeText(text: string, d: Hl7Delimiters): string {
  let out = '';
  for (const c of text) {
    if (c === d.escape) out += d.escape + 'E' + d.escape;
    else if (c === d.field) out += d.escape + 'F' + d.escape;
    else if (c === d.component) out += d.escape + 'S' + d.escape;
    else if (c === d.subcomponent) out += d.escape + 'T' + d.escape;
    else if (c === d.repetition) out += d.escape + 'R' + d.escape;
    else if (c < ' ' || c === '\x7f') out += ' ';
    else out += c;
  }
  return out;
}
