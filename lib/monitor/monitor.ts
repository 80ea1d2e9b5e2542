// The advis monitor's model: the parts of a running engine (sites, outbox workers, MLLP listeners, advis nodes that
// can release held advis) register here, and the monitor answers what an operator asks of them: what is stuck
// (summary), where one message or one patient's messages are (search, detail), is everything up (health), and puts
// things right (resend, dead-letter, release held advis). It holds no Node-RED: nodes/ registers the parts and
// serves the answers (nodes/advis-monitor).
//
// Personal data. Lists and counts hold none (stay keys, message ids, GLNs, reason codes). The CPR number, the name
// and the Bundle are read only by the `personal` calls, and each of those, like each action, writes one row of the
// audit of people (who, when, what) in the same store the messages are in, so every instance sees it.
import type { Bundle, Encounter, Patient } from 'fhir/r4';
import type { AdvisType } from '../advis/types';
import { DEFAULT_ALERT_THRESHOLDS } from './alerts';
import { deadLetter, requeue, type SinkContact } from '../delivery';
import type { AdvisRuntime } from '../engine/runtime';
import type { ProcessResult } from '../engine/engine';
import type { AdtEvent } from '../hl7';
import { currentProvenance, messageHeaderOf, partyOf, readBundle, type Party } from '../medcom';
import type {
  AdvisStore,
  AuditRecord,
  OperatorAction,
  OperatorAuditFilter,
  OperatorAuditRecord,
  OutboxCount,
  OutboxEntry,
  OutboxSearch,
  OutboxStatus,
  OutboxSummary,
} from '../store';

/** A site (an `advis-site` config node): its runtime opens on first use. */
export interface SitePart {
  id: string;
  name: string;
  runtime(): Promise<AdvisRuntime>;
}

/** An outbox worker delivering for a site (a `medcom out` node). */
export interface DeliveryPart {
  id: string;
  name: string;
  siteId: string;
  transport: 'vans' | 'rest';
  /** Absent until the worker has started; then the sink's last contact. */
  contact(): SinkContact | undefined;
  /** Why the worker did not start, if it did not. */
  error(): string | undefined;
  /** The age above which the oldest unacknowledged message makes the site unhealthy. */
  oldestUnacknowledgedMs: number;
  resend(messageHeaderId: string, operator: string): Promise<OutboxEntry>;
  deadLetter(messageHeaderId: string, operator: string): Promise<OutboxEntry>;
}

/** An MLLP listener (an `hl7-listener` config node). */
export interface ListenerPart {
  id: string;
  name: string;
  address: string;
  /** True while the port is bound; a string says why it is not. */
  bound(): true | string;
}

/**
 * An `advis` node of a site: reads the site configuration again, decides the held advis with it and sends what comes
 * of it down its flow. Rejects with what is wrong when the configuration is not valid (nothing is released then).
 */
export interface ReleasePart {
  siteId: string;
  releaseHeld(): Promise<ProcessResult>;
}

/** The states an operator sees, in the order a message passes them; `sent` is "awaiting acknowledgement". */
export const OUTBOX_STATES: readonly OutboxStatus[] = ['queued', 'sent', 'delivered', 'failed', 'dead'];

export interface HeldSummary {
  id: number;
  reason: string;
  since: string;
  event: string;
  stayKey: string | null;
  hospital: string | null;
  department: string | null;
  /** The municipality of residence the site did not know (the fix is usually to add it). */
  municipalityCode: string | null;
}

export interface SiteSummary {
  id: string;
  name: string;
  /** Why the store could not be read; then the rest is empty. */
  error?: string;
  counts: Record<OutboxStatus, number>;
  byReceiver: OutboxCount[];
  /** The oldest message not yet positively acknowledged (queued, failed or awaiting acknowledgement). */
  oldestUnacknowledged?: OutboxSummary & { ageSeconds: number };
  /** The latest ADT messages that gave no advis, newest first. */
  noAdvis: AuditRecord[];
  held: HeldSummary[];
}

/** A notification as the municipality reads it. `patient` only in a personal view. */
export interface NotificationView {
  advis: AdvisType;
  activity?: string;
  timestamp?: string;
  encounter?: { status?: string; class?: string; start?: string; end?: string };
  department: Party;
  receiver: Party;
  patient?: { cpr?: string; name?: string };
}

export interface MessageDetail {
  message: OutboxSummary;
  personal: boolean;
  /** Absent once retention removed the Bundle. */
  notification?: NotificationView;
  /** The Bundle as sent (personal view only). */
  bundle?: string;
  transmissions: AuditRecord[];
  acknowledgements: AuditRecord[];
  audit: AuditRecord[];
  operatorAudit: OperatorAuditRecord[];
}

export interface HealthCheck {
  part: 'store' | 'profiles' | 'mllp' | 'sink' | 'oldest-unacknowledged';
  name: string;
  ok: boolean;
  detail: string;
}

export interface Health {
  status: 'ok' | 'failing';
  at: string;
  checks: HealthCheck[];
}

export class MonitorError extends Error {
  constructor(
    readonly code: 'no-site' | 'not-found' | 'no-release' | 'invalid',
    message: string,
  ) {
    super(message);
  }
}

const TRANSMISSIONS = new Set(['sent', 'resent']);
const ACKNOWLEDGEMENTS = new Set(['delivered', 'acknowledged']);

export class AdvisMonitor {
  private readonly sites = new Map<string, SitePart>();
  private readonly deliveries = new Set<DeliveryPart>();
  private readonly listeners = new Set<ListenerPart>();
  private readonly releases = new Set<ReleasePart>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Each returns the call that takes the part out again (on the node's close). */
  addSite(part: SitePart): () => void {
    this.sites.set(part.id, part);
    return () => this.sites.get(part.id) === part && this.sites.delete(part.id);
  }
  addDelivery(part: DeliveryPart): () => void {
    return this.add(this.deliveries, part);
  }
  addListener(part: ListenerPart): () => void {
    return this.add(this.listeners, part);
  }
  addRelease(part: ReleasePart): () => void {
    return this.add(this.releases, part);
  }
  private add<T>(set: Set<T>, part: T): () => void {
    set.add(part);
    return () => set.delete(part);
  }

  siteList(): { id: string; name: string }[] {
    return [...this.sites.values()].map(({ id, name }) => ({ id, name }));
  }

  /** The site by id, or the only one when none is named. */
  site(id?: string): SitePart {
    if (id) {
      const site = this.sites.get(id);
      if (!site) throw new MonitorError('no-site', `no advis site ${id} is running`);
      return site;
    }
    const [first, ...more] = this.sites.values();
    if (!first) throw new MonitorError('no-site', 'no advis site is running: deploy a flow with an advis site');
    if (more.length) throw new MonitorError('no-site', 'several advis sites are running: name one (site=ID)');
    return first;
  }

  private async store(siteId?: string): Promise<AdvisStore> {
    return (await this.site(siteId).runtime()).store;
  }

  async summaries(): Promise<SiteSummary[]> {
    return Promise.all([...this.sites.values()].map((site) => this.summary(site)));
  }

  private async summary(site: SitePart): Promise<SiteSummary> {
    const counts = Object.fromEntries(OUTBOX_STATES.map((s) => [s, 0])) as Record<OutboxStatus, number>;
    const empty: SiteSummary = { id: site.id, name: site.name, counts, byReceiver: [], noAdvis: [], held: [] };
    let store: AdvisStore;
    try {
      store = (await site.runtime()).store;
    } catch (error) {
      return { ...empty, error: (error as Error).message };
    }
    const [byReceiver, oldest, noAdvis, held] = await Promise.all([
      store.countOutboxByReceiver(),
      store.oldestUnsettled(),
      store.audit({ outcome: 'none', newestFirst: true, limit: 20 }),
      store.held<AdtEvent>(),
    ]);
    for (const c of byReceiver) counts[c.status] += c.count;
    const now = this.now().getTime();
    return {
      ...empty,
      counts,
      byReceiver,
      ...(oldest && { oldestUnacknowledged: { ...oldest, ageSeconds: Math.round((now - Date.parse(oldest.createdAt)) / 1000) } }),
      noAdvis,
      held: held.map((h) => ({
        id: h.id,
        reason: h.reason,
        since: h.createdAt,
        event: h.payload.event,
        stayKey: h.payload.visit?.stayKey ?? null,
        hospital: h.payload.visit?.location?.facility ?? null,
        department: h.payload.visit?.location?.pointOfCare ?? null,
        municipalityCode: h.payload.patient?.municipalityCode ?? null,
      })),
    };
  }

  /** The messages that match, without personal data. */
  async search(siteId: string | undefined, search: Omit<OutboxSearch, 'patientKey'>): Promise<OutboxSummary[]> {
    return (await this.store(siteId)).searchOutbox(search);
  }

  /** One patient's messages, found by CPR number; the search is audited (the CPR is not: its patient key is). */
  async searchPatient(siteId: string | undefined, cpr: string, search: Omit<OutboxSearch, 'patientKey'>, operator: string): Promise<OutboxSummary[]> {
    if (!/^\d{6}-?\d{4}$/.test(cpr)) throw new MonitorError('invalid', 'a CPR number is 10 digits (DDMMYYXXXX, a dash after the sixth is allowed)');
    const runtime = await this.site(siteId).runtime();
    const patientKey = runtime.engine.patientKey(cpr.replace('-', ''));
    await this.record(runtime.store, operator, 'search-personal', `patient:${patientKey}`, null);
    return runtime.store.searchOutbox({ ...search, patientKey });
  }

  /** A message's detail; with `personal` the patient and the Bundle too, and that view is audited. */
  async detail(siteId: string | undefined, messageHeaderId: string, personal: boolean, operator: string): Promise<MessageDetail> {
    const store = await this.store(siteId);
    const entry = await store.getOutbox(messageHeaderId);
    if (!entry) throw new MonitorError('not-found', `no outgoing message has MessageHeader.id ${messageHeaderId}`);
    const id = entry.messageHeaderId;
    if (personal) await this.record(store, operator, 'view-personal', `message:${id}`, null);
    const [audit, operatorAudit] = await Promise.all([store.audit({ messageHeaderId: id }), store.operatorAudit({ target: `message:${id}`, limit: 100 })]);
    const body = entry.body;
    return {
      message: summaryOf(entry),
      personal,
      ...(body !== null && { notification: notificationView(entry, body, personal) }),
      ...(personal && body !== null && { bundle: body }),
      transmissions: audit.filter((a) => TRANSMISSIONS.has(a.outcome)),
      acknowledgements: audit.filter((a) => ACKNOWLEDGEMENTS.has(a.outcome) || (a.outcome === 'dead' && a.reason === 'rejected')),
      audit,
      operatorAudit,
    };
  }

  /** The Bundle as sent, to save as a file (personal data leaving the engine: audited as an export). */
  async exportBundle(siteId: string | undefined, messageHeaderId: string, operator: string): Promise<{ body: string; format: OutboxEntry['format']; messageHeaderId: string }> {
    const store = await this.store(siteId);
    const entry = await store.getOutbox(messageHeaderId);
    if (!entry) throw new MonitorError('not-found', `no outgoing message has MessageHeader.id ${messageHeaderId}`);
    if (entry.body === null) throw new MonitorError('not-found', `the Bundle of message ${entry.messageHeaderId} was removed by retention`);
    await this.record(store, operator, 'export', `message:${entry.messageHeaderId}`, 'the Bundle as sent');
    return { body: entry.body, format: entry.format, messageHeaderId: entry.messageHeaderId };
  }

  operatorAudit(siteId: string | undefined, filter: OperatorAuditFilter): Promise<OperatorAuditRecord[]> {
    return this.store(siteId).then((store) => store.operatorAudit(filter));
  }

  /** Sends the message again now: through the site's running worker (which wakes), else in the store for whichever instance delivers. */
  async resend(siteId: string | undefined, messageHeaderId: string, operator: string): Promise<OutboxSummary> {
    const site = this.site(siteId);
    const worker = this.delivery(site.id);
    const entry = worker ? await worker.resend(messageHeaderId, operator) : await requeue((await site.runtime()).store, messageHeaderId, this.now(), operator);
    return summaryOf(entry);
  }

  async deadLetter(siteId: string | undefined, messageHeaderId: string, operator: string): Promise<OutboxSummary> {
    const site = this.site(siteId);
    const worker = this.delivery(site.id);
    const entry = worker ? await worker.deadLetter(messageHeaderId, operator) : await deadLetter((await site.runtime()).store, messageHeaderId, this.now(), operator);
    return summaryOf(entry);
  }

  /** Decides the site's held advis again with its configuration read again (fixed); what is still not addressable stays held. */
  async releaseHeld(siteId: string | undefined, operator: string): Promise<{ released: number; stillHeld: number }> {
    const site = this.site(siteId);
    const release = [...this.releases].find((r) => r.siteId === site.id);
    if (!release) throw new MonitorError('no-release', 'no advis node of this site is running to release held advis');
    const store = (await site.runtime()).store;
    const before = (await store.held()).length;
    const result = await release.releaseHeld();
    const stillHeld = (await store.held()).length;
    const released = Math.max(0, before - stillHeld);
    await this.record(store, operator, 'release', 'held:*', `${released} released (${result.notifications.length} advis), ${stillHeld} still held`);
    return { released, stillHeld };
  }

  private delivery(siteId: string): DeliveryPart | undefined {
    return [...this.deliveries].find((d) => d.siteId === siteId && d.contact());
  }

  private record(store: AdvisStore, user: string, action: OperatorAction, target: string | null, detail: string | null): Promise<void> {
    return store.commit({ operatorAudit: [{ at: this.now().toISOString(), user, action, target, detail }] });
  }

  /** One check per part; failing when any fails. Reads only, except the store's probe (a write transaction). */
  async health(): Promise<Health> {
    const now = this.now();
    const checks: HealthCheck[] = [];
    for (const site of this.sites.values()) {
      let runtime: AdvisRuntime;
      try {
        runtime = await site.runtime();
      } catch (error) {
        checks.push({ part: 'store', name: site.name, ok: false, detail: (error as Error).message });
        continue;
      }
      checks.push(await storeCheck(site.name, runtime.store));
      const packages = runtime.profiles.map((p) => `${p.name} ${p.version}`).join(', ');
      checks.push({ part: 'profiles', name: site.name, ok: runtime.profiles.length > 0, detail: packages || 'no MedCom profile package is loaded' });
      const limit = [...this.deliveries].find((d) => d.siteId === site.id)?.oldestUnacknowledgedMs ?? DEFAULT_ALERT_THRESHOLDS.oldestUnacknowledgedMinutes * 60_000;
      try {
        const oldest = await runtime.store.oldestUnsettled();
        const age = oldest ? now.getTime() - Date.parse(oldest.createdAt) : 0;
        checks.push({
          part: 'oldest-unacknowledged',
          name: site.name,
          ok: age <= limit,
          detail: oldest ? `${oldest.messageHeaderId} (${oldest.status}) is ${Math.round(age / 60_000)} min old, the limit is ${Math.round(limit / 60_000)} min` : 'every message is acknowledged',
        });
      } catch (error) {
        checks.push({ part: 'oldest-unacknowledged', name: site.name, ok: false, detail: (error as Error).message });
      }
    }
    for (const listener of this.listeners) {
      const bound = listener.bound();
      checks.push({ part: 'mllp', name: listener.name, ok: bound === true, detail: bound === true ? `listening on ${listener.address}` : bound });
    }
    for (const delivery of this.deliveries) checks.push(sinkCheck(delivery));
    return { status: checks.every((c) => c.ok) ? 'ok' : 'failing', at: now.toISOString(), checks };
  }
}

async function storeCheck(name: string, store: AdvisStore): Promise<HealthCheck> {
  try {
    // A write transaction: on SQLite it takes the write lock, on PostgreSQL a connection from the pool.
    await store.transaction((tx) => tx.lock('advis-health'), { savepoints: false });
    return { part: 'store', name, ok: true, detail: `${store.kind} ${store.location} takes writes` };
  } catch (error) {
    return { part: 'store', name, ok: false, detail: (error as Error).message };
  }
}

function sinkCheck(delivery: DeliveryPart): HealthCheck {
  const base = { part: 'sink' as const, name: delivery.name };
  const contact = delivery.contact();
  if (!contact) return { ...base, ok: false, detail: delivery.error() ?? 'the delivery has not started' };
  const { lastSuccess, lastFailure, lastError } = contact;
  // Healthy until the latest contact is a failure: one that failed and then got through is not an outage.
  if (lastFailure && (!lastSuccess || lastFailure > lastSuccess)) {
    return { ...base, ok: false, detail: `${delivery.transport}: no contact since ${lastSuccess?.toISOString() ?? 'the start'}: ${lastError ?? ''}`.trim() };
  }
  return { ...base, ok: true, detail: lastSuccess ? `${delivery.transport}: last contact ${lastSuccess.toISOString()}` : `${delivery.transport}: nothing sent yet` };
}

function summaryOf(entry: OutboxEntry): OutboxSummary {
  const summary: Partial<OutboxEntry> = { ...entry };
  delete summary.body;
  return summary as OutboxSummary;
}

/** Reads what a municipality sees in the Bundle; the patient only when personal. A Bundle that cannot be read gives none. */
function notificationView(entry: OutboxEntry, body: string, personal: boolean): NotificationView | undefined {
  let bundle: Bundle;
  try {
    bundle = readBundle(body, entry.format);
  } catch {
    return undefined;
  }
  const header = messageHeaderOf(bundle);
  const encounter = bundle.entry?.find((e) => e.resource?.resourceType === 'Encounter')?.resource as Encounter | undefined;
  const view: NotificationView = {
    advis: entry.advis,
    ...(bundle.timestamp && { timestamp: bundle.timestamp }),
    department: partyOf(bundle, header.sender?.reference),
    receiver: partyOf(bundle, header.destination?.[0]?.receiver?.reference),
  };
  try {
    const activity = currentProvenance(bundle).activity?.coding?.[0]?.code;
    if (activity) view.activity = activity;
  } catch {
    // A Bundle without the current Provenance still shows the rest.
  }
  if (encounter) view.encounter = { status: encounter.status, class: encounter.class?.code, start: encounter.period?.start, end: encounter.period?.end };
  if (personal) {
    const patient = bundle.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as Patient | undefined;
    const name = patient?.name?.[0];
    view.patient = {
      cpr: patient?.identifier?.[0]?.value,
      name: name ? [...(name.given ?? []), name.family].filter(Boolean).join(' ') : undefined,
    };
  }
  return view;
}

