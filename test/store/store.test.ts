// The advis store contract, run against both stores: every kind of record round-trips, a change commits whole or not
// at all, a transaction's commits are savepoints, the outbox hands out one message per stay in order and never the
// same one to two claimants, locks serialise two connections, secrets agree. Then the SQLite file on its own: durable,
// configured for durability and free of CPR numbers where it promises to be. PostgreSQL runs on a throw-away server
// (test/support/postgres.ts); on CI it may not be missing.
import { expect } from 'chai';
import Database from 'better-sqlite3';
import { createHmac } from 'node:crypto';
import pg from 'pg';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { StayState } from '../../lib/advis/types';
import { describeNeeding } from '../support/shared';
import { PG_PASSWORD, postgresMissing, startPostgres, withLogin, type TestPostgres } from '../support/postgres';
import {
  MIGRATIONS,
  POSTGRES_MIGRATIONS,
  openMemoryStore,
  openSqliteStore,
  StoreError,
  openStore,
  type AdvisStore,
  type NewOutboxEntry,
  type OutboxClaim,
  type OutboxStatus,
  type StoreChange,
  type StoreErrorCode,
} from '../../lib/store';

const CPR = '0101800005';
const PATIENT_KEY = createHmac('sha256', 'test-secret').update(CPR).digest('hex');
const RECEIVER = { municipalityCode: '0163', name: 'Plejecenter Herlev', sor: '953741000016009', gln: '5790001348120' };
const DEPARTMENT = { name: 'Hjerteafdelingen på Herlev og Gentofte hospital', sor: '265161000016000', gln: '5790000209354' };

/** A stay as the engine leaves it after a STIN: realistic values, ids fixed so the test is repeatable. */
function stay(key: string, overrides: Partial<StayState> = {}): StayState {
  const encounter = { class: 'IMP', status: 'in-progress', periodStart: '2025-03-11T07:55:00+01:00' } as const;
  return {
    key,
    patientKey: PATIENT_KEY,
    hospital: 'HGH',
    department: 'HJA',
    region: '1084',
    episode: { system: 'https://sor2.sum.dsdn.dk/#id=265161000016000', value: '5d4b2c1e-9f3a-4e6b-8c7d-1a2b3c4d5e6f' },
    status: 'admitted',
    encounter,
    deceased: false,
    provenance: [
      {
        id: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
        target: 'f0e1d2c3-b4a5-4968-8776-655443322110',
        activity: 'admit-inpatient',
        occurred: '2025-03-11T08:00:02+01:00',
        agent: DEPARTMENT,
      },
    ],
    sent: [
      {
        advis: 'STIN',
        trigger: 'A01',
        messageHeaderId: 'f0e1d2c3-b4a5-4968-8776-655443322110',
        bundleId: 'b7c8d9e0-f1a2-4b3c-9d4e-5f6a7b8c9d0e',
        sentAt: '2025-03-11T08:00:02+01:00',
        receiver: RECEIVER,
        department: 'HJA',
        hospital: 'HGH',
        encounter,
      },
    ],
    ...overrides,
  };
}

function outbox(messageHeaderId: string, stayKey: string, createdAt = '2025-03-11T07:00:00.000Z'): NewOutboxEntry {
  return {
    messageHeaderId,
    bundleId: `bundle-${messageHeaderId}`,
    stayKey,
    advis: 'STIN',
    receiverGln: RECEIVER.gln,
    receiverSor: RECEIVER.sor,
    format: 'json',
    body: JSON.stringify({ resourceType: 'Bundle', id: `bundle-${messageHeaderId}` }),
    createdAt,
  };
}

/** The StoreError code a call fails with; fails the test if it succeeds or throws something else. */
async function storeErrorCode(call: () => unknown): Promise<StoreErrorCode> {
  try {
    await call();
  } catch (error) {
    expect(error).to.be.instanceOf(StoreError);
    return (error as StoreError).code;
  }
  throw new Error('expected a StoreError');
}

const at = (minute: number): string => new Date(Date.UTC(2025, 2, 11, 7, minute)).toISOString();

/** The PostgreSQL server of the contract run on PostgreSQL. */
let pgServer: TestPostgres | undefined;

const CLAIM: OutboxClaim = { owner: 'worker-a', leaseMs: 60_000 };

/** The contract, for a store opened by `open` (each call: the same database, a new connection). */
function storeContract(kind: 'sqlite' | 'postgres', fresh: () => Promise<() => Promise<AdvisStore>>): void {
  let store: AdvisStore;
  let open: () => Promise<AdvisStore>;
  beforeEach(async () => {
    open = await fresh();
    store = await open();
  });
  afterEach(async () => await store.close());

  describe('records', () => {
    it('stores a stay by key and finds a patient\'s stays, open or ended', async () => {
      const admitted = stay('V1|HGH');
      const finished = stay('V2|RH', { hospital: 'RH', status: 'finished' });
      const otherPatient = stay('V3|HGH', { patientKey: 'another-patient' });
      await store.commit({ stays: [admitted, finished, otherPatient] });

      expect(await store.getStay('V1|HGH')).to.deep.equal(admitted);
      expect(await store.getStay('V9|HGH')).to.equal(undefined);
      expect((await store.staysOfPatient(PATIENT_KEY)).map((s) => s.key)).to.deep.equal(['V1|HGH', 'V2|RH']);
      expect((await store.staysOfPatient(PATIENT_KEY, { open: true })).map((s) => s.key)).to.deep.equal(['V1|HGH']);
      expect((await store.staysOfPatient(PATIENT_KEY, { open: false })).map((s) => s.key)).to.deep.equal(['V2|RH']);

      // An upsert replaces the state and moves the stay between open and ended.
      await store.commit({ stays: [{ ...admitted, status: 'cancelled', department: 'PSY' }] });
      expect(await store.getStay('V1|HGH')).to.include({ status: 'cancelled', department: 'PSY' });
      expect(await store.staysOfPatient(PATIENT_KEY, { open: true })).to.deep.equal([]);
    });

    it('stores the outcome of a processed ADT message for replay', async () => {
      const outcome = { outcomes: [{ advis: 'STIN', stayKey: 'V1|HGH', receiver: RECEIVER }] };
      await store.commit({ processed: { key: 'EPJ|HGH|MSG-1', outcome, at: '2025-03-11T08:00:02+01:00' } });
      expect(await store.getProcessed<typeof outcome>('EPJ|HGH|MSG-1')).to.deep.equal({
        key: 'EPJ|HGH|MSG-1',
        outcome,
        at: '2025-03-11T07:00:02.000Z',
      });
      expect(await store.getProcessed('EPJ|HGH|MSG-2')).to.equal(undefined);
    });

    it('queues outgoing messages and records their delivery, including a resend with a new Bundle.id', async () => {
      await store.commit({ stays: [stay('V1|HGH')], outbox: [outbox('M1', 'V1|HGH'), { ...outbox('M2', 'V1|HGH'), advis: 'SLHJ' }] });
      const queued = (await store.getOutbox('M1'))!;
      expect(queued).to.deep.equal({
        ...outbox('M1', 'V1|HGH'),
        id: queued.id,
        status: 'queued',
        attempts: 0,
        networkFailures: 0,
        nextAttemptAt: '2025-03-11T07:00:00.000Z',
        lastError: null,
      });
      expect((await store.outboxByStay('V1|HGH')).map((e) => [e.messageHeaderId, e.advis])).to.deep.equal([['M1', 'STIN'], ['M2', 'SLHJ']]);
      expect(await store.getOutbox('M9')).to.equal(undefined);

      await store.commit({ outboxUpdate: [{ messageHeaderId: 'M1', status: 'failed', attempts: 1, networkFailures: 2, nextAttemptAt: at(5), lastError: 'connection refused' }] });
      expect(await store.getOutbox('M1')).to.include({ status: 'failed', attempts: 1, networkFailures: 2, nextAttemptAt: at(5), lastError: 'connection refused' });

      const resentBody = JSON.stringify({ resourceType: 'Bundle', id: 'bundle-M1-resend' });
      await store.commit({ outboxUpdate: [{ messageHeaderId: 'M1', status: 'sent', attempts: 2, lastError: null, resend: { bundleId: 'bundle-M1-resend', body: resentBody } }] });
      expect(await store.getOutbox('M1')).to.include({
        status: 'sent',
        attempts: 2,
        nextAttemptAt: at(5),
        lastError: null,
        bundleId: 'bundle-M1-resend',
        body: resentBody,
        messageHeaderId: 'M1',
        networkFailures: 2,
      });
      // A VANS receipt names the transmission's envelope, whose id is the Bundle.id: only the latest one is found.
      expect((await store.outboxByBundleId('bundle-M1-resend'))?.messageHeaderId).to.equal('M1');
      expect(await store.outboxByBundleId(outbox('M1', 'V1|HGH').bundleId)).to.equal(undefined);

      expect((await store.outboxByStatus('sent')).map((e) => e.messageHeaderId)).to.deep.equal(['M1']);
      expect((await store.outboxByStatus('queued')).map((e) => e.messageHeaderId)).to.deep.equal(['M2']);
      expect(await store.outboxByStatus('queued', 0)).to.deep.equal([]);
      expect(await Promise.all(['queued', 'failed', 'sent', 'delivered', 'dead'].map((status) => store.countOutbox(status as OutboxStatus)))).to.deep.equal([1, 0, 1, 0, 0]);
    });

    it('keeps deferred events until they are due and removes them in the commit that processes them', async () => {
      const payload = { event: 'A05', patient: { cpr: CPR } };
      await store.commit({
        deferredAdd: [
          { idempotencyKey: 'K-late', stayKey: 'V2|HGH', dueAt: at(30), payload, createdAt: at(0) },
          { idempotencyKey: 'K-soon', stayKey: null, dueAt: '2025-03-11T08:10:00+01:00', payload, createdAt: at(0) },
        ],
      });
      expect(await store.dueDeferred(new Date(at(9)), 10)).to.deep.equal([]);
      const due = await store.dueDeferred<typeof payload>(new Date(at(30)), 10);
      expect(due.map((d) => [d.idempotencyKey, d.stayKey, d.dueAt])).to.deep.equal([
        ['K-soon', null, at(10)],
        ['K-late', 'V2|HGH', at(30)],
      ]);
      expect(due[0]).to.deep.include({ payload, createdAt: at(0) });
      expect(await store.dueDeferred(new Date(at(30)), 1)).to.have.length(1);

      await store.commit({ deferredRemove: [due[0].id], audit: [{ at: at(31), outcome: 'deferred', idempotencyKey: 'K-soon' }] });
      expect((await store.dueDeferred(new Date(at(30)), 10)).map((d) => d.idempotencyKey)).to.deep.equal(['K-late']);
      // A second worker that processed the same event must not commit its outcome.
      expect(await storeErrorCode(() => store.commit({ deferredRemove: [due[0].id], audit: [{ at: at(32), outcome: 'advis' }] }))).to.equal('not-found');
      expect((await store.audit()).map((a) => a.outcome)).to.deep.equal(['deferred']);
    });

    it('keeps held outcomes with their reason until released', async () => {
      const payload = { event: 'A01', visit: { stayKey: 'V1|HGH' } };
      await store.commit({
        heldAdd: [
          { idempotencyKey: 'K1', reason: 'unknown-department', payload, createdAt: at(1) },
          { idempotencyKey: 'K2', reason: 'unknown-municipality', payload, createdAt: at(2) },
        ],
      });
      const held = await store.held<typeof payload>();
      expect(held.map((h) => [h.idempotencyKey, h.reason, h.createdAt])).to.deep.equal([
        ['K1', 'unknown-department', at(1)],
        ['K2', 'unknown-municipality', at(2)],
      ]);
      expect(held[0].payload).to.deep.equal(payload);
      await store.commit({ heldRemove: [held[0].id] });
      expect((await store.held()).map((h) => h.idempotencyKey)).to.deep.equal(['K2']);
      expect(await storeErrorCode(() => store.commit({ heldRemove: [held[0].id] }))).to.equal('not-found');
    });

    it('keeps an audit trail and lists it by stay, message, outcome, time and in pages', async () => {
      await store.commit({
        audit: [
          { at: at(1), outcome: 'advis', idempotencyKey: 'K1', event: 'A01', stayKey: 'V1|HGH', advis: 'STIN', messageHeaderId: 'M1', receiverGln: RECEIVER.gln },
          { at: at(2), outcome: 'none', idempotencyKey: 'K2', event: 'A08', stayKey: 'V1|HGH', reason: 'nothing-changed' },
          { at: at(3), outcome: 'error', idempotencyKey: 'K3', event: 'A01', stayKey: 'V2|HGH', advis: 'STIN', detail: 'Bundle.entry[1].resource.name' },
          { at: at(4), outcome: 'delivered', stayKey: 'V1|HGH', messageHeaderId: 'M1', receiverGln: RECEIVER.gln },
        ],
      });
      const all = await store.audit();
      expect(all[1]).to.deep.equal({
        id: all[1].id,
        at: at(2),
        outcome: 'none',
        idempotencyKey: 'K2',
        event: 'A08',
        stayKey: 'V1|HGH',
        advis: null,
        reason: 'nothing-changed',
        messageHeaderId: null,
        receiverGln: null,
        detail: null,
      });
      const ids = async (filter: Parameters<AdvisStore['audit']>[0]) => (await store.audit(filter)).map((a) => a.idempotencyKey ?? a.outcome);
      expect(await ids({ stayKey: 'V1|HGH' })).to.deep.equal(['K1', 'K2', 'delivered']);
      expect(await ids({ messageHeaderId: 'M1' })).to.deep.equal(['K1', 'delivered']);
      expect(await ids({ outcome: 'error' })).to.deep.equal(['K3']);
      expect(await ids({ idempotencyKey: 'K2' })).to.deep.equal(['K2']);
      expect(await ids({ since: new Date(at(3)) })).to.deep.equal(['K3', 'delivered']);
      expect(await ids({ stayKey: 'V1|HGH', since: new Date(at(2)) })).to.deep.equal(['K2', 'delivered']);
      const firstPage = await store.audit({ limit: 2 });
      expect(firstPage.map((a) => a.idempotencyKey)).to.deep.equal(['K1', 'K2']);
      expect(await ids({ afterId: firstPage[1].id, limit: 2 })).to.deep.equal(['K3', 'delivered']);
    });

    it('creates a named secret once and returns the same value ever after', async () => {
      let created = 0;
      const create = () => `secret-${++created}`;
      expect(await store.secret('patient-key', create)).to.equal('secret-1');
      expect(await store.secret('patient-key', create)).to.equal('secret-1');
      expect(await store.secret('other', create)).to.equal('secret-2');
      expect(created).to.equal(2);
    });

    it('keeps the instant of times written with an offset and refuses times without one', async () => {
      await store.commit({ audit: [{ at: '2025-07-01T10:00:00+02:00', outcome: 'none' }] });
      expect((await store.audit())[0].at).to.equal('2025-07-01T08:00:00.000Z');
      const change: StoreChange = { stays: [stay('V1|HGH')], audit: [{ at: '2025-07-01T10:00:00', outcome: 'none' }] };
      expect(await storeErrorCode(() => store.commit(change))).to.equal('invalid-value');
      expect(await store.getStay('V1|HGH')).to.equal(undefined);
      expect(await storeErrorCode(() => store.claimDue(new Date('not a date'), 1, CLAIM))).to.equal('invalid-value');
    });

    it('counts its rows', async () => {
      await store.commit({
        stays: [stay('V1|HGH'), stay('V2|HGH', { status: 'finished' })],
        outbox: [outbox('M1', 'V1|HGH'), outbox('M2', 'V2|HGH')],
        outboxUpdate: [{ messageHeaderId: 'M2', status: 'dead' }],
        processed: { key: 'K1', outcome: {}, at: at(0) },
        audit: [{ at: at(0), outcome: 'advis' }],
      });
      const stats = await store.stats();
      expect(stats.rows).to.deep.equal({ stays: 2, openStays: 1, processed: 1, outbox: 2, deferred: 0, held: 0, audit: 1, operatorAudit: 0 });
      expect(stats.bytes).to.be.greaterThan(0);
      expect(stats.outboxByStatus).to.deep.equal({ queued: 1, sent: 0, delivered: 0, failed: 0, dead: 1 });
      expect(stats).to.include({ kind, location: store.location, schemaVersion: kind === 'sqlite' ? MIGRATIONS.length : POSTGRES_MIGRATIONS.length });
      expect(store.location).not.to.include(PG_PASSWORD);
    });
  });

  describe('what the monitor reads', () => {
    const other = createHmac('sha256', 'test-secret').update('0202900006').digest('hex');
    beforeEach(async () => {
      await store.commit({
        stays: [stay('V1|HGH'), stay('V2|HGH'), stay('V3|HGH', { patientKey: other })],
        outbox: [
          outbox('M1', 'V1|HGH', at(1)),
          { ...outbox('M2', 'V1|HGH', at(2)), advis: 'SLHJ' },
          { ...outbox('M3', 'V2|HGH', at(3)), receiverGln: '5790001348137' },
          outbox('M4', 'V3|HGH', at(4)),
        ],
        outboxUpdate: [
          { messageHeaderId: 'M1', status: 'delivered' },
          { messageHeaderId: 'M2', status: 'sent', resend: { bundleId: 'bundle-M2b', body: '{"resourceType":"Bundle"}', messageHeaderId: 'M2-new' } },
          { messageHeaderId: 'M3', status: 'failed' },
        ],
      });
    });
    const ids = (list: { messageHeaderId: string }[]) => list.map((e) => e.messageHeaderId);

    it('finds messages by id (a resend\'s own too), stay, patient, advis, receiver, status and time, newest first, in pages', async () => {
      expect(ids(await store.searchOutbox({}))).to.deep.equal(['M4', 'M3', 'M2', 'M1']);
      expect(ids(await store.searchOutbox({ messageHeaderId: 'M2-new' }))).to.deep.equal(['M2']);
      expect(ids(await store.searchOutbox({ stayKey: 'V1|HGH' }))).to.deep.equal(['M2', 'M1']);
      expect(ids(await store.searchOutbox({ patientKey: PATIENT_KEY }))).to.deep.equal(['M3', 'M2', 'M1']);
      expect(ids(await store.searchOutbox({ patientKey: other }))).to.deep.equal(['M4']);
      expect(ids(await store.searchOutbox({ advis: 'SLHJ' }))).to.deep.equal(['M2']);
      expect(ids(await store.searchOutbox({ receiverGln: '5790001348137' }))).to.deep.equal(['M3']);
      expect(ids(await store.searchOutbox({ status: 'delivered' }))).to.deep.equal(['M1']);
      expect(ids(await store.searchOutbox({ from: new Date(at(2)), to: new Date(at(4)) }))).to.deep.equal(['M3', 'M2']);
      const page = await store.searchOutbox({ limit: 2 });
      expect(ids(page)).to.deep.equal(['M4', 'M3']);
      expect(ids(await store.searchOutbox({ beforeId: page[1].id }))).to.deep.equal(['M2', 'M1']);
      expect(page[0]).not.to.have.property('body');
    });

    it('counts messages by receiver and status, and finds the oldest one not settled', async () => {
      expect(await store.countOutboxByReceiver()).to.have.deep.members([
        { status: 'delivered', receiverGln: RECEIVER.gln, count: 1 },
        { status: 'sent', receiverGln: RECEIVER.gln, count: 1 },
        { status: 'queued', receiverGln: RECEIVER.gln, count: 1 },
        { status: 'failed', receiverGln: '5790001348137', count: 1 },
      ]);
      expect((await store.oldestUnsettled())?.messageHeaderId).to.equal('M2');
      await store.commit({ outboxUpdate: ['M2', 'M3', 'M4'].map((messageHeaderId) => ({ messageHeaderId, status: 'delivered' as const })) });
      expect(await store.oldestUnsettled()).to.equal(undefined);
    });

    it('keeps the audit of people, newest first, by user, action and target', async () => {
      await store.commit({
        operatorAudit: [
          { at: at(1), user: 'anna', action: 'search-personal', target: `patient:${PATIENT_KEY}`, detail: null },
          { at: at(2), user: 'bo', action: 'resend', target: 'message:M3', detail: 'was failed' },
          { at: at(3), user: 'anna', action: 'view-personal', target: 'message:M1', detail: null },
        ],
      });
      const all = await store.operatorAudit();
      expect(all.map((a) => [a.user, a.action, a.target])).to.deep.equal([
        ['anna', 'view-personal', 'message:M1'],
        ['bo', 'resend', 'message:M3'],
        ['anna', 'search-personal', `patient:${PATIENT_KEY}`],
      ]);
      expect(all[1]).to.include({ at: at(2), detail: 'was failed' });
      expect((await store.operatorAudit({ user: 'anna' })).map((a) => a.action)).to.deep.equal(['view-personal', 'search-personal']);
      expect((await store.operatorAudit({ action: 'resend' })).map((a) => a.user)).to.deep.equal(['bo']);
      expect((await store.operatorAudit({ target: 'message:M1' })).map((a) => a.user)).to.deep.equal(['anna']);
      expect((await store.operatorAudit({ beforeId: all[1].id })).map((a) => a.action)).to.deep.equal(['search-personal']);
    });

    it('lists the audit trail newest first', async () => {
      await store.commit({ audit: ['none', 'advis', 'none'].map((outcome, i) => ({ at: at(i), outcome: outcome as 'none', idempotencyKey: `K${i}` })) });
      const newest = await store.audit({ outcome: 'none', newestFirst: true });
      expect(newest.map((a) => a.idempotencyKey)).to.deep.equal(['K2', 'K0']);
      expect((await store.audit({ newestFirst: true, afterId: newest[0].id })).map((a) => a.idempotencyKey)).to.deep.equal(['K1', 'K0']);
    });
  });

  describe('retention', () => {
    const DAY = 86_400_000;
    const POLICY = { bundleDays: 10, summaryDays: 20, auditDays: 20, operatorAuditDays: 30, processedDays: 5 };
    const day = (n: number): string => new Date(Date.UTC(2025, 0, 1) + n * DAY).toISOString();
    const now = new Date(Date.UTC(2025, 0, 1) + 40 * DAY);

    beforeEach(async () => {
      // Day 0: stays and messages in every status, long past every retention; day 35: a recent delivered one.
      const statuses: OutboxStatus[] = ['delivered', 'queued', 'sent', 'failed', 'dead'];
      await store.commit({
        stays: [...statuses.map((s) => stay(`${s}|HGH`, { status: 'finished' })), stay('open|HGH'), stay('recent|HGH', { status: 'finished' })],
        outbox: [...statuses.map((s) => outbox(s, `${s}|HGH`, day(0))), outbox('open', 'open|HGH', day(0)), outbox('recent', 'recent|HGH', day(35))],
        outboxUpdate: [...statuses.filter((s) => s !== 'queued').map((status) => ({ messageHeaderId: status, status })), { messageHeaderId: 'open', status: 'delivered' as const }, { messageHeaderId: 'recent', status: 'delivered' as const }],
        processed: { key: 'K-old', outcome: { advis: 'STIN' }, at: day(0) },
        heldAdd: [{ idempotencyKey: 'K-held', reason: 'unknown-municipality', payload: {}, createdAt: day(0) }],
        audit: [
          ...statuses.map((s) => ({ at: day(0), outcome: 'advis' as const, messageHeaderId: s })),
          { at: day(0), outcome: 'held' as const, idempotencyKey: 'K-held' },
          { at: day(0), outcome: 'none' as const, idempotencyKey: 'K-none' },
          { at: day(35), outcome: 'none' as const, idempotencyKey: 'K-recent' },
        ],
        operatorAudit: [
          { at: day(0), user: 'anna', action: 'resend', target: 'message:failed', detail: null },
          { at: day(35), user: 'bo', action: 'view-personal', target: 'message:recent', detail: null },
        ],
      });
      await store.commit({ processed: { key: 'K-held', outcome: { held: true }, at: day(0) } });
    });

    const pruneAll = async (batch: number) => {
      const total = { bundles: 0, summaries: 0, stays: 0, processed: 0, audit: 0, operatorAudit: 0 };
      for (;;) {
        const step = await store.prune(now, POLICY, batch);
        Object.entries(step).forEach(([k, v]) => (total[k as keyof typeof total] += v));
        if (Object.values(step).every((v) => v === 0)) return total;
      }
    };

    it('removes what is settled and old, in batches, and nothing that is still to be settled', async () => {
      expect(await pruneAll(1)).to.deep.equal({ bundles: 2, summaries: 2, stays: 1, processed: 1, audit: 2, operatorAudit: 1 });
      // Messages still to be settled, and dead ones for an operator, stay whole.
      for (const id of ['queued', 'sent', 'failed', 'dead']) expect((await store.getOutbox(id))?.body, id).to.be.a('string');
      // The recent delivered one keeps its Bundle; the two old ones are gone, summary and all.
      expect((await store.getOutbox('recent'))?.body).to.be.a('string');
      expect(await store.getOutbox('delivered')).to.equal(undefined);
      expect(await store.getOutbox('open')).to.equal(undefined);
      // A stay goes with its last message once it has ended; an open one stays.
      expect(await store.getStay('delivered|HGH')).to.equal(undefined);
      expect(await store.getStay('open|HGH')).not.to.equal(undefined);
      // A held event keeps its idempotency record and its audit row until it is released.
      expect(await store.getProcessed('K-old')).to.equal(undefined);
      expect(await store.getProcessed('K-held')).not.to.equal(undefined);
      expect((await store.audit()).map((a) => a.messageHeaderId ?? a.idempotencyKey)).to.deep.equal(['queued', 'sent', 'failed', 'dead', 'K-held', 'K-recent']);
      expect((await store.operatorAudit()).map((a) => a.user)).to.deep.equal(['bo']);
    });

    it('removes the Bundle of a delivered message before its summary, and can send it again only while it has one', async () => {
      await store.prune(now, { ...POLICY, summaryDays: 60 }, 100);
      const summary = await store.getOutbox('delivered');
      expect(summary).to.include({ status: 'delivered', body: null, advis: 'STIN', receiverGln: RECEIVER.gln });
      expect(ids(await store.searchOutbox({ stayKey: 'delivered|HGH' }))).to.deep.equal(['delivered']);
      // A resend writes a Bundle again.
      await store.commit({ outboxUpdate: [{ messageHeaderId: 'delivered', status: 'queued', resend: { bundleId: 'b2', body: '{"resourceType":"Bundle","id":"b2"}' } }] });
      expect((await store.getOutbox('delivered'))?.body).to.equal('{"resourceType":"Bundle","id":"b2"}');
    });
    const ids = (list: { messageHeaderId: string }[]) => list.map((e) => e.messageHeaderId);

    it('refuses a policy it cannot keep', async () => {
      expect(await storeErrorCode(() => store.prune(now, { ...POLICY, summaryDays: 5 }, 10))).to.equal('invalid-value');
      expect(await storeErrorCode(() => store.prune(now, { ...POLICY, auditDays: 0 }, 10))).to.equal('invalid-value');
      expect(await storeErrorCode(() => store.prune(now, { ...POLICY, processedDays: 1.5 }, 10))).to.equal('invalid-value');
    });
  });

  describe('one change, one transaction', () => {
    const change = (key: string, messageHeaderIds: string[]): StoreChange => ({
      processed: { key, outcome: { advis: 'STIN' }, at: at(0) },
      stays: [stay('V1|HGH', { department: key })],
      outbox: messageHeaderIds.map((id) => outbox(id, 'V1|HGH')),
      deferredAdd: [{ idempotencyKey: key, stayKey: 'V1|HGH', dueAt: at(10), payload: {}, createdAt: at(0) }],
      heldAdd: [{ idempotencyKey: key, reason: 'unknown-municipality', payload: {}, createdAt: at(0) }],
      audit: [{ at: at(0), outcome: 'advis', idempotencyKey: key }],
    });

    async function expectNothingOf(key: string): Promise<void> {
      expect(await store.getProcessed(key)).to.equal(undefined);
      expect((await store.dueDeferred(new Date(at(59)), 10)).filter((d) => d.idempotencyKey === key)).to.deep.equal([]);
      expect((await store.held()).filter((h) => h.idempotencyKey === key)).to.deep.equal([]);
      expect(await store.audit({ idempotencyKey: key })).to.deep.equal([]);
    }

    it('leaves nothing behind when one part fails (a messageHeaderId twice in the outbox)', async () => {
      expect(await storeErrorCode(() => store.commit(change('K1', ['M1', 'M1'])))).to.equal('duplicate');
      await expectNothingOf('K1');
      expect(await store.getStay('V1|HGH')).to.equal(undefined);
      expect(await store.outboxByStay('V1|HGH')).to.deep.equal([]);
      expect((await store.stats()).rows).to.deep.equal({ stays: 0, openStays: 0, processed: 0, outbox: 0, deferred: 0, held: 0, audit: 0, operatorAudit: 0 });
    });

    it('commits an idempotency key once: the second change with it fails whole and the first stays as it was', async () => {
      await store.commit(change('K1', ['M1']));
      const error = await (async () => {
        try {
          await store.commit({ ...change('K1', ['M2']), deferredAdd: [], heldAdd: [] });
        } catch (e) {
          return e as StoreError;
        }
      })();
      expect(error).to.be.instanceOf(StoreError);
      expect(error!.code).to.equal('duplicate');
      expect(error!.message).to.match(kind === 'sqlite' ? /processed\.idempotency_key/ : /processed_pkey/);
      expect((await store.getStay('V1|HGH'))!.department).to.equal('K1');
      expect((await store.outboxByStay('V1|HGH')).map((e) => e.messageHeaderId)).to.deep.equal(['M1']);
      expect(await store.audit({ idempotencyKey: 'K1' })).to.have.length(1);
    });

    it('refuses a messageHeaderId that is already in the outbox, and an outbox entry for an unknown stay', async () => {
      await store.commit(change('K1', ['M1']));
      expect(await storeErrorCode(() => store.commit(change('K2', ['M1'])))).to.equal('duplicate');
      await expectNothingOf('K2');
      expect(await storeErrorCode(() => store.commit({ outbox: [outbox('M3', 'V404|HGH')], audit: [{ at: at(0), outcome: 'advis', idempotencyKey: 'K3' }] }))).to.equal('constraint');
      await expectNothingOf('K3');
    });

    it('runs a transaction: later commits see earlier ones, a failing commit undoes only itself, a rejection undoes it all', async () => {
      const seen = await store.transaction(async (tx) => {
        await tx.commit(change('K1', ['M1']));
        const visible = (await tx.getProcessed('K1')) !== undefined;
        expect(await storeErrorCode(() => tx.commit(change('K2', ['M1'])))).to.equal('duplicate');
        await tx.commit({ ...change('K3', ['M3']), stays: [] });
        return visible;
      });
      expect(seen).to.equal(true);
      expect((await store.outboxByStay('V1|HGH')).map((e) => e.messageHeaderId)).to.deep.equal(['M1', 'M3']);
      await expectNothingOf('K2');

      let used: Parameters<Parameters<AdvisStore['transaction']>[0]>[0] | undefined;
      const failed = store.transaction(async (tx) => {
        used = tx;
        await tx.commit({ ...change('K4', ['M4']), stays: [] });
        throw new Error('a later message failed');
      });
      await failed.then(
        () => expect.fail('the transaction resolved'),
        (error: Error) => expect(error.message).to.equal('a later message failed'),
      );
      await expectNothingOf('K4');
      expect(await store.getOutbox('M4')).to.equal(undefined);
      // A transaction kept past its end cannot write outside it.
      await used!.commit({ audit: [{ at: at(0), outcome: 'none' }] }).then(
        () => expect.fail('a commit on an ended transaction resolved'),
        (error: Error) => expect(error.message).to.match(/ended/),
      );
    });

    it('without savepoints, fails the whole transaction on a failed commit, even when the work goes on', async () => {
      await store.commit(change('K1', ['M1']));
      const result = store.transaction(
        async (tx) => {
          await tx.commit({ audit: [{ at: at(0), outcome: 'none', idempotencyKey: 'K5' }] });
          expect(await storeErrorCode(() => tx.commit(change('K2', ['M1'])))).to.equal('duplicate');
          return 'went on';
        },
        { savepoints: false },
      );
      expect(await storeErrorCode(() => result)).to.equal('duplicate');
      await expectNothingOf('K5');
      await expectNothingOf('K2');
    });

    it('shows a transaction\'s writes to nobody else until it commits', async () => {
      const other = await open();
      try {
        let during: unknown = 'not read';
        await store.transaction(async (tx) => {
          await tx.commit({ stays: [stay('V1|HGH')] });
          // On SQLite the other connection's read waits for the commit (one transaction at a time per file and
          // process); on PostgreSQL it reads what was committed before. Neither sees the write half-done.
          if (kind === 'postgres') during = await other.getStay('V1|HGH');
          else during = undefined;
        });
        expect(during).to.equal(undefined);
        expect(await other.getStay('V1|HGH')).to.deep.equal(stay('V1|HGH'));
      } finally {
        await other.close();
      }
    });

    it('rolls back everything when an outbox update refers to an unknown message', async () => {
      expect(await storeErrorCode(() => store.commit({ stays: [stay('V1|HGH')], outboxUpdate: [{ messageHeaderId: 'M404', status: 'sent' }] }))).to.equal('not-found');
      expect(await store.getStay('V1|HGH')).to.equal(undefined);
    });
  });

  describe('delivery order', () => {
    // A new claimant each time, so every call sees every head (a claim would hide them from the next).
    let claimant = 0;
    const heads = async (now: string, limit = 10) => (await store.claimDue(new Date(now), limit, { owner: `w${++claimant}`, leaseMs: 0 })).map((e) => e.messageHeaderId);

    beforeEach(async () => {
      // Interleaved creation: A1, B1, A2, B2, A3.
      await store.commit({
        stays: [stay('A|HGH'), stay('B|HGH')],
        outbox: [outbox('A1', 'A|HGH'), outbox('B1', 'B|HGH'), outbox('A2', 'A|HGH'), outbox('B2', 'B|HGH'), outbox('A3', 'A|HGH')],
      });
    });

    it('offers only the oldest waiting message of each stay, oldest stay first', async () => {
      expect(await heads(at(0))).to.deep.equal(['A1', 'B1']);
      expect(await heads(at(0), 1)).to.deep.equal(['A1']);
      await store.commit({ outboxUpdate: [{ messageHeaderId: 'A1', status: 'delivered' }] });
      expect(await heads(at(0))).to.deep.equal(['B1', 'A2']);
      // Handed to the network, the next message of the stay may follow without waiting for the acknowledgement.
      await store.commit({ outboxUpdate: [{ messageHeaderId: 'A2', status: 'sent' }, { messageHeaderId: 'B1', status: 'dead' }] });
      expect(await heads(at(0))).to.deep.equal(['B2', 'A3']);
    });

    it('holds a stay back while its head waits for a retry, without holding up other stays', async () => {
      await store.commit({ outboxUpdate: [{ messageHeaderId: 'A1', status: 'failed', attempts: 1, nextAttemptAt: at(10) }] });
      expect(await heads(at(9))).to.deep.equal(['B1']);
      expect(await heads(at(10))).to.deep.equal(['A1', 'B1']);
    });

    it('lists sent messages whose acknowledgement is overdue, most overdue first, and nothing else', async () => {
      await store.commit({
        outboxUpdate: [
          { messageHeaderId: 'A1', status: 'sent', attempts: 1, nextAttemptAt: at(30) },
          { messageHeaderId: 'B1', status: 'sent', attempts: 1, nextAttemptAt: at(20) },
          { messageHeaderId: 'A2', status: 'failed', attempts: 0, nextAttemptAt: at(0) },
          { messageHeaderId: 'B2', status: 'delivered', attempts: 1, nextAttemptAt: at(0) },
        ],
      });
      const overdue = async (dueBy: string, limit = 10) => (await store.awaitingAcknowledgement(new Date(dueBy), limit)).map((e) => e.messageHeaderId);
      expect(await overdue(at(19))).to.deep.equal([]);
      expect(await overdue(at(20))).to.deep.equal(['B1']);
      expect(await overdue(at(30))).to.deep.equal(['B1', 'A1']);
      expect(await overdue(at(30), 1)).to.deep.equal(['B1']);
    });

    it('does not offer messages created for later', async () => {
      await store.commit({ stays: [stay('C|HGH')], outbox: [{ ...outbox('C1', 'C|HGH'), nextAttemptAt: at(20) }] });
      expect(await heads(at(19))).to.deep.equal(['A1', 'B1']);
      expect(await heads(at(20))).to.deep.equal(['A1', 'B1', 'C1']);
    });
  });
  describe('several connections on one store', () => {
    let other: AdvisStore;
    const B: OutboxClaim = { owner: 'worker-b', leaseMs: 60_000 };
    const ids = (due: { messageHeaderId: string }[]) => due.map((e) => e.messageHeaderId);
    beforeEach(async () => {
      other = await open();
      await store.commit({
        stays: [stay('A|HGH'), stay('B|HGH'), stay('C|HGH')],
        outbox: [outbox('A1', 'A|HGH'), outbox('B1', 'B|HGH'), outbox('C1', 'C|HGH'), outbox('A2', 'A|HGH')],
      });
    });
    afterEach(async () => await other.close());

    it('claims each due message for one claimant, who gets it again while the lease runs, until it runs out', async () => {
      const now = new Date(at(0));
      expect(ids(await store.claimDue(now, 2, CLAIM))).to.deep.equal(['A1', 'B1']);
      expect(ids(await other.claimDue(now, 10, B))).to.deep.equal(['C1']);
      // A claimant's own claims come back (its sends in flight); nobody else's do, and A2 waits behind A1.
      expect(ids(await store.claimDue(now, 10, CLAIM))).to.deep.equal(['A1', 'B1']);
      expect(ids(await other.claimDue(now, 10, B))).to.deep.equal(['C1']);
      // The claimant died: once its lease has run out, the other takes its messages.
      expect(ids(await other.claimDue(new Date(now.getTime() + CLAIM.leaseMs), 10, B))).to.deep.equal(['A1', 'B1', 'C1']);
    });

    it('ends a claim with the entry\'s next status, and offers the stay\'s next message to anyone', async () => {
      const now = new Date(at(0));
      await store.claimDue(now, 10, CLAIM);
      await store.commit({ outboxUpdate: [{ messageHeaderId: 'A1', status: 'sent' }, { messageHeaderId: 'B1', status: 'failed', nextAttemptAt: at(0) }] });
      expect(ids(await other.claimDue(now, 10, B))).to.deep.equal(['B1', 'A2']);
      // An update without a status (a VANS receipt's note) leaves the claim as it is.
      await other.commit({ outboxUpdate: [{ messageHeaderId: 'C1', lastError: 'negative receipt' }] });
      expect(ids(await other.claimDue(now, 10, { owner: 'worker-c', leaseMs: 1 }))).to.deep.equal([]);
    });

    it('lets only one of two connections commit the same idempotency key', async () => {
      const write = (by: AdvisStore, name: string) =>
        by.commit({ processed: { key: 'K1', outcome: { by: name }, at: at(0) }, stays: [stay('V1|HGH', { department: name })] }).then(
          () => 'committed',
          (error: StoreError) => error.code,
        );
      const results = kind === 'postgres' ? await Promise.all([write(store, 'A'), write(other, 'B')]) : [await write(store, 'A'), await write(other, 'B')];
      expect([...results].sort()).to.deep.equal(['committed', 'duplicate']);
      const winner = results[0] === 'committed' ? 'A' : 'B';
      expect((await other.getProcessed('K1'))!.outcome).to.deep.equal({ by: winner });
      expect((await store.getStay('V1|HGH'))!.department).to.equal(winner);
    });

    it('creates a secret once for every connection', async () => {
      const values = kind === 'postgres'
        ? await Promise.all([store.secret('patient-key', () => 'from-a'), other.secret('patient-key', () => 'from-b')])
        : [await store.secret('patient-key', () => 'from-a'), await other.secret('patient-key', () => 'from-b')];
      expect(values[0]).to.equal(values[1]);
    });

    if (kind === 'postgres') {
      it('claims different messages for claimants that ask at the same moment, and all of them between them', async () => {
        const keys = Array.from({ length: 30 }, (_, i) => `S${i}|HGH`);
        await store.commit({ stays: keys.map((k) => stay(k)), outbox: keys.map((k) => outbox(`${k}-1`, k)) });
        const connections = [store, other, await open()];
        try {
          const now = new Date(at(0));
          const claims = await Promise.all(connections.map((c, i) => c.claimDue(now, 12, { owner: `w${i}`, leaseMs: 60_000 })));
          const all = claims.flatMap(ids);
          expect(new Set(all).size, 'no message claimed twice').to.equal(all.length);
          // 33 stay heads (the 30 and A, B, C), room for 36 claims: every head is claimed, each by one.
          expect(all.length).to.equal(33);
        } finally {
          await connections[2].close();
        }
      });

      it('survives the database ending its connection in the middle of a transaction, and works again after', async () => {
        const terminate = async () => {
          // Every other connection to this database, as a restart or failover does.
          const pgAdmin = new pg.Client({ connectionString: withLogin(pgServer!.url) });
          await pgAdmin.connect();
          await pgAdmin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'advis-engine'");
          await pgAdmin.end();
        };
        {
          const failed = store.transaction(async (tx) => {
            await tx.getStay('V1|HGH');
            await terminate();
            // The connection is idle in the transaction when it is ended: that must not end this process.
            await new Promise((resolve) => setTimeout(resolve, 200));
            await tx.commit({ stays: [stay('V1|HGH')] });
          });
          const error = await failed.then(
            () => expect.fail('the transaction on a lost connection resolved'),
            (e: unknown) => e,
          );
          expect(error).to.be.instanceOf(StoreError).with.property('code', 'unavailable');
          expect(await store.getStay('V1|HGH')).to.equal(undefined);
          await store.commit({ stays: [stay('V1|HGH')] });
          expect(await store.getStay('V1|HGH')).to.deep.equal(stay('V1|HGH'));
        }
      });

      it('serialises transactions that lock the same key, and only those', async () => {
        const order: string[] = [];
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        let locked!: () => void;
        const first = store.transaction(async (tx) => {
          await tx.lock('patient:1');
          locked();
          order.push('first has the lock');
          await held;
          await tx.commit({ stays: [stay('V1|HGH', { department: 'first' })] });
          order.push('first commits');
        });
        await new Promise<void>((resolve) => (locked = resolve));
        const second = other.transaction(async (tx) => {
          await tx.lock('patient:1');
          order.push('second has the lock');
          // It reads what the first committed before it let go.
          order.push(`second reads ${(await tx.getStay('V1|HGH'))?.department}`);
        });
        const unrelated = other.transaction(async (tx) => {
          await tx.lock('patient:2');
          order.push('unrelated has its lock');
        });
        await unrelated;
        await new Promise((resolve) => setTimeout(resolve, 100));
        release();
        await Promise.all([first, second]);
        expect(order).to.deep.equal(['first has the lock', 'unrelated has its lock', 'first commits', 'second has the lock', 'second reads first']);
      });
    }
  });
}

describe('advis store contract: SQLite', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-contract-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  storeContract('sqlite', async () => {
    const file = path.join(dir, `store-${++n}.db`);
    return async () => openSqliteStore(file);
  });
});

describeNeeding('advis store contract: PostgreSQL', postgresMissing, () => {
  before(async function () {
    this.timeout(60_000);
    pgServer = await startPostgres();
  });
  after(async () => await pgServer?.destroy());
  storeContract('postgres', async () => {
    const url = await pgServer!.database();
    return () => openStore(url, { password: PG_PASSWORD });
  });
});

describe('advis store in a file', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-store-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('makes a transaction durable as one: another connection sees none of it until it commits', async () => {
    const file = path.join(dir, 'advis.db');
    const writer = openSqliteStore(file);
    const reader = new Database(file, { readonly: true });
    try {
      await writer.transaction(async (tx) => {
        await tx.commit({ stays: [stay('V1|HGH')], audit: [{ at: at(0), outcome: 'advis', idempotencyKey: 'K1' }] });
        await tx.commit({ stays: [stay('V2|HGH')], audit: [{ at: at(1), outcome: 'advis', idempotencyKey: 'K2' }] });
        expect(reader.prepare('SELECT count(*) FROM stays').pluck().get()).to.equal(0);
      });
      expect(reader.prepare('SELECT idempotency_key FROM audit ORDER BY id').pluck().all()).to.deep.equal(['K1', 'K2']);
    } finally {
      await writer.close();
      reader.close();
    }
  });

  it('creates its directory and keeps every record across close and reopen', async () => {
    const file = path.join(dir, 'site', 'data', 'advis.db');
    const first = openSqliteStore(file);
    await first.commit({
      processed: { key: 'K1', outcome: { advis: 'STIN' }, at: at(0) },
      stays: [stay('V1|HGH')],
      outbox: [outbox('M1', 'V1|HGH')],
      deferredAdd: [{ idempotencyKey: 'K2', stayKey: 'V2|HGH', dueAt: at(10), payload: { event: 'A05' }, createdAt: at(0) }],
      heldAdd: [{ idempotencyKey: 'K3', reason: 'unknown-department', payload: { event: 'A01' }, createdAt: at(0) }],
      audit: [{ at: at(0), outcome: 'advis', idempotencyKey: 'K1', advis: 'STIN' }],
    });
    const secret = await first.secret('patient-key', () => 'abc');
    await first.close();

    const second = openSqliteStore(file);
    try {
      expect((await second.getProcessed('K1'))!.outcome).to.deep.equal({ advis: 'STIN' });
      expect(await second.getStay('V1|HGH')).to.deep.equal(stay('V1|HGH'));
      expect(await second.getOutbox('M1')).to.include({ status: 'queued', stayKey: 'V1|HGH', body: outbox('M1', 'V1|HGH').body });
      expect((await second.dueDeferred(new Date(at(10)), 10)).map((d) => d.payload)).to.deep.equal([{ event: 'A05' }]);
      expect((await second.held()).map((h) => h.reason)).to.deep.equal(['unknown-department']);
      expect((await second.audit()).map((a) => a.advis)).to.deep.equal(['STIN']);
      expect(await second.secret('patient-key', () => 'a different value')).to.equal(secret);
      expect(await second.stats()).to.include({ kind: 'sqlite', location: file, schemaVersion: MIGRATIONS.length });
    } finally {
      await second.close();
    }
  });

  it('runs with write-ahead logging, synchronous=FULL, foreign keys and a busy timeout', async () => {
    const file = path.join(dir, 'advis.db');
    const store = openSqliteStore(file, { busyTimeoutMs: 1234 });
    try {
      expect((await store.stats()).sqlite!.settings).to.deep.equal({ journalMode: 'wal', synchronous: 'FULL', foreignKeys: true, busyTimeoutMs: 1234 });
    } finally {
      await store.close();
    }
    const memory = openMemoryStore();
    expect((await memory.stats()).sqlite!.settings).to.include({ synchronous: 'FULL', foreignKeys: true });
    await memory.close();
    // WAL is a property of the file: another connection sees it too.
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).to.equal('wal');
    raw.close();
  });

  it('creates the database, its write-ahead log and its index for this user only (0600), in a 0700 folder, whatever the umask', async () => {
    const previous = process.umask(0o000);
    const folder = path.join(dir, 'new');
    try {
      const store = openSqliteStore(path.join(folder, 'advis.db'));
      await store.commit({ audit: [{ at: at(0), outcome: 'none' }] });
      const modes = Object.fromEntries(fs.readdirSync(folder).map((f) => [f, (fs.statSync(path.join(folder, f)).mode & 0o777).toString(8)]));
      expect(modes).to.deep.equal({ 'advis.db': '600', 'advis.db-wal': '600', 'advis.db-shm': '600' });
      expect((fs.statSync(folder).mode & 0o777).toString(8)).to.equal('700');
      await store.close();
    } finally {
      process.umask(previous);
    }
  });

  it('keeps the CPR number out of the stays table: a patient is found by a keyed hash', async () => {
    const file = path.join(dir, 'advis.db');
    const store = openSqliteStore(file);
    await store.commit({
      stays: [stay('V100200|HGH'), stay('V100300|RH', { hospital: 'RH', status: 'finished' })],
      audit: [{ at: at(0), outcome: 'advis', idempotencyKey: 'EPJ|HGH|MSG-A01-0001', event: 'A01', stayKey: 'V100200|HGH', advis: 'STIN', receiverGln: RECEIVER.gln }],
    });
    expect(await store.staysOfPatient(PATIENT_KEY)).to.have.length(2);
    await store.close();

    // A day-month-year-serial number, with or without the dash, not part of a longer run of digits (SOR, GLN).
    const cprLike = /(?<!\d)(0[1-9]|[12]\d|3[01])(0[1-9]|1[0-2])\d{2}-?\d{4}(?!\d)/;
    const raw = new Database(file, { readonly: true });
    try {
      for (const table of ['stays', 'audit']) {
        const rows = raw.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[];
        expect(rows, table).to.have.length.greaterThan(0);
        for (const row of rows) {
          for (const [column, value] of Object.entries(row)) {
            expect(String(value), `${table}.${column}`).not.to.match(cprLike);
          }
        }
      }
      expect(raw.prepare('SELECT patient_key FROM stays').pluck().all()).to.deep.equal([PATIENT_KEY, PATIENT_KEY]);
    } finally {
      raw.close();
    }
  });

  it('says which path it cannot create or open', async () => {
    const notADirectory = path.join(dir, 'plain-file');
    fs.writeFileSync(notADirectory, 'x');
    const unwritable = path.join(notADirectory, 'advis.db');
    expect(await storeErrorCode(() => openSqliteStore(unwritable))).to.equal('cannot-open');
    expect(() => openSqliteStore(unwritable)).to.throw(StoreError, notADirectory);

    const notADatabase = path.join(dir, 'notes.txt');
    fs.writeFileSync(notADatabase, 'these are not the pages of a SQLite database '.repeat(100));
    expect(await storeErrorCode(() => openSqliteStore(notADatabase))).to.equal('cannot-open');
  });

  it('reports a write blocked by another process as busy, and commits nothing', async () => {
    const file = path.join(dir, 'advis.db');
    const store = openSqliteStore(file, { busyTimeoutMs: 0 });
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    try {
      expect(await storeErrorCode(() => store.commit({ stays: [stay('V1|HGH')] }))).to.equal('busy');
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(await store.getStay('V1|HGH')).to.equal(undefined);
    await store.close();
  });
});
