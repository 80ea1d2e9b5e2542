// An HL7 v2 message tokenizer: segments, fields, repetitions, components, subcomponents and escapes, read lazily.
//
// Written here rather than taken from a library (DESIGN.md, research/experiments-node22.md §3): node-hl7-client
// returns only the first component or subcomponent, trims values and misreads mixed CR/LF line ends; Medplum's
// Hl7Message decodes no escapes; none of them strips a byte-order mark. The standard is small enough to follow
// exactly: delimiters from MSH-1/MSH-2, segments ended by CR (LF and CRLF accepted, as real senders use them),
// `\F\ \S\ \T\ \R\ \E\` and `\Xhh…\` escapes (hex bytes in the message's character set, MSH-18), and the HL7 null `""`
// kept apart from an empty value.

import { Hl7Error } from './errors';

export interface Hl7Delimiters {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
}

/** The HL7 null: "delete this value", as opposed to an empty (not sent) value. `get` returns it as these two characters. */
export const HL7_NULL = '""';

/** Which part of a field to read; 1-based like the standard. */
export interface Hl7Position {
  /** Repetition, default 1. */
  rep?: number;
  /** Component, default 1; 0 reads the whole repetition undecoded-by-component (components joined as sent). */
  component?: number;
  /** Subcomponent, default 1. */
  subcomponent?: number;
  /** Which occurrence of a repeating segment, default 0 (the first). */
  segmentIndex?: number;
}

export type Hl7Charset = 'utf-8' | 'latin1';

/** One segment: its id and its fields as sent (fields[n] is field n, 1-based; fields[0] the id), split on first use. */
export class Hl7Segment {
  private split: string[] | undefined;

  constructor(
    readonly id: string,
    private readonly line: string,
    private readonly separator: string,
    private readonly isHeader: boolean,
  ) {}

  get fields(): string[] {
    if (!this.split) {
      const values = this.line.split(this.separator);
      // MSH-1 is the field separator itself, so MSH field n is value n-1 of the split line.
      if (this.isHeader) values.splice(1, 0, this.separator);
      this.split = values;
    }
    return this.split;
  }
}

const SEGMENT_ID = /^[A-Z][A-Z0-9]{2}$/;
const MLLP_START = '\x0b';
const MLLP_END = '\x1c';
const UTF8 = new TextDecoder('utf-8');
const LATIN1 = new TextDecoder('latin1');

/** MSH-18 values the engine can decode; anything else is refused rather than misread. */
const CHARSETS: Record<string, Hl7Charset> = {
  '': 'utf-8',
  'UNICODE UTF-8': 'utf-8',
  'UTF-8': 'utf-8',
  UTF8: 'utf-8',
  ASCII: 'utf-8',
  '8859/1': 'latin1',
  'ISO-8859-1': 'latin1',
  'ISO 8859-1': 'latin1',
  'ISO IR100': 'latin1',
  'ISO-IR100': 'latin1',
};

export class Hl7Message {
  readonly segments: readonly Hl7Segment[];
  private readonly byId = new Map<string, Hl7Segment[]>();

  constructor(
    segments: Hl7Segment[],
    readonly delimiters: Hl7Delimiters,
    readonly charset: Hl7Charset,
  ) {
    this.segments = segments;
    for (const segment of segments) {
      const list = this.byId.get(segment.id);
      if (list) list.push(segment);
      else this.byId.set(segment.id, [segment]);
    }
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Every occurrence of a segment, in order. */
  all(id: string): readonly Hl7Segment[] {
    return this.byId.get(id) ?? [];
  }

  /** A field exactly as sent, escapes and delimiters included ('' when absent). */
  raw(id: string, field: number, segmentIndex = 0): string {
    return this.all(id)[segmentIndex]?.fields[field] ?? '';
  }

  /** How many repetitions a field has (0 when empty or absent). */
  repetitions(id: string, field: number, segmentIndex = 0): number {
    const raw = this.raw(id, field, segmentIndex);
    if (raw === '') return 0;
    let count = 1;
    for (let i = raw.indexOf(this.delimiters.repetition); i >= 0; i = raw.indexOf(this.delimiters.repetition, i + 1)) count++;
    return count;
  }

  /**
   * One value, escapes decoded; '' when absent, HL7_NULL (`""`) when sent as the HL7 null. MSH-1 and MSH-2 are the
   * delimiters themselves and are returned as they are.
   */
  get(id: string, field: number, at: Hl7Position = {}): string {
    const segmentIndex = at.segmentIndex ?? 0;
    if (id === 'MSH' && field <= 2) return this.raw(id, field, segmentIndex);
    // Scanning for the delimiters reads the one value asked for without splitting the rest of the field.
    const d = this.delimiters;
    const rep = piece(this.raw(id, field, segmentIndex), d.repetition, (at.rep ?? 1) - 1);
    const component = rep && piece(rep, d.component, (at.component ?? 1) - 1);
    const value = component ? piece(component, d.subcomponent, (at.subcomponent ?? 1) - 1) : '';
    return value === HL7_NULL ? value : this.decode(value);
  }

  /** True when the value was sent as the HL7 null `""`. */
  isNull(id: string, field: number, at: Hl7Position = {}): boolean {
    return this.get(id, field, at) === HL7_NULL;
  }

  /** Reads a path like `PID-11.9` or `PV1-3.4.1` (repetition 1 unless `rep` is given). */
  read(path: string, rep = 1): string {
    const p = parsePath(path);
    return this.get(p.segment, p.field, { rep, component: p.component, subcomponent: p.subcomponent });
  }

  /** Decodes HL7 escape sequences in one value. */
  decode(value: string): string {
    const esc = this.delimiters.escape;
    if (!value.includes(esc)) return value;
    let out = '';
    let bytes: number[] = [];
    const flush = (): void => {
      if (bytes.length) out += (this.charset === 'latin1' ? LATIN1 : UTF8).decode(Uint8Array.from(bytes));
      bytes = [];
    };
    let i = 0;
    while (i < value.length) {
      const start = value.indexOf(esc, i);
      if (start < 0) break;
      const end = value.indexOf(esc, start + 1);
      if (end < 0) break;
      const text = value.slice(i, start);
      if (text) {
        flush();
        out += text;
      }
      const sequence = value.slice(start + 1, end);
      const hex = /^X((?:[0-9A-Fa-f]{2})+)$/.exec(sequence);
      if (hex) {
        // Consecutive \X..\ sequences form one byte string, so a character split across two of them survives.
        for (let h = 0; h < hex[1].length; h += 2) bytes.push(parseInt(hex[1].slice(h, h + 2), 16));
      } else {
        flush();
        out += this.unescapeNamed(sequence, esc);
      }
      i = end + 1;
    }
    flush();
    return out + value.slice(i);
  }

  private unescapeNamed(sequence: string, esc: string): string {
    const d = this.delimiters;
    switch (sequence) {
      case 'F':
        return d.field;
      case 'S':
        return d.component;
      case 'T':
        return d.subcomponent;
      case 'R':
        return d.repetition;
      case 'E':
        return d.escape;
      default:
        // Formatting escapes (\.br\, \H\, \N\, \Z..\) carry no data for the engine: kept as sent.
        return `${esc}${sequence}${esc}`;
    }
  }
}

/** The n-th (0-based) piece of `text` between `separator`s, '' when there is none; no array is built. */
function piece(text: string, separator: string, n: number): string {
  let start = 0;
  for (let i = 0; i < n; i++) {
    const next = text.indexOf(separator, start);
    if (next < 0) return '';
    start = next + 1;
  }
  const end = text.indexOf(separator, start);
  return end < 0 ? (start === 0 ? text : text.slice(start)) : text.slice(start, end);
}

interface FieldPath {
  segment: string;
  field: number;
  component: number;
  subcomponent: number;
}

const pathCache = new Map<string, FieldPath>();

/** `PID-11.9` → { segment: 'PID', field: 11, component: 9, subcomponent: 1 }. */
export function parsePath(path: string): FieldPath {
  let parsed = pathCache.get(path);
  if (!parsed) {
    const m = /^([A-Z][A-Z0-9]{2})-(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(path);
    if (!m) throw new Error(`"${path}" is not an HL7 field path like PID-11.9`);
    parsed = { segment: m[1], field: Number(m[2]), component: Number(m[3] ?? 1), subcomponent: Number(m[4] ?? 1) };
    pathCache.set(path, parsed);
  }
  return parsed;
}

/**
 * Reads one HL7 v2 message. Text is taken as it is; bytes are decoded by MSH-18 (UTF-8 unless it names ISO-8859-1).
 * Throws Hl7Error with a readable reason for anything that is not an HL7 message.
 */
export function parseHl7(input: string | Uint8Array): Hl7Message {
  let text: string;
  let charset: Hl7Charset;
  if (typeof input === 'string') {
    text = input;
    charset = 'utf-8';
  } else {
    // MSH-18 is ASCII, so reading the bytes as Latin-1 finds it whatever the encoding; then decode for real.
    charset = charsetOf(LATIN1.decode(input));
    text = (charset === 'latin1' ? LATIN1 : UTF8).decode(input);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw new Hl7Error('empty', 'the message is empty');
  if (looksBinary(text)) throw new Hl7Error('binary', 'the message is binary data, not HL7 text');

  const start = text.indexOf('MSH');
  if (start < 0 || text.slice(0, start).trim().replaceAll(MLLP_START, '').replaceAll(MLLP_END, '') !== '') {
    throw new Hl7Error('no-msh', 'the message does not start with an MSH segment');
  }
  text = text.slice(start);
  // MLLP framing bytes left on a message by a sender or a file: not part of it.
  if (text.includes(MLLP_START) || text.includes(MLLP_END)) text = text.replaceAll(MLLP_START, '').replaceAll(MLLP_END, '');
  const delimiters = readDelimiters(text);

  const segments: Hl7Segment[] = [];
  // Plain CR (the standard) splits without a regular expression; LF and CRLF senders take the general path.
  for (const line of text.includes('\n') ? text.split(/\r\n|\r|\n/) : text.split('\r')) {
    if (line.length === 0 || line.trim() === '') continue;
    const id = line.slice(0, 3);
    if (!SEGMENT_ID.test(id) || (line.length > 3 && line[3] !== delimiters.field)) {
      throw new Hl7Error('truncated-segment', `segment ${segments.length + 1} has no valid segment id (a truncated or broken segment)`);
    }
    segments.push(new Hl7Segment(id, line, delimiters.field, segments.length === 0));
  }
  // Text is already decoded; MSH-18 still says how \X..\ bytes are to be read, and must be one the engine knows.
  if (typeof input === 'string') charset = charsetNamed(piece(segments[0].fields[18] ?? '', delimiters.repetition, 0));
  return new Hl7Message(segments, delimiters, charset);
}

function readDelimiters(text: string): Hl7Delimiters {
  const field = text[3];
  const bad = (why: string): never => {
    throw new Hl7Error('bad-delimiters', `MSH-1/MSH-2 do not define usable delimiters: ${why}`);
  };
  if (!field || /[A-Za-z0-9\s]/.test(field)) bad('the field separator must follow "MSH" and be a punctuation character');
  const end = text.indexOf(field, 4);
  const encoding = text.slice(4, end < 0 ? undefined : end);
  if (encoding.length < 4 || encoding.length > 5) bad(`MSH-2 must hold 4 encoding characters, not ${encoding.length}`);
  const chars = [field, ...encoding.slice(0, 4)];
  if (new Set(chars).size !== 5) bad('the delimiters must all be different');
  if (chars.some((c) => /[A-Za-z0-9\s]/.test(c))) bad('delimiters must be punctuation characters');
  return { field, component: encoding[0], repetition: encoding[1], escape: encoding[2], subcomponent: encoding[3] };
}

/** MSH-18 of a message text, as a charset; only the first segment is looked at. */
function charsetOf(text: string): Hl7Charset {
  const start = text.indexOf('MSH');
  if (start < 0) return 'utf-8';
  const field = text[start + 3];
  if (!field) return 'utf-8';
  let lineEnd = text.indexOf('\r', start);
  const lf = text.indexOf('\n', start);
  if (lineEnd < 0 || (lf >= 0 && lf < lineEnd)) lineEnd = lf;
  const msh = (lineEnd < 0 ? text.slice(start) : text.slice(start, lineEnd)).split(field);
  const encoding = msh[1] ?? '';
  return charsetNamed((msh[17] ?? '').split(encoding[1] ?? '~')[0]);
}

function charsetNamed(name: string): Hl7Charset {
  const value = name.trim().toUpperCase();
  const charset = CHARSETS[value];
  if (!charset) throw new Hl7Error('unsupported-charset', `MSH-18 names the character set "${value}", which the engine cannot decode (UTF-8 and ISO-8859-1 are supported)`);
  return charset;
}

/** Control characters that never occur in HL7 text (tab, LF, CR and the MLLP bytes VT, FS do), and U+FFFD. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const NOT_TEXT = /[\x00-\x08\x0c\x0e-\x1a\x1d-\x1f\ufffd]/g;

/** NUL bytes, or more than a few other control characters: not text. */
function looksBinary(text: string): boolean {
  const head = text.length > 1024 ? text.slice(0, 1024) : text;
  if (head.includes('\u0000')) return true;
  const control = head.match(NOT_TEXT)?.length ?? 0;
  return control > Math.max(2, head.length / 100);
}
