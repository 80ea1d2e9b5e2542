// Several engines on one PostgreSQL store, as several Node-RED instances run them: the same message at two of them at
// the same moment is decided once, a patient's stays are found whichever instance decided them (the patient-hash key
// is shared through the store), and a pre-registration falling due is released by exactly one of them.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openAdvisRuntime, readSiteSource, type AdvisRuntime } from '../../lib/engine/runtime';
import { parseAdt } from '../../lib/hl7';
import { PG_PASSWORD, postgresMissing, startPostgres, type TestPostgres } from '../support/postgres';
import { describeNeeding, medcomPackages, sharedDir } from '../support/shared';

const fixture = (name: string): string => fs.readFileSync(path.join(process.cwd(), 'test', 'fixtures', 'adt', name), 'utf8');
const A01 = fixture('A01_admitted.hl7');
const A03 = fixture('A03_home.hl7');

function adt(text: string) {
  const result = parseAdt(text);
  if (!result.ok) throw result.error;
  return result.adt;
}

describeNeeding('advis engine: several instances on one PostgreSQL store', postgresMissing ?? (sharedDir ? null : '../shared is not beside the checkout'), function () {
  this.timeout(60_000);
  let server: TestPostgres;
  let instances: AdvisRuntime[];
  let clock: Date;

  before(async () => {
    server = await startPostgres();
  });
  after(async () => await server?.destroy());

  beforeEach(async () => {
    clock = new Date('2025-03-11T07:00:02Z');
    const url = await server.database();
    const open = () =>
      openAdvisRuntime({
        site: readSiteSource({ file: path.join(process.cwd(), 'flows', 'region.site.json') }),
        store: url,
        storePassword: PG_PASSWORD,
        profiles: medcomPackages(),
        now: () => clock,
      });
    // Started together, as a cluster comes up: the schema is migrated once and the patient key made once.
    instances = await Promise.all([open(), open(), open()]);
  });
  afterEach(async () => await Promise.all(instances.map((i) => i.close())));

  it('decides the same message once when it reaches every instance at the same moment', async () => {
    const results = await Promise.all(instances.map((i) => i.engine.process(adt(A01))));
    const outcomes = results.flatMap((r) => r.outcomes);
    expect(outcomes.map((o) => [o.advis, !!o.replayed]).sort()).to.deep.equal([
      ['STIN', false],
      ['STIN', true],
      ['STIN', true],
    ]);
    expect(results.flatMap((r) => r.notifications)).to.have.length(1);
    expect((await instances[0].store.outboxByStay('V100200|HGH')).map((e) => e.advis)).to.deep.equal(['STIN']);
  });

  it('finds the stay another instance decided: one patient key for all', async () => {
    await instances[0].engine.process(adt(A01));
    clock = new Date('2025-03-18T13:00:05Z');
    const discharge = await instances[1].engine.process(adt(A03));
    expect(discharge.outcomes.map((o) => o.advis)).to.deep.equal(['SLHJ']);
    const stays = await instances[2].store.staysOfPatient((await instances[2].store.getStay('V100200|HGH'))!.patientKey);
    expect(stays.map((s) => s.status)).to.deep.equal(['finished']);
  });

  it('releases a pre-registration that falls due exactly once, whichever instances look at the same time', async () => {
    clock = new Date('2025-03-10T07:00:00Z'); // a day before the admission's time: a pre-registration
    expect((await instances[0].engine.process(adt(A01))).outcomes[0].reason).to.equal('deferred');
    clock = new Date('2025-03-11T08:00:00Z');
    const released = await Promise.all(instances.map((i) => i.engine.releaseDue()));
    expect(released.flatMap((r) => r.notifications.map((n) => n.outcome.advis))).to.deep.equal(['STIN']);
    expect(await instances[0].store.dueDeferred(clock, 10)).to.deep.equal([]);
    expect((await instances[1].store.outboxByStay('V100200|HGH')).map((e) => e.advis)).to.deep.equal(['STIN']);
  });
});
