// How both stores turn records into rows and back: times become milliseconds since the epoch (so equal instants
// compare equal whatever offset they were written with, and come back in UTC), structured payloads become JSON text,
// and the audit filter becomes column matches. Kept in one place so the two stores cannot drift apart.

import type { StayStatus } from '../advis/types';
import { StoreError } from './errors';
import type { AuditFilter, OperatorAuditFilter, OutboxSearch } from './types';

export const DEFAULT_LIST_LIMIT = 1000;

/** Stays in these states are no longer open: they are kept for corrections, but a new admission does not pair with them. */
const ENDED_STATUSES: ReadonlySet<StayStatus> = new Set<StayStatus>(['finished', 'transferred', 'cancelled']);
export const isOpen = (status: StayStatus): boolean => !ENDED_STATUSES.has(status);

/** An ISO 8601 time with a UTC offset: without one, the instant would depend on the server's time zone. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** A record's time as epoch milliseconds; StoreError 'invalid-value' names the field when it has no offset. */
export function instant(value: string, field: string): number {
  const ms = ISO_INSTANT.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new StoreError('invalid-value', `${field} must be an ISO 8601 time with a UTC offset, not ${JSON.stringify(value)}`);
  return ms;
}

export function epochMs(date: Date, argument: string): number {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new StoreError('invalid-value', `${argument} is not a valid date`);
  return ms;
}

export const iso = (ms: number): string => new Date(ms).toISOString();

/** Audit filter fields that match a column exactly. */
const AUDIT_MATCH = {
  idempotencyKey: 'idempotency_key',
  stayKey: 'stay_key',
  messageHeaderId: 'message_header_id',
  outcome: 'outcome',
} as const satisfies Partial<Record<keyof AuditFilter, string>>;

const AUDIT_COLUMNS = `id, at, outcome, idempotency_key AS "idempotencyKey", event, stay_key AS "stayKey", advis, reason,
  message_header_id AS "messageHeaderId", receiver_gln AS "receiverGln", detail`;

export const OUTBOX_SUMMARY_COLUMNS = `id, message_header_id AS "messageHeaderId", bundle_id AS "bundleId", stay_key AS "stayKey", advis,
  receiver_gln AS "receiverGln", receiver_sor AS "receiverSor", format, status, attempts, network_failures AS "networkFailures",
  created_at AS "createdAt", next_attempt_at AS "nextAttemptAt", last_error AS "lastError"`;
export const OUTBOX_COLUMNS = `${OUTBOX_SUMMARY_COLUMNS}, body`;

export const DEFERRED_COLUMNS = `id, idempotency_key AS "idempotencyKey", stay_key AS "stayKey", due_at AS "dueAt", payload, created_at AS "createdAt"`;
export const HELD_COLUMNS = `id, idempotency_key AS "idempotencyKey", reason, payload, created_at AS "createdAt"`;

/** Conditions joined with AND, their values in placeholder order ($1, $2, …). */
class Where {
  readonly conditions: string[] = [];
  readonly values: (string | number)[] = [];
  add(condition: (p: string) => string, value: string | number | undefined): void {
    if (value === undefined) return;
    this.values.push(value);
    this.conditions.push(condition(`$${this.values.length}`));
  }
  get sql(): string {
    return this.conditions.length ? `WHERE ${this.conditions.join(' AND ')}` : '';
  }
  /** The placeholder of one more value (a limit). */
  next(value: number): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** The audit filter as one SELECT, oldest first unless asked for the newest. */
export function auditQuery(filter: AuditFilter): { sql: string; values: (string | number)[] } {
  const where = new Where();
  for (const [field, column] of Object.entries(AUDIT_MATCH) as [keyof typeof AUDIT_MATCH, string][]) {
    where.add((p) => `${column} = ${p}`, filter[field]);
  }
  where.add((p) => `at >= ${p}`, filter.since && epochMs(filter.since, 'since'));
  where.add((p) => `id ${filter.newestFirst ? '<' : '>'} ${p}`, filter.afterId);
  const limit = where.next(filter.limit ?? DEFAULT_LIST_LIMIT);
  return { sql: `SELECT ${AUDIT_COLUMNS} FROM audit ${where.sql} ORDER BY id ${filter.newestFirst ? 'DESC' : ''} LIMIT ${limit}`, values: where.values };
}

export const DEFAULT_SEARCH_LIMIT = 100;

/** The outbox search as one SELECT of summaries, newest first. */
export function outboxSearchQuery(search: OutboxSearch): { sql: string; values: (string | number)[] } {
  const where = new Where();
  // A resend sent as a new message has its own MessageHeader.id, found through its transmission.
  where.add((p) => `(message_header_id = ${p} OR id IN (SELECT id FROM outbox_transmission WHERE message_header_id = ${p}))`, search.messageHeaderId);
  where.add((p) => `stay_key = ${p}`, search.stayKey);
  where.add((p) => `stay_key IN (SELECT key FROM stays WHERE patient_key = ${p})`, search.patientKey);
  where.add((p) => `advis = ${p}`, search.advis);
  where.add((p) => `receiver_gln = ${p}`, search.receiverGln);
  where.add((p) => `status = ${p}`, search.status);
  where.add((p) => `created_at >= ${p}`, search.from && epochMs(search.from, 'from'));
  where.add((p) => `created_at < ${p}`, search.to && epochMs(search.to, 'to'));
  where.add((p) => `id < ${p}`, search.beforeId);
  const limit = where.next(search.limit ?? DEFAULT_SEARCH_LIMIT);
  return { sql: `SELECT ${OUTBOX_SUMMARY_COLUMNS} FROM outbox ${where.sql} ORDER BY id DESC LIMIT ${limit}`, values: where.values };
}

export function operatorAuditQuery(filter: OperatorAuditFilter): { sql: string; values: (string | number)[] } {
  const where = new Where();
  where.add((p) => `"user" = ${p}`, filter.user);
  where.add((p) => `action = ${p}`, filter.action);
  where.add((p) => `target = ${p}`, filter.target);
  where.add((p) => `at >= ${p}`, filter.since && epochMs(filter.since, 'since'));
  where.add((p) => `id < ${p}`, filter.beforeId);
  const limit = where.next(filter.limit ?? DEFAULT_LIST_LIMIT);
  return { sql: `SELECT id, at, "user", action, target, detail FROM operator_audit ${where.sql} ORDER BY id DESC LIMIT ${limit}`, values: where.values };
}

export const fromJson = <T>(text: string): T => JSON.parse(text) as T;
