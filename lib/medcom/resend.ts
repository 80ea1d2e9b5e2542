// MedCom's reliable-messaging rules for the sender, as pure decisions (MedCom governance 020, 032, 040, 043;
// docs/delivery.md says where those documents disagree and what is chosen here). The delivery worker owns the clock,
// the store and the network; these functions only say what to do next.
//
// - No acknowledgement within `ackTimeoutMs` (MedCom: 30 minutes), or a transient-error acknowledgement: resend,
//   with a new Bundle.id and new send timestamps, the MessageHeader.id and everything else unchanged (MR7.R, MR8.R),
//   or, with `resendAs: 'new-message'`, as a new message that revises the one before (TouchStone PF-send-tec-03;
//   docs/delivery.md §4 says which document wants which).
// - At most `maxResends` resends for both reasons together (MedCom 040: 3), then the message has failed.
// - fatal-error: the receiver rejected the content and resending it unchanged cannot help; failed at once.
// - A network error (the envelope never reached VANS, the REST endpoint did not answer) is not a transmission: retry
//   with exponential back-off, a cap and jitter, without counting it as a resend.
//
// `retryPolicyFrom` reads the policy from the settings a person writes (the `medcom out` node's fields): the units people
// think in, blanks for MedCom's defaults, and every wrong value named by its field.
//
// The decisions read two fields an outbox entry has: `attempts` = transmissions handed to the network (1 after the
// first send, so resends = attempts - 1), and, while the entry is `sent`, `nextAttemptAt` = when its
// acknowledgement is due (see `ackDeadline`).

import type { Bundle } from 'fhir/r4';
import type { AcknowledgementCode } from './acknowledgement';
import { currentProvenance, messageHeaderOf, readBundle, writeBundle, type WireFormat } from './message';

/**
 * How a message goes again. `same-message`: the same MessageHeader.id, a new Bundle.id (governance 040 MR7/MR8, the
 * receiver recognises the duplicate). `new-message`: a new MessageHeader.id and a Provenance entry that is a
 * `revision` of the transmission before (what TouchStone PF-send-tec-03 checks).
 */
export type ResendAs = 'same-message' | 'new-message';
export const RESEND_AS: readonly ResendAs[] = ['same-message', 'new-message'];

export interface RetryPolicy {
  /** How long to wait for an acknowledgement before resending. MedCom: 30 minutes. */
  ackTimeoutMs: number;
  /** Resends after the first transmission, for silence and transient errors together. MedCom 040: 3 (020/043: 2). */
  maxResends: number;
  /** Negative acknowledgements that lead to a resend; any other fails the message at once. */
  resendOn: readonly Exclude<AcknowledgementCode, 'ok'>[];
  /** How long to wait before resending after a transient-error ("wait and try again"). */
  transientErrorDelayMs: number;
  /** Network retries: the first delay, doubled per consecutive failure up to the cap. */
  networkBaseDelayMs: number;
  networkMaxDelayMs: number;
  resendAs: ResendAs;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  ackTimeoutMs: 30 * 60_000,
  maxResends: 3,
  resendOn: Object.freeze(['transient-error'] as const),
  transientErrorDelayMs: 5 * 60_000,
  networkBaseDelayMs: 10_000,
  networkMaxDelayMs: 15 * 60_000,
  resendAs: 'same-message',
});

/**
 * The retry settings as people write them: the `medcom out` node's fields, saved in a flow file. Each is a number or
 * numeric text in the unit named, or blank/missing for MedCom's default; they come from JSON a person may have edited,
 * hence `unknown`.
 */
export interface RetrySettings {
  /** Minutes to wait for an acknowledgement (default 30). */
  ackTimeout?: unknown;
  /** Resends after the first transmission, a whole number from 0 to 3 (default 3). */
  maxResends?: unknown;
  /** The negative acknowledgements that are resent: `transient-error`, `fatal-error` or both, comma-separated. */
  resendOn?: unknown;
  /** Minutes to wait before resending after such an acknowledgement (default 5). */
  transientErrorDelay?: unknown;
  /** Seconds before the first network retry (default 10). */
  networkBaseDelay?: unknown;
  /** Minutes: the longest pause between network retries (default 15). */
  networkMaxDelay?: unknown;
  /** `same-message` (default) or `new-message` (see ResendAs). */
  resendAs?: unknown;
}

export interface RetrySettingsProblem {
  field: keyof RetrySettings;
  message: string;
}

/** The editor's English labels, so that an error names the field as the person saw it too. */
const LABELS: Record<keyof RetrySettings, string> = {
  ackTimeout: 'Ack timeout',
  maxResends: 'Max resends',
  resendOn: 'Resend on',
  transientErrorDelay: 'Resend after',
  networkBaseDelay: 'Network retry, first delay',
  networkMaxDelay: 'Network retry, longest delay',
  resendAs: 'Resend as',
};

export class RetrySettingsError extends Error {
  constructor(readonly problems: RetrySettingsProblem[]) {
    super(`the resend settings have ${problems.length} error(s): ${problems.map((p) => `${p.field} (${LABELS[p.field]}): ${p.message}`).join('; ')}`);
    this.name = 'RetrySettingsError';
  }
}

type ResendableCode = RetryPolicy['resendOn'][number];
const RESENDABLE: readonly ResendableCode[] = ['transient-error', 'fatal-error'];

/**
 * What each numeric setting may be, in its own unit, and how many ms one unit is (1 for a count). The bounds keep a
 * policy the worker can run: every MedCom document allows at most 3 resends (§5.3 of docs/delivery.md); a network
 * retry sooner than a second would spin on a dead endpoint; a day is longer than any pause MedCom has in mind.
 */
const LIMITS = {
  ackTimeout: { unitMs: 60_000, min: 0, minIncluded: false, max: 1440, integer: false, text: 'more than 0 and at most 1440 minutes (a day)' },
  maxResends: { unitMs: 1, min: 0, minIncluded: true, max: 3, integer: true, text: "a whole number from 0 to 3 (MedCom's documents allow at most 3)" },
  transientErrorDelay: { unitMs: 60_000, min: 0, minIncluded: true, max: 1440, integer: false, text: 'from 0 to 1440 minutes (a day)' },
  networkBaseDelay: { unitMs: 1000, min: 1, minIncluded: true, max: 3600, integer: false, text: 'from 1 to 3600 seconds' },
  networkMaxDelay: { unitMs: 60_000, min: 0, minIncluded: false, max: 1440, integer: false, text: 'more than 0 and at most 1440 minutes (a day)' },
} as const;

const isBlank = (value: unknown): boolean => value === undefined || value === null || (typeof value === 'string' && value.trim() === '');

/**
 * The policy the settings describe, MedCom's default (DEFAULT_RETRY_POLICY) for each one left blank. Throws
 * RetrySettingsError naming every wrong setting at once.
 */
export function retryPolicyFrom(settings: RetrySettings): RetryPolicy {
  const problems: RetrySettingsProblem[] = [];
  /** The setting in ms (or as a count), or the default when blank or wrong (then with a problem). */
  const number = (field: keyof typeof LIMITS, fallback: number): number => {
    const raw = settings[field];
    if (isBlank(raw)) return fallback;
    const limits = LIMITS[field];
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw.trim()) : Number.NaN;
    if (!Number.isFinite(value)) {
      problems.push({ field, message: `${JSON.stringify(raw)} is not a number; it must be ${limits.text}` });
      return fallback;
    }
    const inRange = (limits.minIncluded ? value >= limits.min : value > limits.min) && value <= limits.max && (!limits.integer || Number.isInteger(value));
    if (!inRange) {
      problems.push({ field, message: `${value} is out of range; it must be ${limits.text}` });
      return fallback;
    }
    return value * limits.unitMs;
  };

  const policy: RetryPolicy = {
    ackTimeoutMs: number('ackTimeout', DEFAULT_RETRY_POLICY.ackTimeoutMs),
    maxResends: number('maxResends', DEFAULT_RETRY_POLICY.maxResends),
    resendOn: resendOnFrom(settings.resendOn, problems),
    transientErrorDelayMs: number('transientErrorDelay', DEFAULT_RETRY_POLICY.transientErrorDelayMs),
    networkBaseDelayMs: number('networkBaseDelay', DEFAULT_RETRY_POLICY.networkBaseDelayMs),
    networkMaxDelayMs: number('networkMaxDelay', DEFAULT_RETRY_POLICY.networkMaxDelayMs),
    resendAs: resendAsFrom(settings.resendAs, problems),
  };
  if (!problems.some((p) => p.field.startsWith('network')) && policy.networkBaseDelayMs > policy.networkMaxDelayMs) {
    problems.push({ field: 'networkMaxDelay', message: `${policy.networkMaxDelayMs / 60_000} minutes is shorter than the first delay (networkBaseDelay, ${policy.networkBaseDelayMs / 1000} s)` });
  }
  if (problems.length) throw new RetrySettingsError(problems);
  return policy;
}

function resendOnFrom(raw: unknown, problems: RetrySettingsProblem[]): RetryPolicy['resendOn'] {
  if (isBlank(raw)) return DEFAULT_RETRY_POLICY.resendOn;
  const codes = typeof raw === 'string' ? raw.split(/[\s,]+/).filter(Boolean) : [];
  if (!codes.length || codes.some((code) => !(RESENDABLE as readonly string[]).includes(code))) {
    problems.push({ field: 'resendOn', message: `${JSON.stringify(raw)} is not transient-error, fatal-error or both (comma-separated)` });
    return DEFAULT_RETRY_POLICY.resendOn;
  }
  return RESENDABLE.filter((code) => codes.includes(code));
}

function resendAsFrom(raw: unknown, problems: RetrySettingsProblem[]): ResendAs {
  if (isBlank(raw)) return DEFAULT_RETRY_POLICY.resendAs;
  if ((RESEND_AS as readonly unknown[]).includes(raw)) return raw as ResendAs;
  problems.push({ field: 'resendAs', message: `${JSON.stringify(raw)} is not same-message or new-message` });
  return DEFAULT_RETRY_POLICY.resendAs;
}

/** What the decisions need of an outgoing message; an outbox entry has these fields. */
export interface DeliveryState {
  status: 'queued' | 'sent' | 'delivered' | 'failed' | 'dead';
  /** Transmissions handed to the network: 0 before the first send, 1 after it, 2 after the first resend. */
  attempts: number;
  /** While `sent`: when the acknowledgement is due (`ackDeadline` of the send time). */
  nextAttemptAt: string;
}

/** Resend at `at` (the entry's next attempt); the message is rebuilt with `resendMessage` when it goes. */
export interface ResendDecision {
  action: 'resend';
  at: string;
  /** Which resend this is: 1 for the first. */
  resend: number;
}

export interface FailedDecision {
  action: 'failed';
  /** `rejected`: a negative acknowledgement MedCom says not to resend on; `resends-exhausted`: maxResends used up. */
  reason: 'rejected' | 'resends-exhausted';
}

export type SilenceDecision = { action: 'wait'; until: string } | ResendDecision | FailedDecision;

export type AcknowledgementDecision =
  | { action: 'delivered' }
  | ResendDecision
  | FailedDecision
  /** The message was settled before (delivered or failed): a repeated acknowledgement, to log and keep, nothing else. */
  | { action: 'duplicate'; status: 'delivered' | 'dead' }
  /** No message of ours that was sent has this MessageHeader.id: to log and keep for an operator. */
  | { action: 'unknown' };

/** When the acknowledgement of a transmission at `sentAt` is due: the `nextAttemptAt` of a `sent` entry. */
export function ackDeadline(sentAt: Date, policy: RetryPolicy = DEFAULT_RETRY_POLICY): string {
  return new Date(sentAt.getTime() + policy.ackTimeoutMs).toISOString();
}

/** For a message awaiting its acknowledgement: wait, resend now, or give up. */
export function decideOnSilence(state: Pick<DeliveryState, 'attempts' | 'nextAttemptAt'>, now: Date, policy: RetryPolicy = DEFAULT_RETRY_POLICY): SilenceDecision {
  if (now.getTime() < Date.parse(state.nextAttemptAt)) return { action: 'wait', until: state.nextAttemptAt };
  return resendOrFail(state.attempts, now, policy);
}

/**
 * For an acknowledgement that arrived: `state` is the outbox entry with the MessageHeader.id it acknowledges, or
 * undefined when there is none. A late acknowledgement of an earlier transmission counts like one of the latest:
 * the receiver answers every copy of a message with the same content.
 */
export function decideOnAcknowledgement(
  ack: { code: AcknowledgementCode },
  state: Pick<DeliveryState, 'status' | 'attempts'> | undefined,
  now: Date,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): AcknowledgementDecision {
  if (!state || state.attempts < 1) return { action: 'unknown' };
  if (state.status === 'delivered' || state.status === 'dead') return { action: 'duplicate', status: state.status };
  if (ack.code === 'ok') return { action: 'delivered' };
  if (!policy.resendOn.includes(ack.code)) return { action: 'failed', reason: 'rejected' };
  return resendOrFail(state.attempts, new Date(now.getTime() + policy.transientErrorDelayMs), policy);
}

function resendOrFail(attempts: number, at: Date, policy: RetryPolicy): ResendDecision | FailedDecision {
  const resend = attempts; // attempts - 1 resends so far; this would be the next
  return resend <= policy.maxResends ? { action: 'resend', at: at.toISOString(), resend } : { action: 'failed', reason: 'resends-exhausted' };
}

/**
 * The delay before retrying after the `failures`-th consecutive network failure (1 for the first), in ms:
 * base × 2^(failures-1), capped, of which the upper half is random ("equal jitter"), so that many messages that
 * failed together do not retry together, and no retry comes sooner than half the nominal delay.
 */
export function networkRetryDelay(failures: number, policy: RetryPolicy = DEFAULT_RETRY_POLICY, random: () => number = Math.random): number {
  const nominal = Math.min(policy.networkMaxDelayMs, policy.networkBaseDelayMs * 2 ** Math.max(0, failures - 1));
  return Math.round(nominal / 2 + random() * (nominal / 2));
}

/**
 * The message to send again: a copy with a new Bundle.id (the envelope id) and Bundle.timestamp `now`.
 *
 * `same-message`: the send time of the message's own Provenance (occurredDateTime and recorded) becomes `now`; the
 * MessageHeader.id stays: it is how the receiver knows the message as a duplicate and how its acknowledgement finds
 * ours. Carried-forward Provenances of earlier messages are not touched.
 *
 * `new-message`: a new MessageHeader.id, and a new Provenance for it, sent `now`, with the activity and agent of the
 * one before and `entity` a `revision` of the transmission before; that one's Provenance stays, as an earlier
 * message's does. Each further resend revises the one before it, so the chain grows by one per transmission.
 */
export function resendMessage(bundle: Bundle, now: string, newId: () => string = () => crypto.randomUUID(), as: ResendAs = 'same-message'): Bundle {
  const copy = structuredClone(bundle);
  const provenance = currentProvenance(copy);
  const before = provenance.occurredDateTime;
  copy.id = newId();
  copy.timestamp = now;
  // The narrative shows the send time (lib/fhir/bundle.ts writes it); keep it telling the truth.
  const retimed = (div: string): string => (before ? div.split(before).join(now) : div);
  if (as === 'same-message') {
    provenance.occurredDateTime = now;
    provenance.recorded = now;
    if (provenance.text?.div) provenance.text.div = retimed(provenance.text.div);
    return copy;
  }
  const header = messageHeaderOf(copy);
  const previous = header.id!;
  const entry = copy.entry!.find((e) => e.resource === header)!;
  header.id = newId();
  if (entry.fullUrl) entry.fullUrl = entry.fullUrl.replace(previous, header.id);
  const revision = structuredClone(provenance);
  revision.id = newId();
  revision.target = [{ reference: `MessageHeader/${header.id}` }];
  revision.occurredDateTime = now;
  revision.recorded = now;
  revision.entity = [{ role: 'revision', what: { reference: `MessageHeader/${previous}` } }];
  if (revision.text?.div) revision.text.div = retimed(revision.text.div);
  const provenanceEntry = copy.entry!.find((e) => e.resource === provenance)!;
  copy.entry!.push({ ...(provenanceEntry.fullUrl && { fullUrl: provenanceEntry.fullUrl.replace(provenance.id!, revision.id) }), resource: revision });
  return copy;
}

/**
 * `resendMessage` on a serialised message: the new Bundle.id and body, as an outbox update's `resend` wants them, and
 * for a new message its MessageHeader.id, by which its acknowledgement will come.
 */
export function resendBody(body: string, format: WireFormat, now: string, newId?: () => string, as: ResendAs = 'same-message'): { bundleId: string; body: string; messageHeaderId?: string } {
  const resent = resendMessage(readBundle(body, format), now, newId, as);
  return { bundleId: resent.id!, body: writeBundle(resent, format), ...(as === 'new-message' && { messageHeaderId: messageHeaderOf(resent).id! }) };
}
