// HL7 v2 ADT → AdtEvent: reads the fields spec/advis-rules.md §2 names, from the sources a site configures, into the
// plain JSON the rules work on. Absent PID or PV1 segments are not errors here: the rules answer them with a reason
// ("no-cpr", "no-visit-number"), so every message gets a traceable outcome.

import { ADT_EVENT_VERSION, type AdtEvent, type AdtLocation, type CprStatus, type Disposition, type StayClass } from './adt-event';
import { DEFAULT_ADT_SOURCES, type AdtSources } from './adt-sources';
import { Hl7Error } from './errors';
import { HL7_NULL, parseHl7, parsePath, type Hl7Message } from './message';
import { hl7TimeToIso } from './time';

export type AdtParseResult = { ok: true; message: Hl7Message; adt: AdtEvent } | { ok: false; error: Hl7Error };

/** Events whose time is the start of something (PV1-44), and those whose time is its end (PV1-45). */
const START_EVENTS = new Set(['A01', 'A04', 'A06', 'A07', 'A11']);
const END_EVENTS = new Set(['A03', 'A13']);

/** Parses and reads in one step, never throwing: the result says what went wrong. */
export function parseAdt(input: string | Uint8Array, sources?: Partial<AdtSources>): AdtParseResult {
  try {
    const message = parseHl7(input);
    return { ok: true, message, adt: readAdtEvent(message, sources) };
  } catch (error) {
    if (error instanceof Hl7Error) return { ok: false, error };
    return { ok: false, error: new Hl7Error('truncated-segment', `the message could not be read: ${(error as Error).message}`) };
  }
}

export function readAdtEvent(message: Hl7Message, overrides: Partial<AdtSources> = {}): AdtEvent {
  const sources: AdtSources = { ...DEFAULT_ADT_SOURCES, ...overrides };
  const value = (id: string, field: number, component = 1, subcomponent = 1, rep = 1): string => {
    const v = message.get(id, field, { component, subcomponent, rep });
    return v === HL7_NULL ? '' : v.trim();
  };
  const path = (p: string): string => {
    const v = message.read(p);
    return v === HL7_NULL ? '' : v.trim();
  };
  const time = (p: string): string | null => {
    const { segment, field, component } = parsePath(p);
    return hl7TimeToIso(message.get(segment, field, { component }), p);
  };

  const event = value('MSH', 9, 2);
  const controlId = value('MSH', 10);
  if (!event) throw new Hl7Error('missing-field', 'MSH-9.2 (trigger event) is empty');
  if (!controlId) throw new Hl7Error('missing-field', 'MSH-10 (message control id) is empty');
  const sendingApplication = value('MSH', 3);
  const sendingFacility = value('MSH', 4);

  const cpr = readCpr(message, sources);
  const deathIndicator = value('PID', 30).toUpperCase() === 'Y';
  const dispositionCode = value('PV1', 36);
  const deceased = deathIndicator || sources.deathDispositions.includes(dispositionCode);

  const occurred = time('EVN-6');
  const recorded = time('EVN-2');
  const messageTime = time('MSH-7');
  const admitTime = time('PV1-44');
  const dischargeTime = time('PV1-45');
  const deathTime = time('PID-29');
  // EVN-6 first; then the field that carries this kind of event's time; EVN-2 and MSH-7 as the last resort.
  const eventTime =
    occurred ??
    (deceased ? deathTime : null) ??
    (START_EVENTS.has(event) ? admitTime : END_EVENTS.has(event) ? dischargeTime : null) ??
    recorded ??
    messageTime;

  const visitNumber = path(sources.visitNumber) || null;
  const patientClass = value('PV1', 2);
  const admissionType = value('PV1', 4);
  const admitSource = value('PV1', 14);

  return {
    version: ADT_EVENT_VERSION,
    event,
    messageControlId: controlId,
    sendingApplication,
    sendingFacility,
    idempotencyKey: `${sendingApplication}|${sendingFacility}|${controlId}`,
    hl7Version: value('MSH', 12),
    characterSet: value('MSH', 18),
    patient: {
      cpr: cpr.status === 'valid' ? cpr.value! : null,
      cprStatus: cpr.status,
      family: value('PID', 5, 1) || null,
      given: [value('PID', 5, 2), value('PID', 5, 3)].filter(Boolean),
      municipalityCode: readMunicipality(message, sources),
      deceased,
      deathTime: deceased ? (deathTime ?? dischargeTime ?? eventTime) : null,
    },
    visit: {
      visitNumber,
      stayKey: visitNumber ? `${visitNumber}|${sendingFacility}` : null,
      patientClass,
      admissionType,
      stayClass: stayClass(patientClass, admissionType, sources),
      admitSource,
      transferredIn: sources.transferAdmitSources.includes(admitSource),
      location: location(path(sources.pointOfCare), path(sources.facility)),
      priorLocation: location(value('PV1', 6, 1), value('PV1', 6, 4)),
      dischargeDispositionCode: dispositionCode,
      disposition: disposition(dispositionCode, deceased, sources),
      admitTime,
      dischargeTime,
      expectedLeaveReturn: time('PV2-47'),
    },
    times: { occurred, recorded, message: messageTime },
    eventTime,
  };
}

/** The CPR number from the PID-3 repetition marked as CPR (by identifier type CX.5 or assigning authority CX.4). */
function readCpr(message: Hl7Message, sources: AdtSources): { status: CprStatus; value?: string } {
  const count = message.repetitions('PID', 3);
  for (let rep = 1; rep <= count; rep++) {
    const type = message.get('PID', 3, { rep, component: 5 }).trim().toUpperCase();
    const authority = [1, 2, 3].map((sub) => message.get('PID', 3, { rep, component: 4, subcomponent: sub }).trim());
    const isCpr = sources.cprIdentifierTypes.some((t) => t.toUpperCase() === type) || authority.some((a) => a && sources.cprAuthorities.includes(a));
    if (!isCpr) continue;
    const id = message.get('PID', 3, { rep, component: 1 }).trim().replace(/-/g, '');
    if (!id || id === HL7_NULL) return { status: 'missing' };
    return { status: cprStatus(id), value: id };
  }
  return { status: 'missing' };
}

/**
 * A CPR number is 10 digits whose first six are a real date (DDMMYY). A replacement CPR (erstatningspersonnummer)
 * keeps the date but has letters in the serial part; anything else is invalid. The modulus-11 check is not applied:
 * CPR numbers issued since 2007 need not satisfy it.
 */
export function cprStatus(id: string): CprStatus {
  if (/^\d{6}[A-Za-z0-9]{4}$/.test(id) && !/^\d{10}$/.test(id)) return validDate(id) ? 'replacement' : 'invalid';
  if (!/^\d{10}$/.test(id)) return 'invalid';
  return validDate(id) ? 'valid' : 'invalid';
}

function validDate(id: string): boolean {
  const day = Number(id.slice(0, 2));
  const month = Number(id.slice(2, 4));
  const year = 2000 + Number(id.slice(4, 6));
  // Any century has the same month lengths except 29 February, which 2000-based years cover for leap years.
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return month >= 1 && month <= 12 && day >= 1 && day <= days;
}

/** The municipality code from the first source that has one; PID-11 prefers the home address (XAD.7 = H). */
function readMunicipality(message: Hl7Message, sources: AdtSources): string | null {
  for (const source of sources.municipality) {
    const { segment, field, component, subcomponent } = parsePath(source);
    let rep = 1;
    if (segment === 'PID' && field === 11) {
      const count = message.repetitions('PID', 11);
      for (let r = 1; r <= count; r++) {
        if (message.get('PID', 11, { rep: r, component: 7 }).trim().toUpperCase() === 'H') {
          rep = r;
          break;
        }
      }
    }
    const code = message.get(segment, field, { rep, component, subcomponent }).trim();
    if (/^\d{1,4}$/.test(code)) return code.padStart(4, '0');
  }
  return null;
}

function stayClass(patientClass: string, admissionType: string, s: AdtSources): StayClass {
  if (s.admittedClasses.includes(patientClass)) return 'admitted';
  if (s.acuteAmbulantClasses.includes(patientClass)) return 'acute-ambulant';
  if (s.outpatientClasses.includes(patientClass) && s.acuteAdmissionTypes.includes(admissionType)) return 'acute-ambulant';
  return 'other';
}

function disposition(code: string, deceased: boolean, s: AdtSources): Disposition {
  if (deceased) return 'death';
  if (s.selfTransportDispositions.includes(code)) return 'self-transport';
  if (s.transferDispositions.includes(code)) return 'transfer';
  return 'home';
}

function location(pointOfCare: string, facility: string): AdtLocation {
  return { pointOfCare: pointOfCare || null, facility: facility || null };
}
