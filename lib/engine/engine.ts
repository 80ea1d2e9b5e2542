// The advis engine: one ADT event in, its traceable outcome out. Replays a repeated message, decides (lib/advis),
// builds and validates the HospitalNotification (lib/fhir), and commits the stay's new state, the outgoing message
// (outbox), the idempotency record and the audit row in ONE store transaction: either all of it is durable or none,
// so the EPR can be acknowledged after `process` resolves and resend safely when it rejects.
//
// Several instances on one store: each event is decided inside a transaction that first locks its patient (the hash
// of the CPR number, else the stay, else the message), so decisions that read the patient's other stays (double
// admissions, transfers, corrections) never interleave, and the same message arriving at two instances at once is
// decided by the first and replayed by the second.

import { createHmac, createSecretKey } from 'node:crypto';
import type { Bundle } from 'fhir/r4';
import { decide } from '../advis/decide';
import type { Site } from '../advis/site';
import type { StayState } from '../advis/types';
import { buildHospitalNotification } from '../fhir/bundle';
import type { MedComValidator } from '../fhir/validate';
import type { AdtEvent } from '../hl7/adt-event';
import { copenhagenTime } from '../hl7/time';
import { StoreError, type AdvisStore, type AuditEntry, type AuditOutcome, type StoreChange, type StoreTransaction } from '../store';
import { ADVIS_OUTCOME_VERSION, type AdvisOutcome } from './outcome';

export interface EngineOptions {
  store: AdvisStore;
  site: Site;
  validator: MedComValidator;
  /** Secret for the keyed hash that finds a patient's stays without storing the CPR number in clear. */
  patientKeySecret: string;
  now?: () => Date;
  newId?: () => string;
}

/** An advis the engine produced: its outcome and the Bundle (already validated and in the outbox). */
export interface Notification {
  outcome: AdvisOutcome;
  bundle: Bundle;
}

export interface ProcessResult {
  /** Every outcome of the message, advis or not, in order. */
  outcomes: AdvisOutcome[];
  /** The new advis; empty for "no advis" and for replays. */
  notifications: Notification[];
}

/** An advis Bundle that failed MedCom validation: nothing was committed, the EPR should get a negative ACK. */
export class InvalidNotificationError extends Error {
  constructor(
    readonly advis: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(`the ${advis} built for this message is not valid against the MedCom profiles: ` + issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    this.name = 'InvalidNotificationError';
  }
}

interface ProcessedRecord {
  outcomes: AdvisOutcome[];
}

/** The fate of one event of a batch: its result, or the error `process` would have thrown for it alone. */
export type BatchResult = { ok: true; result: ProcessResult } | { ok: false; error: unknown };

export interface AdvisEngine {
  /** Decides one ADT event now, or replays its stored outcome, or defers it when its time lies in the future. */
  process(event: AdtEvent): Promise<ProcessResult>;
  /**
   * `process` for several events in order, with one durable commit (one fsync) for all of them: each event still
   * gets its own state change, as if processed alone. When any event fails, the batch writes nothing and every event
   * is processed again on its own, so one bad message cannot lose the others. Durable when it resolves.
   */
  processBatch(events: readonly AdtEvent[]): Promise<BatchResult[]>;
  /**
   * Decides the deferred events (pre-registrations) whose time has come. With several instances each is decided by
   * one of them: the others find it gone and pass over it.
   */
  releaseDue(): Promise<ProcessResult>;
  /** Decides the held events again (after the site configuration changed); those still not addressable stay held. */
  releaseHeld(): Promise<ProcessResult>;
  /** Decides with `site` from now on: a configuration fixed while the engine runs (the advis monitor's release). */
  useSite(site: Site): void;
  /** The key the store finds a patient's stays by: a keyed hash of the CPR number (the CPR itself is never stored). */
  patientKey(cpr: string): string;
}

/** The event each cancellation undoes (HL7 v2.5 ch. 3): a pending pre-registration of it is withdrawn. */
const CANCELS: Record<string, string[]> = { A11: ['A01', 'A04'], A12: ['A02'], A13: ['A03'], A52: ['A21'], A53: ['A22'] };

const NO_SAVEPOINTS = { savepoints: false };

/** An event more than this far in the future is a pre-registration (S.BR13): decided when its time comes. */
const DEFER_TOLERANCE_MS = 60_000;

/** How the decision's commit treats the idempotency record and the queue the event came from. */
type Origin = { kind: 'new' } | { kind: 'deferred'; id: number } | { kind: 'held'; id: number };

export function createAdvisEngine(options: EngineOptions): AdvisEngine {
  const { store, validator } = options;
  let site = options.site;
  const now = options.now ?? (() => new Date());
  const newId = options.newId ?? (() => crypto.randomUUID());
  // The key object made once: from the secret's text, every hash would import the key again.
  const hashKey = createSecretKey(Buffer.from(options.patientKeySecret, 'utf8'));
  const patientKey = (cpr: string): string => createHmac('sha256', hashKey).update(cpr).digest('hex');
  const merge = (results: ProcessResult[]): ProcessResult => ({
    outcomes: results.flatMap((r) => r.outcomes),
    notifications: results.flatMap((r) => r.notifications),
  });

  function baseOutcome(event: AdtEvent) {
    return { version: ADVIS_OUTCOME_VERSION, idempotencyKey: event.idempotencyKey, event: event.event, stayKey: event.visit.stayKey } as const;
  }

  /** The idempotency record: inserted for a new message, replaced when a deferred or held one is finally decided. */
  function processedPart(event: AdtEvent, origin: Origin, outcomes: AdvisOutcome[], at: Date): StoreChange {
    const record = { key: event.idempotencyKey, outcome: { outcomes } satisfies ProcessedRecord, at: at.toISOString() };
    return {
      ...(origin.kind === 'new' ? { processed: record } : { processedUpdate: record }),
      ...(origin.kind === 'deferred' ? { deferredRemove: [origin.id] } : {}),
      ...(origin.kind === 'held' ? { heldRemove: [origin.id] } : {}),
    };
  }

  /** What a transaction about this event locks: its patient, so every decision about one patient is taken in turn. */
  const lockKey = (event: AdtEvent): string =>
    event.patient.cpr ? `patient:${patientKey(event.patient.cpr)}` : event.visit.stayKey ? `stay:${event.visit.stayKey}` : `message:${event.idempotencyKey}`;

  async function decideAndCommit(tx: StoreTransaction, event: AdtEvent, origin: Origin): Promise<ProcessResult> {
    const stay = event.visit.stayKey ? await tx.getStay(event.visit.stayKey) : undefined;
    const key = event.patient.cpr ? patientKey(event.patient.cpr) : '';
    const patientStays = key ? (await tx.staysOfPatient(key)).filter((s) => s.key !== event.visit.stayKey) : [];
    const decision = decide({ event, stay, patientStays, patientKey: key, site, newId });
    const base = baseOutcome(event);
    const at = now();

    if (decision.kind === 'none') {
      // Released again but still not addressable: it stays held, nothing changes.
      if (origin.kind === 'held' && decision.held) return { outcomes: [], notifications: [] };
      const outcome: AdvisOutcome = { ...base, advis: null, reason: decision.reason, ...(decision.held ? { held: true } : {}) };
      await tx.commit({
        ...processedPart(event, origin, [outcome], at),
        audit: [auditRow(outcome, decision.held ? 'held' : 'none', at)],
        ...(decision.stay ? { stays: [decision.stay] } : {}),
        ...(decision.held ? { heldAdd: [{ idempotencyKey: event.idempotencyKey, reason: decision.reason, payload: event, createdAt: at.toISOString() }] } : {}),
      });
      return { outcomes: [outcome], notifications: [] };
    }

    const { plan } = decision;
    const sentAt = copenhagenTime(at);
    const built = buildHospitalNotification(
      { ...plan, patient: { cpr: event.patient.cpr!, family: event.patient.family ?? '' }, previous: decision.stay.provenance },
      sentAt,
      newId,
    );
    const result = validator.validate(built.bundle);
    if (!result.valid) {
      // Recorded by `recordingInvalid`, after this transaction is undone.
      throw new InvalidNotificationError(plan.advis, result.issues.filter((i) => i.severity === 'error'));
    }
    const bundleId = built.bundle.id!;
    const nextStay: StayState = {
      ...decision.stay,
      provenance: [...decision.stay.provenance, built.provenance],
      sent: [
        ...decision.stay.sent,
        {
          advis: plan.advis,
          trigger: event.event,
          messageHeaderId: built.messageHeaderId,
          bundleId,
          sentAt,
          receiver: plan.receiver,
          department: decision.stay.department,
          hospital: decision.stay.hospital,
          encounter: plan.encounter,
          ...(plan.deceased !== undefined ? { deceased: plan.deceased } : {}),
        },
      ],
    };
    const outcome: AdvisOutcome = {
      ...base,
      advis: plan.advis,
      messageHeaderId: built.messageHeaderId,
      bundleId,
      receiver: plan.receiver,
      episodeId: plan.episode.value,
    };
    await tx.commit({
      ...processedPart(event, origin, [outcome], at),
      stays: [...(decision.closes ?? []), nextStay],
      outbox: [
        {
          messageHeaderId: built.messageHeaderId,
          bundleId,
          stayKey: nextStay.key,
          advis: plan.advis,
          receiverGln: plan.receiver.gln,
          receiverSor: plan.receiver.sor,
          format: 'json',
          body: JSON.stringify(built.bundle),
          createdAt: at.toISOString(),
        },
      ],
      audit: [auditRow(outcome, 'advis', at)],
    });
    return { outcomes: [outcome], notifications: [{ outcome, bundle: built.bundle }] };
  }

  /** A cancellation of an event still waiting as a pre-registration removes it: neither ever gives an advis. */
  async function withdrawPreRegistration(tx: StoreTransaction, event: AdtEvent, at: Date): Promise<ProcessResult | undefined> {
    const cancels = CANCELS[event.event];
    if (!cancels || !event.visit.stayKey) return undefined;
    const pending = (await tx.deferredOfStay<AdtEvent>(event.visit.stayKey)).filter((d) => cancels.includes(d.payload.event));
    if (!pending.length) return undefined;
    const target = pending[pending.length - 1];
    const outcome: AdvisOutcome = { ...baseOutcome(event), advis: null, reason: 'pre-registration-cancelled' };
    const withdrawnOutcome: AdvisOutcome = { ...baseOutcome(target.payload), advis: null, reason: 'pre-registration-cancelled' };
    await tx.commit({
      processed: { key: event.idempotencyKey, outcome: { outcomes: [outcome] } satisfies ProcessedRecord, at: at.toISOString() },
      processedUpdate: { key: target.idempotencyKey, outcome: { outcomes: [withdrawnOutcome] } satisfies ProcessedRecord, at: at.toISOString() },
      deferredRemove: [target.id],
      audit: [auditRow(outcome, 'none', at), auditRow(withdrawnOutcome, 'none', at)],
    });
    return { outcomes: [outcome], notifications: [] };
  }

  /** Decides one ADT event in `tx`, or replays its stored outcome, or defers it when its time lies in the future. */
  async function processIn(tx: StoreTransaction, event: AdtEvent): Promise<ProcessResult> {
    await tx.lock(lockKey(event));
    const replay = await tx.getProcessed<ProcessedRecord>(event.idempotencyKey);
    if (replay) {
      const outcomes = replay.outcome.outcomes.map((o) => ({ ...o, replayed: true }));
      await tx.commit({ audit: outcomes.map((o) => auditRow(o, 'replayed', now())) });
      return { outcomes, notifications: [] };
    }
    const at = now();
    if (event.eventTime && Date.parse(event.eventTime) > at.getTime() + DEFER_TOLERANCE_MS) {
      const outcome: AdvisOutcome = { ...baseOutcome(event), advis: null, reason: 'deferred', deferredUntil: event.eventTime };
      await tx.commit({
        processed: { key: event.idempotencyKey, outcome: { outcomes: [outcome] } satisfies ProcessedRecord, at: at.toISOString() },
        deferredAdd: [{ idempotencyKey: event.idempotencyKey, stayKey: event.visit.stayKey, dueAt: event.eventTime, payload: event, createdAt: at.toISOString() }],
        audit: [auditRow(outcome, 'deferred', at)],
      });
      return { outcomes: [outcome], notifications: [] };
    }
    const withdrawn = await withdrawPreRegistration(tx, event, at);
    if (withdrawn) return withdrawn;
    return decideAndCommit(tx, event, { kind: 'new' });
  }

  /**
   * Runs `work` for `event`; a Bundle that failed validation undid the transaction, and is recorded in the audit
   * trail afterwards, in a commit of its own, before the error goes on to the caller.
   */
  async function recordingInvalid<T>(event: AdtEvent, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof InvalidNotificationError) {
        const row = auditRow({ ...baseOutcome(event), advis: error.advis as AdvisOutcome['advis'] }, 'error', now());
        await store.commit({ audit: [{ ...row, detail: error.issues.map((i) => i.path).join(', ') }] });
      }
      throw error;
    }
  }

    // Without savepoints: a decision whose commit fails is given up whole (and a batch falls back to one by one).
  const process = (event: AdtEvent): Promise<ProcessResult> => recordingInvalid(event, () => store.transaction((tx) => processIn(tx, event), NO_SAVEPOINTS));

  const alone = async (event: AdtEvent): Promise<BatchResult> => {
    try {
      return { ok: true, result: await process(event) };
    } catch (error) {
      return { ok: false, error };
    }
  };

  /** A queued event decided in a transaction of its own; one another instance has decided meanwhile is passed over. */
  async function release(event: AdtEvent, origin: Exclude<Origin, { kind: 'new' }>): Promise<ProcessResult> {
    try {
      return await recordingInvalid(event, () =>
        store.transaction(async (tx) => {
          await tx.lock(lockKey(event));
          return decideAndCommit(tx, event, origin);
        }, NO_SAVEPOINTS),
      );
    } catch (error) {
      if (error instanceof StoreError && error.code === 'not-found') return { outcomes: [], notifications: [] };
      throw error;
    }
  }

  return {
    process,

    async processBatch(events) {
      if (events.length < 2) return Promise.all(events.map(alone));
      try {
        return await store.transaction(async (tx) => {
          const results: BatchResult[] = [];
          for (const event of events) results.push({ ok: true, result: await processIn(tx, event) });
          return results;
        }, NO_SAVEPOINTS);
      } catch {
        // The batch wrote nothing; alone, each event commits or fails by itself (and says why).
        const results: BatchResult[] = [];
        for (const event of events) results.push(await alone(event));
        return results;
      }
    },

    async releaseDue() {
      const results: ProcessResult[] = [];
      for (const d of await store.dueDeferred<AdtEvent>(now(), 1000)) results.push(await release(d.payload, { kind: 'deferred', id: d.id }));
      return merge(results);
    },

    async releaseHeld() {
      const results: ProcessResult[] = [];
      for (const h of await store.held<AdtEvent>()) results.push(await release(h.payload, { kind: 'held', id: h.id }));
      return merge(results);
    },

    useSite(next) {
      site = next;
    },

    patientKey,
  };
}

function auditRow(
  outcome: Pick<AdvisOutcome, 'idempotencyKey' | 'event' | 'stayKey' | 'advis' | 'reason' | 'messageHeaderId' | 'receiver'>,
  kind: AuditOutcome,
  at: Date,
): AuditEntry {
  return {
    at: at.toISOString(),
    idempotencyKey: outcome.idempotencyKey,
    event: outcome.event,
    stayKey: outcome.stayKey,
    outcome: kind,
    advis: outcome.advis ?? null,
    reason: outcome.reason ?? null,
    messageHeaderId: outcome.messageHeaderId ?? null,
    receiverGln: outcome.receiver?.gln ?? null,
  };
}
