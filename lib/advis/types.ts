// The advis vocabulary: advis types, what has been sent for a stay, and the decisions the rules return.
// Plain data only; `msg.advis` in a flow is an AdvisOutcome and is part of the public contract (docs/architecture.md, "Contracts").

/** The six start/end/leave/death advis types (docs/mapping.md §3). */
export type BaseAdvisType = 'STAA' | 'STIN' | 'STOR' | 'SLOR' | 'SLHJ' | 'MORS';
/** Every advis type: the six, their corrections (RE_) and cancellations (AN_). */
export type AdvisType = BaseAdvisType | `RE_${BaseAdvisType}` | `AN_${BaseAdvisType}`;

export type EncounterClass = 'IMP' | 'EMER';
export type EncounterStatus = 'in-progress' | 'onleave' | 'finished' | 'entered-in-error';

/** A municipality's "Sygehusadviser" unit: where an advis goes. */
export interface Receiver {
  municipalityCode: string;
  name: string;
  sor: string;
  gln: string;
}

/** An organisation as it appears in a message: a department (sender, serviceProvider) or a receiver. */
export interface OrganisationRef {
  name: string;
  sor: string;
  gln: string;
}

/** One Provenance entry of the stay's chain (MedComMessagingProvenance), as sent. */
export interface ProvenanceRecord {
  /** Provenance.id: kept when the entry is carried forward into later messages. */
  id: string;
  /** MessageHeader.id of the message the activity belongs to. */
  target: string;
  activity: string;
  /** When the message was sent (occurredDateTime and recorded). */
  occurred: string;
  agent: OrganisationRef;
  entity?: { role: 'revision' | 'removal'; messageHeaderId: string };
}

/** The Encounter as a message showed it. */
export interface EncounterSnapshot {
  class: EncounterClass;
  status: EncounterStatus;
  periodStart: string;
  periodEnd?: string;
  leaveStart?: string;
  leaveEnd?: string;
}

/** A local EpisodeOfCare identifier: system = the creating department's SOR endpoint, value = a UUID v4. */
export interface EpisodeOfCareId {
  system: string;
  value: string;
}

/** One advis sent for a stay. */
export interface SentAdvis {
  advis: AdvisType;
  /** The ADT trigger event that caused it, e.g. `A02` for a STIN after a transfer. */
  trigger: string;
  messageHeaderId: string;
  bundleId: string;
  sentAt: string;
  receiver: Receiver;
  /** The department that sent it (sender and serviceProvider). */
  department: string;
  hospital: string;
  encounter: EncounterSnapshot;
  deceased?: boolean;
}

/**
 * Where a stay is, as far as the municipality has been told. `transferred`: ended here by a transfer to another
 * hospital or a hospice, without an SLHJ (S.BR17); the receiving hospital's STIN continues its episode.
 */
export type StayStatus = 'acute-ambulant' | 'admitted' | 'onleave' | 'finished' | 'transferred' | 'cancelled';

/** What the engine remembers of one stay (one visit at one hospital): enough to build every follow-up message. */
export interface StayState {
  /** Visit number + MSH-4. */
  key: string;
  /** A keyed hash of the CPR number: finds a patient's other stays without storing the number in clear. */
  patientKey: string;
  hospital: string;
  department: string;
  region: string;
  /** The EpisodeOfCare identifier, kept for the whole stay and across same-region transfers. */
  episode: EpisodeOfCareId;
  status: StayStatus;
  encounter: EncounterSnapshot;
  deceased: boolean;
  /** The Provenance chain carried by every message of the stay, oldest first. */
  provenance: ProvenanceRecord[];
  /** Every advis sent for the stay, oldest first. */
  sent: SentAdvis[];
  /** A leave that gave no STOR (psychiatric + somatic double admission, S.BR14): its return gives no SLOR either. */
  suppressedLeave?: boolean;
  /** Where the stay was before a transfer to another hospital of the region, so an A12 can undo it. */
  transferredFrom?: { hospital: string; department: string };
}

/** What one advis must say: the rules' answer, which lib/fhir turns into a HospitalNotification Bundle. */
export interface AdvisPlan {
  advis: AdvisType;
  /** Provenance.activity of the message (medcom-messaging-activityCodes). */
  activity: string;
  encounter: EncounterSnapshot;
  episode: EpisodeOfCareId;
  /** The department in charge: sender, serviceProvider and agent of the new Provenance. */
  sender: OrganisationRef;
  receiver: Receiver;
  /** true/false: the report-of-admission (XDIS16) flag with that value; undefined: no flag. */
  reportOfAdmission?: boolean;
  /** Patient.deceased: true for MORS, false for AN_MORS, otherwise left out. */
  deceased?: boolean;
  /** The message this one follows up (revision) or cancels (removal). */
  entity?: ProvenanceRecord['entity'];
}
