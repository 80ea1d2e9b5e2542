// HL7 v2 ADT messages written field by field, for the certification runs (lib/certify) and the scenario tests: each
// message says only what its rule reads, the rest is fixed. The EPR side of MedCom's sender test, played by the engine's
// own tooling, so the messages are the same in `advis certify` and in the tests.

export interface AdtSpec {
  event: string;
  /** MSH-10; must be unique per message of a sequence. */
  id: string;
  /** EVN-6, HL7 time, e.g. 20250311075500 (Danish local time) or with an offset. */
  at: string;
  /** EVN-2 and MSH-7, when the event was entered; defaults to `at`. */
  recorded?: string;
  /** MSH-4, part of the stay key. */
  sendingFacility: string;
  cpr: string;
  /** PID-5, family^given. */
  name: string;
  /** PID-7, YYYYMMDD. */
  birthDate?: string;
  /** PID-11: street, city and postal code of the Danish address, and .9 the kommunekode. */
  street?: string;
  city?: string;
  postalCode?: string;
  municipality: string;
  deathIndicator?: 'Y' | 'N';
  deathTime?: string;
  /** PV1-2. */
  patientClass: string;
  admissionType?: string;
  /** PV1-3.1 point of care and PV1-3.4 facility. */
  department: string;
  hospital: string;
  admitSource?: string;
  /** PV1-19.1. */
  visit: string;
  disposition?: string;
  admitTime?: string;
  dischargeTime?: string;
}

function segment(name: string, fields: Record<number, string | undefined>): string {
  const last = Math.max(...Object.keys(fields).map(Number));
  const values = Array.from({ length: last + 1 }, (_, i) => fields[i] ?? '');
  values[0] = name;
  return values.join('|');
}

/** The ADT message as HL7 v2.5 text, segments ended by CR. */
export function adtMessage(spec: AdtSpec): string {
  const recorded = spec.recorded ?? spec.at;
  const msh = `MSH|^~\\&|EPJ|${spec.sendingFacility}|ADVIS|REGION|${recorded}||ADT^${spec.event}|${spec.id}|P|2.5|||AL|NE||UNICODE UTF-8`;
  const evn = segment('EVN', { 1: spec.event, 2: recorded, 6: spec.at });
  const pid = segment('PID', {
    1: '1',
    3: `${spec.cpr}^^^CPR^CPR`,
    5: spec.name,
    ...(spec.birthDate ? { 7: spec.birthDate } : {}),
    11: `${spec.street ?? ''}^^${spec.city ?? ''}^^${spec.postalCode ?? ''}^DK^H^^${spec.municipality}`,
    ...(spec.deathTime ? { 29: spec.deathTime } : {}),
    30: spec.deathIndicator ?? 'N',
  });
  const pv1 = segment('PV1', {
    1: '1',
    2: spec.patientClass,
    3: `${spec.department}^1^1^${spec.hospital}`,
    ...(spec.admissionType ? { 4: spec.admissionType } : {}),
    ...(spec.admitSource ? { 14: spec.admitSource } : {}),
    19: `${spec.visit}^^^${spec.hospital}^VN`,
    ...(spec.disposition ? { 36: spec.disposition } : {}),
    44: spec.admitTime ?? '',
    ...(spec.dischargeTime ? { 45: spec.dischargeTime } : {}),
  });
  return [msh, evn, pid, pv1].join('\r') + '\r';
}
