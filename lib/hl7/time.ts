// HL7 v2 times (TS/DTM: YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]) → ISO 8601 with an offset, as MedCom wants.
//
// A time without an offset is Danish wall-clock time (Europe/Copenhagen, from luxon's zone data), and the result
// carries the offset that applied then: +01:00 in winter, +02:00 in summer. A time with an offset (`+0000`, `-0500`,
// or the `Z` some EPRs send although HL7 v2 has no such form) keeps its instant and is written as Copenhagen's clocks
// showed it, with Copenhagen's offset: MedCom (and TouchStone PF-send-tec-04) wants every time in Danish local time
// with +01:00/+02:00, whatever offset the EPR used. Missing parts count from the start: a date alone is local midnight, seconds default to 00, and
// fractions of a second are kept to the millisecond (truncated, never rounded into the next second).
//
// The two daylight-saving edges, where wall-clock time does not name one instant:
//  - Spring, last Sunday of March: 02:00–02:59 never happens. Such a time can only come from a clock not yet put
//    forward, so it is read with the winter offset it was kept in: 02:30 is the instant 02:30+01:00, written as
//    Copenhagen shows that instant, 03:30+02:00 (luxon and java.time do the same).
//  - Autumn, last Sunday of October: 02:00–02:59 happens twice. The first occurrence, still summer time (+02:00), is
//    taken, as java.time (and so HAPI-based senders) resolves it.
// Senders that must be exact within those hours send the offset, which is always honoured.
//
// luxon supplies the zone's rules only: its own DateTime.fromFormat takes the later occurrence of the repeated hour,
// and building a DateTime costs more than reading the rest of the message, so the digits are read by hand and the
// offset of each wall-clock hour is asked of the zone once.

import { IANAZone } from 'luxon';
import { Hl7Error } from './errors';

const COPENHAGEN = IANAZone.create('Europe/Copenhagen');
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const FORMAT = 'the format is YYYY[MM[DD[HH[MM[SS[.SSSS]]]]]][+/-ZZZZ|Z]';

/**
 * Converts an HL7 TS/DTM value to ISO 8601 (always to the second, milliseconds when sent, with the offset); an empty
 * value or the HL7 null gives null. Throws Hl7Error 'bad-datetime' naming `field` (e.g. `EVN-6`) for anything else;
 * the message says what is wrong but never repeats the value, which can be personal (a birth or death date).
 */
export function hl7TimeToIso(value: string, field: string): string | null {
  const text = value.trim();
  if (text === '' || text === '""') return null;
  // Read by hand rather than with a regular expression: this runs for half a dozen fields of every message.
  const zulu = text.endsWith('Z');
  const end = zulu ? text.length - 1 : text.length;
  let zoneAt = end;
  for (let i = 4; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2b || c === 0x2d) {
      zoneAt = i;
      break;
    }
  }
  const dot = text.indexOf('.');
  const digits = dot < 0 ? zoneAt : dot;
  if (digits < 4 || digits > 14 || digits % 2 !== 0 || !isDigits(text, 0, digits)) return invalid(field, FORMAT);
  const fractionDigits = dot < 0 ? 0 : zoneAt - dot - 1;
  if (dot >= 0 && (digits !== 14 || fractionDigits < 1 || fractionDigits > 4 || !isDigits(text, dot + 1, zoneAt))) {
    return invalid(field, 'fractions of a second (1 to 4 digits) are only allowed after the seconds');
  }
  if (zulu && zoneAt < end) return invalid(field, FORMAT);
  if (zoneAt < end && (end - zoneAt !== 5 || !isDigits(text, zoneAt + 1, end))) return invalid(field, FORMAT);

  const yyyy = text.slice(0, 4);
  const mo = digits >= 6 ? text.slice(4, 6) : '01';
  const dd = digits >= 8 ? text.slice(6, 8) : '01';
  const hh = digits >= 10 ? text.slice(8, 10) : '00';
  const mi = digits >= 12 ? text.slice(10, 12) : '00';
  const ss = digits >= 14 ? text.slice(12, 14) : '00';
  const year = Number(yyyy);
  const month = Number(mo);
  const day = Number(dd);
  // Date.UTC, which finds the offset, reads years 0–99 as 1900–1999; no ADT event is that old anyway.
  if (year < 1000) return invalid(field, 'the year is out of range');
  if (month < 1 || month > 12) return invalid(field, 'the month is out of range');
  if (day < 1 || day > (month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1])) return invalid(field, 'that day does not exist in that month');
  if (hh > '23' || mi > '59' || ss > '59') return invalid(field, 'the time of day is out of range');
  const ms = dot < 0 ? '' : '.' + text.slice(dot + 1, zoneAt).padEnd(3, '0').slice(0, 3);
  const wallClock = yyyy + '-' + mo + '-' + dd + 'T' + hh + ':' + mi + ':' + ss + ms;

  const millis = Number(ms.slice(1) || 0);
  if (zulu || zoneAt < end) {
    if (!zulu && (text.slice(zoneAt + 1, zoneAt + 3) > '14' || text.slice(zoneAt + 3) > '59')) return invalid(field, 'the UTC offset is out of range');
    const sent = zulu ? 0 : (text[zoneAt] === '-' ? -1 : 1) * (Number(text.slice(zoneAt + 1, zoneAt + 3)) * 60 + Number(text.slice(zoneAt + 3)));
    const instant = Date.UTC(year, month - 1, day, Number(hh), Number(mi), Number(ss), millis) - sent * 60_000;
    const offset = copenhagenOffset(instant);
    return iso(instant + offset * 60_000, offset, ms !== '');
  }
  const hour = copenhagenHour(year, month, day, Number(hh));
  if (hour.read === hour.shown) return wallClock + hour.suffix;
  // The spring gap: the instant shows on Copenhagen's clocks later than the digits sent.
  const instant = Date.UTC(year, month - 1, day, Number(hh), Number(mi), Number(ss), millis) - hour.read * 60_000;
  return iso(instant + hour.shown * 60_000, hour.shown, ms !== '');
}

/** Copenhagen's offset (minutes) in each UTC hour: its transitions fall on whole UTC hours, and asking the zone is costly. */
const offsets = new Map<number, number>();

/**
 * An instant written as Copenhagen's clocks show it, to the second, with the offset then in force
 * (2025-06-30T14:00:00+02:00): MedCom wants send times with the Danish offset, not Z. Milliseconds are dropped, not
 * rounded, as luxon's startOf('second') does.
 */
export function copenhagenTime(at: Date): string {
  const ms = at.getTime();
  const offset = copenhagenOffset(ms);
  return iso(ms + offset * 60_000, offset, false);
}

/** Copenhagen's offset (minutes) at an instant. */
function copenhagenOffset(ms: number): number {
  const hour = Math.floor(ms / HOUR_MS);
  let offset = offsets.get(hour);
  if (offset === undefined) {
    offset = COPENHAGEN.offset(ms);
    if (offsets.size >= 50_000) offsets.clear();
    offsets.set(hour, offset);
  }
  return offset;
}

function invalid(field: string, why: string): never {
  throw new Hl7Error('bad-datetime', `${field} is not a valid HL7 date/time: ${why}`, field);
}

function isDigits(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * How a Copenhagen wall-clock hour is read: `read`, the offset (minutes) the digits are taken in, and `shown`, the one
 * Copenhagen's clocks show at that instant, with `suffix` the latter written out.
 */
interface WallClockHour {
  read: number;
  shown: number;
  suffix: string;
}

/** Transitions fall on whole hours, so an answer holds for a whole hour and is remembered: asking the zone is costly. */
const hours = new Map<number, WallClockHour>();

function copenhagenHour(year: number, month: number, day: number, hour: number): WallClockHour {
  const key = ((year * 100 + month) * 100 + day) * 100 + hour;
  let known = hours.get(key);
  if (!known) {
    const start = Date.UTC(year, month - 1, day, hour);
    // The offsets in force a day before and a day after: transitions are months apart, so these are the candidates.
    const before = COPENHAGEN.offset(start - DAY_MS);
    const after = COPENHAGEN.offset(start + DAY_MS);
    const fits = (offset: number): boolean => COPENHAGEN.offset(start - offset * 60_000) === offset;
    // Both fit: the autumn repeat, whose first occurrence has the larger offset. Neither fits: the spring gap, read
    // with the offset the clock still had.
    const read = fits(before) && fits(after) ? Math.max(before, after) : fits(after) ? after : before;
    const shown = COPENHAGEN.offset(start - read * 60_000);
    known = { read, shown, suffix: offsetText(shown) };
    if (hours.size >= 50_000) hours.clear();
    hours.set(key, known);
  }
  return known;
}

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/** Epoch milliseconds of wall-clock digits, written as YYYY-MM-DDTHH:MM:SS[.mmm] with `offset` minutes. */
function iso(wallClock: number, offset: number, withMilliseconds: boolean): string {
  const t = new Date(wallClock).toISOString();
  return t.slice(0, withMilliseconds ? 23 : 19) + offsetText(offset);
}

function offsetText(offset: number): string {
  const abs = Math.abs(offset);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${offset < 0 ? '-' : '+'}${hh}:${mm}`;
}
