// The advis monitor's model over a real engine and store (SQLite in memory, MedCom's profiles): what an operator sees
// (summary, search, detail), what only a person allowed to see personal data sees, the audit of what people saw and
// did, the actions, and the health of every part.
import { expect } from 'chai';
import * as path from 'node:path';
import { openAdvisRuntime, readSiteSource, type AdvisRuntime } from '../../lib/engine/runtime';
import { parseAdt } from '../../lib/hl7';
import { AdvisMonitor, MonitorError, type DeliveryPart } from '../../lib/monitor';
import { adtMessage, type AdtSpec } from '../support/adt';
import { describeShared, medcomPackages } from '../support/shared';

const CPR = '0101800005';

describeShared('advis monitor', function () {
  let runtime: AdvisRuntime;
  let clock: Date;
  let monitor: AdvisMonitor;

  const process = async (spec: AdtSpec) => {
    const parsed = parseAdt(adtMessage(spec));
    if (!parsed.ok) throw parsed.error;
    return runtime.engine.process(parsed.adt);
  };

  beforeEach(async () => {
    clock = new Date('2025-03-11T07:00:02Z');
    runtime = await openAdvisRuntime({
      site: readSiteSource({ file: path.join(globalThis.process.cwd(), 'flows', 'region.site.json') }),
      store: ':memory:',
      profiles: medcomPackages(),
      now: () => clock,
    });
    monitor = new AdvisMonitor(() => clock);
    monitor.addSite({ id: 's1', name: 'Region', runtime: () => Promise.resolve(runtime) });
  });
  afterEach(() => runtime.close());

  it('summarises the outbox by state and receiver, the oldest unacknowledged, the latest "no advis" and what is held, with no CPR number', async () => {
    const stin = (await process({ event: 'A01', id: 'M1' })).notifications[0].outcome;
    await process({ event: 'A01', id: 'M2', visit: 'V2', patientClass: 'O' });
    await process({ event: 'A01', id: 'M3', visit: 'V3', municipality: '999' });
    clock = new Date('2025-03-11T07:30:02Z');
    const [site] = await monitor.summaries();
    expect(site.counts).to.deep.equal({ queued: 1, sent: 0, delivered: 0, failed: 0, dead: 0 });
    expect(site.byReceiver).to.deep.equal([{ status: 'queued', receiverGln: stin.receiver!.gln, count: 1 }]);
    expect(site.oldestUnacknowledged).to.include({ messageHeaderId: stin.messageHeaderId, status: 'queued', ageSeconds: 1800 });
    expect(site.noAdvis.map((a) => [a.event, a.reason])).to.deep.equal([['A01', 'not-advis-class']]);
    expect(site.held).to.have.length(1);
    expect(site.held[0]).to.include({ reason: 'unknown-municipality', event: 'A01', stayKey: 'V3|REGH', municipalityCode: '0999' });
    expect(JSON.stringify(site)).not.to.include(CPR).and.not.to.include('Hansen');
  });

  it('finds messages by id, stay, advis type, receiver, state and time; by CPR number only through the audited personal search', async () => {
    const stin = (await process({ event: 'A01', id: 'M1' })).notifications[0].outcome;
    clock = new Date('2025-03-12T07:00:02Z');
    const other = (await process({ event: 'A01', id: 'M2', visit: 'V2', cpr: '0202900008' })).notifications[0].outcome;
    const ids = (list: { messageHeaderId: string }[]) => list.map((m) => m.messageHeaderId);
    expect(ids(await monitor.search(undefined, {}))).to.deep.equal([other.messageHeaderId, stin.messageHeaderId]);
    expect(ids(await monitor.search(undefined, { messageHeaderId: stin.messageHeaderId! }))).to.deep.equal([stin.messageHeaderId]);
    expect(ids(await monitor.search(undefined, { stayKey: 'V2|REGH' }))).to.deep.equal([other.messageHeaderId]);
    expect(ids(await monitor.search(undefined, { advis: 'STAA' }))).to.deep.equal([]);
    expect(ids(await monitor.search(undefined, { status: 'queued', receiverGln: stin.receiver!.gln, from: new Date('2025-03-12T00:00:00Z') }))).to.deep.equal([other.messageHeaderId]);
    expect(await runtime.store.operatorAudit()).to.deep.equal([]);

    expect(ids(await monitor.searchPatient(undefined, '010180-0005', {}, 'clerk'))).to.deep.equal([stin.messageHeaderId]);
    const [audited] = await runtime.store.operatorAudit();
    expect(audited).to.include({ user: 'clerk', action: 'search-personal', target: `patient:${runtime.engine.patientKey(CPR)}` });
    expect(JSON.stringify(audited)).not.to.include(CPR);
    const invalid = await monitor.searchPatient(undefined, '12345', {}, 'clerk').catch((e: unknown) => e);
    expect(invalid).to.be.instanceOf(MonitorError).and.include({ code: 'invalid' });
    expect((invalid as Error).message).not.to.include('12345');
  });

  it('shows a message as the municipality reads it; the patient and the Bundle only in the personal view, which is audited', async () => {
    const stin = (await process({ event: 'A01', id: 'M1' })).notifications[0].outcome;
    const plain = await monitor.detail(undefined, stin.messageHeaderId!, false, 'reader');
    expect(plain.notification).to.deep.include({
      advis: 'STIN',
      activity: 'admit-inpatient',
      encounter: { status: 'in-progress', class: 'IMP', start: '2025-03-11T07:55:00+01:00', end: undefined },
      receiver: { gln: stin.receiver!.gln, sor: stin.receiver!.sor, name: stin.receiver!.name },
    });
    expect(plain.notification!.department.name).to.be.a('string');
    expect(plain).not.to.have.property('bundle');
    expect(JSON.stringify(plain)).not.to.include(CPR).and.not.to.include('Hansen');
    expect(plain.audit.map((a) => a.outcome)).to.deep.equal(['advis']);
    expect(await runtime.store.operatorAudit()).to.deep.equal([]);

    const personal = await monitor.detail(undefined, stin.messageHeaderId!, true, 'clerk');
    expect(personal.notification!.patient).to.deep.equal({ cpr: CPR, name: 'Hansen' });
    expect(JSON.parse(personal.bundle!).id).to.equal(stin.bundleId);
    expect((await runtime.store.operatorAudit()).map((a) => [a.user, a.action, a.target])).to.deep.equal([['clerk', 'view-personal', `message:${stin.messageHeaderId}`]]);
    const again = await monitor.detail(undefined, stin.messageHeaderId!, false, 'reader');
    expect(again.operatorAudit.map((a) => a.action)).to.deep.equal(['view-personal']);
    const missing = await monitor.detail(undefined, 'nope', false, 'reader').catch((e: unknown) => e);
    expect(missing).to.be.instanceOf(MonitorError).and.include({ code: 'not-found' });
  });

  it('exports the Bundle as sent, recorded as an export; not once retention removed it', async () => {
    const stin = (await process({ event: 'A01', id: 'M1' })).notifications[0].outcome;
    const exported = await monitor.exportBundle(undefined, stin.messageHeaderId!, 'clerk');
    expect(JSON.parse(exported.body).id).to.equal(stin.bundleId);
    expect((await runtime.store.operatorAudit()).map((a) => [a.user, a.action, a.target])).to.deep.equal([['clerk', 'export', `message:${stin.messageHeaderId}`]]);
    await runtime.store.commit({ outboxUpdate: [{ messageHeaderId: stin.messageHeaderId!, status: 'delivered', attempts: 1 }] });
    await runtime.store.prune(new Date('2026-12-01T00:00:00Z'), { bundleDays: 1, summaryDays: 1000, auditDays: 1000, operatorAuditDays: 1000, processedDays: 1000 }, 10);
    const gone = await monitor.exportBundle(undefined, stin.messageHeaderId!, 'clerk').catch((e: unknown) => e);
    expect(gone).to.be.instanceOf(MonitorError).and.include({ code: 'not-found' });
    expect((gone as Error).message).to.include('removed by retention');
  });

  it('resends and dead-letters through the site’s worker, or in the store when none runs here, each in the audit of people', async () => {
    const id = (await process({ event: 'A01', id: 'M1' })).notifications[0].outcome.messageHeaderId!;
    expect(await monitor.deadLetter(undefined, id, 'operator-a')).to.include({ status: 'dead' });
    expect(await monitor.resend(undefined, id, 'operator-a')).to.include({ status: 'queued' });
    const calls: string[] = [];
    const worker: DeliveryPart = {
      id: 'out1',
      name: 'out',
      siteId: 's1',
      transport: 'vans',
      contact: () => ({}),
      error: () => undefined,
      oldestUnacknowledgedMs: 3_600_000,
      resend: async (m, op) => (calls.push(`resend ${m} ${op}`), (await runtime.store.getOutbox(m))!),
      deadLetter: async (m, op) => (calls.push(`dead ${m} ${op}`), (await runtime.store.getOutbox(m))!),
    };
    monitor.addDelivery(worker);
    await monitor.resend(undefined, id, 'operator-b');
    expect(calls).to.deep.equal([`resend ${id} operator-b`]);
    expect((await runtime.store.operatorAudit()).map((a) => [a.user, a.action])).to.deep.equal([
      ['operator-a', 'resend'],
      ['operator-a', 'dead-letter'],
    ]);
  });

  it('releases held advis through the site’s advis node, audited with how many went and how many stay', async () => {
    await process({ event: 'A01', id: 'M1', municipality: '999' });
    const refused = await monitor.releaseHeld(undefined, 'operator').catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(MonitorError).and.include({ code: 'no-release' });
    monitor.addRelease({ siteId: 's1', releaseHeld: () => runtime.engine.releaseHeld() });
    expect(await monitor.releaseHeld(undefined, 'operator')).to.deep.equal({ released: 0, stillHeld: 1 });
    expect((await runtime.store.operatorAudit())[0]).to.include({ user: 'operator', action: 'release', target: 'held:*', detail: '0 released (0 advis), 1 still held' });
  });

  it('is healthy only when the store takes writes, the profiles are loaded, every listener is bound, every sink answered last, and nothing waits too long', async () => {
    let bound: true | string = true;
    monitor.addListener({ id: 'l1', name: 'EPR', address: '127.0.0.1:2575', bound: () => bound });
    const contact: { lastSuccess?: Date; lastFailure?: Date; lastError?: string } = {};
    monitor.addDelivery({ id: 'o1', name: 'VANS', siteId: 's1', transport: 'vans', contact: () => contact, error: () => undefined, oldestUnacknowledgedMs: 3_600_000, resend: () => Promise.reject(new Error('unused')), deadLetter: () => Promise.reject(new Error('unused')) });
    const failing = async () => (await monitor.health()).checks.filter((c) => !c.ok).map((c) => c.part);
    expect((await monitor.health()).status).to.equal('ok');
    expect((await monitor.health()).checks.map((c) => c.part)).to.deep.equal(['store', 'profiles', 'oldest-unacknowledged', 'mllp', 'sink']);

    bound = 'cannot listen on 127.0.0.1:2575: EADDRINUSE';
    expect(await failing()).to.deep.equal(['mllp']);
    bound = true;
    contact.lastSuccess = new Date('2025-03-11T07:00:00Z');
    contact.lastFailure = new Date('2025-03-11T07:00:01Z');
    contact.lastError = 'ECONNREFUSED';
    const sink = (await monitor.health()).checks.find((c) => c.part === 'sink')!;
    expect(sink).to.include({ ok: false });
    expect(sink.detail).to.include('ECONNREFUSED');
    contact.lastSuccess = new Date('2025-03-11T07:00:02Z');
    expect(await failing()).to.deep.equal([]);

    await process({ event: 'A01', id: 'M1' });
    clock = new Date('2025-03-11T08:00:03Z');
    expect(await failing()).to.deep.equal(['oldest-unacknowledged']);
    expect((await monitor.health()).status).to.equal('failing');
  });

  it('names the site to read: the only one, or the one asked for', async () => {
    expect(monitor.site().id).to.equal('s1');
    expect(() => monitor.site('s2')).to.throw(MonitorError, 'no advis site s2');
    monitor.addSite({ id: 's2', name: 'Other', runtime: () => Promise.resolve(runtime) });
    expect(() => monitor.site()).to.throw(MonitorError, 'several advis sites');
    expect(monitor.site('s2').name).to.equal('Other');
  });
});
