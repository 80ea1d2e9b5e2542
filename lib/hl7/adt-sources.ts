// Where a site's ADT messages carry each piece of information (docs/mapping.md §1), with the defaults.
//
// No public Danish HL7 v2 ADT profile exists, so every convention is a default a site can override in the `adt`
// section of its site configuration. Field paths are written `SEG-F[.C[.S]]`, 1-based like the standard.

export interface AdtSources {
  /** PID-3 repetitions whose CX.5 (identifier type) is one of these carry the CPR number. */
  cprIdentifierTypes: string[];
  /** ...or whose CX.4 (assigning authority, any subcomponent) is one of these. */
  cprAuthorities: string[];
  /** Municipality code fields, tried in order; the first non-empty wins. PID-11 prefers the home address (type H). */
  municipality: string[];
  visitNumber: string;
  pointOfCare: string;
  facility: string;
  /** PV1-2 values that mean admitted / acute ambulant. */
  admittedClasses: string[];
  acuteAmbulantClasses: string[];
  /** PV1-2 values that count as acute ambulant only when PV1-4 (admission type) is acute. */
  outpatientClasses: string[];
  acuteAdmissionTypes: string[];
  /** PV1-36 codes. */
  deathDispositions: string[];
  transferDispositions: string[];
  /** "The patient transports himself": a transfer that still gets SLHJ (S.BR17). No default. */
  selfTransportDispositions: string[];
  /** PV1-14 codes meaning "arrives from another hospital of the same region". */
  transferAdmitSources: string[];
}

export const DEFAULT_ADT_SOURCES: AdtSources = {
  cprIdentifierTypes: ['CPR', 'NNDNK'],
  cprAuthorities: ['CPR', '1.2.208.176.1.2'],
  municipality: ['PID-11.9', 'PID-12'],
  visitNumber: 'PV1-19.1',
  pointOfCare: 'PV1-3.1',
  facility: 'PV1-3.4',
  admittedClasses: ['I'],
  acuteAmbulantClasses: ['E'],
  outpatientClasses: ['O'],
  acuteAdmissionTypes: ['E', 'A'],
  deathDispositions: ['20', '40', '41', '42'],
  transferDispositions: ['02', '03', '04', '05', '43', '50', '51', '61', '62', '63', '64', '65', '66', '70'],
  selfTransportDispositions: [],
  transferAdmitSources: ['4'],
};
