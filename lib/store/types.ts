// The store contract: everything the engine must remember across restarts (stays, processed ADT messages, the
// outbox, deferred events, held outcomes, the audit trail, shared secrets) behind one asynchronous interface, with two
// implementations: SQLite (./sqlite.ts, the embedded default for one machine) and PostgreSQL (./postgres.ts, shared by
// several Node-RED instances). A write that resolves is durable: the engine acknowledges the EPR right after it.
//
// Several writers. Work that reads and then writes on what it read (the engine deciding about a patient, the outbox
// worker settling a send) runs in `transaction`, holding `lock` on the key it decides about, so two instances (or two
// processes on one SQLite file) never decide about one patient at the same time. The outbox is drained by whoever
// claims its entries (`claimDue`): a claim is a lease that runs out, so an instance that dies leaves nothing stuck.
//
// Times in records are ISO 8601 strings with an offset; the store keeps the instant and returns it in UTC
// (`2025-03-11T07:00:02.000Z`), so equal instants compare equal whatever offset they were written with.
// Arguments that are instants to compare against ("now") are Dates.

import type { NoAdvisReason } from '../advis/reasons';
import type { AdvisType, StayState } from '../advis/types';

/** A processed ADT message: its idempotency key and the outcome the engine replays when the message comes again. */
export interface ProcessedMessage<T = unknown> {
  /** MSH-3|MSH-4|MSH-10. */
  key: string;
  outcome: T;
  at: string;
}

/**
 * Where an outgoing message is. `failed`: the last attempt failed and it is tried again at `nextAttemptAt`;
 * `sent`: handed to the network, awaiting MedCom's acknowledgement; `delivered`: positively acknowledged;
 * `dead`: given up, for an operator to look at.
 */
export type OutboxStatus = 'queued' | 'sent' | 'delivered' | 'failed' | 'dead';

/** The wire format of the body: FHIR JSON, or FHIR XML for receivers that want it. */
export type OutboxFormat = 'json' | 'xml';

export interface NewOutboxEntry {
  messageHeaderId: string;
  bundleId: string;
  stayKey: string;
  advis: AdvisType;
  receiverGln: string;
  receiverSor: string;
  format: OutboxFormat;
  /** The serialised Bundle, exactly as it is to be sent. */
  body: string;
  createdAt: string;
  /** When it may first be sent; default `createdAt`. */
  nextAttemptAt?: string;
}

export interface OutboxEntry extends Omit<Required<NewOutboxEntry>, 'body'> {
  /** The Bundle as sent; null once retention removed it from a delivered message (its summary, this entry, stays longer). */
  body: string | null;
  /** Global order of creation: messages of one stay leave in this order. */
  id: number;
  status: OutboxStatus;
  attempts: number;
  /** Failed attempts to hand the message to the network since it last got through: the back-off's exponent. */
  networkFailures: number;
  lastError: string | null;
}

/** An outbox entry due to be sent and claimed for one sender, as `claimDue` names it. */
export type DueMessage = Pick<OutboxEntry, 'messageHeaderId' | 'stayKey'>;

/** Who claims outbox entries, and for how long: after `leaseMs` without a result another sender may take them. */
export interface OutboxClaim {
  /** Unique per running outbox worker (host, process, start). */
  owner: string;
  leaseMs: number;
}

/** An outgoing message without its Bundle: what lists show. */
export type OutboxSummary = Omit<OutboxEntry, 'body'>;

/** Which outgoing messages to list; every given field must match. Newest first. */
export interface OutboxSearch {
  /** The MessageHeader.id of the message or of any of its transmissions. */
  messageHeaderId?: string;
  stayKey?: string;
  /** The messages of one patient's stays, by the patient key (the keyed hash of the CPR number). */
  patientKey?: string;
  advis?: AdvisType;
  receiverGln?: string;
  status?: OutboxStatus;
  /** Created at or after. */
  from?: Date;
  /** Created before. */
  to?: Date;
  /** Only rows older than this id: the last id of the previous page. */
  beforeId?: number;
  /** At most this many rows; default 100. */
  limit?: number;
}

/** How many outgoing messages one receiver has in one status. */
export interface OutboxCount {
  status: OutboxStatus;
  receiverGln: string;
  count: number;
}

/** What a person did: viewed personal data, searched by CPR number, or acted on a message. */
export type OperatorAction = 'view-personal' | 'search-personal' | 'resend' | 'dead-letter' | 'release' | 'export';

/** One line of the audit of people (who looked at what, who did what). Holds no CPR number: a patient is named by key. */
export interface OperatorAuditEntry {
  at: string;
  /** The Node-RED user name, or how the command line was run (`cli:<os user>`). */
  user: string;
  action: OperatorAction;
  /** What it was about: `message:<MessageHeader.id>`, `stay:<key>`, `patient:<patient key>`, `held:<id>`. */
  target: string | null;
  detail: string | null;
}

export interface OperatorAuditRecord extends OperatorAuditEntry {
  id: number;
}

export interface OperatorAuditFilter {
  user?: string;
  action?: OperatorAction;
  target?: string;
  since?: Date;
  /** Only rows older than this id (newest first). */
  beforeId?: number;
  /** At most this many rows; default 1000. */
  limit?: number;
}

/**
 * How long settled records are kept, in days. Nothing that is still to be settled is ever removed: messages queued,
 * sent, failed or dead, held and deferred events, their idempotency records and audit rows.
 */
export interface RetentionPolicy {
  /** The Bundle of a delivered message. */
  bundleDays: number;
  /** The summary row of a delivered message (its outbox entry without the Bundle); at least `bundleDays`. */
  summaryDays: number;
  /** The processing and delivery audit trail. */
  auditDays: number;
  /** The audit of people. */
  operatorAuditDays: number;
  /** Idempotency records of processed ADT messages: how long a repeat is still recognised. */
  processedDays: number;
}

/** How many rows one pruning step removed, by kind. */
export interface PruneResult {
  bundles: number;
  summaries: number;
  stays: number;
  processed: number;
  audit: number;
  operatorAudit: number;
}

/** A change to one outbox entry, found by its MessageHeader.id (what acknowledgements refer to). */
export interface OutboxUpdate {
  messageHeaderId: string;
  status?: OutboxStatus;
  attempts?: number;
  networkFailures?: number;
  nextAttemptAt?: string;
  lastError?: string | null;
  /**
   * A resend gets a new Bundle.id, so the body changes with it; sent as a new message (`resendAs: 'new-message'`) it
   * has a new MessageHeader.id too, by which the entry is then found as well (`getOutbox`).
   */
  resend?: { bundleId: string; body: string; messageHeaderId?: string };
}

/** An ADT event that cannot be decided yet (pre-registration): it is processed when `dueAt` has passed. */
export interface NewDeferredEvent<T = unknown> {
  idempotencyKey: string;
  stayKey: string | null;
  dueAt: string;
  /** The AdtEvent, replayed through the engine when due. */
  payload: T;
  createdAt: string;
}

export interface DeferredEvent<T = unknown> extends NewDeferredEvent<T> {
  id: number;
}

/** An advis that could not be addressed (unknown municipality or department), kept until configuration is fixed. */
export interface NewHeldOutcome<T = unknown> {
  idempotencyKey: string;
  reason: NoAdvisReason;
  /** The AdtEvent, processed again on release. */
  payload: T;
  createdAt: string;
}

export interface HeldOutcome<T = unknown> extends NewHeldOutcome<T> {
  id: number;
}

/** What happened to an ADT message. */
export type ProcessingOutcome = 'advis' | 'none' | 'held' | 'deferred' | 'error' | 'replayed';
/**
 * What happened to an outgoing message: handed to the network, positively acknowledged, an attempt failed (retried),
 * sent again with a new Bundle.id, or given up; `acknowledged`: an acknowledgement that settled nothing by itself (a
 * transient-error, a duplicate, one for a message we do not know), kept for the record; `queued`: queued again by an
 * operator.
 */
export type DeliveryOutcome = 'sent' | 'delivered' | 'failed' | 'resent' | 'dead' | 'acknowledged' | 'queued';
export type AuditOutcome = ProcessingOutcome | DeliveryOutcome;

/** One line of the audit trail. Holds no CPR number: the stay key and message ids lead to the rest. */
export interface AuditEntry {
  at: string;
  outcome: AuditOutcome;
  idempotencyKey?: string | null;
  /** The ADT trigger event, e.g. `A01`. */
  event?: string | null;
  stayKey?: string | null;
  advis?: AdvisType | null;
  /** A reason code: a NoAdvisReason for processing, the delivery worker's code for delivery. */
  reason?: string | null;
  messageHeaderId?: string | null;
  receiverGln?: string | null;
  /** Free text for people, e.g. the validation paths that failed. Never personal data. */
  detail?: string | null;
}

export interface AuditRecord extends Required<AuditEntry> {
  /** Increases with every row: a cursor for reading the trail in pages. */
  id: number;
}

/** Which audit rows to list; every given field must match. Oldest first. */
export interface AuditFilter {
  idempotencyKey?: string;
  stayKey?: string;
  messageHeaderId?: string;
  outcome?: AuditOutcome;
  /** Only rows at or after this instant. */
  since?: Date;
  /** Only rows after this id: the last id of the previous page (oldest first), or before it (newest first). */
  afterId?: number;
  /** Newest first; default oldest first. */
  newestFirst?: boolean;
  /** At most this many rows; default 1000. */
  limit?: number;
}

/**
 * Everything one processing step changes, written in ONE transaction: the stay's new state and its outgoing messages
 * are durable together or not at all. Parts are applied in the order of the fields below (removals before additions,
 * so an event can be removed and deferred again in the same change).
 */
export interface StoreChange {
  /** Fails the whole change with StoreError 'duplicate' if the key was committed before. */
  processed?: ProcessedMessage;
  /**
   * Replaces the outcome of a message committed before (a deferred or held event decided later); fails with
   * 'not-found' if there is none.
   */
  processedUpdate?: ProcessedMessage;
  /** Inserted or replaced by key. */
  stays?: StayState[];
  outbox?: NewOutboxEntry[];
  /** Fails the whole change with StoreError 'not-found' if an entry is not there. An update with a status ends any claim. */
  outboxUpdate?: OutboxUpdate[];
  /** Ids of deferred events processed by this change; fails with 'not-found' if one is already gone. */
  deferredRemove?: number[];
  deferredAdd?: NewDeferredEvent[];
  /** Ids of held outcomes released by this change; fails with 'not-found' if one is already gone. */
  heldRemove?: number[];
  heldAdd?: NewHeldOutcome[];
  audit?: AuditEntry[];
  operatorAudit?: OperatorAuditEntry[];
}

export interface StoreStats {
  kind: 'sqlite' | 'postgres';
  /** The database file (or ':memory:'), or the PostgreSQL URL without its password. */
  location: string;
  schemaVersion: number;
  /** SQLite's durability settings as the connection reports them, for status pages and to prove they took effect. */
  sqlite?: {
    settings: { journalMode: string; synchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA'; foreignKeys: boolean; busyTimeoutMs: number };
    /** Size of the database proper (pages in use and free). */
    bytes: number;
    /** Size of the write-ahead log not yet checkpointed into the database. */
    walBytes: number;
  };
  /** The database's size on disk, all tables and indexes (SQLite: with the write-ahead log). */
  bytes: number;
  rows: { stays: number; openStays: number; processed: number; outbox: number; deferred: number; held: number; audit: number; operatorAudit: number };
  outboxByStatus: Record<OutboxStatus, number>;
}

/** What can be read, alone or inside a transaction (then it sees the transaction's own writes). */
export interface StoreReads {
  getStay(key: string): Promise<StayState | undefined>;
  /** The patient's stays at every hospital, oldest first; `open: true` only those not finished or cancelled, `false` only those. */
  staysOfPatient(patientKey: string, filter?: { open?: boolean }): Promise<StayState[]>;

  /** The stored outcome of an ADT message; `T` is the engine's outcome shape, trusted, not checked. */
  getProcessed<T = unknown>(key: string): Promise<ProcessedMessage<T> | undefined>;

  /** The entry by its MessageHeader.id, or by that of any of its transmissions sent as a new message. */
  getOutbox(messageHeaderId: string): Promise<OutboxEntry | undefined>;
  /** The entry whose latest transmission had this Bundle.id (a VANS receipt names the envelope, whose id it is). */
  outboxByBundleId(bundleId: string): Promise<OutboxEntry | undefined>;
  /** Every outgoing message of a stay, in order. */
  outboxByStay(stayKey: string): Promise<OutboxEntry[]>;
  /** Outgoing messages with this status, oldest first; at most `limit` (default 1000). */
  outboxByStatus(status: OutboxStatus, limit?: number): Promise<OutboxEntry[]>;
  /** How many outgoing messages have this status: read from the status index, cheap unless the status is `delivered`. */
  countOutbox(status: OutboxStatus): Promise<number>;
  /**
   * Messages handed to the network whose acknowledgement was due by `dueBy` (status `sent`, `nextAttemptAt` passed),
   * most overdue first: what the delivery worker must resend or give up. At most `limit`.
   */
  awaitingAcknowledgement(dueBy: Date, limit: number): Promise<OutboxEntry[]>;

  /** Deferred events whose time has come, earliest first. */
  dueDeferred<T = unknown>(now: Date, limit: number): Promise<DeferredEvent<T>[]>;
  /** A stay's deferred events, earliest first: a cancellation can withdraw a pre-registration before it falls due. */
  deferredOfStay<T = unknown>(stayKey: string): Promise<DeferredEvent<T>[]>;
  /** Every held outcome, oldest first. */
  held<T = unknown>(): Promise<HeldOutcome<T>[]>;
  audit(filter?: AuditFilter): Promise<AuditRecord[]>;

  /** Outgoing messages without their Bundles, newest first. */
  searchOutbox(search: OutboxSearch): Promise<OutboxSummary[]>;
  /** How many outgoing messages each receiver has in each status (delivered ones included). */
  countOutboxByReceiver(): Promise<OutboxCount[]>;
  /** The oldest message not yet settled (queued, failed or sent), or undefined when there is none. */
  oldestUnsettled(): Promise<OutboxSummary | undefined>;
  operatorAudit(filter?: OperatorAuditFilter): Promise<OperatorAuditRecord[]>;
}

/** Reads and writes: the store itself, or one transaction of it. */
export interface StoreSession extends StoreReads {
  /**
   * Writes the change atomically, or rejects with a StoreError and writes nothing of it. On the store it is durable when
   * it resolves; in a transaction it is undone with the transaction, and a change that fails undoes only itself (a
   * savepoint), so the work may catch that and go on.
   */
  commit(change: StoreChange): Promise<void>;
}

export interface StoreTransaction extends StoreSession {
  /**
   * Waits until no other transaction, in this process or any other sharing the store, holds `key`, then holds it
   * until this transaction ends. Reads made after it see every change committed by the holder before.
   */
  lock(key: string): Promise<void>;
}

export interface AdvisStore extends StoreSession {
  readonly kind: 'sqlite' | 'postgres';
  /** The database file (or ':memory:'), or the PostgreSQL URL without its password: what logs may show. */
  readonly location: string;

  /**
   * Runs `work` in one transaction, durable with one commit (one fsync) when it resolves. If `work` rejects, nothing
   * of it is written and its error is passed on. SQLite runs one transaction at a time (reads wait for it, too);
   * PostgreSQL runs them side by side on a pool of connections, serialised only by `lock`. With `savepoints: false`
   * a commit in it that fails fails the whole transaction (it rejects with that error even if `work` caught it):
   * for work that gives up on the first failure anyway, two round trips fewer per commit on PostgreSQL.
   */
  transaction<T>(work: (tx: StoreTransaction) => Promise<T>, options?: { savepoints?: boolean }): Promise<T>;

  /**
   * Claims what may be sent now: for each stay, its oldest queued or failed entry, if that one is due and nobody
   * else's claim on it is still running; at most `limit`, oldest first. A stay's later messages wait behind it (MedCom
   * wants them in order); other stays are not held up. The claim ends with the entry's next status change or when its
   * lease runs out. Only the keys: the sender reads each entry when it sends it.
   */
  claimDue(now: Date, limit: number, claim: OutboxClaim): Promise<DueMessage[]>;

  /**
   * A named secret that must outlive restarts (e.g. the key of the patient hash): created once with `create`, then
   * always the same value, also for every instance sharing the store.
   */
  secret(name: string, create: () => string): Promise<string>;

  /**
   * Removes one batch (at most `batch` rows of each kind) of what `policy` no longer keeps at `now`, each kind in a
   * short transaction of its own, so the engine never waits long behind it. Call again until it removes nothing.
   */
  prune(now: Date, policy: RetentionPolicy, batch: number): Promise<PruneResult>;

  stats(): Promise<StoreStats>;
  close(): Promise<void>;
}
