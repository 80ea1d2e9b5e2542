// When to tell a person: the oldest unacknowledged message is too old, a message went dead, a held advis has waited
// too long, or the backlog is too big. Each kind is throttled (a dead message per message), so a mail or pager node
// wired to the alerts gets one mail per problem and period, not one per check.
import type { OutboxSummary } from '../store';

export interface AlertThresholds {
  /** Minutes the oldest message not yet positively acknowledged may wait. */
  oldestUnacknowledgedMinutes: number;
  /** Minutes an advis may be held for a configuration fix. */
  heldMinutes: number;
  /** Messages queued, failed or awaiting acknowledgement together. */
  backlog: number;
  /** Minutes before the same alert is raised again. */
  repeatMinutes: number;
}

/** MedCom resends after 30 minutes without an acknowledgement: an hour means the resend did not help either. */
export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = { oldestUnacknowledgedMinutes: 60, heldMinutes: 60, backlog: 500, repeatMinutes: 60 };

export type AlertKind = 'oldest-unacknowledged' | 'dead' | 'held' | 'backlog';

/** An alert holds no personal data: message ids, stay keys, counts and ages. */
export interface Alert {
  kind: AlertKind;
  at: string;
  /** oldest-unacknowledged, dead: the message. */
  messageHeaderId?: string;
  stayKey?: string;
  receiverGln?: string;
  /** dead: why (refused, rejected, resends-exhausted, operator). */
  reason?: string;
  /** oldest-unacknowledged, held: minutes waited. */
  minutes?: number;
  /** held: how many are held; backlog: how many are waiting. */
  count?: number;
  /** The threshold passed. */
  threshold?: number;
}

/** What a check reads from the store. */
export interface AlertReading {
  oldestUnsettled?: OutboxSummary;
  /** When each held advis was held. */
  heldSince: string[];
  backlog: number;
}

export class AlertWatch {
  private readonly raised = new Map<string, number>();

  constructor(
    private readonly thresholds: AlertThresholds,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The alerts the reading calls for that were not raised within the repeat period. */
  check(reading: AlertReading): Alert[] {
    const now = this.now();
    const at = now.toISOString();
    const minutesSince = (iso: string): number => Math.floor((now.getTime() - Date.parse(iso)) / 60_000);
    const t = this.thresholds;
    const alerts: Alert[] = [];
    const oldest = reading.oldestUnsettled;
    if (oldest && minutesSince(oldest.createdAt) > t.oldestUnacknowledgedMinutes) {
      const { messageHeaderId, stayKey, receiverGln } = oldest;
      alerts.push({ kind: 'oldest-unacknowledged', at, messageHeaderId, stayKey, receiverGln, minutes: minutesSince(oldest.createdAt), threshold: t.oldestUnacknowledgedMinutes });
    }
    const waited = reading.heldSince.map(minutesSince).filter((m) => m > t.heldMinutes);
    if (waited.length) alerts.push({ kind: 'held', at, count: waited.length, minutes: Math.max(...waited), threshold: t.heldMinutes });
    if (reading.backlog > t.backlog) alerts.push({ kind: 'backlog', at, count: reading.backlog, threshold: t.backlog });
    return alerts.filter((a) => this.due(a.kind, now));
  }

  /** The alert for a message given up, unless one was raised for it within the repeat period. */
  dead(message: { messageHeaderId: string; stayKey: string; receiverGln: string; reason?: string }): Alert | undefined {
    const now = this.now();
    if (!this.due(`dead:${message.messageHeaderId}`, now)) return undefined;
    return { kind: 'dead', at: now.toISOString(), ...message };
  }

  private due(key: string, now: Date): boolean {
    const last = this.raised.get(key);
    if (last !== undefined && now.getTime() - last < this.thresholds.repeatMinutes * 60_000) return false;
    // Old dead-message keys would pile up for as long as the process runs.
    for (const [k, t] of this.raised) if (now.getTime() - t >= this.thresholds.repeatMinutes * 60_000) this.raised.delete(k);
    this.raised.set(key, now.getTime());
    return true;
  }
}

/** Thresholds from the editor's fields: blank means the default; anything else must be a positive whole number. */
export function alertThresholdsFrom(fields: Partial<Record<keyof AlertThresholds, unknown>>): AlertThresholds {
  const result = { ...DEFAULT_ALERT_THRESHOLDS };
  for (const key of Object.keys(DEFAULT_ALERT_THRESHOLDS) as (keyof AlertThresholds)[]) {
    const raw = fields[key];
    if (raw === undefined || raw === null || String(raw).trim() === '') continue;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`the alert setting ${key} must be a whole number of at least 1, not "${String(raw)}"`);
    result[key] = value;
  }
  return result;
}
