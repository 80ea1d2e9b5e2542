// The advis rules (docs/mapping.md §3): given one ADT event and what the municipality has been told about the
// stay so far, which HospitalNotification to send, if any, and what the stay looks like afterwards.
//
// Pure: no clock, no storage, no ids of its own (the caller passes `newId`), so every rule is a plain function of
// its inputs and the scenario tests read like MedCom's use cases. One handler per trigger event; the checks every
// event shares (CPR, address, visit number, time) run first so each "no advis" has exactly one reason.

import type { AdtEvent } from '../hl7/adt-event';
import { HELD_REASONS, type NoAdvisReason } from './reasons';
import { sorEndpoint, type Site, type SiteDepartment } from './site';
import type { AdvisPlan, AdvisType, BaseAdvisType, EncounterSnapshot, Receiver, SentAdvis, StayState } from './types';

export interface DecisionInput {
  event: AdtEvent;
  /** The stay the event belongs to (by stay key), if the engine knows it. */
  stay: StayState | undefined;
  /** The patient's other stays (found by patient key): same-region transfers and double admissions. */
  patientStays: StayState[];
  /** The keyed hash of the patient's CPR number. */
  patientKey: string;
  site: Site;
  newId: () => string;
}

export type Decision =
  /** Send this advis; `stay` is the stay after it (the engine adds the sent message and its Provenance). */
  | { kind: 'advis'; plan: AdvisPlan; stay: StayState; closes?: StayState[] }
  /** No advis, for `reason`; `stay` is set when the event still changes what the engine remembers. */
  | { kind: 'none'; reason: NoAdvisReason; held: boolean; stay?: StayState };

/** How long after a stay ended by a transfer the receiving hospital's admission still counts as that transfer. */
const TRANSFER_WINDOW_HOURS = 24;

/** Events that never give an advis (docs/mapping.md §3). */
const IGNORED_EVENTS = new Set(['A05', 'A14', 'A38', 'A54', 'A55']);

type Handler = (ctx: Context) => Decision;

const HANDLERS: Record<string, Handler> = {
  A01: admit,
  A04: admit,
  A06: admit,
  A07: toAcuteAmbulant,
  A02: transfer,
  A03: discharge,
  A21: leave,
  A22: returnFromLeave,
  A11: cancelAdmission,
  A12: cancelTransfer,
  A13: cancelDischarge,
  A52: cancelLeave,
  A53: cancelReturn,
  A08: correct,
};

/** Everything a handler needs, looked up once. */
interface Context extends DecisionInput {
  /** The department at PV1-3, if the site knows it. */
  department: SiteDepartment | undefined;
  /** The municipality of residence's receiver, if the site knows it. */
  receiver: Receiver | undefined;
  time: string;
}

export function decide(input: DecisionInput): Decision {
  const { event, site } = input;
  if (IGNORED_EVENTS.has(event.event)) return none('ignored-event');
  const handler = HANDLERS[event.event];
  if (!handler) return none('unsupported-event');
  if (event.patient.cprStatus !== 'valid' || !event.patient.cpr) return none('no-cpr');
  if (!event.patient.municipalityCode) return none('no-danish-address');
  if (!event.visit.stayKey) return none('no-visit-number');
  if (!event.eventTime) return none('no-event-time');
  return handler({
    ...input,
    department: site.department(event.visit.location.pointOfCare, event.visit.location.facility),
    receiver: site.receiver(event.patient.municipalityCode),
    time: event.eventTime,
  });
}

// ---- starts -------------------------------------------------------------------------------------------------

/**
 * A01 / A04 / A06: the start of a stay. STIN when admitted, STAA when acute ambulant (S1, S2); STIN without a
 * report-of-admission request after acute ambulant at the same hospital or on arrival from another hospital of the
 * region (S1.A1, keeping that stay's episode); MORS when the patient is dead on arrival (S7).
 */
function admit(ctx: Context): Decision {
  const { event, stay } = ctx;
  const cls = event.visit.stayClass;
  if (cls === 'other') return none('not-advis-class');
  // A start is sent from its department: one the site does not know yet holds it, also when it continues a stay.
  if (!ctx.department) return none('unknown-department');
  const admitted = cls === 'admitted';
  const hospital = ctx.department.hospital;

  // Acute ambulant → admitted at the same hospital: a new STIN in the same flow, no SLHJ between (clinical rule 3).
  const acute = [stay, ...ctx.patientStays].find((s) => !!s && isActive(s) && s.status === 'acute-ambulant' && s.hospital === hospital);
  if (admitted && acute) return continueStay(ctx, acute, 'STIN', false);
  if (isOpen(stay)) return none('stay-already-started');

  if (!ctx.receiver) return none('unknown-municipality');
  const department = ctx.department;
  const region = ctx.site.hospital(department.hospital)!.region;

  // Transfer from another hospital of the same region (S1.A1): a stay there that is open or ended by the transfer,
  // or PV1-14 says so. An open stay of the other kind (psychiatric beside somatic) is no transfer but a double
  // admission (S.BR14, clinical rule 6): both stays go on, whichever hospital each is at.
  const referring = ctx.patientStays.find(
    (s) => ((isActive(s) && !isDoublePair(kindOf(ctx, s), department.kind)) || (s.status === 'transferred' && withinHours(s.encounter.periodEnd, ctx.time, TRANSFER_WINDOW_HOURS))) &&
      s.hospital !== department.hospital &&
      s.region === region,
  );
  const fromRegion = !!referring || event.visit.transferredIn;
  const dead = event.patient.deceased;
  // Dead on arrival: the stay starts and ends at the death (MedCom's MORS_J: start = end), PID-29 when sent.
  const deathAt = event.patient.deathTime ?? ctx.time;
  const encounter: EncounterSnapshot = dead
    ? { class: admitted ? 'IMP' : 'EMER', status: 'in-progress', periodStart: deathAt, periodEnd: deathAt }
    : { class: admitted ? 'IMP' : 'EMER', status: 'in-progress', periodStart: ctx.time };
  const sender = ctx.site.departmentOrganisation(department);
  const episode = referring?.episode ?? { system: sorEndpoint(sender.sor), value: ctx.newId() };
  const plan: AdvisPlan = {
    // Dead on arrival: MORS as the first message, with the start activity and status of MedCom's test example MORS_J.
    advis: dead ? 'MORS' : admitted ? 'STIN' : 'STAA',
    activity: admitted ? 'admit-inpatient' : 'admit-emergency',
    encounter,
    episode,
    sender,
    receiver: ctx.receiver!,
    reportOfAdmission: !dead && !fromRegion,
    ...(dead ? { deceased: true } : {}),
    // The referring stay's flow goes on: its Provenance chain is carried and this STIN revises its latest message.
    ...(referring ? { entity: { role: 'revision' as const, messageHeaderId: latest(referring).messageHeaderId } } : {}),
  };
  const next: StayState = {
    key: event.visit.stayKey!,
    patientKey: ctx.patientKey,
    hospital: department.hospital,
    department: department.code,
    region,
    episode,
    status: dead ? 'finished' : admitted ? 'admitted' : 'acute-ambulant',
    encounter,
    deceased: dead,
    provenance: referring ? referring.provenance : [],
    sent: referring ? referring.sent : [],
  };
  // The referring hospital sends nothing (S5): its stay ends without an SLHJ.
  const closes = referring && isActive(referring) ? [{ ...referring, status: 'transferred' as const }] : [];
  return { kind: 'advis', plan, stay: next, ...(closes.length ? { closes } : {}) };
}

/** A07: admitted → acute ambulant: a new STAA in the same flow, no SLHJ between (clinical rule 4). */
function toAcuteAmbulant(ctx: Context): Decision {
  const { stay } = ctx;
  if (!isOpen(stay) || stay.status !== 'admitted') return none('no-open-stay');
  return continueStay(ctx, stay, 'STAA', false);
}

/** A new start advis (new Encounter, new period.start) that continues an open stay's flow and episode. */
function continueStay(ctx: Context, from: StayState, advis: 'STIN' | 'STAA', reportOfAdmission: boolean): Decision {
  const department = ctx.department;
  if (!department) return none('unknown-department');
  if (!ctx.receiver) return none('unknown-municipality');
  const admitted = advis === 'STIN';
  const encounter: EncounterSnapshot = { class: admitted ? 'IMP' : 'EMER', status: 'in-progress', periodStart: ctx.time };
  const plan: AdvisPlan = {
    advis,
    activity: admitted ? 'admit-inpatient' : 'admit-emergency',
    encounter,
    episode: from.episode,
    sender: ctx.site.departmentOrganisation(department),
    receiver: ctx.receiver,
    reportOfAdmission,
    entity: { role: 'revision', messageHeaderId: latest(from).messageHeaderId },
  };
  const next: StayState = {
    ...from,
    key: ctx.event.visit.stayKey!,
    hospital: department.hospital,
    department: department.code,
    status: admitted ? 'admitted' : 'acute-ambulant',
    encounter,
  };
  const closes = from.key !== next.key ? [{ ...from, status: 'transferred' as const }] : [];
  return { kind: 'advis', plan, stay: next, ...(closes.length ? { closes } : {}) };
}

// ---- transfers ----------------------------------------------------------------------------------------------

/**
 * A02: within the same hospital nothing (S.BR5, S1.A2); to another hospital of the region a STIN from the new
 * hospital without request, same episode, new period.start, and nothing from the old one (S5, S1.A1).
 */
function transfer(ctx: Context): Decision {
  const { stay } = ctx;
  if (!isOpen(stay)) return none('no-open-stay');
  if (!ctx.department) return none('unknown-department');
  if (ctx.department.hospital === stay.hospital) {
    return { ...none('same-hospital-transfer'), stay: { ...stay, department: ctx.department.code } };
  }
  const decision = continueStay(ctx, stay, 'STIN', false);
  if (decision.kind === 'advis') {
    decision.stay.region = ctx.site.hospital(ctx.department.hospital)!.region;
    decision.stay.transferredFrom = { hospital: stay.hospital, department: stay.department };
  }
  return decision;
}

/** A12: cancels a transfer; only one that produced a STIN gives an advis (AN_STIN), and the stay moves back. */
function cancelTransfer(ctx: Context): Decision {
  const { stay } = ctx;
  if (!isOpen(stay)) return none('no-open-stay');
  const last = latest(stay);
  if (!stay.transferredFrom || base(last.advis) !== 'STIN' || last.trigger !== 'A02') {
    const back = ctx.department ? { ...stay, department: ctx.department.code } : stay;
    return { ...none('nothing-to-cancel'), stay: back };
  }
  const decision = cancel(ctx, stay, last, { ...last.encounter, status: 'entered-in-error' });
  if (decision.kind === 'advis') {
    const { hospital, department } = stay.transferredFrom;
    const restored = { ...decision.stay, hospital, department, status: 'admitted' as const, encounter: previousStart(stay) };
    delete restored.transferredFrom;
    decision.stay = restored;
  }
  return decision;
}

// ---- ends ---------------------------------------------------------------------------------------------------

/**
 * A03: discharge home gives SLHJ (S6, also after a leave the patient did not return from: S.BR15); a death MORS
 * (S7); a transfer to another hospital or a hospice nothing (S.BR17) unless the patient transports himself.
 */
function discharge(ctx: Context): Decision {
  const { event, stay } = ctx;
  if (!isOpen(stay)) return none('no-open-stay');
  const death = event.patient.deceased || event.visit.disposition === 'death';
  if (!death && event.visit.disposition === 'transfer') {
    return { ...none('discharge-to-transfer'), stay: { ...stay, status: 'transferred', encounter: { ...stay.encounter, periodEnd: ctx.time } } };
  }
  if (!ctx.receiver) return none('unknown-municipality');
  const encounter: EncounterSnapshot = { ...stay.encounter, status: 'finished', periodEnd: death ? (event.patient.deathTime ?? ctx.time) : ctx.time };
  const cls = stay.encounter.class;
  return followUp(ctx, stay, {
    advis: death ? 'MORS' : 'SLHJ',
    // MORS repeats the activity of the message before it (HospitalNotification IG, "current activity").
    activity: death ? currentActivity(stay) : cls === 'IMP' ? 'discharge-inpatient-home' : 'discharge-emergency-home',
    encounter,
    receiver: ctx.receiver,
    ...(death ? { deceased: true } : {}),
    state: { status: 'finished', deceased: death },
  });
}

/** A13: cancels a discharge: AN_SLHJ (or AN_MORS for a death) of the advis it gave; the stay reopens. */
function cancelDischarge(ctx: Context): Decision {
  const { stay } = ctx;
  if (!stay || (stay.status !== 'finished' && stay.status !== 'transferred') || stay.sent.length === 0) return none('no-open-stay');
  const last = latest(stay);
  const reopened = reopenStatus(stay);
  if (!['SLHJ', 'MORS'].includes(base(last.advis)) || last.advis.startsWith('AN_')) {
    // A discharge to a transfer gave no advis: reopen the stay silently.
    const encounter = { ...stay.encounter, status: 'in-progress' as const };
    delete encounter.periodEnd;
    return { ...none('nothing-to-cancel'), stay: { ...stay, status: reopened, encounter } };
  }
  const morsCancelled = base(last.advis) === 'MORS';
  // AN_MORS restores the "previous status" (on leave too); AN_SLHJ is always in-progress (MedCom's code table).
  const before = morsCancelled ? previousEncounter(stay) : { ...withoutLeave(previousEncounter(stay)), status: 'in-progress' as const };
  const decision = cancel(ctx, stay, last, before, morsCancelled ? { deceased: false, activity: currentActivity(stay) } : {});
  const status = before.status === 'onleave' ? 'onleave' : reopened;
  if (decision.kind === 'advis') decision.stay = { ...decision.stay, status, encounter: before, deceased: false };
  return decision;
}

// ---- leave --------------------------------------------------------------------------------------------------

/** A21: leave at home gives STOR (S3); none during a psychiatric + somatic double admission (S.BR14). */
function leave(ctx: Context): Decision {
  const { stay } = ctx;
  if (!isOpen(stay)) return none('no-open-stay');
  if (stay.status !== 'admitted') return none('not-admitted');
  if (isDoubleAdmission(ctx, stay)) return { ...none('double-admission'), stay: { ...stay, suppressedLeave: true } };
  if (!ctx.receiver) return none('unknown-municipality');
  const encounter: EncounterSnapshot = { ...stay.encounter, status: 'onleave', leaveStart: ctx.time };
  delete encounter.leaveEnd;
  return followUp(ctx, stay, { advis: 'STOR', activity: 'start-leave-inpatient', encounter, receiver: ctx.receiver, state: { status: 'onleave' } });
}

/** A22: return from a leave that gave a STOR gives SLOR (S4); the return from a suppressed leave gives none. */
function returnFromLeave(ctx: Context): Decision {
  const { stay } = ctx;
  if (!isOpen(stay)) return none('no-open-stay');
  if (stay.suppressedLeave) return { ...none('double-admission'), stay: { ...stay, suppressedLeave: false } };
  if (stay.status !== 'onleave') return none('no-leave');
  if (!ctx.receiver) return none('unknown-municipality');
  const encounter: EncounterSnapshot = { ...stay.encounter, status: 'in-progress', leaveEnd: ctx.time };
  return followUp(ctx, stay, { advis: 'SLOR', activity: 'end-leave-inpatient', encounter, receiver: ctx.receiver, state: { status: 'admitted' } });
}

/** A52: cancels a leave: AN_STOR of the STOR; the patient is back in-progress. */
function cancelLeave(ctx: Context): Decision {
  const { stay } = ctx;
  if (!isOpen(stay)) return none('no-open-stay');
  if (stay.suppressedLeave) return { ...none('double-admission'), stay: { ...stay, suppressedLeave: false } };
  const last = latest(stay);
  if (base(last.advis) !== 'STOR' || last.advis.startsWith('AN_')) return none('no-leave');
  const before = withoutLeave({ ...stay.encounter, status: 'in-progress' });
  const decision = cancel(ctx, stay, last, before);
  if (decision.kind === 'advis') decision.stay = { ...decision.stay, status: 'admitted', encounter: before };
  return decision;
}

/** A53: cancels a return from leave: AN_SLOR of the SLOR; the patient is on leave again. */
function cancelReturn(ctx: Context): Decision {
  const { stay } = ctx;
  if (!isOpen(stay)) return none('no-open-stay');
  const last = latest(stay);
  if (base(last.advis) !== 'SLOR' || last.advis.startsWith('AN_')) return none('no-leave');
  const onLeave: EncounterSnapshot = { ...last.encounter, status: 'onleave' };
  delete onLeave.leaveEnd;
  const decision = cancel(ctx, stay, last, onLeave);
  if (decision.kind === 'advis') decision.stay = { ...decision.stay, status: 'onleave', encounter: onLeave };
  return decision;
}

// ---- cancellation and correction ----------------------------------------------------------------------------

/**
 * A11: cancels the admission (A01/A04): AN_STIN / AN_STAA of the latest start advis, to its receiver (S.CANC); after
 * a dead-on-arrival admission, whose only advis is its MORS, AN_MORS (TouchStone send-AN-MORS).
 */
function cancelAdmission(ctx: Context): Decision {
  const { stay } = ctx;
  if (stay && isDeadOnArrival(stay)) return cancelDeadOnArrival(ctx, stay);
  if (!isOpen(stay)) return none('no-open-stay');
  const last = latest(stay);
  if (!['STIN', 'STAA'].includes(base(last.advis)) || last.advis.startsWith('AN_')) return none('not-latest-advis');
  const decision = cancel(ctx, stay, last, { ...last.encounter, status: 'entered-in-error' });
  if (decision.kind === 'advis') decision.stay = { ...decision.stay, status: 'cancelled', encounter: { ...last.encounter, status: 'entered-in-error' } };
  return decision;
}

/**
 * AN_MORS of a dead-on-arrival MORS: deceased false, the status the MORS had (in-progress: there was none before it),
 * without the end the death gave. The municipality has then been told of no stay, so the stay is cancelled.
 */
function cancelDeadOnArrival(ctx: Context, stay: StayState): Decision {
  const mors = latest(stay);
  const encounter: EncounterSnapshot = { ...mors.encounter, status: 'in-progress' };
  delete encounter.periodEnd;
  const decision = cancel(ctx, stay, mors, encounter, { deceased: false, activity: currentActivity(stay) });
  if (decision.kind === 'advis') decision.stay = { ...decision.stay, status: 'cancelled', encounter, deceased: false };
  return decision;
}

/**
 * A08: a changed department (PV1-3) or time of the most recent advis gives RE_xx of that advis only (S.CORR,
 * S.BR21, S.BR22), to its receiver; anything else gives none. The department may be one of another hospital of the
 * region: the stay was registered at the wrong hospital (TouchStone PF-send-emer-01, PF-send-imp-05), and the RE_ is
 * sent from the corrected department.
 */
function correct(ctx: Context): Decision {
  const { event, stay } = ctx;
  if (!stay || stay.sent.length === 0) return none('no-open-stay');
  const last = latest(stay);
  if (last.advis.startsWith('AN_')) return none('not-latest-advis');
  const type = base(last.advis);
  const encounter = { ...last.encounter };
  const admission = admissionStart(stay);
  const admitTimeChanged = !!event.visit.admitTime && admission !== undefined && !sameInstant(event.visit.admitTime, admission);
  // The corrected time comes from the field that carries it in an A08: PV1-44 for starts, PV1-45 / PID-29 for ends.
  if (type === 'STIN' || type === 'STAA') {
    if (admitTimeChanged) encounter.periodStart = event.visit.admitTime!;
  } else if (type === 'SLHJ' && event.visit.dischargeTime) encounter.periodEnd = event.visit.dischargeTime;
  else if (type === 'MORS') {
    const death = event.patient.deathTime ?? event.visit.dischargeTime;
    // Dead on arrival: start = end = the corrected time (TouchStone send-RE-MORS), PV1-44 when only that changed.
    if (isDeadOnArrival(stay)) {
      const at = death ?? event.visit.admitTime;
      if (at) encounter.periodStart = encounter.periodEnd = at;
    } else if (death) encounter.periodEnd = death;
  }
  const department = ctx.department && (ctx.department.hospital === last.hospital || ctx.site.hospital(ctx.department.hospital)?.region === stay.region) ? ctx.department : undefined;
  const timeChanged = !sameInstant(encounter.periodStart, last.encounter.periodStart) || !sameInstant(encounter.periodEnd, last.encounter.periodEnd);
  const departmentChanged = !!department && (department.code !== last.department || department.hospital !== last.hospital);
  // A new admission time when the start is no longer the latest advis is a correction S.BR22 forbids sending.
  if (!timeChanged && !departmentChanged) return none(admitTimeChanged ? 'not-latest-advis' : 'nothing-changed');
  const sender = ctx.site.departmentOrganisation(department ?? ctx.site.department(last.department, last.hospital)!);
  const plan: AdvisPlan = {
    advis: `RE_${type}` as AdvisType,
    activity: type === 'MORS' ? currentActivity(stay) : `revise-${activityOf(type, encounter)}`,
    encounter,
    episode: stay.episode,
    sender,
    receiver: last.receiver,
    ...(type === 'MORS' ? { deceased: true } : {}),
    entity: { role: 'revision', messageHeaderId: last.messageHeaderId },
  };
  const next: StayState = {
    ...stay,
    department: department?.code ?? stay.department,
    hospital: department?.hospital ?? stay.hospital,
    encounter: type === 'SLOR' ? withoutLeave(encounter) : encounter,
  };
  return { kind: 'advis', plan, stay: next };
}

/** AN_xx of `cancelled`: to its receiver, from the department that sent it, with the situation it leaves behind. */
function cancel(ctx: Context, stay: StayState, cancelled: SentAdvis, encounter: EncounterSnapshot, extra: Partial<AdvisPlan> = {}): Decision {
  const type = base(cancelled.advis);
  const department = ctx.site.department(cancelled.department, cancelled.hospital);
  if (!department) return none('unknown-department');
  const plan: AdvisPlan = {
    advis: `AN_${type}` as AdvisType,
    activity: `cancel-${activityOf(type, cancelled.encounter)}`,
    encounter,
    episode: stay.episode,
    sender: ctx.site.departmentOrganisation(department),
    receiver: cancelled.receiver,
    entity: { role: 'removal', messageHeaderId: cancelled.messageHeaderId },
    ...extra,
  };
  return { kind: 'advis', plan, stay: { ...stay } };
}

// ---- helpers ------------------------------------------------------------------------------------------------

/** A follow-up advis in the stay's flow (revision of the latest message), from the patient's current department. */
function followUp(
  ctx: Context,
  stay: StayState,
  p: Pick<AdvisPlan, 'advis' | 'activity' | 'encounter' | 'receiver' | 'deceased'> & { state: Partial<StayState> },
): Decision {
  const department = ctx.department && ctx.department.hospital === stay.hospital ? ctx.department : ctx.site.department(stay.department, stay.hospital)!;
  const { state, ...plan } = p;
  return {
    kind: 'advis',
    plan: {
      ...plan,
      episode: stay.episode,
      sender: ctx.site.departmentOrganisation(department),
      entity: { role: 'revision', messageHeaderId: latest(stay).messageHeaderId },
    },
    stay: { ...stay, ...state, department: department.code, encounter: plan.advis === 'SLOR' ? withoutLeave(plan.encounter) : plan.encounter },
  };
}

const BASE_ACTIVITY: Record<BaseAdvisType, (e: EncounterSnapshot) => string> = {
  STAA: () => 'admit-emergency',
  STIN: () => 'admit-inpatient',
  STOR: () => 'start-leave-inpatient',
  SLOR: () => 'end-leave-inpatient',
  SLHJ: (e) => (e.class === 'IMP' ? 'discharge-inpatient-home' : 'discharge-emergency-home'),
  MORS: () => 'admit-inpatient',
};

function activityOf(type: BaseAdvisType, encounter: EncounterSnapshot): string {
  return BASE_ACTIVITY[type](encounter);
}

function base(advis: AdvisType): BaseAdvisType {
  return advis.replace(/^(RE|AN)_/, '') as BaseAdvisType;
}

function latest(stay: StayState): SentAdvis {
  return stay.sent[stay.sent.length - 1];
}

function isOpen(stay: StayState | undefined): stay is StayState {
  return !!stay && isActive(stay);
}

/** The stay goes on: not ended (finished, transferred) and not cancelled. */
function isActive(stay: StayState): boolean {
  return stay.status !== 'finished' && stay.status !== 'transferred' && stay.status !== 'cancelled';
}

/**
 * The activity a message without one of its own (MORS, AN_MORS, RE_MORS) repeats: that of the latest advis that is
 * neither a death, a cancellation, nor cancelled since.
 */
function currentActivity(stay: StayState): string {
  const cancelled = cancelledMessages(stay);
  for (let i = stay.sent.length - 1; i >= 0; i--) {
    const sent = stay.sent[i];
    const type = base(sent.advis);
    if (type !== 'MORS' && !sent.advis.startsWith('AN_') && !cancelled.has(sent.messageHeaderId)) return activityOf(type, sent.encounter);
  }
  return stay.encounter.class === 'IMP' ? 'admit-inpatient' : 'admit-emergency';
}

/** The MessageHeader ids of the stay's advis that a later AN_ cancelled. */
function cancelledMessages(stay: StayState): Set<string> {
  return new Set(stay.provenance.filter((p) => p.entity?.role === 'removal').map((p) => p.entity!.messageHeaderId));
}

/**
 * The start time an A08's PV1-44 speaks for: the stay's current period.start, unless the stay's latest start advis
 * still in force came from a transfer (A02), which starts at the transfer (EVN-6) while PV1-44 keeps the original
 * admission.
 */
function admissionStart(stay: StayState): string | undefined {
  const cancelled = cancelledMessages(stay);
  const start = stay.sent.findLast((s) => (s.advis === 'STIN' || s.advis === 'STAA') && !cancelled.has(s.messageHeaderId));
  return start && start.trigger !== 'A02' ? stay.encounter.periodStart : undefined;
}

/** The Encounter before the latest advis: what a cancellation of it restores. */
function previousEncounter(stay: StayState): EncounterSnapshot {
  const before = stay.sent.length > 1 ? stay.sent[stay.sent.length - 2].encounter : { ...stay.encounter, status: 'in-progress' as const };
  const restored = { ...before };
  delete restored.periodEnd;
  return base(stay.sent[stay.sent.length - 2]?.advis ?? 'STIN') === 'SLOR' ? withoutLeave(restored) : restored;
}

/** The Encounter of the start advis before the latest one (an A12 undoes a transfer's STIN). */
function previousStart(stay: StayState): EncounterSnapshot {
  const starts = stay.sent.filter((s) => ['STIN', 'STAA'].includes(s.advis));
  return starts.length > 1 ? starts[starts.length - 2].encounter : stay.encounter;
}

function reopenStatus(stay: StayState): StayState['status'] {
  return stay.encounter.class === 'EMER' ? 'acute-ambulant' : 'admitted';
}

function withoutLeave(encounter: EncounterSnapshot): EncounterSnapshot {
  const copy = { ...encounter };
  delete copy.leaveStart;
  delete copy.leaveEnd;
  return copy;
}

/** One psychiatric and one somatic admission of the same patient, both open (S.BR14), at any hospitals. */
function isDoubleAdmission(ctx: Context, stay: StayState): boolean {
  const own = kindOf(ctx, stay);
  return ctx.patientStays.some((s) => isActive(s) && s.key !== stay.key && s.status !== 'acute-ambulant' && isDoublePair(own, kindOf(ctx, s)));
}

function kindOf(ctx: Context, stay: StayState): SiteDepartment['kind'] | undefined {
  return ctx.site.department(stay.department, stay.hospital)?.kind;
}

/** A psychiatric and a somatic department: the two kinds of a double admission. */
function isDoublePair(a: SiteDepartment['kind'] | undefined, b: SiteDepartment['kind'] | undefined): boolean {
  return (a === 'psychiatric' && b === 'somatic') || (a === 'somatic' && b === 'psychiatric');
}

/** The stay began with a MORS (the patient was dead on arrival, S7) and has had nothing but its corrections since. */
function isDeadOnArrival(stay: StayState): boolean {
  const first = stay.sent[0];
  return !!first && first.advis === 'MORS' && ['A01', 'A04', 'A06'].includes(first.trigger) && stay.sent.every((s) => s.advis === 'MORS' || s.advis === 'RE_MORS');
}

function withinHours(from: string | undefined, to: string, hours: number): boolean {
  return from !== undefined && Math.abs(Date.parse(to) - Date.parse(from)) <= hours * 3_600_000;
}

function sameInstant(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return Date.parse(a) === Date.parse(b);
}

function none(reason: NoAdvisReason): Decision {
  return { kind: 'none', reason, held: HELD_REASONS.includes(reason) };
}
