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

function copenhagenOffset(year: string, month: string, day: string, hour: string): string | null | undefined {
  const key = year + month + day + hour;
  if (hourOffsets.has(key)) return hourOffsets.get(key);
  const t = DateTime.fromObject({ year: Number(year), month: Number(month), day: Number(day), hour: Number(hour) }, { zone: ZONE });
  const result = !t.isValid ? undefined : t.hour !== Number(hour) ? null : t.toFormat('ZZ');
  if (hourOffsets.size > 100_000) hourOffsets.clear();
  hourOffsets.set(key, result);
  return result;
}
const TS = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?([+-]\d{4})?$/;

/**
 * Converts an HL7 time to ISO 8601 with offset (seconds always shown, milliseconds when sent); '' → null.
 * Throws Hl7Error 'bad-datetime' naming `field` when the value is not a valid time.
 */
export function hl7TimeToIso(value: string, field: string): string | null {
  const text = value.trim();
  if (text === '' || text === '""') return null;
  const m = TS.exec(text);
  const bad = (): never => {
    throw new Hl7Error('bad-datetime', `${field} is not a valid HL7 date/time ("${text}")`);
  };
  if (!m) return bad();
  const [, year, month = '01', day = '01', hour = '00', minute = '00', second = '00', fraction, offset] = m;
  const parts = {
    year: Number(year),
    month: Number(month),
    day: Number(day),
    hour: Number(hour),
    minute: Number(minute),
    second: Number(second),
    millisecond: fraction ? Math.round(Number(`0.${fraction}`) * 1000) : 0,
  };
  // luxon refuses impossible dates (31 April) but rolls hour 24 over to the next day: refuse that too.
  if (parts.hour > 23 || parts.minute > 59 || parts.second > 59) return bad();
  // The date must exist (cached per hour); a sent offset is kept as it is, else the Copenhagen one applies.
  const local = copenhagenOffset(year, month, day, hour);
  if (local === undefined) return bad();
  const zoneText = offset ? `${offset.slice(0, 3)}:${offset.slice(3)}` : local;
  if (zoneText !== null) return `${year}-${month}-${day}T${hour}:${minute}:${second}${fraction ? `.${String(parts.millisecond).padStart(3, '0')}` : ''}${zoneText}`;
  const zone = offset ? `UTC${offset.slice(0, 3)}:${offset.slice(3)}` : ZONE;
  const time = DateTime.fromObject(parts, { zone });
  if (!time.isValid) return bad();
  return time.toISO({ suppressMilliseconds: true, includeOffset: true })!;
}
