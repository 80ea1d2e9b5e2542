// The HL7 v2 tokenizer: one message's text or bytes → segments, fields, repetitions, components, subcomponents, with
// escapes decoded on read.
//
// Hand-written rather than taken from a library (docs/architecture.md, "Dependency choices"; measured on the 54
// samples): node-hl7-client returns only the first component of a field and the first subcomponent of a component,
// trims values, silently misreads mixed CR/LF line ends and decodes `\Xhh\` bytes one by one as Latin-1 (so `\XC3A6\`
// becomes "Ã¦", not "æ"); Medplum's Hl7Message decodes no escapes at all; none of them strips a byte-order mark. The
// standard part we need is small enough to follow exactly, and doing so is also faster.
//
// Reading is lazy and works on offsets into the one decoded text: parsing finds the delimiters and where each segment
// begins and ends; a segment's field boundaries are found on the first read inside it, only as far as needed; a read
// scans only its field and copies out only the value asked for. Splitting the text into line and field strings first
// measured slower: most of them are never read, and V8 reads the characters of such slices several times slower than
// those of the flat original.

import { Hl7Error } from './errors';

/** The message's delimiters: MSH-1, then the first four characters of MSH-2 in their standard order. */
export interface Hl7Delimiters {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
}

/** How bytes (and `\Xhh\` escapes) are decoded. ISO-8859-1 is read as Windows-1252, like every browser does. */
export type Hl7Charset = 'utf-8' | 'iso-8859-1';

/** Where inside a field to read; every number is 1-based like the standard. */
export interface Hl7FieldPosition {
  /** Repetition, default 1. */
  rep?: number;
  /** Component, default 1. */
  component?: number;
  /** Subcomponent, default 1. */
  subcomponent?: number;
}

export interface Hl7Position extends Hl7FieldPosition {
  /** Which occurrence of a repeating segment, default 1: 1-based like every other position, so the second OBX is 2. */
  segmentIndex?: number;
}

/** A field path as site configurations write it: `PID-11.9` is { segment: 'PID', field: 11, component: 9, subcomponent: 1 }. */
export interface Hl7FieldPath {
  segment: string;
  field: number;
  component: number;
  subcomponent: number;
}

/** The HL7 null: "this value is deleted", as opposed to an empty value, which says nothing. */
const HL7_NULL = '""';

/**
 * One segment as sent, made by parseHl7. Fields are numbered like the standard: for MSH, field 1 is the field
 * separator itself and field 2 the encoding characters, both returned as they are.
 */
export class Hl7Segment {
  /** Where the pieces of the line found so far end (at their separator, the last at the line's end). */
  private ends: number[] | undefined;
  /** Where finding the next piece's end resumes; past `end` once the whole line has been scanned. */
  private scanned: number;

  constructor(
    readonly id: string,
    /** The whole message text: the segment is source[start, end), so reading it copies nothing. */
    private readonly source: string,
    private readonly start: number,
    private readonly end: number,
    private readonly delimiters: Hl7Delimiters,
    private readonly charset: Hl7Charset,
  ) {
    this.scanned = start;
  }

  /** The segment's line as sent, without its terminator. */
  get text(): string {
    return this.source.slice(this.start, this.end);
  }

  /** Field `n` exactly as sent, escapes and delimiters included; '' when absent. */
  raw(n: number): string {
    if (this.id === 'MSH' && n === 1) return this.delimiters.field;
    const k = this.piece(n);
    return this.reach(k) ? this.source.slice(this.pieceStart(k), this.ends![k]) : '';
  }

  /** The highest field number present. */
  get fieldCount(): number {
    this.reach(Infinity);
    return this.ends!.length - (this.id === 'MSH' ? 0 : 1);
  }

  /**
   * One value (a subcomponent: component 1 and subcomponent 1 unless asked otherwise), escapes decoded.
   * '' when absent, empty or the HL7 null `""`: isNull() tells the null apart.
   */
  get(field: number, at?: Hl7FieldPosition): string {
    const value = this.locate(field, at);
    if (value === undefined || value === HL7_NULL) return '';
    return value.includes(this.delimiters.escape) && !(this.id === 'MSH' && field <= 2) ? decodeEscapes(value, this.delimiters, this.charset) : value;
  }

  /** True when the value at that position was sent as the HL7 null `""` ("delete this value"). */
  isNull(field: number, at?: Hl7FieldPosition): boolean {
    return this.locate(field, at) === HL7_NULL;
  }

  /** How many repetitions a field has: 0 when empty or absent. */
  repetitions(field: number): number {
    const raw = this.raw(field);
    if (raw === '') return 0;
    if (this.id === 'MSH' && field <= 2) return 1;
    let count = 1;
    for (let i = raw.indexOf(this.delimiters.repetition); i >= 0; i = raw.indexOf(this.delimiters.repetition, i + 1)) count++;
    return count;
  }

  /** The value at a position, still escaped; undefined when the field has no such part. */
  private locate(field: number, at: Hl7FieldPosition | undefined): string | undefined {
    const rep = at?.rep ?? 1;
    const component = at?.component ?? 1;
    const subcomponent = at?.subcomponent ?? 1;
    // MSH-1 and MSH-2 are the delimiters themselves, never split.
    if (this.id === 'MSH' && field <= 2) return rep === 1 && component === 1 && subcomponent === 1 ? this.raw(field) : undefined;
    const k = this.piece(field);
    if (!this.reach(k)) return undefined;
    return valueAt(this.source, this.pieceStart(k), this.ends![k], this.delimiters, rep, component, subcomponent);
  }

  /** Field n is piece n of the line (piece 0 being the id), except in MSH, whose MSH-1 is the first separator itself. */
  private piece(field: number): number {
    return this.id === 'MSH' && field > 0 ? field - 1 : field;
  }

  private pieceStart(k: number): number {
    return k === 0 ? this.start : this.ends![k - 1] + 1;
  }

  /** Finds the ends of pieces up to piece k, no further than needed; false when the line has no piece k. */
  private reach(k: number): boolean {
    const ends = (this.ends ??= []);
    if (k < ends.length) return true;
    if (k < 0 || this.scanned > this.end) return false;
    const source = this.source;
    const separator = this.delimiters.field;
    const end = this.end;
    for (let i = source.indexOf(separator, this.scanned); i >= 0 && i < end; i = source.indexOf(separator, i + 1)) {
      ends.push(i);
      if (k < ends.length) {
        this.scanned = i + 1;
        return true;
      }
    }
    ends.push(end);
    this.scanned = this.end + 1;
    return k < ends.length;
  }
}

/**
 * The subcomponent at (rep, component, subcomponent) of the field source[from, to), found in one pass over the
 * field; undefined when the field has no such part.
 */
function valueAt(source: string, from: number, to: number, d: Hl7Delimiters, rep: number, component: number, subcomponent: number): string | undefined {
  const repetitionCode = d.repetition.charCodeAt(0);
  const componentCode = d.component.charCodeAt(0);
  const subcomponentCode = d.subcomponent.charCodeAt(0);
  let start = from;
  if (rep !== 1 || component !== 1 || subcomponent !== 1) {
    if (rep < 1 || component < 1 || subcomponent < 1) return undefined;
    let r = 1;
    let c = 1;
    let s = 1;
    for (; start < to; start++) {
      const code = source.charCodeAt(start);
      if (code === repetitionCode) {
        if (++r > rep) return undefined;
        c = 1;
        s = 1;
      } else if (code === componentCode && r === rep) {
        if (++c > component) return undefined;
        s = 1;
      } else if (code === subcomponentCode && r === rep && c === component) {
        s++;
      } else {
        continue;
      }
      if (r === rep && c === component && s === subcomponent) break;
    }
    if (start === to) return undefined;
    start++;
  }
  let end = start;
  while (end < to) {
    const code = source.charCodeAt(end);
    if (code === componentCode || code === subcomponentCode || code === repetitionCode) break;
    end++;
  }
  return source.slice(start, end);
}

/** One parsed message (made by parseHl7): its segments, with 1-based reads into them like the standard's own notation. */
export class Hl7Message {
  private readonly byId = new Map<string, Hl7Segment[]>();

  constructor(
    private readonly all: readonly Hl7Segment[],
    readonly delimiters: Hl7Delimiters,
    /** How the message's bytes and its `\Xhh\` escapes were decoded. */
    readonly charset: Hl7Charset,
  ) {
    for (const segment of all) {
      const list = this.byId.get(segment.id);
      if (list) list.push(segment);
      else this.byId.set(segment.id, [segment]);
    }
  }

  /** Every segment in order, or every occurrence of one segment id. */
  segments(id?: string): readonly Hl7Segment[] {
    return id === undefined ? this.all : (this.byId.get(id) ?? []);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** The message as text, each segment ended by CR as the standard has it (whatever line ends it arrived with). */
  get text(): string {
    let text = '';
    for (const segment of this.all) text += segment.text + '\r';
    return text;
  }

  /** A field exactly as sent ('' when absent), e.g. to echo it into an ACK that uses the same delimiters. */
  raw(id: string, field: number, segmentIndex = 1): string {
    return this.segment(id, segmentIndex)?.raw(field) ?? '';
  }

  /** See Hl7Segment.get: one value, escapes decoded, '' when absent, empty or null. */
  get(id: string, field: number, at?: Hl7Position): string {
    return this.segment(id, at?.segmentIndex)?.get(field, at) ?? '';
  }

  /** True when the value at that position was sent as the HL7 null `""` ("delete this value"). */
  isNull(id: string, field: number, at?: Hl7Position): boolean {
    return this.segment(id, at?.segmentIndex)?.isNull(field, at) ?? false;
  }

  /** How many repetitions a field has: 0 when empty or absent. */
  repetitions(id: string, field: number, segmentIndex = 1): number {
    return this.segment(id, segmentIndex)?.repetitions(field) ?? 0;
  }

  /** get() by a path like `PID-11.9` or `PV1-3.4.2`, as site configurations name their sources. */
  read(path: string, at?: Pick<Hl7Position, 'rep' | 'segmentIndex'>): string {
    const p = parseFieldPath(path);
    return this.get(p.segment, p.field, { rep: at?.rep, component: p.component, subcomponent: p.subcomponent, segmentIndex: at?.segmentIndex });
  }

  private segment(id: string, segmentIndex = 1): Hl7Segment | undefined {
    return this.byId.get(id)?.[segmentIndex - 1];
  }
}

const pathCache = new Map<string, Hl7FieldPath>();
const FIELD_PATH = /^([A-Z][A-Z0-9]{2})-([1-9]\d*)(?:\.([1-9]\d*))?(?:\.([1-9]\d*))?$/;

/** `PID-11.9` → { segment: 'PID', field: 11, component: 9, subcomponent: 1 }; Hl7Error 'bad-source' if it is none. */
export function parseFieldPath(path: string): Hl7FieldPath {
  let parsed = pathCache.get(path);
  if (!parsed) {
    const m = FIELD_PATH.exec(path);
    if (!m) throw new Hl7Error('bad-source', `"${path}" is not an HL7 field path like PID-11.9 (segment-field[.component[.subcomponent]])`);
    parsed = { segment: m[1], field: Number(m[2]), component: Number(m[3] ?? 1), subcomponent: Number(m[4] ?? 1) };
    // Paths come from site configurations, so a handful; a caller making them up on the fly must not grow this forever.
    if (pathCache.size >= 1000) pathCache.clear();
    pathCache.set(path, parsed);
  }
  return parsed;
}

// ---- escapes ---------------------------------------------------------------------------------------------------

const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true });
const LATIN1 = new TextDecoder('iso-8859-1');

/**
 * Decodes `\F\ \S\ \T\ \R\ \E\` to the delimiters and `\Xhh…\` to characters. Adjacent `\X\` sequences are one byte
 * string, so a UTF-8 character split across two of them survives. Formatting escapes (`\.br\`, `\H\`, `\N\`, `\Z…\`)
 * and character-set switches (`\C…\`, `\M…\`) mean nothing to a converter and are kept as sent, as is a lone escape.
 */
function decodeEscapes(value: string, d: Hl7Delimiters, charset: Hl7Charset): string {
  const esc = d.escape;
  let out = '';
  let from = 0;
  let bytes: number[] = [];
  for (let open = value.indexOf(esc); open >= 0; open = value.indexOf(esc, from)) {
    const close = value.indexOf(esc, open + 1);
    if (close < 0) break;
    const hex = isHex(value, open + 1, close);
    if (open > from || !hex) {
      if (bytes.length) out += decodeBytesOf(bytes, charset);
      bytes = [];
      out += value.slice(from, open);
    }
    if (hex) {
      for (let i = open + 2; i < close; i += 2) bytes.push(parseInt(value.slice(i, i + 2), 16));
    } else {
      out += namedEscape(value.slice(open + 1, close), d);
    }
    from = close + 1;
  }
  if (bytes.length) out += decodeBytesOf(bytes, charset);
  return out + value.slice(from);
}

/** `X` followed by an even, non-zero number of hex digits. */
function isHex(value: string, start: number, end: number): boolean {
  if (value.charCodeAt(start) !== 0x58 || (end - start - 1) % 2 !== 0 || end - start < 3) return false;
  for (let i = start + 1; i < end; i++) {
    const c = value.charCodeAt(i) | 0x20;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

function namedEscape(sequence: string, d: Hl7Delimiters): string {
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
      return d.escape + sequence + d.escape;
  }
}

/** `\Xhh\` bytes in the message's character set; bytes that are no valid UTF-8 can only have been meant as Latin-1. */
function decodeBytesOf(bytes: number[], charset: Hl7Charset): string {
  const array = Uint8Array.from(bytes);
  if (charset === 'utf-8') {
    try {
      return UTF8_STRICT.decode(array);
    } catch {
      // fall through to Latin-1
    }
  }
  return LATIN1.decode(array);
}

// ---- parsing ---------------------------------------------------------------------------------------------------

const VT = 0x0b;
const FS = 0x1c;

/** MSH-18 values the engine decodes, compared without case, spaces, hyphens or underscores (HL7 table 0211 and the usual spellings). */
const CHARSETS: Readonly<Record<string, Hl7Charset>> = {
  '': 'utf-8',
  UNICODEUTF8: 'utf-8',
  UTF8: 'utf-8',
  ASCII: 'utf-8',
  USASCII: 'utf-8',
  ISOIR6: 'utf-8',
  '8859/1': 'iso-8859-1',
  ISO88591: 'iso-8859-1',
  'ISO8859/1': 'iso-8859-1',
  ISOIR100: 'iso-8859-1',
  LATIN1: 'iso-8859-1',
};

function charsetNamed(name: string): Hl7Charset {
  const charset = CHARSETS[name.toUpperCase().replace(/[\s_-]/g, '')];
  if (!charset) {
    throw new Hl7Error('unsupported-charset', 'MSH-18 names a character set the engine cannot decode: it reads UTF-8 (or ASCII) and ISO-8859-1 (8859/1)', 'MSH-18');
  }
  return charset;
}

/**
 * Reads one HL7 v2 message. A string is taken as already decoded; bytes are decoded by MSH-18: UTF-8 when it is empty
 * or says so, ISO-8859-1 when it says so, and, under an empty MSH-18, bytes that are no valid UTF-8 can only be Latin-1
 * and are read as such. Tolerated, because real senders and files do it: a UTF-8 byte-order mark, MLLP start/end bytes
 * and whitespace around the message, and CR, LF, CRLF or a mix of them between segments. Nothing else may come before
 * MSH: text there means a broken frame, and guessing where the message starts could read the wrong one.
 * Throws Hl7Error with a readable reason for anything that is not one HL7 message.
 */
export function parseHl7(input: string | Uint8Array): Hl7Message {
  const { text, charset, charsetError }: Partial<DecodedBytes> & { text: string } = typeof input === 'string' ? { text: input } : decodeBytes(input);
  let start = 0;
  let end = text.length;
  while (start < end && isPadding(text.charCodeAt(start))) start++;
  // Spaces at the end are the last segment's own (trailing spaces are data); only line ends and frame bytes go.
  while (end > start && isLineOrFrameEnd(text.charCodeAt(end - 1))) end--;
  if (start === end) throw new Hl7Error('empty', 'the message is empty');
  try {
    if (charsetError) throw charsetError;
    return tokenize(text, start, end, charset);
  } catch (error) {
    // Only once the text fails to read as HL7 is it worth asking whether it is text at all: that keeps a scan of
    // every character off the path of the messages that read fine.
    throw (error instanceof Hl7Error && notText(text.slice(start, end))) || error;
  }
}

/** The segments of text[start, end), which has no padding around it. */
function tokenize(text: string, start: number, end: number, decodedAs: Hl7Charset | undefined): Hl7Message {
  if (!text.startsWith('MSH', start)) {
    const at = text.indexOf('MSH', start);
    throw new Hl7Error('no-msh', at < 0 ? 'the message has no MSH segment' : `the message does not start with its MSH segment (${at - start} characters come before it)`);
  }
  const delimiters = readDelimiters(text, start, end);
  const fieldSeparator = text.charCodeAt(start + 3);
  let charset = decodedAs ?? 'utf-8';
  const segments: Hl7Segment[] = [];
  let cr = text.indexOf('\r', start);
  let lf = text.indexOf('\n', start);
  for (let lineStart = start; lineStart < end; ) {
    if (cr >= 0 && cr < lineStart) cr = text.indexOf('\r', lineStart);
    if (lf >= 0 && lf < lineStart) lf = text.indexOf('\n', lineStart);
    let lineEnd = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
    if (lineEnd < 0 || lineEnd > end) lineEnd = end;
    if (!isBlank(text, lineStart, lineEnd)) {
      if (!isSegmentStart(text, lineStart, lineEnd, fieldSeparator)) {
        throw new Hl7Error(
          'truncated-segment',
          `segment ${segments.length + 1} does not begin with a segment id (an upper-case letter, then 2 more or digits): a truncated segment, or a line break inside one`,
        );
      }
      const id = text.slice(lineStart, lineStart + 3);
      if (segments.length === 0 && decodedAs === undefined) {
        // MSH-18 (its first repetition) says how to read \Xhh\ escapes in text that arrived already decoded.
        charset = charsetNamed(new Hl7Segment(id, text, lineStart, lineEnd, delimiters, charset).get(18));
      } else if (id === 'MSH' && segments.length > 0) {
        throw new Hl7Error('framing', `segment ${segments.length + 1} is a second MSH segment: two messages run together`);
      }
      segments.push(new Hl7Segment(id, text, lineStart, lineEnd, delimiters, charset));
    }
    lineStart = lineEnd + 1;
  }
  return new Hl7Message(segments, delimiters, charset);
}

/** A line of nothing but spaces and tabs, as editors and some senders leave between segments. */
function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09) return false;
  }
  return true;
}

/** Whitespace, byte-order marks and MLLP frame bytes before a message. */
function isPadding(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0xfeff || isLineOrFrameEnd(c);
}

function isLineOrFrameEnd(c: number): boolean {
  return c === 0x0d || c === 0x0a || c === VT || c === FS;
}

/** Control characters that HL7 text never contains (tab, CR, LF and the MLLP bytes aside), and U+FFFD from a lossy decoder. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\0-\x08\x0c\x0e-\x1b\x1d-\x1f\x7f-\x9f\ufffd]/g;

/**
 * Why a text that did not read as HL7 is not a message at all: NUL bytes or control characters making up more than
 * 1 % of it mean binary data; MLLP frame bytes inside it mean frames run together. Null when neither.
 */
function notText(body: string): Hl7Error | null {
  const controls = body.match(CONTROL)?.length ?? 0;
  if (body.includes('\0') || controls * 100 > body.length) {
    return new Hl7Error('binary', `the message is binary data, not HL7 text (${controls} control characters in ${body.length})`);
  }
  const vt = body.indexOf('\x0b');
  const fs = body.indexOf('\x1c');
  const frameByte = vt < 0 ? fs : fs < 0 ? vt : Math.min(vt, fs);
  if (frameByte >= 0) return new Hl7Error('framing', `an MLLP frame byte at character ${frameByte + 1}: two messages, or a broken frame, run together`);
  return null;
}

/** A line that starts with a segment id (an upper-case letter, then two upper-case letters or digits) and a field separator. */
function isSegmentStart(text: string, start: number, end: number, fieldSeparator: number): boolean {
  if (end - start < 3 || (end - start > 3 && text.charCodeAt(start + 3) !== fieldSeparator)) return false;
  const a = text.charCodeAt(start);
  if (a < 0x41 || a > 0x5a) return false;
  for (let i = start + 1; i < start + 3; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39))) return false;
  }
  return true;
}

/** MSH-1 and MSH-2: five distinct printable punctuation characters (a sixth, the 2.7 truncation character, is allowed). */
function readDelimiters(text: string, start: number, end: number): Hl7Delimiters {
  const field = text.charCodeAt(start + 3);
  const bad = (why: string): never => {
    throw new Hl7Error('bad-delimiters', `MSH-1/MSH-2 do not define usable delimiters: ${why}`, 'MSH-2');
  };
  if (!isDelimiter(field)) bad('the field separator after "MSH" must be a punctuation character');
  const first = start + 4;
  let last = first;
  while (last < end && last < first + 6 && text.charCodeAt(last) !== field && !isLineEnd(text.charCodeAt(last))) last++;
  const count = last - first;
  if (count < 4 || count > 5) bad(`MSH-2 must hold 4 encoding characters (5 from version 2.7), not ${count}`);
  for (let i = first; i < last; i++) {
    if (!isDelimiter(text.charCodeAt(i))) bad('delimiters must be punctuation characters, not letters, digits or spaces');
    for (let j = start + 3; j < i; j++) if (text.charCodeAt(j) === text.charCodeAt(i)) bad('the delimiters must all be different');
  }
  return { field: text[start + 3], component: text[first], repetition: text[first + 1], escape: text[first + 2], subcomponent: text[first + 3] };
}

function isLineEnd(c: number): boolean {
  return c === 0x0d || c === 0x0a;
}

/** Printable ASCII that is not a letter or digit. */
function isDelimiter(c: number): boolean {
  return c > 0x20 && c < 0x7f && !(c >= 0x30 && c <= 0x39) && !(c >= 0x41 && c <= 0x5a) && !(c >= 0x61 && c <= 0x7a);
}

interface DecodedBytes {
  text: string;
  charset: Hl7Charset;
  /** Thrown only once the bytes turn out to be text at all, so binary garbage is reported as such. */
  charsetError?: Hl7Error;
}

const UTF8 = new TextDecoder('utf-8');

function decodeBytes(bytes: Uint8Array): DecodedBytes {
  const declared = declaredCharset(bytes);
  let charset: Hl7Charset;
  try {
    charset = charsetNamed(declared);
  } catch (error) {
    return { text: UTF8.decode(bytes), charset: 'utf-8', charsetError: error as Hl7Error };
  }
  if (charset === 'iso-8859-1') return { text: LATIN1.decode(bytes), charset };
  try {
    return { text: UTF8_STRICT.decode(bytes), charset };
  } catch {
    const text = LATIN1.decode(bytes);
    if (declared.trim() === '') return { text, charset: 'iso-8859-1' };
    return { text, charset, charsetError: new Hl7Error('bad-encoding', 'the message is not valid UTF-8, although MSH-18 declares it (or ASCII)', 'MSH-18') };
  }
}

/** MSH-18 (its first repetition) read straight from the bytes: it is ASCII whatever the encoding of the rest. */
function declaredCharset(bytes: Uint8Array): string {
  let msh = bytes.indexOf(0x4d);
  while (msh >= 0 && !(bytes[msh + 1] === 0x53 && bytes[msh + 2] === 0x48)) msh = bytes.indexOf(0x4d, msh + 1);
  if (msh < 0 || msh + 5 >= bytes.length) return '';
  const separator = bytes[msh + 3];
  const component = bytes[msh + 4];
  const repetition = bytes[msh + 5];
  let field = 1;
  let valueStart = -1;
  for (let i = msh + 3; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x0d || b === 0x0a) break;
    if (b === separator) {
      field++;
      if (field === 18) valueStart = i + 1;
      else if (field === 19) return ascii(bytes, valueStart, i, repetition, component);
    }
  }
  return valueStart < 0 ? '' : ascii(bytes, valueStart, bytes.length, repetition, component);
}

/** The first value of bytes[start, end): up to a repetition or component separator or a line end. */
function ascii(bytes: Uint8Array, start: number, end: number, repetition: number, component: number): string {
  let s = '';
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b === repetition || b === component || b === 0x0d || b === 0x0a) break;
    s += String.fromCharCode(b);
  }
  return s;
}
