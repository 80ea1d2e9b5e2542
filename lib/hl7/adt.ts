// HL7 v2 ADT → AdtEvent: reads the fields docs/mapping.md §1 names, from the sources a site configures, into the
// plain JSON the rules decide on (`msg.adt`). Every convention is a default in AdtSources, because no public Danish
// HL7 v2 ADT profile exists.
//
// Only what makes the message unusable is an error here (no trigger event, no control id, an unreadable time).
// A missing PID or PV1, or a CPR number that is absent, a replacement or invalid, is a fact the rules answer with a
// reason ("no-cpr", "no-visit-number"), so every message gets a traceable outcome and its ACK.

import { ADT_EVENT_VERSION, type AdtEvent, type AdtSegmentId, type CprStatus, type Disposition, type StayClass } from './adt-event';
import { DEFAULT_ADT_SOURCES, type AdtSources } from './adt-sources';
import { Hl7Error } from './errors';
import { parseFieldPath, parseHl7, type Hl7FieldPath, type Hl7Message, type Hl7Segment } from './message';
import { hl7TimeToIso } from './time';

/** A failure carries the parsed message when only reading the AdtEvent failed, so the negative ACK can echo MSH-10. */
export type AdtParseResult = { ok: true; message: Hl7Message; adt: AdtEvent } | { ok: false; error: Hl7Error; message: Hl7Message | null };

/**
 * Without EVN-6, these events happened at the admission time PV1-44. Not A02 and A12: a transfer (or its
 * cancellation) keeps the original admission in PV1-44, so they fall through to EVN-2, when the move was recorded.
 */
const ADMISSION_EVENTS: ReadonlySet<string> = new Set(['A01', 'A04', 'A06', 'A07', 'A11']);
/** ...and these at the discharge time PV1-45. */
const DISCHARGE_EVENTS: ReadonlySet<string> = new Set(['A03', 'A13']);
/** The segments the rules read; a message without one still gives an AdtEvent, which names it. */
const RULE_SEGMENTS: readonly AdtSegmentId[] = ['EVN', 'PID', 'PV1'];

/** Parses and reads in one step and never throws: the result carries the Hl7Error instead. */
export function parseAdt(input: string | Uint8Array, sources?: Partial<AdtSources>): AdtParseResult {
  let message: Hl7Message | null = null;
  try {
    message = parseHl7(input);
    return { ok: true, message, adt: readAdtEvent(message, sources) };
  } catch (error) {
    if (error instanceof Hl7Error) return { ok: false, error, message };
    const internal = new Hl7Error('internal', 'the engine failed while reading the message (a defect in the engine, not necessarily in the message)', undefined, { cause: error });
    return { ok: false, error: internal, message };
  }
}

/**
 * Reads an ADT message into an AdtEvent, with the site's sources over the defaults. Throws Hl7Error 'missing-field'
 * without MSH-9.2 or MSH-10, 'bad-datetime' for an unreadable time, 'bad-source' for a source that is no field path.
 */
export function readAdtEvent(message: Hl7Message, sources?: Partial<AdtSources>): AdtEvent {
  const s = withDefaults(sources);
  const msh = message.segments('MSH')[0];
  const evn = message.segments('EVN')[0];
  const pid = message.segments('PID')[0];
  const pv1 = message.segments('PV1')[0];

  const event = value(msh, 9, 2);
  if (!event) throw new Hl7Error('missing-field', 'MSH-9.2 (trigger event) is empty', 'MSH-9.2');
  const messageControlId = value(msh, 10);
  if (!messageControlId) throw new Hl7Error('missing-field', 'MSH-10 (message control id) is empty', 'MSH-10');
  const sendingApplication = value(msh, 3);
  const sendingFacility = value(msh, 4);

  const occurred = time(evn, 6, 'EVN-6');
  const recorded = time(evn, 2, 'EVN-2');
  const messageTime = time(msh, 7, 'MSH-7');
  const admitTime = time(pv1, 44, 'PV1-44');
  const dischargeTime = time(pv1, 45, 'PV1-45');
  const deathIndicated = time(pid, 29, 'PID-29');

  const dispositionCode = value(pv1, 36);
  const deceased = value(pid, 30).toUpperCase() === 'Y' || coded(s.deathDispositions, dispositionCode);
  const eventTime =
    occurred ??
    (ADMISSION_EVENTS.has(event) ? admitTime : null) ??
    (DISCHARGE_EVENTS.has(event) ? dischargeTime : null) ??
    (deceased ? deathIndicated : null) ??
    recorded ??
    messageTime;

  const cpr = pid ? readCpr(pid, s) : { status: 'missing' as const, value: null };
  const visitNumber = read(message, parseFieldPath(s.visitNumber)) || null;
  const patientClass = value(pv1, 2);
  const admissionType = value(pv1, 4);
  const admitSource = value(pv1, 14);
  const pointOfCare = parseFieldPath(s.pointOfCare);
  const facility = parseFieldPath(s.facility);

  return {
    version: ADT_EVENT_VERSION,
    event,
    messageControlId,
    sendingApplication,
    sendingFacility,
    idempotencyKey: `${sendingApplication}|${sendingFacility}|${messageControlId}`,
    hl7Version: value(msh, 12),
    characterSet: value(msh, 18),
    missingSegments: RULE_SEGMENTS.filter((id) => !message.has(id)),
    patient: {
      cpr: cpr.value,
      cprStatus: cpr.status,
      family: value(pid, 5) || null,
      given: [value(pid, 5, 2), value(pid, 5, 3)].filter((name) => name !== ''),
      municipalityCode: readMunicipality(message, s),
      deceased,
      deathTime: deceased ? (deathIndicated ?? dischargeTime ?? eventTime) : null,
    },
    visit: {
      visitNumber,
      stayKey: visitNumber === null ? null : `${visitNumber}|${sendingFacility}`,
      patientClass,
      admissionType,
      stayClass: stayClass(patientClass, admissionType, s),
      admitSource,
      transferredIn: coded(s.transferAdmitSources, admitSource),
      location: { pointOfCare: read(message, pointOfCare) || null, facility: read(message, facility) || null },
      priorLocation: { pointOfCare: read(message, priorOf(pointOfCare, 1)) || null, facility: read(message, priorOf(facility, 4)) || null },
      dischargeDispositionCode: dispositionCode,
      disposition: disposition(dispositionCode, s),
      admitTime,
      dischargeTime,
      expectedLeaveReturn: time(message.segments('PV2')[0], 47, 'PV2-47'),
    },
    times: { occurred, recorded, message: messageTime },
    eventTime,
  };
}

function value(segment: Hl7Segment | undefined, field: number, component?: number): string {
  return segment === undefined ? '' : segment.get(field, component === undefined ? undefined : { component }).trim();
}

function time(segment: Hl7Segment | undefined, field: number, path: string): string | null {
  return segment === undefined ? null : hl7TimeToIso(segment.get(field), path);
}

/** The first occurrence's value at a path, trimmed. */
function read(message: Hl7Message, p: Hl7FieldPath): string {
  return message.get(p.segment, p.field, { component: p.component, subcomponent: p.subcomponent }).trim();
}

/** The sources with the defaults for every one not given (an explicit undefined counts as not given). */
function withDefaults(sources: Partial<AdtSources> | undefined): AdtSources {
  if (!sources) return DEFAULT_ADT_SOURCES;
  const merged: Record<string, unknown> = { ...DEFAULT_ADT_SOURCES };
  for (const [key, value] of Object.entries(sources)) if (value !== undefined) merged[key] = value;
  return merged as unknown as AdtSources;
}

/** A code sent and in a site's code list; HL7 codes are case-sensitive, and an empty one is never a code. */
function coded(list: readonly string[], code: string): boolean {
  return code !== '' && list.includes(code);
}

/** Case-insensitive membership, for identifier types and authorities site files may write in either case. */
function listed(list: readonly string[], value: string): boolean {
  if (value === '') return false;
  for (const item of list) if (item === value || (item.length === value.length && item.toUpperCase() === value)) return true;
  return false;
}

/**
 * The CPR number: the PID-3 repetition marked as CPR by its identifier type (CX.5) or its assigning authority (CX.4
 * namespace or universal id, e.g. the CPR OID). A valid number among several marked ones wins; otherwise the first
 * marked one that is not empty says why there is none.
 */
function readCpr(pid: Hl7Segment, s: AdtSources): { status: CprStatus; value: string | null } {
  let status: CprStatus = 'missing';
  for (let rep = 1, count = pid.repetitions(3); rep <= count; rep++) {
    const marked =
      listed(s.cprIdentifierTypes, pid.get(3, { rep, component: 5 }).trim().toUpperCase()) ||
      listed(s.cprAuthorities, pid.get(3, { rep, component: 4 }).trim().toUpperCase()) ||
      listed(s.cprAuthorities, pid.get(3, { rep, component: 4, subcomponent: 2 }).trim().toUpperCase());
    if (!marked) continue;
    // Written with the customary hyphen (DDMMYY-SSSS) by some senders.
    const id = pid.get(3, { rep }).trim().replace(/^(\d{6})-/, '$1').toUpperCase();
    if (id === '') continue;
    const found = cprStatus(id);
    if (found === 'valid') return { status: found, value: id };
    if (status === 'missing') status = found;
  }
  return { status, value: null };
}

/**
 * A CPR number is 10 digits whose first six are a real birth date (DDMMYY), the century following from the 7th digit
 * as CPR defines it, so 29 February is checked against the right year. The modulus-11 check is deliberately not made:
 * numbers issued since October 2007 need not pass it.
 *
 * A replacement number (erstatningspersonnummer) has a real date and letters in the serial part: the national X-eCPR
 * and the regions' D-eCPR formats are DDMMYY + century digit + two letters + a digit. The CPR office's own
 * suggestion, 10 digits with 6 added to the first digit of the day (61–91), is recognised too. Anything else is invalid.
 */
export function cprStatus(id: string): Exclude<CprStatus, 'missing'> {
  if (/^\d{10}$/.test(id)) {
    const day = Number(id.slice(0, 2));
    const month = Number(id.slice(2, 4));
    const year = cprBirthYear(Number(id.slice(4, 6)), Number(id[6]));
    if (isDate(year, month, day)) return 'valid';
    return day > 60 && isDate(year, month, day - 60) ? 'replacement' : 'invalid';
  }
  // The century of a replacement number is not reliably coded, so 29 February is allowed in any year.
  if (/^\d{6}[0-9A-Z]{4}$/i.test(id) && isDate(2000, Number(id.slice(2, 4)), Number(id.slice(0, 2)))) return 'replacement';
  return 'invalid';
}

/** The birth year from the two year digits and the 7th digit (CPR's century table). */
function cprBirthYear(yy: number, seventh: number): number {
  if (seventh <= 3) return 1900 + yy;
  if (seventh === 4 || seventh === 9) return yy <= 36 ? 2000 + yy : 1900 + yy;
  return yy <= 57 ? 2000 + yy : 1800 + yy;
}

function isDate(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * The municipality code from the first source that has a value; a PID-11 source reads the home address (XAD.7 = H),
 * else the first. Kommunekoder are numbers of up to 4 digits, written with leading zeros (`510` → `0510`); any other
 * value (a county name, a foreign code) means no Danish municipality.
 */
function readMunicipality(message: Hl7Message, s: AdtSources): string | null {
  for (const source of s.municipality) {
    const path = parseFieldPath(source);
    const rep = path.segment === 'PID' && path.field === 11 ? homeAddress(message) : 1;
    const code = message.get(path.segment, path.field, { rep, component: path.component, subcomponent: path.subcomponent }).trim();
    if (code !== '') return /^\d{1,4}$/.test(code) ? code.padStart(4, '0') : null;
  }
  return null;
}

function homeAddress(message: Hl7Message): number {
  for (let rep = 1, count = message.repetitions('PID', 11); rep <= count; rep++) {
    if (message.get('PID', 11, { rep, component: 7 }).trim().toUpperCase() === 'H') return rep;
  }
  return 1;
}

function stayClass(patientClass: string, admissionType: string, s: AdtSources): StayClass {
  if (coded(s.admittedClasses, patientClass)) return 'admitted';
  if (coded(s.acuteAmbulantClasses, patientClass)) return 'acute-ambulant';
  if (coded(s.outpatientClasses, patientClass) && coded(s.acuteAdmissionTypes, admissionType)) return 'acute-ambulant';
  return 'other';
}

/** What PV1-36 alone says; a death shown only by PID-30 is `patient.deceased`. A self-transport code wins over a transfer code. */
function disposition(code: string, s: AdtSources): Disposition {
  if (coded(s.deathDispositions, code)) return 'death';
  if (coded(s.selfTransportDispositions, code)) return 'self-transport';
  if (coded(s.transferDispositions, code)) return 'transfer';
  return 'home';
}

/**
 * The prior location (PV1-6) is read like the location: a source in PV1-3 is read at the same component of PV1-6;
 * a source elsewhere (a Z-segment) has no prior counterpart, so the standard PL component is read.
 */
function priorOf(path: Hl7FieldPath, standardComponent: number): Hl7FieldPath {
  return path.segment === 'PV1' && path.field === 3 ? { ...path, field: 6 } : { segment: 'PV1', field: 6, component: standardComponent, subcomponent: 1 };
}
