import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import type { Bundle, Provenance } from 'fhir/r4';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadProfilePackages } from '../../lib/fhir/profiles';
import { createValidator } from '../../lib/fhir/validate';
import { parseAdt } from '../../lib/hl7';
import type { AdvisSiteNode } from '../../nodes/advis-site/advis-site-node';
import { coreNode, helper, nodes, runtimePackage } from '../support/node-red';
import { describeShared, medcomPackages } from '../support/shared';

const fixture = (name: string): string => fs.readFileSync(path.join(process.cwd(), 'test', 'fixtures', 'adt', name), 'utf8');
const siteFile = path.join(process.cwd(), 'flows', 'region.site.json');
const A01 = fixture('A01_admitted.hl7');
const A03 = fixture('A03_home.hl7');
const CPR = '0101800005';

type Msg = Record<string, unknown> & { advis?: Record<string, unknown>; payload?: unknown; error?: { message: string } };

/** Resolves with the first `count` messages a helper node receives, or rejects after `ms` with what did arrive. */
function receive(id: string, count: number, ms = 5000): Promise<Msg[]> {
  const node = helper.getNode(id);
  const got: Msg[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${id} received ${got.length} of ${count} messages`)), ms);
    node.on('input', (msg) => {
      got.push(msg as Msg);
      if (got.length === count) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

function flow(siteProps: Record<string, string>): object[] {
  return [
    { id: 'tab', type: 'tab' },
    { id: 'site1', type: 'advis-site', z: 'tab', siteSource: 'file', siteFile, site: '', storeFile: ':memory:', profiles: medcomPackages(), ...siteProps },
    { id: 'parse1', type: 'adt parse', z: 'tab', site: 'site1', wires: [['advis1']] },
    { id: 'advis1', type: 'advis', z: 'tab', site: 'site1', wires: [['out'], ['none']] },
    { id: 'out', type: 'helper', z: 'tab' },
    { id: 'none', type: 'helper', z: 'tab' },
    { id: 'catch1', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
  ];
}

const allNodes = [nodes.site, nodes.parse, nodes.advis, coreNode('common/25-catch.js')];

describeShared(`Node-RED nodes on ${runtimePackage}`, function () {
  const validator = createValidator(loadProfilePackages(medcomPackages()));
  before((done) => {
    helper.startServer(done);
  });
  after((done) => {
    helper.stopServer(done);
  });
  afterEach(() => helper.unload());

  it('S1 then S6: A01 gives a STIN with a report-of-admission request, A03 an SLHJ carrying its Provenance', async () => {
    await helper.load(allNodes, flow({}));
    const out = receive('out', 2);
    helper.getNode('parse1').receive({ payload: A01 });
    helper.getNode('parse1').receive({ payload: A03 });
    const [stin, slhj] = await out;
    expect(stin.advis).to.include({ advis: 'STIN', event: 'A01', stayKey: 'V100200|HGH' });
    expect(slhj.advis).to.include({ advis: 'SLHJ', event: 'A03' });
    for (const msg of [stin, slhj]) expect(validator.validate(msg.payload as Bundle).issues).to.deep.equal([]);

    const header = (b: Bundle) => b.entry![0].resource as { id: string; extension?: { url: string; valueBoolean?: boolean }[] };
    expect(header(stin.payload as Bundle).extension!.find((e) => e.url.endsWith('reportOfAdmissionExtension'))!.valueBoolean).to.equal(true);
    const provenances = (slhj.payload as Bundle).entry!.map((e) => e.resource).filter((r): r is Provenance => r!.resourceType === 'Provenance');
    expect(provenances.map((p) => p.activity!.coding![0].code)).to.deep.equal(['admit-inpatient', 'discharge-inpatient-home']);
    expect(provenances[1].entity![0]).to.deep.equal({ role: 'revision', what: { reference: `MessageHeader/${header(stin.payload as Bundle).id}` } });
  });

  it('replays a repeated ADT message on the second output and sends no second advis', async () => {
    await helper.load(allNodes, flow({}));
    const out = receive('out', 1);
    const none = receive('none', 1);
    helper.getNode('parse1').receive({ payload: A01 });
    const [first] = await out;
    helper.getNode('parse1').receive({ payload: A01 });
    const [replay] = await none;
    expect(replay.advis).to.include({ advis: 'STIN', replayed: true, messageHeaderId: first.advis!.messageHeaderId });
  });

  it('decides messages that wait together with one commit; a bad one goes to Catch and the others still go out', async () => {
    await helper.load(allNodes, flow({}));
    const { engine } = await (helper.getNode('site1') as unknown as AdvisSiteNode).runtime();
    const batches: number[] = [];
    const processBatch = engine.processBatch.bind(engine);
    engine.processBatch = (events) => (batches.push(events.length), processBatch(events));
    const out = receive('out', 2);
    const caught = receive('caught', 1);
    const adt = (text: string) => {
      const parsed = parseAdt(text);
      if (!parsed.ok) throw parsed.error;
      return parsed.adt;
    };
    const noName = A01.replace('|Hansen^Jens|', '||').replace('MSG-A01-0001', 'MSG-BAD').replace('V100200', 'V7');
    for (const text of [A01, noName, A03]) helper.getNode('advis1').receive({ adt: adt(text) });
    const [stin, slhj] = await out;
    expect([stin.advis!.advis, slhj.advis!.advis]).to.deep.equal(['STIN', 'SLHJ']);
    expect((await caught)[0].error!.message).to.match(/not valid against the MedCom profiles/);
    // One group of three (the engine then decides them one by one when the batch fails, inside processBatch).
    expect(batches).to.deep.equal([3]);
  });

  it('gives "no advis" with a reason code, and holds an advis for an unknown municipality', async () => {
    await helper.load(allNodes, flow({}));
    const none = receive('none', 2);
    helper.getNode('parse1').receive({ payload: A01.replace(`${CPR}^^^CPR^CPR`, 'AB12345^^^LOCAL^MR') });
    helper.getNode('parse1').receive({ payload: A01.replace('^DK^H^^163', '^DK^H^^665').replace('MSG-A01-0001', 'MSG-A01-0002') });
    const [noCpr, held] = await none;
    expect(noCpr.advis).to.include({ advis: null, reason: 'no-cpr' });
    expect(held.advis).to.include({ advis: null, reason: 'unknown-municipality', held: true });
  });

  it('sends unreadable HL7 to Catch nodes with a readable reason and msg.hl7error, never to the outputs', async () => {
    await helper.load(allNodes, flow({}));
    const caught = receive('caught', 2);
    helper.getNode('parse1').receive({ payload: 'this is not HL7' });
    helper.getNode('parse1').receive({ payload: 42 });
    const [garbage, number] = await caught;
    expect(garbage.error!.message).to.match(/MSH/);
    expect(garbage.hl7error).to.have.property('code');
    expect(number.error!.message).to.match(/msg\.payload must be HL7 text/);
  });

  it('reports a broken site configuration to Catch nodes, naming the file and the problem', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-site-'));
    const bad = path.join(dir, 'site.json');
    const site = JSON.parse(fs.readFileSync(siteFile, 'utf8'));
    site.municipalities[0].gln = '1234567890123';
    fs.writeFileSync(bad, JSON.stringify(site));
    await helper.load(allNodes, flow({ siteFile: bad }));
    const caught = receive('caught', 1);
    helper.getNode('parse1').receive({ payload: A01 });
    const [error] = await caught;
    expect(error.error!.message).to.include(bad).and.to.include('$.municipalities[0].gln');
  });

  it('validates against the shipped MedCom profiles when nothing is installed', async () => {
    const saved = { HOME: process.env.HOME, ADVIS_FHIR_PACKAGES: process.env.ADVIS_FHIR_PACKAGES };
    process.env.HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-home-'));
    delete process.env.ADVIS_FHIR_PACKAGES;
    try {
      // The site's default profile setting, with the variable unset.
      await helper.load(allNodes, flow({ profiles: '${ADVIS_FHIR_PACKAGES}' }));
      const out = receive('out', 1);
      helper.getNode('parse1').receive({ payload: A01 });
      const [stin] = await out;
      expect(stin.advis).to.include({ advis: 'STIN' });
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it('reports a profile directory that does not exist as a clear error, not a silent pass', async () => {
    const nowhere = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'advis-profiles-')), 'nope');
    await helper.load(allNodes, flow({ profiles: nowhere }));
    const caught = receive('caught', 1);
    helper.getNode('parse1').receive({ payload: A01 });
    const [error] = await caught;
    expect(error.error!.message).to.include(`${nowhere} does not exist`);
  });

  it('names a site setting whose environment variable is unset', async () => {
    delete process.env.ADVIS_TEST_UNSET;
    await helper.load(allNodes, flow({ siteFile: '${ADVIS_TEST_UNSET}' }));
    const caught = receive('caught', 1);
    helper.getNode('advis1').receive({ adt: { event: 'A01' } });
    const [error] = await caught;
    expect(error.error!.message).to.include('ADVIS_TEST_UNSET');
  });

  it('prunes to the retention settings on its interval: a delivered Bundle past its days goes, its summary and everything unsettled stay', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-retention-'));
    helper.settings({ advisPruneInterval: 50 });
    try {
      await helper.load(allNodes, flow({ storeFile: path.join(dir, 'advis.db'), retentionBundleDays: '1', retentionSummaryDays: '30' }));
      const out = receive('out', 2);
      helper.getNode('parse1').receive({ payload: A01 });
      helper.getNode('parse1').receive({ payload: A01.replace(/MSG-A01-0001/g, 'MSG-2').replace(/V100200/g, 'V2') });
      const [delivered, queued] = (await out).map((m) => (m.advis as { messageHeaderId: string }).messageHeaderId);
      const store = (await (helper.getNode('site1') as unknown as AdvisSiteNode).runtime()).store;
      // Made old: the first delivered two days ago, the second still queued from then.
      await store.commit({ outboxUpdate: [{ messageHeaderId: delivered, status: 'delivered', attempts: 1 }] });
      const twoDaysAgo = Date.now() - 2 * 86_400_000;
      const sqlite = (await import('better-sqlite3')).default(path.join(dir, 'advis.db'));
      sqlite.prepare('UPDATE outbox SET created_at = ?').run(twoDaysAgo);
      sqlite.close();
      for (let i = 0; i < 100 && (await store.getOutbox(delivered))!.body !== null; i++) await new Promise((r) => setTimeout(r, 50));
      expect((await store.getOutbox(delivered))!).to.include({ status: 'delivered', body: null });
      expect((await store.getOutbox(queued))!.body).to.be.a('string');
    } finally {
      helper.settings({});
      await helper.unload();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses retention settings it cannot keep, and prunes nothing', async () => {
    await helper.load(allNodes, flow({ retentionBundleDays: '90', retentionSummaryDays: '30' }));
    const site = helper.getNode('site1') as unknown as { error: { args: unknown[][] } };
    expect(site.error.args.map((a) => String(a[0]))).to.deep.equal([
      'the retention settings cannot be kept, nothing is pruned: the retention summaryDays (30) must be at least bundleDays (90): a delivered message\'s summary outlives its Bundle',
    ]);
  });

  it('keeps CPR numbers out of node status', async () => {
    await helper.load(allNodes, flow({}));
    const out = receive('out', 1);
    helper.getNode('parse1').receive({ payload: A01 });
    await out;
    const statuses = [helper.getNode('parse1'), helper.getNode('advis1')].flatMap((n) => (n.status as unknown as { args: unknown[][] }).args);
    expect(statuses.length).to.be.greaterThan(0);
    expect(JSON.stringify(statuses)).not.to.include(CPR);
  });

  it('keys patients with the secret from the site node\'s credentials, never with the CPR number itself', async () => {
    await helper.load(allNodes, flow({}), { site1: { patientKey: 'region-secret' } });
    const out = receive('out', 1);
    helper.getNode('parse1').receive({ payload: A01 });
    await out;
    const stay = (await (await (helper.getNode('site1') as unknown as AdvisSiteNode).runtime()).store.getStay('V100200|HGH'))!;
    expect(stay.patientKey).to.equal(createHmac('sha256', 'region-secret').update(CPR).digest('hex'));
  });
});
