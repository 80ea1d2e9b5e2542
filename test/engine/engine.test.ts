// The engine end to end below the nodes: ADT text → parse → decide → build → validate → one durable commit.
// Real store (SQLite in memory), real MedCom validator, a fixed clock; scenarios named by MedCom's use cases.
import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import type { Bundle, Encounter, MessageHeader, Provenance } from 'fhir/r4';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSiteSource, openAdvisRuntime, type AdvisRuntime } from '../../lib/engine/runtime';
import { InvalidNotificationError } from '../../lib/engine/engine';
import { parseAdt } from '../../lib/hl7';
import { describeShared, medcomPackages } from '../support/shared';

const fixture = (name: string): string => fs.readFileSync(path.join(process.cwd(), 'test', 'fixtures', 'adt', name), 'utf8');
const A01 = fixture('A01_admitted.hl7');
const A03 = fixture('A03_home.hl7');
const CPR = '0101800005';

function adt(text: string) {
  const result = parseAdt(text);
  if (!result.ok) throw result.error;
  return result.adt;
}

const entries = <T>(bundle: Bundle, type: string): T[] => bundle.entry!.map((e) => e.resource!).filter((r) => r.resourceType === type) as T[];

describeShared('advis engine', function () {
  let runtime: AdvisRuntime;
  let clock: Date;

  beforeEach(async () => {
    clock = new Date('2025-03-11T07:00:02Z');
    runtime = await openAdvisRuntime({
      site: readSiteSource({ file: path.join(process.cwd(), 'flows', 'region.site.json') }),
      store: ':memory:',
      profiles: medcomPackages(),
      now: () => clock,
    });
  });
  afterEach(async () => await runtime.close());

  it('S1: A01 admitted gives a STIN with a report-of-admission request, committed with the stay, the outbox entry and the audit row', async () => {
    const result = await runtime.engine.process(adt(A01));
    expect(result.notifications).to.have.length(1);
    const [{ outcome, bundle }] = result.notifications;
    expect(outcome).to.include({ advis: 'STIN', event: 'A01', stayKey: 'V100200|HGH', idempotencyKey: 'EPJ|HGH|MSG-A01-0001' });
    expect(outcome.receiver).to.deep.equal({ municipalityCode: '0163', name: 'Plejecenter Herlev', sor: '953741000016009', gln: '5790001348120' });

    const encounter = entries<Encounter>(bundle, 'Encounter')[0];
    expect(encounter).to.deep.include({ status: 'in-progress', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' } });
    // EVN-6 20250311075500 is Copenhagen winter time.
    expect(encounter.period).to.deep.equal({ start: '2025-03-11T07:55:00+01:00' });
    expect(bundle.timestamp).to.equal('2025-03-11T08:00:02+01:00');

    const stay = (await runtime.store.getStay('V100200|HGH'))!;
    expect(stay.status).to.equal('admitted');
    expect(stay.sent.map((s) => s.messageHeaderId)).to.deep.equal([outcome.messageHeaderId]);
    expect(stay.provenance).to.have.length(1);
    expect(JSON.stringify(stay)).not.to.include(CPR);
    const queued = await runtime.store.outboxByStay('V100200|HGH');
    expect(queued.map((e) => [e.messageHeaderId, e.status])).to.deep.equal([[outcome.messageHeaderId, 'queued']]);
    expect(JSON.parse(queued[0].body!)).to.deep.equal(bundle);
    const audit = await runtime.store.audit({});
    expect(audit.map((a) => [a.outcome, a.advis])).to.deep.equal([['advis', 'STIN']]);
    expect(JSON.stringify(audit)).not.to.include(CPR);
  });

  it('S6: A03 home after the STIN gives an SLHJ with period.end, the same episode and both Provenances', async () => {
    const stin = (await runtime.engine.process(adt(A01))).notifications[0];
    clock = new Date('2025-03-18T13:00:05Z');
    const slhj = (await runtime.engine.process(adt(A03))).notifications[0];
    expect(slhj.outcome).to.include({ advis: 'SLHJ', episodeId: stin.outcome.episodeId });
    const encounter = entries<Encounter>(slhj.bundle, 'Encounter')[0];
    expect(encounter.status).to.equal('finished');
    expect(encounter.period).to.deep.equal({ start: '2025-03-11T07:55:00+01:00', end: '2025-03-18T14:00:00+01:00' });
    expect(entries<MessageHeader>(slhj.bundle, 'MessageHeader')[0].extension).to.equal(undefined);
    const provenance = entries<Provenance>(slhj.bundle, 'Provenance');
    expect(provenance.map((p) => [p.activity!.coding![0].code, p.entity?.[0].role ?? null])).to.deep.equal([
      ['admit-inpatient', null],
      ['discharge-inpatient-home', 'revision'],
    ]);
    expect(provenance[1].entity![0].what.reference).to.equal(`MessageHeader/${stin.outcome.messageHeaderId}`);
    expect((await runtime.store.getStay('V100200|HGH'))!.status).to.equal('finished');
    expect((await runtime.store.outboxByStay('V100200|HGH')).map((e) => e.advis)).to.deep.equal(['STIN', 'SLHJ']);
  });

  it('finds a patient\'s stays by HMAC-SHA256 of the CPR number under the site\'s secret, as stores already written hold them', async () => {
    await runtime.close();
    runtime = await openAdvisRuntime({
      site: readSiteSource({ file: path.join(process.cwd(), 'flows', 'region.site.json') }),
      store: ':memory:',
      profiles: medcomPackages(),
      patientKeySecret: 'a site secret æøå',
      now: () => clock,
    });
    await runtime.engine.process(adt(A01));
    const expected = createHmac('sha256', 'a site secret æøå').update(CPR).digest('hex');
    expect((await runtime.store.getStay('V100200|HGH'))!.patientKey).to.equal(expected);
    expect((await runtime.store.staysOfPatient(expected)).map((s) => s.key)).to.deep.equal(['V100200|HGH']);
  });

  it('replays a repeated ADT message: same outcome, no second advis, nothing new in the outbox', async () => {
    const first = await runtime.engine.process(adt(A01));
    const again = await runtime.engine.process(adt(A01));
    expect(again.notifications).to.deep.equal([]);
    expect(again.outcomes).to.deep.equal([{ ...first.outcomes[0], replayed: true }]);
    expect(await runtime.store.outboxByStay('V100200|HGH')).to.have.length(1);
  });

  it('S5 / S.BR17: A03 to a hospice or another hospital gives no SLHJ, and ends the stay', async () => {
    await runtime.engine.process(adt(A01));
    clock = new Date('2025-03-18T13:00:05Z');
    const result = await runtime.engine.process(adt(A03.replace('||01||', '||51||')));
    expect(result.outcomes[0]).to.include({ advis: null, reason: 'discharge-to-transfer' });
    expect((await runtime.store.getStay('V100200|HGH'))!.status).to.equal('transferred');
  });

  it('S1.A2 / S.BR5: a move to another department of the same hospital gives no advis', async () => {
    await runtime.engine.process(adt(A01));
    const a02 = A01.replace('ADT^A01^ADT_A01', 'ADT^A02^ADT_A02').replace('MSG-A01-0001', 'MSG-A02-0001').replace('HJA^12^3^HGH', 'PSY^1^1^HGH');
    expect((await runtime.engine.process(adt(a02))).outcomes[0]).to.include({ advis: null, reason: 'same-hospital-transfer' });
    expect((await runtime.store.getStay('V100200|HGH'))!.department).to.equal('PSY');
  });

  it('gives traceable "no advis" outcomes: no CPR, no Danish address, unknown department held, A03 without a stay', async () => {
    clock = new Date('2025-03-31T00:00:00Z');
    const cases: [string, string, boolean][] = [
      [A01.replace(`${CPR}^^^CPR^CPR`, '010180X005^^^CPR^CPR'), 'no-cpr', false],
      [A01.replace('^DK^H^^163', '^SE^H^^').replace('MSG-A01-0001', 'X2'), 'no-danish-address', false],
      [A01.replace('HJA^12^3^HGH', 'XYZ^1^1^HGH').replace('MSG-A01-0001', 'X3'), 'unknown-department', true],
      [A03.replace('V100200', 'V999'), 'no-open-stay', false],
    ];
    for (const [text, reason, held] of cases) {
      const [outcome] = (await runtime.engine.process(adt(text))).outcomes;
      expect(outcome, reason).to.include({ advis: null, reason });
      expect(!!outcome.held, reason).to.equal(held);
    }
    expect((await runtime.store.held()).map((h) => h.reason)).to.deep.equal(['unknown-department']);
    expect((await runtime.store.audit({})).map((a) => a.reason)).to.deep.equal(['no-cpr', 'no-danish-address', 'unknown-department', 'no-open-stay']);
  });

  it('decides waiting messages in one batch, each with its own outcome, as if processed one after another', async () => {
    const batches: number[] = [];
    const transaction = runtime.store.transaction.bind(runtime.store);
    runtime.store.transaction = (work) => (batches.push(1), transaction(work));
    clock = new Date('2025-03-18T13:00:05Z'); // after the A03's discharge
    const results = await runtime.engine.processBatch([adt(A01), adt(A01), adt(A03)]);
    expect(batches).to.have.length(1);
    expect(results.map((r) => r.ok && r.result.outcomes.map((o) => [o.advis, !!o.replayed]))).to.deep.equal([[['STIN', false]], [['STIN', true]], [['SLHJ', false]]]);
    expect((await runtime.store.outboxByStay('V100200|HGH')).map((e) => e.advis)).to.deep.equal(['STIN', 'SLHJ']);
    expect((await runtime.store.getStay('V100200|HGH'))!.status).to.equal('finished');
  });

  it('falls back to one message at a time when one of a batch fails, so the others are not lost', async () => {
    const noName = A01.replace('|Hansen^Jens|', '||').replace('MSG-A01-0001', 'MSG-BAD').replace('V100200', 'V7');
    clock = new Date('2025-03-18T13:00:05Z');
    const results = await runtime.engine.processBatch([adt(A01), adt(noName), adt(A03)]);
    expect(results.map((r) => r.ok)).to.deep.equal([true, false, true]);
    expect(!results[1].ok && results[1].error).to.be.instanceOf(InvalidNotificationError);
    expect((await runtime.store.outboxByStay('V100200|HGH')).map((e) => e.advis)).to.deep.equal(['STIN', 'SLHJ']);
    expect(await runtime.store.getProcessed('EPJ|HGH|MSG-BAD')).to.equal(undefined);
    expect(await runtime.store.audit({ outcome: 'error' })).to.have.length(1);
  });

  it('refuses to send a Bundle that is not valid and commits nothing of it', async () => {
    const noName = A01.replace('|Hansen^Jens|', '||');
    const error = await runtime.engine.process(adt(noName)).then(
      () => expect.fail('an invalid Bundle was accepted'),
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(InvalidNotificationError).with.property('message').match(/name\[0\]\.family/);
    // Only the refusal is recorded, in a commit of its own after the decision was undone.
    expect((await runtime.store.audit()).map((a) => [a.outcome, a.advis])).to.deep.equal([['error', 'STIN']]);
    expect(await runtime.store.getStay('V100200|HGH')).to.equal(undefined);
    expect(await runtime.store.outboxByStay('V100200|HGH')).to.deep.equal([]);
    expect(await runtime.store.getProcessed('EPJ|HGH|MSG-A01-0001')).to.equal(undefined);
    // The EPR resends after the negative ACK; once the data is right the advis goes out.
    expect((await runtime.engine.process(adt(A01))).notifications).to.have.length(1);
  });
});
