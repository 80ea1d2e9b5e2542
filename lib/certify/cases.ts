// The EPR's side of MedCom's sender test: for each TouchStone sender script, and for each step of the test protocol
// the rules decide, the ADT messages a hospital sends for it, written against the site's own departments and
// municipalities with MedCom's national test patients. They are the engine's answers to "register the patient as …"
// in the test protocol; the assertions are MedCom's (the TestScripts) and the protocol's expectations.

import type { Site, SiteDepartment, SiteMunicipality } from '../advis/site';
import type { AdtSpec } from './adt';

/** MedCom's national test patients, as in MedCom's TouchStone examples (Bruno Test Elmer) and its test CPR list. */
export const TEST_PATIENTS = [
  { cpr: '2509479989', name: 'Elmer^Bruno Test' },
  { cpr: '2103009996', name: 'Hansen^Kaja Test' },
] as const;

/** The site's parts a certification run plays with. */
export interface Cast {
  /** A somatic department: where the test patient is admitted. */
  department: SiteDepartment;
  /** Another department of the same hospital: a correction of the department. */
  sibling: SiteDepartment | undefined;
  /** A department of another hospital of the region whose SOR and GLN both differ: a correction of the hospital. */
  otherHospital: SiteDepartment | undefined;
  /** The test patient's municipality of residence. */
  municipality: SiteMunicipality;
  /** MSH-4: the same for every message, so each sequence is one stay. */
  sendingFacility: string;
}

export class CastError extends Error {}

/** The cast of a site: the first somatic department and the first municipality, and the others where there are. */
export function castOf(site: Site): Cast {
  const departments = site.config.departments;
  const department = departments.find((d) => d.kind === 'somatic');
  if (!department) throw new CastError('the site has no somatic department to admit the test patient to');
  const municipality = site.config.municipalities[0];
  if (!municipality) throw new CastError('the site has no municipality to send the advis to');
  const organisation = site.departmentOrganisation(department);
  const region = site.hospital(department.hospital)!.region;
  const differs = (d: SiteDepartment) => {
    const o = site.departmentOrganisation(d);
    return o.sor !== organisation.sor && o.gln !== organisation.gln;
  };
  return {
    department,
    sibling: departments.find((d) => d !== department && d.hospital === department.hospital && d.kind === 'somatic'),
    otherHospital: departments.find((d) => d.hospital !== department.hospital && d.kind === 'somatic' && site.hospital(d.hospital)?.region === region && differs(d)),
    municipality,
    sendingFacility: department.hospital,
  };
}

/**
 * One thing the EPR does: an ADT message (`role` picks the department, default the admitting one), or `silence`:
 * the municipality does not acknowledge, and MedCom's acknowledgement time passes.
 */
export type Step =
  | { kind: 'adt'; role?: Role; visit?: string; patient?: 0 | 1; adt: Omit<AdtSpec, 'id' | 'sendingFacility' | 'cpr' | 'name' | 'municipality' | 'department' | 'hospital' | 'visit'> }
  | { kind: 'silence' }
  /** Time passes (hours): pre-registrations that fall due are decided. */
  | { kind: 'wait'; hours: number };

type Role = 'sibling' | 'otherHospital';

/** A sequence and what it needs of the site beyond the admitting department. */
export interface Sequence {
  steps: Step[];
  needs?: Role | 'selfTransport';
}

type AdtFields = Extract<Step, { kind: 'adt' }>['adt'];

// Times of one stay in winter (+01:00), from 10 March 2025 08:00, in hours after the admission.
const at = (hours: number): string => {
  const t = new Date(Date.UTC(2025, 2, 10, 8 + hours, 0, 0));
  return t.toISOString().replace(/[-:T]/g, '').slice(0, 14);
};
const I = { patientClass: 'I' };
const E = { patientClass: 'E' };
const adt = (event: string, hours: number, fields: Partial<AdtFields> = {}, role?: Role, visit?: string): Step => ({
  kind: 'adt',
  ...(role ? { role } : {}),
  ...(visit ? { visit } : {}),
  adt: { event, at: at(hours), ...I, ...fields },
});
const death = (hours: number) => ({ deathIndicator: 'Y' as const, deathTime: at(hours) });
const laterDeath = (hours: number) => ({ deathIndicator: 'Y' as const, deathTime: at(hours).slice(0, 10) + '3000' });

const admitted = [adt('A01', 0)];
const acute = [adt('A04', 0, E)];
const onLeave = [...admitted, adt('A21', 24)];
const backFromLeave = [...onLeave, adt('A22', 30)];

/** The ADT sequence of each TouchStone sender script, by the script's id. */
export const TOUCHSTONE_SEQUENCES: Record<string, Sequence> = {
  'hospitalnotification-send-stin': { steps: admitted },
  // STIN.A1: from another hospital of the region (PV1-14), so without a report-of-admission request.
  'hospitalnotification-send-stin-a1': { steps: [adt('A01', 0, { admitSource: '4' })] },
  'hospitalnotification-send-staa': { steps: acute },
  'hospitalnotification-send-stor': { steps: onLeave },
  'hospitalnotification-send-slor': { steps: backFromLeave },
  'hospitalnotification-send-slhj-imp': { steps: [...admitted, adt('A03', 48)] },
  'hospitalnotification-send-slhj-emer': { steps: [...acute, adt('A03', 4, E)] },
  'hospitalnotification-send-mors': { steps: [adt('A01', 0, death(0))] },
  'hospitalnotification-send-mors-imp': { steps: [...admitted, adt('A03', 48, death(48))] },
  'hospitalnotification-send-mors-emer': { steps: [...acute, adt('A03', 4, { ...E, ...death(4) })] },
  'hospitalnotification-send-mors-stor': { steps: [...onLeave, adt('A03', 28, death(28))] },
  'hospitalnotification-send-re-mors': { steps: [adt('A01', 0, death(0)), adt('A08', 2, { ...laterDeath(0), admitTime: laterDeath(0).deathTime })] },
  'hospitalnotification-send-re-mors-imp': { steps: [...admitted, adt('A03', 48, death(48)), adt('A08', 50, laterDeath(48))] },
  'hospitalnotification-send-re-mors-emer': { steps: [...acute, adt('A03', 4, { ...E, ...death(4) }), adt('A08', 6, { ...E, ...laterDeath(4) })] },
  'hospitalnotification-send-re-mors-stor': { steps: [...onLeave, adt('A03', 28, death(28)), adt('A08', 30, laterDeath(28))] },
  'hospitalnotification-send-re-slhj-imp': { steps: [...admitted, adt('A03', 48, { dischargeTime: at(48) }), adt('A08', 50, { dischargeTime: at(47) })] },
  'hospitalnotification-send-re-slhj-emer': { steps: [...acute, adt('A03', 4, { ...E, dischargeTime: at(4) }), adt('A08', 6, { ...E, dischargeTime: at(3) })] },
  // A return corrected: the SLOR's own department was wrong (its time is not something an A08 corrects).
  'hospitalnotification-send-re-slor': { steps: [...backFromLeave, adt('A08', 31, {}, 'sibling')], needs: 'sibling' },
  'hospitalnotification-send-re-staa': { steps: [...acute, adt('A08', 1, { ...E, admitTime: '20250310073000' })] },
  'hospitalnotification-send-re-stin': { steps: [...admitted, adt('A08', 1, { admitTime: '20250310073000' })] },
  'hospitalnotification-send-re-stor': { steps: [...onLeave, adt('A08', 25, {}, 'sibling')], needs: 'sibling' },
  'hospitalnotification-send-an-stin': { steps: [...admitted, adt('A11', 1)] },
  'hospitalnotification-send-an-staa': { steps: [...acute, adt('A11', 1, E)] },
  'hospitalnotification-send-an-stor': { steps: [...onLeave, adt('A52', 25)] },
  'hospitalnotification-send-an-slor': { steps: [...backFromLeave, adt('A53', 31)] },
  'hospitalnotification-send-an-slhj-imp': { steps: [...admitted, adt('A03', 48), adt('A13', 49)] },
  'hospitalnotification-send-an-slhj-emer': { steps: [...acute, adt('A03', 4, E), adt('A13', 5, E)] },
  'hospitalnotification-send-an-mors': { steps: [adt('A01', 0, death(0)), adt('A11', 2)] },
  'hospitalnotification-send-an-mors-imp': { steps: [...admitted, adt('A03', 48, death(48)), adt('A13', 49)] },
  'hospitalnotification-send-an-mors-emer': { steps: [...acute, adt('A03', 4, { ...E, ...death(4) }), adt('A13', 5, E)] },
  'hospitalnotification-send-an-mors-stor': { steps: [...onLeave, adt('A03', 28, death(28)), adt('A13', 29)] },
  'hospitalnotification-PF-send-emer-01': { steps: [...acute, adt('A08', 1, E, 'otherHospital')], needs: 'otherHospital' },
  'hospitalnotification-PF-send-emer-02': { steps: [...acute, adt('A08', 1, { ...E, admitTime: '20250310073000' })] },
  'hospitalnotification-PF-send-emer-imp-01': { steps: [...acute, adt('A06', 3), adt('A03', 48)] },
  'hospitalnotification-PF-send-imp-01': { steps: [...backFromLeave, adt('A03', 48)] },
  'hospitalnotification-PF-send-imp-02': { steps: [...onLeave, adt('A03', 48)] },
  'hospitalnotification-PF-send-imp-03': { steps: [...backFromLeave, adt('A03', 48, death(48))] },
  'hospitalnotification-PF-send-imp-04': { steps: [...backFromLeave, adt('A21', 48), adt('A22', 54)] },
  'hospitalnotification-PF-send-imp-05': { steps: [...admitted, adt('A08', 1, {}, 'otherHospital')], needs: 'otherHospital' },
  'hospitalnotification-PF-send-imp-06': { steps: [...admitted, adt('A08', 1, { admitTime: '20250310073000' })] },
  'hospitalnotification-PF-send-tec-01': { steps: [...admitted, adt('A08', 1, { admitTime: '20250310073000' }), adt('A11', 2)] },
  'hospitalnotification-PF-send-tec-02': { steps: [{ kind: 'adt', adt: { event: 'A01', at: '20240229100000', ...I } }] },
  // The municipality never acknowledges: the STIN goes again, twice, each time as a new message.
  'hospitalnotification-PF-send-tec-03': { steps: [...admitted, { kind: 'silence' }, { kind: 'silence' }] },
  // Admitted in winter (+01:00), discharged in summer (+02:00).
  'hospitalnotification-PF-send-tec-04': {
    steps: [{ kind: 'adt', adt: { event: 'A01', at: '20250320100000', ...I } }, { kind: 'adt', adt: { event: 'A03', at: '20250405100000', ...I } }],
  },
};

/**
 * What a protocol step expects: per ADT message the outcome (`STIN`, …, `none:<reason>`, `deferred`), and FHIRPath
 * assertions on the messages that reach the receiver (`message` counts from 0), each true when the step holds.
 */
export interface ProtocolStep extends Sequence {
  step: string;
  what: string;
  outcomes: string[];
  assertions: { message: number; description: string; expression: string }[];
}

/** A step of the protocol that is not the rules' to decide, and where it is shown instead. */
export interface ProtocolStepElsewhere {
  step: string;
  what: string;
  elsewhere: string;
}

const ROA = "Bundle.entry.resource.ofType(MessageHeader).extension.where(url = 'http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-messaging-reportOfAdmissionExtension').value";
const roa = (message: number, value: boolean | 'absent') => ({
  message,
  description: value === 'absent' ? 'no report-of-admission flag' : `report of admission requested: ${value}`,
  expression: value === 'absent' ? `${ROA}.exists().not()` : `${ROA} = ${value}`,
});
const EPISODE = 'Bundle.entry.resource.ofType(Encounter).episodeOfCare.identifier.value';
const ENCOUNTER = 'Bundle.entry.resource.ofType(Encounter)';
/** An HL7 local time (winter) as the Bundle writes it. */
const iso = (hl7: string) => `${hl7.slice(0, 4)}-${hl7.slice(4, 6)}-${hl7.slice(6, 8)}T${hl7.slice(8, 10)}:${hl7.slice(10, 12)}:${hl7.slice(12, 14)}+01:00`;
const fact = (message: number, description: string, expression: string) => ({ message, description, expression });
const transferDisposition = '03';
const hospiceDisposition = '50';

/** The steps of "Test protocol for the sending of a HospitalNotification" (v3.0.5) that the rules decide. */
export const PROTOCOL_STEPS: ProtocolStep[] = [
  { step: '3.3.1.1–2', what: 'S1: admitted without prior admission → STIN with request', steps: admitted, outcomes: ['STIN'], assertions: [roa(0, true)] },
  { step: '3.3.1.3', what: 'S1: admitted after a transfer from another region → STIN with request (no stay of the region to continue)', steps: [adt('A01', 0)], outcomes: ['STIN'], assertions: [roa(0, true)] },
  { step: '3.3.2.1–2', what: 'S1.A1: acute ambulant → admitted → STIN without request, same episode', steps: [...acute, adt('A06', 3)], outcomes: ['STAA', 'STIN'], assertions: [roa(0, true), roa(1, false)] },
  {
    step: '3.3.2.3',
    what: 'S1.A1: admitted after a transfer within the region → STIN without request',
    steps: [...admitted, adt('A03', 24, { disposition: transferDisposition }), adt('A01', 25, {}, 'otherHospital', 'CERT-V2')],
    needs: 'otherHospital',
    outcomes: ['STIN', 'none:discharge-to-transfer', 'STIN'],
    assertions: [roa(0, true), roa(1, false)],
  },
  {
    step: '3.3.2.4',
    what: 'S1.A1: the receiving hospital reuses the EpisodeOfCare identifier',
    steps: [...admitted, adt('A03', 24, { disposition: transferDisposition }), adt('A01', 25, {}, 'otherHospital', 'CERT-V2')],
    needs: 'otherHospital',
    outcomes: ['STIN', 'none:discharge-to-transfer', 'STIN'],
    assertions: [fact(1, 'the same EpisodeOfCare identifier as the first hospital\'s STIN', `${EPISODE} = '\${episode-0}'`)],
  },
  { step: '3.3.3.1', what: 'S1.A2: no STIN after a move to another department of the same hospital', steps: [...admitted, adt('A02', 5, {}, 'sibling')], needs: 'sibling', outcomes: ['STIN', 'none:same-hospital-transfer'], assertions: [] },
  { step: '3.3.4.1–2', what: 'S2: acute ambulant → STAA with request', steps: acute, outcomes: ['STAA'], assertions: [roa(0, true), fact(0, 'class EMER', `${ENCOUNTER}.class.code = 'EMER'`)] },
  { step: '3.3.5.1–2', what: 'S3: leave → STOR without request', steps: onLeave, outcomes: ['STIN', 'STOR'], assertions: [roa(1, 'absent')] },
  { step: '3.3.6.1–2', what: 'S4: return from leave → SLOR without request', steps: backFromLeave, outcomes: ['STIN', 'STOR', 'SLOR'], assertions: [roa(2, 'absent')] },
  { step: '3.3.7.1–2', what: 'S5: move to another department of the same hospital → no SLHJ from the old department', steps: [...admitted, adt('A02', 5, {}, 'sibling')], needs: 'sibling', outcomes: ['STIN', 'none:same-hospital-transfer'], assertions: [] },
  {
    step: '3.3.7.3–4',
    what: 'S5: transfer to another hospital of the region → no SLHJ from the old hospital',
    steps: [...admitted, adt('A03', 24, { disposition: transferDisposition }), adt('A01', 25, {}, 'otherHospital', 'CERT-V2')],
    needs: 'otherHospital',
    outcomes: ['STIN', 'none:discharge-to-transfer', 'STIN'],
    assertions: [],
  },
  { step: '3.3.7.5–6', what: 'S5: transfer to a hospital in another region → no SLHJ from the old hospital', steps: [...admitted, adt('A03', 24, { disposition: transferDisposition })], outcomes: ['STIN', 'none:discharge-to-transfer'], assertions: [] },
  { step: '3.3.7.7–8', what: 'S5: discharge to a hospice → no SLHJ from the old department', steps: [...admitted, adt('A03', 24, { disposition: hospiceDisposition })], outcomes: ['STIN', 'none:discharge-to-transfer'], assertions: [] },
  { step: '3.3.8.1–2', what: 'S6: discharge home → SLHJ without request, after a STIN with request', steps: [...admitted, adt('A03', 48)], outcomes: ['STIN', 'SLHJ'], assertions: [roa(0, true), roa(1, 'absent')] },
  { step: '3.3.8.3', what: 'S6: the patient transports himself to the other hospital → SLHJ', steps: [...admitted, adt('A03', 48, { disposition: 'self-transport' })], needs: 'selfTransport', outcomes: ['STIN', 'SLHJ'], assertions: [] },
  { step: '3.3.8.4–5', what: 'S6: absent after leave → SLHJ (STIN, STOR, SLHJ)', steps: [...onLeave, adt('A03', 48)], outcomes: ['STIN', 'STOR', 'SLHJ'], assertions: [roa(2, 'absent')] },
  {
    step: '3.3.9.1–2',
    what: 'S7: dead on arrival → MORS without request',
    steps: [adt('A01', 0, death(0))],
    outcomes: ['MORS'],
    assertions: [roa(0, false), fact(0, 'deceased', "Bundle.entry.resource.ofType(Patient).deceased = true"), fact(0, 'period.start = period.end', `${ENCOUNTER}.period.start = ${ENCOUNTER}.period.end`)],
  },
  { step: '3.3.9.3–4', what: 'S7: death during the stay → STIN, then MORS without request', steps: [...admitted, adt('A03', 48, death(48))], outcomes: ['STIN', 'MORS'], assertions: [roa(1, 'absent')] },
  { step: '3.3.9.5–6', what: 'S7: death during leave → STIN, STOR, MORS without request', steps: [...onLeave, adt('A03', 28, death(28))], outcomes: ['STIN', 'STOR', 'MORS'], assertions: [roa(2, 'absent')] },
  {
    step: '3.3.10.1–2',
    what: 'S.CANC: wrong patient → AN_STIN to the receiver of the STIN',
    steps: [...admitted, adt('A11', 1)],
    outcomes: ['STIN', 'AN_STIN'],
    assertions: [fact(1, 'to the receiver of the STIN', "Bundle.entry.resource.ofType(MessageHeader).destination.endpoint = '${receiver-0}'"), fact(1, 'entered-in-error', `${ENCOUNTER}.status = 'entered-in-error'`)],
  },
  { step: '3.3.10.3–4', what: 'S.CANC: wrong status (leave) → AN_STOR to the receiver of the STOR', steps: [...onLeave, adt('A52', 25)], outcomes: ['STIN', 'STOR', 'AN_STOR'], assertions: [fact(2, 'to the receiver of the STOR', "Bundle.entry.resource.ofType(MessageHeader).destination.endpoint = '${receiver-1}'")] },
  {
    step: '3.3.11.1–2',
    what: 'S.CORR: wrong time → RE_STIN to the receiver of the STIN, no AN_STIN before it',
    steps: [...admitted, adt('A08', 1, { admitTime: '20250310073000' })],
    outcomes: ['STIN', 'RE_STIN'],
    assertions: [fact(1, 'the corrected admission time', `${ENCOUNTER}.period.start = '${iso('20250310073000')}'`), fact(1, 'to the receiver of the STIN', "Bundle.entry.resource.ofType(MessageHeader).destination.endpoint = '${receiver-0}'")],
  },
  { step: '3.3.11.3–4', what: 'S.CORR: wrong department → RE_STIN from the corrected department', steps: [...admitted, adt('A08', 1, {}, 'sibling')], needs: 'sibling', outcomes: ['STIN', 'RE_STIN'], assertions: [fact(1, 'another sender than the STIN', "Bundle.entry.resource.ofType(MessageHeader).source.endpoint != '${source-0}'")] },
  { step: '3.3.11.5', what: 'S.CORR: admission time corrected after discharge → no RE_STIN', steps: [...admitted, adt('A03', 48), adt('A08', 49, { admitTime: '20250310073000' })], outcomes: ['STIN', 'SLHJ', 'none:not-latest-advis'], assertions: [] },
  {
    step: '3.3.11.6',
    what: 'S.CORR: discharge time corrected after discharge → RE_SLHJ',
    steps: [...admitted, adt('A03', 48, { dischargeTime: at(48) }), adt('A08', 49, { dischargeTime: at(47) })],
    outcomes: ['STIN', 'SLHJ', 'RE_SLHJ'],
    assertions: [fact(2, 'the corrected discharge time', `${ENCOUNTER}.period.end = '${iso(at(47))}'`)],
  },
  {
    step: '3.4.1',
    what: "identification of the receiver: the municipality of residence (PID-11.9) through the site's directory",
    steps: admitted,
    outcomes: ['STIN'],
    assertions: [fact(0, "the receiver is the municipality's Sygehusadviser unit", "Bundle.entry.resource.ofType(MessageHeader).destination.receiver.reference.resolve().identifier.where(system = 'urn:oid:1.2.208.176.1.1').value = '${municipality}'")],
  },
  {
    step: '3.4.2',
    what: 'Encounter.period.start is the admission time, not the time of data entry',
    steps: [{ kind: 'adt', adt: { event: 'A01', at: '20250310080000', recorded: '20250310093000', ...I } }],
    outcomes: ['STIN'],
    assertions: [fact(0, 'period.start = the admission time (EVN-6)', `${ENCOUNTER}.period.start = '${iso('20250310080000')}'`)],
  },
  { step: '3.4.3', what: 'leavePeriod.start is the time the leave starts', steps: onLeave, outcomes: ['STIN', 'STOR'], assertions: [fact(1, 'leave start', `${ENCOUNTER}.extension.value.start = '${iso(at(24))}'`)] },
  { step: '3.4.4', what: 'leavePeriod.end is the time the leave ends', steps: backFromLeave, outcomes: ['STIN', 'STOR', 'SLOR'], assertions: [fact(2, 'leave end', `${ENCOUNTER}.extension.value.end = '${iso(at(30))}'`)] },
  { step: '3.4.5', what: 'Encounter.period.end is the time of discharge', steps: [...admitted, adt('A03', 48)], outcomes: ['STIN', 'SLHJ'], assertions: [fact(1, 'period.end = the discharge time', `${ENCOUNTER}.period.end = '${iso(at(48))}'`)] },
  { step: '3.4.6', what: 'Encounter.period.end is the time of death', steps: [...admitted, adt('A03', 48, death(47))], outcomes: ['STIN', 'MORS'], assertions: [fact(1, 'period.end = the time of death (PID-29)', `${ENCOUNTER}.period.end = '${iso(at(47))}'`)] },
  {
    step: '3.4.7',
    what: 'a pre-registration is sent only when the event happens',
    steps: [{ kind: 'adt', adt: { event: 'A01', at: '20260101060000', recorded: '20251231120000', ...I } }, { kind: 'wait', hours: 4 }, { kind: 'wait', hours: 4 }],
    outcomes: ['deferred', 'STIN'],
    assertions: [fact(0, 'period.start = the planned time', `${ENCOUNTER}.period.start = '${iso('20260101060000')}'`)],
  },
];

/** The steps the rules do not decide, and where the product shows them. */
export const PROTOCOL_STEPS_ELSEWHERE: ProtocolStepElsewhere[] = [
  { step: '3.2.1', what: 'TouchStone test scripts run without errors', elsewhere: "the TouchStone section of this report runs MedCom's sender TestScripts" },
  { step: '3.4.8', what: 'the message is embedded in a VANSEnvelope with the advis type postfix', elsewhere: 'the medcom-vans delivery (docs/delivery.md §1–§3; tested against the VANSEnvelope XSD)' },
  { step: '3.4.9', what: 'a care plan (DIS21) carries the EpisodeOfCare identifier', elsewhere: 'the engine sends no care plan; the identifier is a UUID v4 kept for the stay (3.3.2.4)' },
];
