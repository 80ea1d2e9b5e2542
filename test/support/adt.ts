// Builds HL7 v2 ADT messages for scenario tests, field by field, so each test says only what matters to its rule.
// Defaults: patient 0101800005 living in Herlev (0163), admitted to HJA at HGH on visit V1.

export interface AdtSpec {
  event: string;
  /** MSH-10; must be unique per message of a scenario. */
  id: string;
  /** EVN-6, HL7 local time, e.g. 20250311075500. */
  at?: string;
  /** EVN-2 and MSH-7, when the event was entered; defaults to `at`. */
  recorded?: string;
  cpr?: string;
  name?: string;
  /** PID-11.9. */
  municipality?: string;
  deathIndicator?: 'Y' | 'N';
  deathTime?: string;
  patientClass?: string;
  admissionType?: string;
  /** PV1-3 point of care ^ facility. */
  department?: string;
  hospital?: string;
  admitSource?: string;
  visit?: string;
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

export function adtMessage(spec: AdtSpec): string {
  const at = spec.at ?? '20250311075500';
  const recorded = spec.recorded ?? at;
  const hospital = spec.hospital ?? 'HGH';
  const msh = `MSH|^~\\&|EPJ|${hospital === 'OUH' ? 'OUH' : 'REGH'}|ADVIS|REGION|${recorded}||ADT^${spec.event}|${spec.id}|P|2.5|||AL|NE||UNICODE UTF-8`;
  const evn = segment('EVN', { 1: spec.event, 2: recorded, 6: at });
  const pid = segment('PID', {
    1: '1',
    3: `${spec.cpr ?? '0101800005'}^^^CPR^CPR`,
    5: spec.name ?? 'Hansen^Jens',
    7: '19800101',
    11: `Hovedgaden 1^^Herlev^^2730^DK^H^^${spec.municipality ?? '163'}`,
    ...(spec.deathTime ? { 29: spec.deathTime } : {}),
    30: spec.deathIndicator ?? 'N',
  });
  const pv1 = segment('PV1', {
    1: '1',
    2: spec.patientClass ?? 'I',
    3: `${spec.department ?? 'HJA'}^1^1^${hospital}`,
    ...(spec.admissionType ? { 4: spec.admissionType } : {}),
    ...(spec.admitSource ? { 14: spec.admitSource } : {}),
    19: `${spec.visit ?? 'V1'}^^^${hospital}^VN`,
    ...(spec.disposition ? { 36: spec.disposition } : {}),
    44: spec.admitTime ?? '',
    ...(spec.dischargeTime ? { 45: spec.dischargeTime } : {}),
  });
  return [msh, evn, pid, pv1].join('\r') + '\r';
}
