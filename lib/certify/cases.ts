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
  /** A psychiatric department, for the double admission of the protocol's general requirements. */
  psychiatric: SiteDepartment | undefined;
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
    psychiatric: departments.find((d) => d.kind === 'psychiatric' && site.hospital(d.hospital)?.region === region),
    municipality,
    sendingFacility: department.hospital,
  };
}

/**
 * One thing the EPR does: an ADT message (`role` picks the department, default the admitting one), or `silence`:
 * the municipality does not acknowledge, and MedCom's acknowledgement time passes.
 */
export type Step =
  | { kind: 'adt'; role?: 'sibling' | 'otherHospital' | 'psychiatric'; visit?: string; patient?: 0 | 1; adt: Omit<AdtSpec, 'id' | 'sendingFacility' | 'cpr' | 'name' | 'municipality' | 'department' | 'hospital' | 'visit'> }
  | { kind: 'silence' };

/** A sequence and what it needs of the site beyond the admitting department. */
export interface Sequence {
  steps: Step[];
  needs?: 'sibling' | 'otherHospital' | 'psychiatric';
}

type AdtFields = Extract<Step, { kind: 'adt' }>['adt'];

// Times of one stay in winter (+01:00), from 10 March 2025 08:00, in hours after the admission.
const at = (hours: number): string => {
  const t = new Date(Date.UTC(2025, 2, 10, 8 + hours, 0, 0));
  return t.toISOString().replace(/[-:T]/g, '').slice(0, 14);
};
const I = { patientClass: 'I' };
const E = { patientClass: 'E' };
const adt = (event: string, hours: number, fields: Partial<AdtFields> = {}, role?: 'sibling' | 'otherHospital'): Step => ({
  kind: 'adt',
  ...(role ? { role } : {}),
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
