// How both stores turn records into rows and back: times become milliseconds since the epoch (so equal instants
// compare equal whatever offset they were written with, and come back in UTC), structured payloads become JSON text,
// and the audit filter becomes column matches. Kept in one place so the two stores cannot drift apart.

import type { StayStatus } from '../advis/types';
import { StoreError } from './errors';
import type { AuditFilter } from './types';

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

export const OUTBOX_COLUMNS = `id, message_header_id AS "messageHeaderId", bundle_id AS "bundleId", stay_key AS "stayKey", advis,
  receiver_gln AS "receiverGln", receiver_sor AS "receiverSor", format, body, status, attempts, network_failures AS "networkFailures",
  created_at AS "createdAt", next_attempt_at AS "nextAttemptAt", last_error AS "lastError"`;

export const DEFERRED_COLUMNS = `id, idempotency_key AS "idempotencyKey", stay_key AS "stayKey", due_at AS "dueAt", payload, created_at AS "createdAt"`;
export const HELD_COLUMNS = `id, idempotency_key AS "idempotencyKey", reason, payload, created_at AS "createdAt"`;

/**
 * The audit filter as a WHERE clause; `param(i)` writes the i-th placeholder (`?` for SQLite, `$i` for PostgreSQL).
 * The last value is the row limit.
 */
export function auditQuery(filter: AuditFilter, param: (i: number) => string): { sql: string; values: (string | number)[] } {
  const where: string[] = [];
  const values: (string | number)[] = [];
  const add = (condition: (p: string) => string, value: string | number): void => {
    values.push(value);
    where.push(condition(param(values.length)));
  };
  for (const [field, column] of Object.entries(AUDIT_MATCH) as [keyof typeof AUDIT_MATCH, string][]) {
    const value = filter[field];
    if (value !== undefined) add((p) => `${column} = ${p}`, value);
  }
  if (filter.since) add((p) => `at >= ${p}`, epochMs(filter.since, 'since'));
  if (filter.afterId !== undefined) add((p) => `id > ${p}`, filter.afterId);
  values.push(filter.limit ?? DEFAULT_LIST_LIMIT);
  return { sql: `SELECT ${AUDIT_COLUMNS} FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ${param(values.length)}`, values };
}

export const fromJson = <T>(text: string): T => JSON.parse(text) as T;
