// What an operator may do to one outbox entry by hand, as plain store changes: send it again now, or give it up.
// The outbox worker runs these for the `medcom out` node (and then wakes up to send); the `advis outbox` command runs
// them on the store file directly, with or without a worker running on it: the worker re-reads an entry just before
// it sends it, so a change made here is seen.

import type { AdvisStore, OutboxEntry, StoreChange } from '../store';

/** An action an entry's status does not allow, or an entry that is not there; the message is for the operator. */
export class OutboxActionError extends Error {
  constructor(
    readonly code: 'not-found' | 'delivered' | 'dead' | 'pruned',
    message: string,
  ) {
    super(message);
    this.name = 'OutboxActionError';
  }
}

/** The audit of people's line for an action taken by a named person, committed with the action itself. */
function byOperator(operator: string | undefined, action: 'resend' | 'dead-letter', messageHeaderId: string, entry: OutboxEntry, now: Date): Pick<StoreChange, 'operatorAudit'> {
  return operator ? { operatorAudit: [{ at: now.toISOString(), user: operator, action, target: `message:${messageHeaderId}`, detail: `${entry.advis} to ${entry.receiverGln}, was ${entry.status}` }] } : {};
}

async function entryOf(store: AdvisStore, messageHeaderId: string): Promise<OutboxEntry> {
  const entry = await store.getOutbox(messageHeaderId);
  if (!entry) throw new OutboxActionError('not-found', `no outgoing message has MessageHeader.id ${messageHeaderId}`);
  return entry;
}

/**
 * Queues the message to go now, whatever its status, delivered ones too (a municipality that lost it may ask).
 * Once it has been sent before, it goes as a resend: same MessageHeader.id, new Bundle.id and send times (MedCom
 * 020/032: "re-dispatches SHALL be done manually"). Its resend count is kept, so a message given up for silence gets
 * one more transmission, not a fresh budget; its network back-off starts again from the first delay. Returns the entry
 * as it is now.
 */
export async function requeue(store: AdvisStore, messageHeaderId: string, now: Date, operator?: string): Promise<OutboxEntry> {
  const entry = await entryOf(store, messageHeaderId);
  if (entry.body === null) throw new OutboxActionError('pruned', `the message ${messageHeaderId} was delivered long ago and its Bundle is no longer kept (retention)`);
  await store.commit({
    outboxUpdate: [{ messageHeaderId, status: 'queued', nextAttemptAt: now.toISOString(), networkFailures: 0 }],
    audit: [{ at: now.toISOString(), outcome: 'queued', reason: 'operator', stayKey: entry.stayKey, advis: entry.advis, messageHeaderId, receiverGln: entry.receiverGln, detail: `was ${entry.status}` }],
    ...byOperator(operator, 'resend', messageHeaderId, entry, now),
  });
  return entryOf(store, messageHeaderId);
}

/**
 * Gives the message up: status `dead`, not sent again unless requeued. A delivered message cannot be given up (the
 * municipality has it), and a dead one is left as it is.
 */
export async function deadLetter(store: AdvisStore, messageHeaderId: string, now: Date, operator?: string): Promise<OutboxEntry> {
  const entry = await entryOf(store, messageHeaderId);
  if (entry.status === 'delivered' || entry.status === 'dead') {
    throw new OutboxActionError(entry.status, `the message ${messageHeaderId} is already ${entry.status}`);
  }
  await store.commit({
    outboxUpdate: [{ messageHeaderId, status: 'dead', lastError: 'dead-lettered by an operator' }],
    audit: [{ at: now.toISOString(), outcome: 'dead', reason: 'operator', stayKey: entry.stayKey, advis: entry.advis, messageHeaderId, receiverGln: entry.receiverGln, detail: `was ${entry.status}` }],
    ...byOperator(operator, 'dead-letter', messageHeaderId, entry, now),
  });
  return entryOf(store, messageHeaderId);
}
