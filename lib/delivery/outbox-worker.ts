// The outbox worker: takes the advis the engine committed to the store's outbox and drives each through a sink (the
// VANS folder or a FHIR REST endpoint) until MedCom's acknowledgement settles it, applying lib/medcom's rules for
// acknowledgements, silence, resends and network back-off. It owns the clock, the store writes and the sink calls; the
// decisions themselves are lib/medcom's pure functions (docs/delivery.md §3).
//
// Order. Messages of one stay leave in the order they were created, one at a time: a stay's next message is handed
// over only after the one before it was handed over (status `sent`) or given up; it does not wait for the
// acknowledgement. MedCom's messaging is asynchronous (an acknowledgement may take 30 minutes, and a silent receiver
// would hold a discharge advis back for the two hours of resends), and every HospitalNotification carries the
// Provenances of the stay's earlier messages, so a receiver that gets a resent admission after the discharge can still
// put them in order. Different stays go in parallel, up to `concurrency` at once.
//
// Durability. Every change of state is one store commit, written after the sink answered: a crash between the
// handover and the commit sends the message again on restart (at least once; MedCom receivers recognise the
// duplicate by its MessageHeader.id, rule MR8.R), and never loses it. A send re-reads its entry first, so an
// operator's change made meanwhile (another process, `advis outbox`) is respected.
//
// Several workers on one store (one per instance) drain the same outbox: each sends only what it claimed
// (AdvisStore.claimDue), and a claim is a lease, so the entries of a worker that died go out from another once it
// runs out. A stay's next message becomes claimable only when the one before it has been handed over, so the order
// per stay holds across instances too.
//
// Work is serialised: sending, reading the inbox, silence checks and manual actions run one after the other, so an
// acknowledgement never races the send it settles. The group commit (group-commit.ts) is the store side of sending;
// this file is MedCom's delivery policy.

import { copenhagenTime } from '../hl7/time';
import {
  ackDeadline,
  buildVansEnvelope,
  decideOnAcknowledgement,
  decideOnSilence,
  DEFAULT_RETRY_POLICY,
  MedComError,
  MIME_TYPE,
  messageHeaderOf,
  networkRetryDelay,
  parseAcknowledgement,
  parseVansEnvelope,
  partyOf,
  readBundle,
  resendBody,
  type Acknowledgement,
  type NamePostfix,
  type RetryPolicy,
  type VansReceipt,
} from '../medcom';
import type { MedComValidator } from '../fhir/validate';
import type { AdvisStore, AuditEntry, DueMessage, OutboxClaim, OutboxEntry, OutboxUpdate, StoreSession, StoreTransaction } from '../store';
import { deadLetter, requeue } from './outbox-actions';
import type { DeliveryReceipt, OutgoingMessage, Sink, SinkResponse } from './sink';
import { GroupCommit } from './group-commit';
import type { Inbox, InboxFile, InboxVerdict } from './vans-drop';

/** The body of a resend, as the outbox update records it. */
type Resend = NonNullable<OutboxUpdate['resend']>;

/** How messages leave: in a VANS envelope through a folder or SFTP sink, or as a bare Bundle POSTed to a FHIR endpoint. */
export type Transport =
  | {
      kind: 'vans';
      sink: Sink;
      /**
       * Where the VANS client leaves receipts and acknowledgements (a folder, or one on an SFTP server); without it
       * acknowledgements come by `acknowledge`.
       */
      inbox?: Inbox;
      /** The sending GLN for the envelope; default the GLN of the Bundle's MessageHeader.sender organisation. */
      senderGln?: string;
      namePostfix?: NamePostfix;
    }
  | { kind: 'rest'; sink: Sink };

export type DeliveryEventType = 'queued' | 'sent' | 'resent' | 'acknowledged' | 'failed';

/** What happened to one outgoing message; the `medcom out` node's second output. Holds no personal data. */
export interface DeliveryEvent {
  type: DeliveryEventType;
  messageHeaderId: string;
  stayKey: string;
  /** The receiving municipality's GLN. */
  receiverGln: string;
  advis: OutboxEntry['advis'];
  at: string;
  /** Transmissions so far (1 after the first send). */
  attempts: number;
  /** sent, resent: the Bundle.id of this transmission. */
  bundleId?: string;
  /** acknowledged: the acknowledgement's code. */
  code?: Acknowledgement['code'];
  /** acknowledged: when the transmission it acknowledges was handed over (absent when the answer came with it). */
  sentAt?: string;
  /**
   * failed: why. `network` (the sink could not hand it over; retried at `retryAt`), `refused` (the sink said the
   * message can never be sent as it is), `rejected` (fatal-error acknowledgement), `resends-exhausted`, `operator`.
   */
  reason?: 'network' | 'refused' | 'rejected' | 'resends-exhausted' | 'operator';
  /** failed with reason network: when it is tried again. */
  retryAt?: string;
  /** The sink's error or the acknowledgement's OperationOutcome text, for people. */
  detail?: string;
}

/** The last time the sink took a message (or the inbox was read), and the last time it could not, with why. */
export interface SinkContact {
  lastSuccess?: Date;
  lastFailure?: Date;
  lastError?: string;
}

export interface OutboxWorkerOptions {
  store: AdvisStore;
  transport: Transport;
  policy?: RetryPolicy;
  /** Stays whose messages are handed over at the same time (default 8). */
  concurrency?: number;
  /**
   * How long a claim on an entry lasts (default 60 s): after that, with no result from this worker, another may send
   * it. Longer than any send takes, including the sink's own time-outs.
   */
  leaseMs?: number;
  /** Names this worker in its claims; default a random UUID. */
  owner?: string;
  /** Validates received acknowledgements (MedCom: SHALL); findings are logged, they do not stop the acknowledgement. */
  validator?: MedComValidator;
  now?: () => Date;
  /** For network back-off jitter; tests pass a fixed one. */
  random?: () => number;
  /** Bundle.ids of resends; default random UUIDs. */
  newId?: () => string;
  onEvent?: (event: DeliveryEvent) => void;
  /** Log lines for people; never carry message bodies. */
  onLog?: (level: 'info' | 'warn' | 'error', text: string) => void;
}

/** What became of an acknowledgement handed to `acknowledge`. */
export type AcknowledgementResult = 'delivered' | 'resend' | 'failed' | 'duplicate' | 'unknown' | 'unreadable';

/** Entries fetched per store read while draining: enough to keep the sink busy without re-reading for each send. */
const BATCH_PER_SLOT = 8;
/**
 * The longest a finished send waits for others to share its group commit. Each commit of the store is an fsync, which
 * bounds the drain rate; a few milliseconds more before a message counts as sent is nothing beside MedCom's
 * 30-minute acknowledgement time, and a send with no other at the sink commits at once.
 */
const GROUP_COMMIT_WAIT_MS = 10;
/** Overdue messages looked at per silence check. */
const SILENCE_BATCH = 500;
const DEFAULT_LEASE_MS = 60_000;

/** Where a piece of delivery work writes and what it reports: the store itself, or a group's transaction. */
interface Session {
  db: StoreSession;
  emit: (event: DeliveryEvent) => void;
}

export class OutboxWorker {
  private readonly store: AdvisStore;
  private readonly transport: Transport;
  private readonly policy: RetryPolicy;
  private readonly concurrency: number;
  private readonly validator?: MedComValidator;
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly newId: () => string;
  private readonly claim: OutboxClaim;
  private readonly log: (level: 'info' | 'warn' | 'error', text: string) => void;
  /** Work outside a group: straight to the store, events out at once. */
  private readonly direct: Session;
  /** The results of finished sends, committed in groups (group-commit.ts). */
  private readonly commits: GroupCommit<DeliveryEvent, StoreTransaction>;
  /** Sends waiting for their sink's answer: while there are any, a group commit waits a little for them. */
  private delivering = 0;
  /** While `drain` waits: wakes it when a send has its sink's answer, so the next can start. */
  private sinkFreed?: () => void;
  /**
   * The kind of the last failure to hand a message over, while it lasts: an outage fails every stay's next message,
   * so it is logged when it starts (or changes) and when it ends, not once per message. Each message's failure is
   * in its delivery event.
   */
  private outage?: string;
  /** Same for the inbox, read every round. */
  private inboxFailure?: string;
  /** When the sink (or the VANS inbox) last answered, and last failed to: for health checks. */
  readonly contact: SinkContact = {};
  /** The tail of the serialised work. */
  private work: Promise<void> = Promise.resolve();
  private drainPending = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(options: OutboxWorkerOptions) {
    this.store = options.store;
    this.transport = options.transport;
    this.policy = options.policy ?? DEFAULT_RETRY_POLICY;
    this.concurrency = Math.max(1, options.concurrency ?? 8);
    this.validator = options.validator;
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.newId = options.newId ?? (() => crypto.randomUUID());
    this.claim = { owner: options.owner ?? crypto.randomUUID(), leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS };
    const onEvent = options.onEvent;
    this.log = options.onLog ?? (() => undefined);
    const publish = (event: DeliveryEvent): void => {
      try {
        onEvent?.(event);
      } catch (error) {
        this.log('error', `a delivery event listener failed: ${(error as Error).message}`);
      }
    };
    this.direct = { db: this.store, emit: publish };
    this.commits = new GroupCommit<DeliveryEvent, StoreTransaction>({
      transaction: (work) => this.store.transaction(work),
      onTheWay: () => this.delivering,
      waitMs: GROUP_COMMIT_WAIT_MS,
      publish,
    });
  }

  /** Runs `tick` every `intervalMs` until `stop`, and once now. */
  start(intervalMs: number): void {
    this.stopped = false;
    clearInterval(this.timer);
    this.timer = setInterval(() => void this.tick(), intervalMs);
    void this.tick();
  }

  /** Stops the timer and waits for the work under way; later calls do nothing. The sink is the caller's to close. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.work;
  }

  /**
   * One round: read the inbox, act on overdue acknowledgements, then send everything due now. Resolves when it is
   * done; never rejects (failures are logged, and whatever they hit is retried next round).
   */
  tick(): Promise<void> {
    return this.serial(() =>
      this.logged(async () => {
        await this.readInbox();
        await this.checkSilence();
        await this.drain();
      }),
    );
  }

  /**
   * Hands a message the engine committed to the outbox to the worker: checks that it is there (durable), reports it
   * `queued` and sends it soon. Throws when the store has no such message.
   */
  async enqueue(messageHeaderId: string): Promise<OutboxEntry> {
    const entry = await this.store.getOutbox(messageHeaderId);
    if (!entry) throw new Error(`the outbox has no message with MessageHeader.id ${messageHeaderId}: it was not committed`);
    // A round may have sent it already, between the advis node's commit and this call: then that is the news.
    if (entry.status === 'queued') this.direct.emit({ ...this.describe(entry), type: 'queued' });
    this.wake();
    return entry;
  }

  /** Sends the message again now (docs/delivery.md: manual re-dispatch). Throws OutboxActionError when it is not there. */
  resend(messageHeaderId: string, operator?: string): Promise<OutboxEntry> {
    return this.serial(async () => {
      const entry = await requeue(this.store, messageHeaderId, this.now(), operator);
      this.direct.emit({ ...this.describe(entry), type: 'queued' });
      this.wake();
      return entry;
    });
  }

  /** Gives the message up (status dead). Throws OutboxActionError when it is not there, delivered, or dead already. */
  deadLetter(messageHeaderId: string, operator?: string): Promise<OutboxEntry> {
    return this.serial(async () => {
      const entry = await deadLetter(this.store, messageHeaderId, this.now(), operator);
      this.direct.emit({ ...this.describe(entry), type: 'failed', reason: 'operator' });
      return entry;
    });
  }

  /**
   * An acknowledgement that arrived some other way than the inbox or a REST response (say, a flow that receives them
   * over HTTP). An unreadable one is logged and reported `unreadable`; rejects only when the store fails.
   */
  acknowledge(body: string, contentType?: string): Promise<AcknowledgementResult> {
    return this.serial(async () => this.readAcknowledgement(this.direct, { contentType: contentType ?? '', body }, 'a flow'));
  }

  /** Sends what is due soon, without waiting for the next tick; calls made meanwhile share one round. */
  private wake(): void {
    if (this.drainPending || this.stopped) return;
    this.drainPending = true;
    void this.serial(() =>
      this.logged(async () => {
        this.drainPending = false;
        await this.drain();
      }),
    );
  }

  /** Runs `task` after the work already queued; its failure is its caller's, and does not stop later work. */
  private serial<T>(task: () => Promise<T>): Promise<T> {
    const result = this.work.then(task);
    this.work = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Background work has no caller to tell: a failure (the store unreachable, say) is logged and retried next round. */
  private async logged(task: () => Promise<void>): Promise<void> {
    try {
      await task();
    } catch (error) {
      this.log('error', `delivery work failed, retried on the next round: ${(error as Error).message}`);
    }
  }

  /**
   * Sends every entry due now, one per stay at a time, until nothing more is due. `concurrency` bounds the sends
   * waiting for the sink; a send that has its answer and waits for the group commit no longer takes a place, but its
   * stay's next message still waits for that commit.
   */
  private async drain(): Promise<void> {
    const inFlight = new Map<string, Promise<void>>(); // by stay key, until the send's result is committed
    let batch: DueMessage[] = [];
    for (;;) {
      if (this.stopped && !inFlight.size) return;
      while (!this.stopped && this.delivering < this.concurrency) {
        if (!batch.length) {
          // In-flight entries are still queued (and claimed by this worker) until their send commits, so ask for enough
          // beyond them.
          batch = (await this.store.claimDue(this.now(), this.concurrency * BATCH_PER_SLOT + inFlight.size, this.claim)).filter((e) => !inFlight.has(e.stayKey));
          if (!batch.length) break;
        }
        const entry = batch.shift()!;
        if (inFlight.has(entry.stayKey)) continue;
        const sending = this.send(entry.messageHeaderId).catch((error: unknown) => {
          // The store failed under this send; the entry is still queued and goes again next round.
          this.log('error', `message ${entry.messageHeaderId} (stay ${entry.stayKey}): ${(error as Error).message}`);
        });
        inFlight.set(
          entry.stayKey,
          sending.finally(() => inFlight.delete(entry.stayKey)),
        );
      }
      if (!inFlight.size) return;
      // On until a stay is free again or the sink has room for one more.
      await Promise.race([...inFlight.values(), new Promise<void>((resolve) => (this.sinkFreed = resolve))]);
      this.sinkFreed = undefined;
    }
  }

  /** One transmission of one message, from a fresh read of its entry to the commit of what became of it. */
  private async send(messageHeaderId: string): Promise<void> {
    const entry = await this.store.getOutbox(messageHeaderId);
    if (!entry || (entry.status !== 'queued' && entry.status !== 'failed') || Date.parse(entry.nextAttemptAt) > this.now().getTime()) return;
    if (entry.body === null) {
      // Retention removed the Bundle of a delivered message, and it was queued again from outside (requeue refuses).
      await this.giveUp(this.direct, entry, 'refused', 'the message cannot be sent: retention removed its Bundle');
      return;
    }
    const body = entry.body;
    const at = this.now();
    let outgoing: OutgoingMessage;
    let resend: Resend | undefined;
    try {
      // A message that went out before goes as a resend: new Bundle.id and send times, and as the policy says the same
      // MessageHeader.id or a new one.
      resend = entry.attempts > 0 ? resendBody(body, entry.format, copenhagenTime(at), this.newId, this.policy.resendAs) : undefined;
      outgoing = this.outgoing(entry, resend?.body ?? body, at, resend?.messageHeaderId);
    } catch (error) {
      if (!(error instanceof MedComError)) throw error;
      await this.giveUp(this.direct, entry, 'refused', `the message cannot be sent: ${error.message}`);
      return;
    }
    this.delivering++;
    let receipt: DeliveryReceipt;
    try {
      receipt = await this.transport.sink.deliver(outgoing);
    } finally {
      this.delivering--;
      this.sinkFreed?.();
    }
    const done = this.now();
    await this.commits.run((db, emit) => this.settle({ db, emit }, entry, receipt, resend, done));
  }

  /** Records what became of one transmission: handed over (and maybe acknowledged at once), refused, or to retry. */
  private async settle(session: Session, entry: OutboxEntry, receipt: DeliveryReceipt, resend: Resend | undefined, done: Date): Promise<void> {
    if (receipt.outcome === 'transient') this.lostContact(done, receipt.message);
    else this.contact.lastSuccess = done;
    if (receipt.outcome === 'delivered') {
      if (this.outage) this.log('info', `messages are handed over again (after ${this.outage} failures)`);
      this.outage = undefined;
      const type = entry.attempts > 0 ? 'resent' : 'sent';
      const bundleId = resend?.bundleId ?? entry.bundleId;
      await this.commitAfterSend(session.db, entry, { status: 'sent', attempts: entry.attempts + 1, networkFailures: 0, nextAttemptAt: ackDeadline(done, this.policy), lastError: null, ...(resend && { resend }) }, {
        outcome: type,
        detail: `Bundle.id ${bundleId}${resend?.messageHeaderId ? `, sent as a new message with MessageHeader.id ${resend.messageHeaderId}` : ''}`,
      });
      session.emit({ ...this.describe(entry), type, at: done.toISOString(), attempts: entry.attempts + 1, bundleId });
      if (receipt.response) await this.readAcknowledgement(session, receipt.response, 'the response');
      return;
    }
    if (receipt.outcome === 'permanent') {
      await this.giveUp(session, entry, 'refused', receipt.message);
      return;
    }
    // Counted in the store, so a restart during an outage goes on with the long delays instead of starting again.
    const failures = entry.networkFailures + 1;
    const delay = Math.max(networkRetryDelay(failures, this.policy, this.random), receipt.retryAfterMs ?? 0);
    const retryAt = new Date(done.getTime() + delay).toISOString();
    await this.commitAfterSend(session.db, entry, { status: 'failed', networkFailures: failures, nextAttemptAt: retryAt, lastError: receipt.message }, { outcome: 'failed', reason: 'network', detail: receipt.message });
    session.emit({ ...this.describe(entry), type: 'failed', at: done.toISOString(), reason: 'network', retryAt, detail: receipt.message });
    if (this.outage !== receipt.reason) this.log('warn', `messages cannot be handed over, retrying with back-off: ${receipt.message}`);
    this.outage = receipt.reason;
  }

  /**
   * Writes the result of a send, unless an operator settled the entry while it was in flight: then only the
   * transmission is recorded, and the operator's status stays.
   */
  private async commitAfterSend(
    db: StoreSession,
    entry: OutboxEntry,
    update: Omit<OutboxUpdate, 'messageHeaderId'>,
    audit: Pick<AuditEntry, 'outcome' | 'reason' | 'detail'>,
  ): Promise<void> {
    const current = await db.getOutbox(entry.messageHeaderId);
    const settled = current?.status === 'dead' || current?.status === 'delivered';
    const change = settled ? { attempts: update.attempts, ...(update.resend && { resend: update.resend }) } : update;
    await db.commit({ outboxUpdate: [{ messageHeaderId: entry.messageHeaderId, ...change }], audit: [this.auditRow(entry, audit)] });
  }

  /**
   * The wire form: the Bundle itself for REST, a VANS envelope around it for the folder. `messageHeaderId` is the
   * transmission's own when it is a resend as a new message.
   */
  private outgoing(entry: OutboxEntry, body: string, at: Date, messageHeaderId = entry.messageHeaderId): OutgoingMessage {
    const transport = this.transport;
    if (transport.kind === 'rest') return { messageHeaderId, body, contentType: MIME_TYPE[entry.format] };
    const bundle = readBundle(body, entry.format);
    const senderGln = transport.senderGln ?? partyOf(bundle, messageHeaderOf(bundle).sender?.reference).gln;
    if (!senderGln) throw new MedComError('incomplete-message', 'the MessageHeader.sender organisation has no GLN for the VANS envelope: give the department a GLN, or set the sender GLN of the VANS delivery');
    const envelope = buildVansEnvelope({ senderGln, receiverGln: entry.receiverGln, body, format: entry.format, sentAt: at, namePostfix: transport.namePostfix });
    return { messageHeaderId, body: envelope, contentType: 'application/xml' };
  }

  /** Resends or gives up messages whose acknowledgement is overdue (MedCom: 30 minutes). */
  private async checkSilence(): Promise<void> {
    const now = this.now();
    for (const entry of await this.store.awaitingAcknowledgement(now, SILENCE_BATCH)) {
      const decision = decideOnSilence(entry, now, this.policy);
      if (decision.action === 'wait') continue;
      if (decision.action === 'failed') {
        await this.giveUp(this.direct, entry, decision.reason, `no acknowledgement after ${entry.attempts} transmissions`);
        continue;
      }
      await this.store.commit({
        outboxUpdate: [{ messageHeaderId: entry.messageHeaderId, status: 'queued', nextAttemptAt: decision.at, lastError: 'no acknowledgement in time' }],
      });
      this.log('info', `no acknowledgement for message ${entry.messageHeaderId} (stay ${entry.stayKey}): resend ${decision.resend}`);
    }
  }

  /** Marks the message dead, with an audit row and a failed event. */
  private async giveUp(session: Session, entry: OutboxEntry, reason: 'refused' | 'rejected' | 'resends-exhausted', detail: string): Promise<void> {
    await session.db.commit({
      outboxUpdate: [{ messageHeaderId: entry.messageHeaderId, status: 'dead', lastError: `${reason}: ${detail}` }],
      audit: [this.auditRow(entry, { outcome: 'dead', reason, detail })],
    });
    session.emit({ ...this.describe(entry), type: 'failed', reason, detail });
    this.log('warn', `message ${entry.messageHeaderId} (stay ${entry.stayKey}) given up, ${reason}: ${detail}`);
  }

  private lostContact(at: Date, error: string): void {
    this.contact.lastFailure = at;
    this.contact.lastError = error;
  }

  private async readInbox(): Promise<void> {
    if (this.transport.kind !== 'vans' || !this.transport.inbox) return;
    try {
      await this.transport.inbox.poll((file) => this.readInboxFile(file));
      this.inboxFailure = undefined;
      this.contact.lastSuccess = this.now();
    } catch (error) {
      const message = (error as Error).message;
      this.lostContact(this.now(), `the VANS inbox: ${message}`);
      if (message !== this.inboxFailure) this.log('error', `cannot read the VANS inbox: ${message}`);
      this.inboxFailure = message;
    }
  }

  /** A VANS receipt or an envelope with an acknowledgement. Unreadable files go to failed/, the rest to processed/. */
  private async readInboxFile(file: InboxFile): Promise<InboxVerdict> {
    let envelope;
    try {
      envelope = parseVansEnvelope(file.content.toString('utf8'));
    } catch (error) {
      this.log('warn', `inbox file ${file.name} is not a VANS envelope (${(error as Error).message}); moved to failed/`);
      return 'failed';
    }
    const content = envelope.content;
    if (content.kind === 'receipt') {
      await this.readReceipt(content, file.name);
      return 'processed';
    }
    const result = await this.readAcknowledgement(this.direct, { contentType: content.format ? MIME_TYPE[content.format] : '', body: content.body }, `inbox file ${file.name}`);
    return result === 'unreadable' ? 'failed' : 'processed';
  }

  /**
   * VANS receipts are about the network, not the municipality: a positive one changes nothing (the acknowledgement
   * settles the message), a negative one is recorded on the entry and in the audit; if no acknowledgement follows, the
   * silence rule resends and finally gives up, as for any unanswered message.
   */
  private async readReceipt(receipt: VansReceipt, source: string): Promise<void> {
    if (receipt.receipt === 'positive') return;
    // The envelope id is the Bundle.id of the transmission; a receipt about an earlier transmission of a message that
    // has been resent since finds nothing, which is right: the later transmission is the one that counts.
    const entry =
      (receipt.originalMessage && (await this.store.getOutbox(receipt.originalMessage.messageId))) ?? (await this.store.outboxByBundleId(receipt.originalEnvelopeId));
    const detail = `VANS receipt ${receipt.receipt}${receipt.error ? `: ${receipt.error.description}` : ''}`;
    if (!entry) {
      this.log('warn', `${source}: ${detail} for no message we know (envelope ${receipt.originalEnvelopeId}); kept in processed/`);
      return;
    }
    await this.store.commit({
      outboxUpdate: [{ messageHeaderId: entry.messageHeaderId, lastError: detail }],
      audit: [this.auditRow(entry, { outcome: 'failed', reason: receipt.receipt, detail })],
    });
    this.log('warn', `message ${entry.messageHeaderId} (stay ${entry.stayKey}): ${detail}`);
  }

  /** Correlates an acknowledgement with its outbox entry by MessageHeader.response.identifier and applies MedCom's rule. */
  private async readAcknowledgement(session: Session, response: SinkResponse, source: string): Promise<AcknowledgementResult> {
    const { db, emit } = session;
    let ack: Acknowledgement;
    try {
      const format = response.contentType.includes('xml') ? 'xml' : response.contentType.includes('json') ? 'json' : undefined;
      ack = parseAcknowledgement(response.body, { ...(format && { format }), ...(this.validator && { validator: this.validator }) });
    } catch (error) {
      this.log('warn', `${source} is not a MedCom acknowledgement: ${(error as Error).message}`);
      return 'unreadable';
    }
    const findings = ack.validation?.issues ?? [];
    if (findings.length) this.log('warn', `acknowledgement ${ack.messageHeaderId} from ${source} has ${findings.length} profile finding(s): ${findings.map((i) => i.path).join(', ')}`);
    const now = this.now();
    const entry = await db.getOutbox(ack.acknowledges);
    const decision = decideOnAcknowledgement(ack, entry, now, this.policy);
    const at = now.toISOString();
    if (decision.action === 'unknown' || decision.action === 'duplicate') {
      const about = decision.action === 'unknown' ? 'no message we sent' : `message ${ack.acknowledges}, already ${decision.status}`;
      await db.commit({
        audit: [{ at, outcome: 'acknowledged', reason: decision.action, messageHeaderId: ack.acknowledges, stayKey: entry?.stayKey ?? null, detail: `${ack.code} acknowledgement ${ack.messageHeaderId} for ${about}` }],
      });
      this.log('warn', `${source}: ${decision.action} ${ack.code} acknowledgement ${ack.messageHeaderId} for ${about}; kept`);
      return decision.action;
    }
    const sent = entry!; // decideOnAcknowledgement answers unknown for a missing entry
    // A message awaiting its acknowledgement was sent one acknowledgement time before its deadline.
    const sentAt = sent.status === 'sent' ? new Date(Date.parse(sent.nextAttemptAt) - this.policy.ackTimeoutMs).toISOString() : undefined;
    const acknowledged: DeliveryEvent = { ...this.describe(sent), type: 'acknowledged', code: ack.code, ...(sentAt && { sentAt }), ...(ack.text && { detail: ack.text }) };
    switch (decision.action) {
      case 'delivered':
        await db.commit({
          outboxUpdate: [{ messageHeaderId: sent.messageHeaderId, status: 'delivered', lastError: null }],
          audit: [this.auditRow(sent, { outcome: 'delivered', detail: `acknowledgement ${ack.messageHeaderId}` })],
        });
        emit(acknowledged);
        return 'delivered';
      case 'resend':
        await db.commit({
          outboxUpdate: [{ messageHeaderId: sent.messageHeaderId, status: 'queued', nextAttemptAt: decision.at, lastError: `transient-error: ${ack.text}` }],
          audit: [this.auditRow(sent, { outcome: 'acknowledged', reason: 'transient-error', detail: ack.text })],
        });
        emit(acknowledged);
        return 'resend';
      case 'failed':
        emit(acknowledged);
        await this.giveUp(session, sent, decision.reason, `${ack.code}${ack.text ? `: ${ack.text}` : ''}`);
        return 'failed';
    }
  }

  private describe(entry: OutboxEntry): DeliveryEvent {
    return {
      type: 'queued',
      messageHeaderId: entry.messageHeaderId,
      stayKey: entry.stayKey,
      receiverGln: entry.receiverGln,
      advis: entry.advis,
      at: this.now().toISOString(),
      attempts: entry.attempts,
    };
  }

  private auditRow(entry: OutboxEntry, row: Pick<AuditEntry, 'outcome' | 'reason' | 'detail'>): AuditEntry {
    return {
      at: this.now().toISOString(),
      stayKey: entry.stayKey,
      advis: entry.advis,
      messageHeaderId: entry.messageHeaderId,
      receiverGln: entry.receiverGln,
      ...row,
    };
  }
}
