// The engine's figures in Prometheus' text format (GET /advis/metrics): counters the nodes increase as ADT messages
// are decided and notifications delivered, and gauges read from each site's store when the endpoint is scraped, so
// they say the truth of the store (shared by several instances on PostgreSQL) rather than of this process alone.
//
// prom-client, not a hand-written exposition: it is the Prometheus client for Node.js that the Prometheus project
// lists, and it gets the text format's escaping, histogram buckets and content type right.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DeliveryEvent } from '../delivery';
import type { AdvisOutcome } from '../engine/outcome';
import type { OutboxCount } from '../store';
import { OUTBOX_STATES } from './monitor';

/** What the gauges read from one site's store at scrape time. */
export interface SiteFigures {
  site: string;
  held: number;
  outbox: OutboxCount[];
  storeBytes: number;
}

export class AdvisMetrics {
  readonly registry = new Registry();
  private readonly adt: Counter<'site' | 'event'>;
  private readonly notifications: Counter<'site' | 'advis'>;
  private readonly noAdvis: Counter<'site' | 'reason'>;
  private readonly resends: Counter<'receiver'>;
  private readonly deadLetters: Counter<'receiver' | 'reason'>;
  private readonly acknowledgement: Histogram<'code'>;

  /** `read` gives the figures of every site, at scrape time; a site whose store cannot be read is left out. */
  constructor(read: () => Promise<SiteFigures[]>) {
    const registers = [this.registry];
    this.adt = new Counter({ name: 'advis_adt_messages_total', help: 'ADT messages decided, by trigger event', labelNames: ['site', 'event'], registers });
    this.notifications = new Counter({ name: 'advis_notifications_total', help: 'HospitalNotifications made, by advis type', labelNames: ['site', 'advis'], registers });
    this.noAdvis = new Counter({ name: 'advis_no_advis_total', help: 'ADT messages that gave no advis, by reason code', labelNames: ['site', 'reason'], registers });
    this.resends = new Counter({ name: 'advis_resends_total', help: 'Transmissions of a message after its first (MedCom resends and operator resends)', labelNames: ['receiver'], registers });
    this.deadLetters = new Counter({ name: 'advis_dead_letters_total', help: 'Messages given up (status dead), by reason', labelNames: ['receiver', 'reason'], registers });
    // From one minute to two days: VANS acknowledgements come in minutes, a receiver that is down answers in hours.
    this.acknowledgement = new Histogram({
      name: 'advis_acknowledgement_seconds',
      help: 'Time from handing a message over to its acknowledgement',
      labelNames: ['code'],
      buckets: [1, 10, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 48 * 3600],
      registers,
    });

    // The gauges of all sites are read once per scrape, by whichever gauge is collected first.
    let reading: Promise<SiteFigures[]> | undefined;
    const figures = (): Promise<SiteFigures[]> => (reading ??= read().finally(() => setImmediate(() => (reading = undefined))));
    new Gauge({
      name: 'advis_held',
      help: 'Advis held for a configuration fix (unknown municipality or department)',
      labelNames: ['site'],
      registers,
      async collect() {
        this.reset();
        for (const f of await figures()) this.set({ site: f.site }, f.held);
      },
    });
    new Gauge({
      name: 'advis_outbox_messages',
      help: 'Outgoing messages by state and receiving municipality (GLN); sent means awaiting acknowledgement',
      labelNames: ['site', 'state', 'receiver'],
      registers,
      async collect() {
        this.reset();
        for (const f of await figures()) {
          // Every state of every receiver seen, zero included: an alert on "failed > 0" needs the series to exist.
          const receivers = new Set(f.outbox.map((c) => c.receiverGln));
          for (const receiver of receivers) for (const state of OUTBOX_STATES) this.set({ site: f.site, state, receiver }, 0);
          for (const c of f.outbox) this.set({ site: f.site, state: c.status, receiver: c.receiverGln }, c.count);
        }
      },
    });
    new Gauge({
      name: 'advis_store_bytes',
      help: "The store's size on disk (tables, indexes and SQLite's write-ahead log)",
      labelNames: ['site'],
      registers,
      async collect() {
        this.reset();
        for (const f of await figures()) this.set({ site: f.site }, f.storeBytes);
      },
    });
  }

  /** One ADT message decided, with what came of it (a replay counts as a message, not as a new advis). */
  decided(site: string, event: string, outcomes: readonly AdvisOutcome[]): void {
    this.adt.inc({ site, event });
    this.outcomes(site, outcomes);
  }

  /** Advis decided later, with no new ADT message: a pre-registration falling due, a held one released. */
  outcomes(site: string, outcomes: readonly AdvisOutcome[]): void {
    for (const outcome of outcomes) {
      if (outcome.replayed) this.noAdvis.inc({ site, reason: 'replayed' });
      else if (outcome.advis) this.notifications.inc({ site, advis: outcome.advis });
      else this.noAdvis.inc({ site, reason: outcome.reason ?? 'unknown' });
    }
  }

  delivery(event: DeliveryEvent): void {
    const receiver = event.receiverGln;
    if (event.type === 'resent') this.resends.inc({ receiver });
    else if (event.type === 'failed' && event.reason && event.reason !== 'network') this.deadLetters.inc({ receiver, reason: event.reason });
    else if (event.type === 'acknowledged' && event.sentAt) {
      this.acknowledgement.observe({ code: event.code ?? 'unknown' }, Math.max(0, (Date.parse(event.at) - Date.parse(event.sentAt)) / 1000));
    }
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
