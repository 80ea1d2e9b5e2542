// HL7 v2 times (TS/DTM: YYYY[MM[DD[HH[MM[SS[.S+]]]]]][+/-ZZZZ]) → ISO 8601 with an offset, as MedCom wants them.
//
// A time without an offset is Danish local time (Europe/Copenhagen), so the offset is +01:00 or +02:00 by the date.
// The two daylight-saving edges follow luxon's rules, which are also what a clock on the ward shows:
//  - a local time skipped in spring (02:00–02:59 on the last Sunday of March) is moved forward by the gap
//    (02:30 → 03:30+02:00);
//  - a local time that occurs twice in autumn (02:00–02:59 on the last Sunday of October) is read as the second
//    occurrence, winter time (+01:00).
// Senders that must be exact across those hours send the offset, which is always honoured.

import { DateTime } from 'luxon';
import { Hl7Error } from './errors';

const ZONE = 'Europe/Copenhagen';

/**
 * The Copenhagen offset of a local hour, decided by luxon once per hour and remembered: converting every time with
 * luxon costs more than the rest of reading a message. undefined: no such date; null: the hour skipped in spring,
 * which luxon converts itself.
 */
const hourOffsets = new Map<string, string | null | undefined>();

function copenhagenOffset(yyyymmddhh: string): string | null | undefined {
  const cached = hourOffsets.get(yyyymmddhh);
  if (cached !== undefined || hourOffsets.has(yyyymmddhh)) return cached;
  const hour = +yyyymmddhh.slice(8, 10);
  const t = DateTime.fromObject({ year: +yyyymmddhh.slice(0, 4), month: +yyyymmddhh.slice(4, 6), day: +yyyymmddhh.slice(6, 8), hour }, { zone: ZONE });
  const result = !t.isValid ? undefined : t.hour !== hour ? null : t.toFormat('ZZ');
  if (hourOffsets.size > 100_000) hourOffsets.clear();
  hourOffsets.set(yyyymmddhh, result);
  return result;
}
const TS = /^\d{4}(?:\d\d){0,5}(?:\.\d{1,4})?(?:[+-]\d{4})?$/;

/**
 * Converts an HL7 time to ISO 8601 with offset (seconds always shown, milliseconds when sent); '' → null.
 * Throws Hl7Error 'bad-datetime' naming `field` when the value is not a valid time.
 */
export function hl7TimeToIso(value: string, field: string): string | null {
  const text = value.trim();
  if (text === '' || text === '""') return null;
  const bad = (): never => {
    throw new Hl7Error('bad-datetime', `${field} is not a valid HL7 date/time ("${text}")`);
  };
  if (!TS.test(text)) return bad();
  // Split without a capturing regex: this runs several times for every message.
  const sign = Math.max(text.indexOf('+'), text.indexOf('-'));
  const offset = sign > 0 ? text.slice(sign) : '';
  const dateTime = sign > 0 ? text.slice(0, sign) : text;
  const dot = dateTime.indexOf('.');
  const digits = dot > 0 ? dateTime.slice(0, dot) : dateTime;
  const fraction = dot > 0 ? dateTime.slice(dot + 1) : '';
  const full = digits.length >= 10 ? digits : digits + '0101000000'.slice(digits.length - 4);
  const year = full.slice(0, 4);
  const month = full.slice(4, 6);
  const day = full.slice(6, 8);
  const hour = full.slice(8, 10);
  const minute = digits.length >= 12 ? digits.slice(10, 12) : '00';
  const second = digits.length >= 14 ? digits.slice(12, 14) : '00';
  // luxon refuses impossible dates (31 April) but rolls hour 24 over to the next day: refuse that too.
  if (hour > '23' || minute > '59' || second > '59') return bad();
  // The date must exist (cached per hour); a sent offset is kept as it is, else the Copenhagen one applies.
  const local = copenhagenOffset(full.slice(0, 10));
  if (local === undefined) return bad();
  const millis = fraction ? '.' + String(Math.round(Number(`0.${fraction}`) * 1000)).padStart(3, '0') : '';
  const zoneText = offset ? offset.slice(0, 3) + ':' + offset.slice(3) : local;
  if (zoneText !== null) return year + '-' + month + '-' + day + 'T' + hour + ':' + minute + ':' + second + millis + zoneText;
  // The hour skipped in spring: luxon moves the time forward by the gap.
  const time = DateTime.fromObject(
    { year: +year, month: +month, day: +day, hour: +hour, minute: +minute, second: +second, millisecond: millis ? +millis.slice(1) : 0 },
    { zone: ZONE },
  );
  return time.toISO({ suppressMilliseconds: true, includeOffset: true })!;
}
