// The advis rules (spec/advis-rules.md §3): given one ADT event and what the municipality has been told about the
// stay so far, which HospitalNotification to send, if any, and what the stay looks like afterwards.
//
// Pure: no clock, no storage, no ids of its own (the caller passes `newId`), so every rule is a plain function of
// its inputs and the scenario tests read like MedCom's use cases. One handler per trigger event; checks that every
// event shares (CPR, address, visit number) run first so each "no advis" has exactly one reason.

import type { AdtEvent } from '../hl7/adt-event';
import { HELD_REASONS, type NoAdvisReason } from './reasons';
import { sorEndpoint, type Site, type SiteDepartment } from './site';
import type { AdvisPlan, EncounterClass, Receiver, StayState } from './types';

export interface DecisionInput {
  event: AdtEvent;
  /** The stay the event belongs to (by stay key), if the engine knows it. */
  stay: StayState | undefined;
  /** The keyed hash of the patient's CPR number. */
  patientKey: string;
  site: Site;
  newId: () => string;
}

export type Decision =
  /** Send this advis; `stay` is the stay after it (the engine adds the sent message and its Provenance). */
  | { kind: 'advis'; plan: AdvisPlan; stay: StayState }
  /** No advis, for `reason`; `stay` is set when the event still changes what the engine remembers. */
  | { kind: 'none'; reason: NoAdvisReason; held: boolean; stay?: StayState };

/** Events that never give an advis (spec §3: A05, A14, A38, A54, A55). */
const IGNORED_EVENTS = new Set(['A05', 'A14', 'A38', 'A54', 'A55']);

type Handler = (input: DecisionInput, who: Addressing) => Decision;

const HANDLERS: Record<string, Handler> = {
  A01: startStay,
  A04: startStay,
  A02: transfer,
  A03: endStay,
};

export function decide(input: DecisionInput): Decision {
  const { event, site } = input;
  if (IGNORED_EVENTS.has(event.event)) return none('ignored-event');
  const handler = HANDLERS[event.event];
  if (!handler) return none('unsupported-event');
  if (event.patient.cprStatus !== 'valid' || !event.patient.cpr) return none('no-cpr');
  if (!event.patient.municipalityCode) return none('no-danish-address');
  if (!event.visit.stayKey) return none('no-visit-number');
  if (!event.eventTime) return none('no-event-time');

  const department = site.department(event.visit.location.pointOfCare, event.visit.location.facility);
  const receiver = site.receiver(event.patient.municipalityCode);
  return handler(input, { department, receiver });
}

/** Who the advis is from and to, looked up once for every handler. */
interface Addressing {
  department: SiteDepartment | undefined;
  receiver: Receiver | undefined;
}

/** A01 / A04: the first advis of a stay: STIN when admitted, STAA when acute ambulant (S1, S2). */
function startStay(input: DecisionInput, who: Addressing): Decision {
  const { event, stay, site } = input;
  const cls = event.visit.stayClass;
  if (cls === 'other') return none('not-advis-class');
  if (stay && stay.status !== 'cancelled') return none('stay-already-started');
  const missing = addressingProblem(who);
  if (missing) return none(missing);
  const department = who.department!;
  const sender = site.departmentOrganisation(department);
  const admitted = cls === 'admitted';
  const start = event.eventTime!;
  const plan: AdvisPlan = {
    advis: admitted ? 'STIN' : 'STAA',
    activity: admitted ? 'admit-inpatient' : 'admit-emergency',
    encounter: { class: admitted ? 'IMP' : 'EMER', status: 'in-progress', periodStart: start },
    episode: { system: sorEndpoint(sender.sor), value: input.newId() },
    sender,
    receiver: who.receiver!,
    reportOfAdmission: true,
  };
  return {
    kind: 'advis',
    plan,
    stay: {
      key: event.visit.stayKey!,
      patientKey: input.patientKey,
      hospital: department.hospital,
      department: department.code,
      region: site.hospital(department.hospital)!.region,
      episode: plan.episode,
      status: admitted ? 'admitted' : 'acute-ambulant',
      encounter: plan.encounter,
      deceased: false,
      provenance: [],
      sent: [],
    },
  };
}

/** A02: a move within the same hospital gives no advis (S.BR5); the stay follows the patient's department. */
function transfer(input: DecisionInput, who: Addressing): Decision {
  const { stay } = input;
  if (!isOpen(stay)) return none('no-open-stay');
  if (!who.department) return none('unknown-department');
  if (who.department.hospital === stay.hospital) {
    return { ...none('same-hospital-transfer'), stay: { ...stay, department: who.department.code } };
  }
  return none('unsupported-event');
}

/** A03: discharge home gives SLHJ (S6), a death MORS (S7), a transfer to a hospital or hospice nothing (S.BR17). */
function endStay(input: DecisionInput, who: Addressing): Decision {
  const { event, stay, site } = input;
  if (!isOpen(stay)) return none('no-open-stay');
  const end = event.eventTime!;
  const death = event.patient.deceased || event.visit.disposition === 'death';
  if (!death && event.visit.disposition === 'transfer') {
    return { ...none('discharge-to-transfer'), stay: { ...stay, status: 'finished', encounter: { ...stay.encounter, periodEnd: end } } };
  }
  if (!who.receiver) return none('unknown-municipality');
  const department = who.department ?? site.department(stay.department, stay.hospital)!;
  const cls: EncounterClass = stay.encounter.class;
  const encounter = { ...stay.encounter, status: 'finished' as const, periodEnd: death ? (event.patient.deathTime ?? end) : end };
  const previous = stay.sent[stay.sent.length - 1];
  const plan: AdvisPlan = {
    advis: death ? 'MORS' : 'SLHJ',
    // MORS repeats the activity of the message before it (DIGEST §3: "current activity").
    activity: death ? currentActivity(stay) : cls === 'IMP' ? 'discharge-inpatient-home' : 'discharge-emergency-home',
    encounter,
    episode: stay.episode,
    sender: site.departmentOrganisation(department),
    receiver: who.receiver,
    ...(death ? { deceased: true } : {}),
    entity: { role: 'revision', messageHeaderId: previous.messageHeaderId },
  };
  return { kind: 'advis', plan, stay: { ...stay, status: 'finished', encounter, deceased: death, department: department.code } };
}

function isOpen(stay: StayState | undefined): stay is StayState {
  return !!stay && stay.sent.length > 0 && stay.status !== 'finished' && stay.status !== 'cancelled';
}

/** The activity a follow-up without its own activity (MORS) repeats: the last one sent, corrections read as the original. */
function currentActivity(stay: StayState): string {
  return stay.provenance[stay.provenance.length - 1].activity.replace(/^revise-/, '');
}

function addressingProblem(who: Addressing): NoAdvisReason | undefined {
  if (!who.department) return 'unknown-department';
  if (!who.receiver) return 'unknown-municipality';
  return undefined;
}

function none(reason: NoAdvisReason): Decision {
  return { kind: 'none', reason, held: HELD_REASONS.includes(reason) };
}
