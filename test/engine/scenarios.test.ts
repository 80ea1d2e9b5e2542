// MedCom's sender use cases (S1–S7, S.CANC, S.CORR) and rules, as ADT sequences through the real engine, asserted
// as a municipality reads the Bundles. Every Bundle the engine returns passed validation before it was committed;
// `send` and `released` re-validate each one here so a scenario can never pass on an invalid message. Test titles
// carry the MedCom ids they prove (use case, rule, test-protocol step); docs/mapping.md maps each step to its test.
import { expect } from 'chai';
import type { Bundle, Encounter, MessageHeader, Organization, Patient, Provenance } from 'fhir/r4';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadSite } from '../../lib/advis/site';
import type { AdvisOutcome } from '../../lib/engine/outcome';
import type { Notification, ProcessResult } from '../../lib/engine/engine';
import { openAdvisRuntime, type AdvisRuntime } from '../../lib/engine/runtime';
import { parseAdt } from '../../lib/hl7';
import { adtMessage, type AdtSpec } from '../support/adt';
import { describeShared, medcomPackages } from '../support/shared';

const siteDocument = (): Record<string, unknown> => JSON.parse(fs.readFileSync(path.join(process.cwd(), 'flows', 'region.site.json'), 'utf8'));

interface Sent {
  outcome: AdvisOutcome;
  bundle?: Bundle;
}

const resources = <T>(b: Bundle, type: string): T[] => b.entry!.map((e) => e.resource!).filter((r) => r.resourceType === type) as T[];
const header = (b: Bundle) => resources<MessageHeader>(b, 'MessageHeader')[0];
const encounter = (b: Bundle) => resources<Encounter>(b, 'Encounter')[0];
const provenance = (b: Bundle) => resources<Provenance>(b, 'Provenance');
const current = (b: Bundle) => provenance(b).find((p) => p.target[0].reference === `MessageHeader/${header(b).id}`)!;
const activity = (b: Bundle) => current(b).activity!.coding![0].code;
const roaRecipient = (b: Bundle) => header(b).extension?.find((e) => e.url.endsWith('reportOfAdmissionRecipientExtension'))?.valueReference?.reference;
const roa = (b: Bundle) => header(b).extension?.find((e) => e.url.endsWith('reportOfAdmissionExtension'))?.valueBoolean;
const receiverEndpoint = (b: Bundle) => header(b).destination![0].endpoint;
const episode = (b: Bundle) => encounter(b).episodeOfCare![0].identifier!.value;
const follows = (b: Bundle) => current(b).entity;
const leavePeriod = (b: Bundle) => encounter(b).extension?.[0].valuePeriod;
const deceased = (b: Bundle) => resources<Patient>(b, 'Patient')[0].deceasedBoolean;
/** The Provenance entity of a message that follows (revision) or cancels (removal) `b`. */
const link = (role: 'revision' | 'removal', b: Bundle) => [{ role, what: { reference: `MessageHeader/${header(b).id}` } }];
const HERLEV = 'https://sor2.sum.dsdn.dk/#id=953741000016009';
const COPENHAGEN = 'https://sor2.sum.dsdn.dk/#id=953701000016004';
const senderSor = (b: Bundle) =>
  resources<Organization>(b, 'Organization').find((o) => `Organization/${o.id}` === header(b).sender!.reference)!.identifier!.find((i) => i.system === 'urn:oid:1.2.208.176.1.1')!.value;

describeShared('MedCom sender use cases', function () {
  let runtime: AdvisRuntime;
  let storeFile: string;
  let clock: Date;

  async function open(site: Record<string, unknown> = siteDocument()): Promise<void> {
    runtime = await openAdvisRuntime({ site: loadSite(site), store: storeFile, profiles: medcomPackages(), now: () => clock });
  }

  beforeEach(async () => {
    storeFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'advis-scenario-')), 'advis.db');
    clock = new Date('2025-12-31T12:00:00Z');
    await open();
  });
  afterEach(async () => await runtime.close());

  // Errors, and any reference that does not resolve: the validator lets another system's Bundle off with a warning
  // for that (lib/fhir/medcom-layer.ts), the engine's own carry every organisation they name.
  const expectValid = (bundle: Bundle): void => {
    expect(runtime.validator.validate(bundle).issues.filter((i) => i.severity === 'error' || i.rule === 'bundled-reference')).to.deep.equal([]);
  };

  /** Processes one ADT message; returns its single outcome and, for an advis, the (re-validated) Bundle. */
  async function send(spec: AdtSpec): Promise<Sent> {
    const parsed = parseAdt(adtMessage(spec), runtime.site.adt);
    if (!parsed.ok) throw parsed.error;
    const result = await runtime.engine.process(parsed.adt);
    expect(result.outcomes, `${spec.event} ${spec.id}`).to.have.length(1);
    const bundle = result.notifications[0]?.bundle;
    if (bundle) expectValid(bundle);
    return { outcome: result.outcomes[0], ...(bundle ? { bundle } : {}) };
  }
  /** The advis of deferred or held events decided by `releaseDue` / `releaseHeld`, each re-validated. */
  const released = (result: ProcessResult): Notification[] => {
    result.notifications.forEach((n) => expectValid(n.bundle));
    return result.notifications;
  };
  const advis = async (spec: AdtSpec): Promise<Bundle> => {
    const sent = await send(spec);
    expect(sent.bundle, `${spec.event} ${spec.id} gave ${sent.outcome.reason}`).to.not.equal(undefined);
    return sent.bundle!;
  };
  const noAdvis = async (spec: AdtSpec, reason: string): Promise<void> => {
    expect((await send(spec)).outcome).to.include({ advis: null, reason });
  };
  /** The advis types queued for a stay, in order: what the municipality will receive. */
  const outbox = async (stayKey = 'V1|REGH'): Promise<string[]> => (await runtime.store.outboxByStay(stayKey)).map((e) => e.advis);

  it('S1 (3.3.1.1–2): admitted, no prior admission → STIN with report-of-admission request, class IMP, one Provenance', async () => {
    const stin = await advis({ event: 'A01', id: '1' });
    expect([roa(stin), roaRecipient(stin), follows(stin), receiverEndpoint(stin)]).to.deep.equal([true, header(stin).sender!.reference, undefined, HERLEV]);
    expect(encounter(stin)).to.deep.include({ status: 'in-progress', period: { start: '2025-03-11T07:55:00+01:00' } });
    expect(encounter(stin).class.code).to.equal('IMP');
    expect(provenance(stin)).to.have.length(1);
    expect(activity(stin)).to.equal('admit-inpatient');
    expect(encounter(stin).episodeOfCare![0].identifier!.value).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('S1 / S5 / S.BR18 (3.3.1.3, 3.3.7.5–6): transfer to a hospital in another region: nothing from the referring hospital, STIN with request and a new episode from the receiving one', async () => {
    const first = await advis({ event: 'A01', id: '1' });
    await noAdvis({ event: 'A03', id: '2', at: '20250312100000', disposition: '03' }, 'discharge-to-transfer');
    const other = await advis({ event: 'A01', id: '3', at: '20250312110000', hospital: 'OUH', department: 'MED', visit: 'V9' });
    expect([roa(other), roaRecipient(other), senderSor(other), provenance(other).length, follows(other)]).to.deep.equal([true, header(other).sender!.reference, '265211000016005', 1, undefined]);
    expect(encounter(other).episodeOfCare).not.to.deep.equal(encounter(first).episodeOfCare);
    expect([await outbox('V1|REGH'), await outbox('V9|OUH')]).to.deep.equal([['STIN'], ['STIN']]);
  });

  it('S1.A1 / clinical rule 3 (3.3.2.1–2): acute ambulant → admitted at the same hospital → STIN without request, same episode, no SLHJ between', async () => {
    const staa = await advis({ event: 'A04', id: '1', patientClass: 'E', department: 'AKM' });
    const stin = await advis({ event: 'A06', id: '2', at: '20250311120000' });
    expect([roa(stin), roaRecipient(stin), encounter(stin).class.code, activity(stin), senderSor(stin)]).to.deep.equal([false, undefined, 'IMP', 'admit-inpatient', '265161000016000']);
    expect(encounter(stin).period!.start).to.equal('2025-03-11T12:00:00+01:00');
    expect(encounter(stin).episodeOfCare).to.deep.equal(encounter(staa).episodeOfCare);
    expect(provenance(stin).map((p) => p.entity?.[0].role ?? null)).to.deep.equal([null, 'revision']);
    expect(current(stin).entity![0].what.reference).to.equal(`MessageHeader/${header(staa).id}`);
    expect(await outbox()).to.deep.equal(['STAA', 'STIN']);
  });

  it('S1.A1 / clinical rule 3: the admission as a new visit after the acute ambulant one: STIN without request, and the end of the acute visit gives no SLHJ', async () => {
    const staa = await advis({ event: 'A04', id: '1', patientClass: 'E', department: 'AKM', at: '20250311080000' });
    const stin = await advis({ event: 'A01', id: '2', visit: 'V2', at: '20250311120000' });
    expect([roa(stin), encounter(stin).period, episode(stin), provenance(stin).length, follows(stin)]).to.deep.equal([
      false, { start: '2025-03-11T12:00:00+01:00' }, episode(staa), 2, link('revision', staa),
    ]);
    await noAdvis({ event: 'A03', id: '3', patientClass: 'E', department: 'AKM', at: '20250311120000' }, 'no-open-stay');
    const slhj = await advis({ event: 'A03', id: '4', visit: 'V2', at: '20250314100000' });
    expect([activity(slhj), episode(slhj), provenance(slhj).length, follows(slhj)]).to.deep.equal(['discharge-inpatient-home', episode(staa), 3, link('revision', stin)]);
    expect([await outbox('V1|REGH'), await outbox('V2|REGH')]).to.deep.equal([['STAA'], ['STIN', 'SLHJ']]);
  });
  it('S1.A1 / S5 / S.BR19 (3.3.2.3–4, 3.3.7.3–4): transfer to another hospital of the region: nothing from the referring hospital, STIN without request and the same episode from the receiving one', async () => {
    const first = await advis({ event: 'A01', id: '1' });
    await noAdvis({ event: 'A03', id: '2', at: '20250312100000', disposition: '03', dischargeTime: '20250312100000' }, 'discharge-to-transfer');
    const second = await advis({ event: 'A01', id: '3', at: '20250312110000', hospital: 'RH', department: 'KAR', visit: 'V2' });
    expect([roa(second), activity(second), senderSor(second), encounter(second).period]).to.deep.equal([false, 'admit-inpatient', '265191000016006', { start: '2025-03-12T11:00:00+01:00' }]);
    expect(encounter(second).episodeOfCare).to.deep.equal(encounter(first).episodeOfCare);
    expect([provenance(second).length, follows(second), receiverEndpoint(second)]).to.deep.equal([2, link('revision', first), HERLEV]);
    expect([await outbox('V1|REGH'), await outbox('V2|REGH')]).to.deep.equal([['STIN'], ['STIN']]);
  });

  it('S5: when the receiving hospital\'s A01 comes before the referring hospital\'s A03, the referring hospital still sends nothing', async () => {
    const first = await advis({ event: 'A01', id: '1' });
    const second = await advis({ event: 'A01', id: '2', at: '20250312110000', hospital: 'RH', department: 'KAR', visit: 'V2' });
    expect([roa(second), episode(second), follows(second)]).to.deep.equal([false, episode(first), link('revision', first)]);
    // The old hospital's discharge comes late, and without a transfer code: the stay already ended by the transfer.
    await noAdvis({ event: 'A03', id: '3', at: '20250312100000' }, 'no-open-stay');
    expect([await outbox('V1|REGH'), await outbox('V2|REGH')]).to.deep.equal([['STIN'], ['STIN']]);
  });

  it('S1.A1: PV1-14 "transferred from a hospital of the region" without a known stay there → STIN without request, new episode', async () => {
    const stin = await advis({ event: 'A01', id: '1', admitSource: '4' });
    expect([roa(stin), roaRecipient(stin), provenance(stin).length, follows(stin)]).to.deep.equal([false, undefined, 1, undefined]);
  });

  it('S1.A1: an update after a transfer between hospitals that repeats the original admission time (PV1-44) corrects nothing', async () => {
    await advis({ event: 'A01', id: '1', admitTime: '20250311075500' });
    const moved = await advis({ event: 'A02', id: '2', hospital: 'RH', department: 'KAR', at: '20250312100000', admitTime: '20250311075500' });
    expect(encounter(moved).period).to.deep.equal({ start: '2025-03-12T10:00:00+01:00' });
    await noAdvis({ event: 'A08', id: '3', hospital: 'RH', department: 'KAR', at: '20250312110000', admitTime: '20250311075500' }, 'nothing-changed');
    expect(await outbox()).to.deep.equal(['STIN', 'STIN']);
  });

  it('S1.A2 / S5 / S.BR5 (3.3.3.1, 3.3.7.1–2): A02 within the hospital gives nothing; A02 to another hospital of the region gives its STIN without request', async () => {
    const stin = await advis({ event: 'A01', id: '1' });
    await noAdvis({ event: 'A02', id: '2', department: 'PSY', at: '20250311090000' }, 'same-hospital-transfer');
    const moved = await advis({ event: 'A02', id: '3', hospital: 'RH', department: 'KAR', at: '20250311100000' });
    expect([roa(moved), encounter(moved).period!.start, senderSor(moved)]).to.deep.equal([false, '2025-03-11T10:00:00+01:00', '265191000016006']);
    expect(encounter(moved).episodeOfCare).to.deep.equal(encounter(stin).episodeOfCare);
    expect([provenance(moved).length, follows(moved)]).to.deep.equal([2, link('revision', stin)]);
    // A12 cancels the transfer: AN_STIN of the new hospital's STIN.
    const cancelled = await advis({ event: 'A12', id: '4', hospital: 'RH', department: 'KAR', at: '20250311103000' });
    expect([encounter(cancelled).status, current(cancelled).entity![0].role]).to.deep.equal(['entered-in-error', 'removal']);
    expect(current(cancelled).entity![0].what.reference).to.equal(`MessageHeader/${header(moved).id}`);
  });

  it('A12 cancels the transfer: AN_STIN from the new hospital, and the stay goes on at the old one, ending with its SLHJ', async () => {
    const stin = await advis({ event: 'A01', id: '1' });
    const moved = await advis({ event: 'A02', id: '2', hospital: 'RH', department: 'KAR', at: '20250312100000' });
    const an = await advis({ event: 'A12', id: '3', at: '20250312103000' });
    expect([activity(an), encounter(an).status, senderSor(an), encounter(an).period, follows(an)]).to.deep.equal([
      'cancel-admit-inpatient', 'entered-in-error', '265191000016006', { start: '2025-03-12T10:00:00+01:00' }, link('removal', moved),
    ]);
    const slhj = await advis({ event: 'A03', id: '4', at: '20250315100000' });
    expect([senderSor(slhj), encounter(slhj).period, provenance(slhj).length, follows(slhj), episode(slhj)]).to.deep.equal([
      '265161000016000', { start: '2025-03-11T07:55:00+01:00', end: '2025-03-15T10:00:00+01:00' }, 4, link('revision', an), episode(stin),
    ]);
    // The admission at the old hospital is in force again: PV1-44 speaks for it, and after the SLHJ it is too late.
    await noAdvis({ event: 'A08', id: '5', admitTime: '20250311075500', at: '20250315110000' }, 'nothing-changed');
    await noAdvis({ event: 'A08', id: '6', admitTime: '20250311070000', at: '20250315110000' }, 'not-latest-advis');
  });

  it('S5 → S6: after a transfer to another hospital of the region, that hospital\'s discharge is the SLHJ of the whole flow', async () => {
    const stin = await advis({ event: 'A01', id: '1' });
    const moved = await advis({ event: 'A02', id: '2', hospital: 'RH', department: 'KAR', at: '20250312100000' });
    const slhj = await advis({ event: 'A03', id: '3', hospital: 'RH', department: 'KAR', at: '20250315100000' });
    expect([activity(slhj), senderSor(slhj), encounter(slhj).period, receiverEndpoint(slhj)]).to.deep.equal([
      'discharge-inpatient-home', '265191000016006', { start: '2025-03-12T10:00:00+01:00', end: '2025-03-15T10:00:00+01:00' }, HERLEV,
    ]);
    expect([episode(slhj), provenance(slhj).length, follows(slhj)]).to.deep.equal([episode(stin), 3, link('revision', moved)]);
  });

  it('S2 (3.3.4.1–2): acute ambulant → STAA with request, class EMER; PV1-2 O counts only with an acute admission type', async () => {
    const staa = await advis({ event: 'A04', id: '1', patientClass: 'E', department: 'AKM' });
    expect([encounter(staa).class.code, encounter(staa).status, activity(staa), roa(staa), senderSor(staa)]).to.deep.equal(['EMER', 'in-progress', 'admit-emergency', true, '265171000016007']);
    expect([encounter(staa).period, provenance(staa).length, follows(staa)]).to.deep.equal([{ start: '2025-03-11T07:55:00+01:00' }, 1, undefined]);
    await noAdvis({ event: 'A04', id: '2', patientClass: 'O', visit: 'V2' }, 'not-advis-class');
    expect((await send({ event: 'A04', id: '3', patientClass: 'O', admissionType: 'E', visit: 'V3' })).outcome.advis).to.equal('STAA');
  });

  it('clinical rule 4: admitted → acute ambulant (A07) → STAA without request, same episode, no SLHJ between; its end is discharge-emergency-home', async () => {
    const stin = await advis({ event: 'A01', id: '1' });
    const staa = await advis({ event: 'A07', id: '2', patientClass: 'E', department: 'AKM', at: '20250311150000' });
    expect([encounter(staa).class.code, encounter(staa).status, activity(staa), roa(staa), senderSor(staa)]).to.deep.equal(['EMER', 'in-progress', 'admit-emergency', false, '265171000016007']);
    expect(encounter(staa).period).to.deep.equal({ start: '2025-03-11T15:00:00+01:00' });
    expect([episode(staa), provenance(staa).length, follows(staa)]).to.deep.equal([episode(stin), 2, link('revision', stin)]);
    const slhj = await advis({ event: 'A03', id: '3', patientClass: 'E', department: 'AKM', at: '20250311180000' });
    expect([encounter(slhj).class.code, encounter(slhj).status, activity(slhj), roa(slhj)]).to.deep.equal(['EMER', 'finished', 'discharge-emergency-home', undefined]);
    expect(encounter(slhj).period).to.deep.equal({ start: '2025-03-11T15:00:00+01:00', end: '2025-03-11T18:00:00+01:00' });
    expect([episode(slhj), provenance(slhj).length, follows(slhj)]).to.deep.equal([episode(stin), 3, link('revision', staa)]);
    expect(await outbox()).to.deep.equal(['STIN', 'STAA', 'SLHJ']);
  });

  it('S3, S4, S6 (3.3.5.1–2, 3.3.6.1–2, 3.3.8.1–2): leave and return → STOR, SLOR, then SLHJ, each carrying every earlier Provenance', async () => {
    const stin = await advis({ event: 'A01', id: '1' });
    const stor = await advis({ event: 'A21', id: '2', at: '20250313140000' });
    const slor = await advis({ event: 'A22', id: '3', at: '20250314100000' });
    const slhj = await advis({ event: 'A03', id: '4', at: '20250318140000', dischargeTime: '20250318140000' });
    expect([encounter(stor).status, leavePeriod(stor)]).to.deep.equal(['onleave', { start: '2025-03-13T14:00:00+01:00' }]);
    expect([encounter(slor).status, leavePeriod(slor)]).to.deep.equal(['in-progress', { start: '2025-03-13T14:00:00+01:00', end: '2025-03-14T10:00:00+01:00' }]);
    expect([encounter(slhj).status, encounter(slhj).period!.end, leavePeriod(slhj)]).to.deep.equal(['finished', '2025-03-18T14:00:00+01:00', undefined]);
    expect([stor, slor, slhj].map(follows)).to.deep.equal([link('revision', stin), link('revision', stor), link('revision', slor)]);
    expect([stin, stor, slor, slhj].map(receiverEndpoint)).to.deep.equal([HERLEV, HERLEV, HERLEV, HERLEV]);
    expect([stin, stor, slor, slhj].map((b) => [provenance(b).length, activity(b), roa(b)])).to.deep.equal([
      [1, 'admit-inpatient', true],
      [2, 'start-leave-inpatient', undefined],
      [3, 'end-leave-inpatient', undefined],
      [4, 'discharge-inpatient-home', undefined],
    ]);
    const episodes = new Set([stin, stor, slor, slhj].map((b) => encounter(b).episodeOfCare![0].identifier!.value));
    expect(episodes.size).to.equal(1);
  });

  it('S3 / S.BR14: leave applies to admitted stays only; an acute ambulant patient\'s A21 gives no STOR', async () => {
    await advis({ event: 'A04', id: '1', patientClass: 'E', department: 'AKM' });
    await noAdvis({ event: 'A21', id: '2', patientClass: 'E', department: 'AKM', at: '20250311100000' }, 'not-admitted');
    expect(await outbox()).to.deep.equal(['STAA']);
  });

  it('S.BR14 / clinical rule 6: leave during a psychiatric + somatic double admission gives neither STOR nor SLOR; once it ends, leave does', async () => {
    const stin = await advis({ event: 'A01', id: '1' });
    await advis({ event: 'A01', id: '2', department: 'PSY', visit: 'V2', at: '20250311090000' });
    await noAdvis({ event: 'A21', id: '3', at: '20250313140000' }, 'double-admission');
    await noAdvis({ event: 'A22', id: '4', at: '20250313180000' }, 'double-admission');
    await noAdvis({ event: 'A21', id: '5', department: 'PSY', visit: 'V2', at: '20250314140000' }, 'double-admission');
    await noAdvis({ event: 'A22', id: '6', department: 'PSY', visit: 'V2', at: '20250314180000' }, 'double-admission');
    expect(await outbox()).to.deep.equal(['STIN']);
    await advis({ event: 'A03', id: '7', department: 'PSY', visit: 'V2', at: '20250315100000' });
    const stor = await advis({ event: 'A21', id: '8', at: '20250316140000' });
    expect([activity(stor), leavePeriod(stor), provenance(stor).length, follows(stor)]).to.deep.equal(['start-leave-inpatient', { start: '2025-03-16T14:00:00+01:00' }, 2, link('revision', stin)]);
  });

  it('S.BR14 / clinical rule 6 across hospitals: a psychiatric admission at another hospital of the region is a double admission, not a transfer', async () => {
    await runtime.close();
    const site = siteDocument();
    (site.departments as object[]).push({ code: 'PSR', hospital: 'RH', name: 'Psykiatrisk Center København', sor: '265221000016002', kind: 'psychiatric' });
    await open(site);
    const somatic = await advis({ event: 'A01', id: '1' });
    const psychiatric = await advis({ event: 'A01', id: '2', hospital: 'RH', department: 'PSR', visit: 'V2', at: '20250311090000' });
    expect([roa(psychiatric), provenance(psychiatric).length, follows(psychiatric), senderSor(psychiatric)]).to.deep.equal([true, 1, undefined, '265221000016002']);
    expect(episode(psychiatric)).to.not.equal(episode(somatic));
    await noAdvis({ event: 'A21', id: '3', at: '20250313140000' }, 'double-admission');
    await noAdvis({ event: 'A22', id: '4', at: '20250313180000' }, 'double-admission');
    await noAdvis({ event: 'A21', id: '5', hospital: 'RH', department: 'PSR', visit: 'V2', at: '20250314140000' }, 'double-admission');
    await noAdvis({ event: 'A22', id: '6', hospital: 'RH', department: 'PSR', visit: 'V2', at: '20250314180000' }, 'double-admission');
    expect([await outbox('V1|REGH'), await outbox('V2|REGH')]).to.deep.equal([['STIN'], ['STIN']]);
    // Both stays went on: each ends by itself, and once the psychiatric one has, the somatic leave gives STOR.
    await advis({ event: 'A03', id: '7', hospital: 'RH', department: 'PSR', visit: 'V2', at: '20250315100000' });
    const stor = await advis({ event: 'A21', id: '8', at: '20250316140000' });
    expect([activity(stor), follows(stor)]).to.deep.equal(['start-leave-inpatient', link('revision', somatic)]);
  });

  it('S5 / S6 / S.BR17 (3.3.7.7–8, 3.3.8.3): discharge to a hospice gives no SLHJ; the self-transport code does', async () => {
    await advis({ event: 'A01', id: '1' });
    await noAdvis({ event: 'A03', id: '2', disposition: '50', at: '20250312100000' }, 'discharge-to-transfer');
    expect(await outbox()).to.deep.equal(['STIN']);
    await runtime.close();
    await open({ ...siteDocument(), adt: { selfTransportDispositions: ['99'] } });
    const stin = await advis({ event: 'A01', id: '3', visit: 'V2', at: '20250313100000' });
    const slhj = await advis({ event: 'A03', id: '4', visit: 'V2', disposition: '99', at: '20250314100000' });
    expect([activity(slhj), encounter(slhj).status, encounter(slhj).period!.end, roa(slhj)]).to.deep.equal(['discharge-inpatient-home', 'finished', '2025-03-14T10:00:00+01:00', undefined]);
    expect([episode(slhj), follows(slhj)]).to.deep.equal([episode(stin), link('revision', stin)]);
  });

  it('S5 / clinical rule 9 (3.3.7.7–8): after a discharge to the region\'s hospice, the hospice sends STIN on arrival, without request, same episode', async () => {
    const stin = await advis({ event: 'A01', id: '1' });
    await noAdvis({ event: 'A03', id: '2', disposition: '51', at: '20250314100000' }, 'discharge-to-transfer');
    const hospice = await advis({ event: 'A01', id: '3', hospital: 'RH', department: 'HOS', visit: 'H1', at: '20250314120000' });
    expect([activity(hospice), roa(hospice), senderSor(hospice), encounter(hospice).period]).to.deep.equal(['admit-inpatient', false, '265201000016008', { start: '2025-03-14T12:00:00+01:00' }]);
    expect([episode(hospice), provenance(hospice).length, follows(hospice)]).to.deep.equal([episode(stin), 2, link('revision', stin)]);
    expect([await outbox('V1|REGH'), await outbox('H1|REGH')]).to.deep.equal([['STIN'], ['STIN']]);
  });

  it('S2 → S6 (3.3.8.1–2): an acute ambulant stay ends home with SLHJ discharge-emergency-home, class EMER, no request', async () => {
    const staa = await advis({ event: 'A04', id: '1', patientClass: 'E', department: 'AKM', at: '20250311100000' });
    const slhj = await advis({ event: 'A03', id: '2', patientClass: 'E', department: 'AKM', at: '20250311143000' });
    expect([encounter(slhj).class.code, encounter(slhj).status, activity(slhj), roa(slhj), receiverEndpoint(slhj)]).to.deep.equal(['EMER', 'finished', 'discharge-emergency-home', undefined, HERLEV]);
    expect(encounter(slhj).period).to.deep.equal({ start: '2025-03-11T10:00:00+01:00', end: '2025-03-11T14:30:00+01:00' });
    expect([episode(slhj), provenance(slhj).length, follows(slhj)]).to.deep.equal([episode(staa), 2, link('revision', staa)]);
  });

  it('S6 / S.BR15 (3.3.8.4–5): a patient who does not return from leave is discharged with SLHJ, no SLOR needed, no request', async () => {
    const stin = await advis({ event: 'A01', id: '1' });
    const stor = await advis({ event: 'A21', id: '2', at: '20250313140000' });
    const slhj = await advis({ event: 'A03', id: '3', at: '20250315120000' });
    expect([activity(slhj), encounter(slhj).status, roa(slhj), receiverEndpoint(slhj)]).to.deep.equal(['discharge-inpatient-home', 'finished', undefined, HERLEV]);
    expect(encounter(slhj).period).to.deep.equal({ start: '2025-03-11T07:55:00+01:00', end: '2025-03-15T12:00:00+01:00' });
    expect([episode(slhj), provenance(slhj).length, follows(slhj)]).to.deep.equal([episode(stin), 3, link('revision', stor)]);
    expect(await outbox()).to.deep.equal(['STIN', 'STOR', 'SLHJ']);
  });

  it('S7 (3.3.9.1–2): dead on arrival → MORS as the first message (activity admit-inpatient, start = end, no request)', async () => {
    const mors = await advis({ event: 'A01', id: '1', deathIndicator: 'Y', deathTime: '20250311075500' });
    expect([activity(mors), encounter(mors).status, roa(mors), provenance(mors).length]).to.deep.equal(['admit-inpatient', 'in-progress', false, 1]);
    expect(encounter(mors).period).to.deep.equal({ start: '2025-03-11T07:55:00+01:00', end: '2025-03-11T07:55:00+01:00' });
  });

  it('S7 (3.3.9.1–2): dead on arrival at the acute ambulant department → MORS as the first message with admit-emergency, class EMER', async () => {
    const mors = await advis({ event: 'A04', id: '1', patientClass: 'E', department: 'AKM', deathIndicator: 'Y', deathTime: '20250311075500' });
    expect([activity(mors), encounter(mors).class.code, encounter(mors).status, roa(mors), deceased(mors), provenance(mors).length]).to.deep.equal([
      'admit-emergency', 'EMER', 'in-progress', false, true, 1,
    ]);
    expect(encounter(mors).period).to.deep.equal({ start: '2025-03-11T07:55:00+01:00', end: '2025-03-11T07:55:00+01:00' });
  });

  it('S7: dead on arrival with an admission time after the time of death → MORS with start = end = the time of death (per-1 holds)', async () => {
    const mors = await advis({ event: 'A01', id: '1', at: '20250311080000', deathIndicator: 'Y', deathTime: '20250311075000' });
    expect(encounter(mors).period).to.deep.equal({ start: '2025-03-11T07:50:00+01:00', end: '2025-03-11T07:50:00+01:00' });
  });

  it('S.CANC / S7 (TouchStone send-AN-MORS): A11 after a dead-on-arrival MORS → AN_MORS, removal of the MORS, deceased false, the status it had', async () => {
    const mors = await advis({ event: 'A01', id: '1', deathIndicator: 'Y', deathTime: '20250311075500' });
    const an = await advis({ event: 'A11', id: '2', at: '20250311090000' });
    expect([activity(an), encounter(an).status, encounter(an).period, deceased(an), follows(an), episode(an), provenance(an).length]).to.deep.equal([
      'admit-inpatient', 'in-progress', { start: '2025-03-11T07:55:00+01:00' }, false, link('removal', mors), episode(mors), 2,
    ]);
    await noAdvis({ event: 'A11', id: '3', at: '20250311091000' }, 'no-open-stay');
    expect(await outbox()).to.deep.equal(['MORS', 'AN_MORS']);
  });

  it('S.CANC: A11 cancels whatever its start gave: STIN, STAA, MORS on arrival (admitted or acute), the STIN after acute ambulant, the STIN after a transfer in the region', async () => {
    const starts: [string, AdtSpec[], string][] = [
      ['STIN', [{ event: 'A01', id: 's1' }], 'AN_STIN'],
      ['STAA', [{ event: 'A04', id: 's2', patientClass: 'E', department: 'AKM' }], 'AN_STAA'],
      ['MORS admitted', [{ event: 'A01', id: 's3', deathIndicator: 'Y', deathTime: '20250311075500' }], 'AN_MORS'],
      ['MORS acute', [{ event: 'A04', id: 's4', patientClass: 'E', department: 'AKM', deathIndicator: 'Y', deathTime: '20250311075500' }], 'AN_MORS'],
      ['STIN after STAA', [{ event: 'A04', id: 's5', patientClass: 'E', department: 'AKM' }, { event: 'A06', id: 's6', at: '20250311090000' }], 'AN_STIN'],
      ['STIN after a transfer', [{ event: 'A01', id: 's7' }, { event: 'A03', id: 's8', at: '20250312100000', disposition: '03' }, { event: 'A01', id: 's9', at: '20250312110000', hospital: 'RH', department: 'KAR', visit: 'V2' }], 'AN_STIN'],
    ];
    for (const [i, [name, sequence, expected]] of starts.entries()) {
      const cpr = ['0101800005', '0202800001', '0303800006', '0404800002', '0505800007', '0606800003'][i];
      let last: Sent | undefined;
      for (const spec of sequence) last = await send({ ...spec, cpr, id: `${spec.id}-${i}`, visit: `${spec.visit ?? 'V1'}-${i}` });
      const startSpec = sequence.at(-1)!;
      const an = await send({ event: 'A11', id: `c-${i}`, cpr, at: '20250312120000', visit: `${startSpec.visit ?? 'V1'}-${i}`, ...(startSpec.hospital ? { hospital: startSpec.hospital, department: startSpec.department } : {}), ...(startSpec.patientClass ? { patientClass: startSpec.patientClass, department: startSpec.department } : {}) });
      expect([name, an.outcome.advis], name).to.deep.equal([name, expected]);
      expect(follows(an.bundle!), name).to.deep.equal(link('removal', last!.bundle!));
    }
  });

  it('S.CANC / S7 (TouchStone send-AN-MORS): A11 after a dead-on-arrival MORS at the acute ambulant department → AN_MORS with admit-emergency', async () => {
    const mors = await advis({ event: 'A04', id: '1', patientClass: 'E', department: 'AKM', deathIndicator: 'Y', deathTime: '20250311075500' });
    const an = await advis({ event: 'A11', id: '2', patientClass: 'E', department: 'AKM', at: '20250311090000' });
    expect([activity(an), encounter(an).class.code, deceased(an), follows(an)]).to.deep.equal(['admit-emergency', 'EMER', false, link('removal', mors)]);
  });

  it('S.CORR / S7 (TouchStone send-RE-MORS): A08 correcting the time of death and the admission time of a dead-on-arrival → RE_MORS with start = end = the new time', async () => {
    const mors = await advis({ event: 'A01', id: '1', deathIndicator: 'Y', deathTime: '20250311075500' });
    const re = await advis({ event: 'A08', id: '2', at: '20250311090000', deathIndicator: 'Y', deathTime: '20250311073000', admitTime: '20250311073000' });
    expect([activity(re), encounter(re).status, encounter(re).period, deceased(re), follows(re), episode(re)]).to.deep.equal([
      'admit-inpatient', 'in-progress', { start: '2025-03-11T07:30:00+01:00', end: '2025-03-11T07:30:00+01:00' }, true, link('revision', mors), episode(mors),
    ]);
    const again = await advis({ event: 'A08', id: '3', at: '20250311093000', deathIndicator: 'Y', deathTime: '20250311072000' });
    expect([encounter(again).period, follows(again)]).to.deep.equal([{ start: '2025-03-11T07:20:00+01:00', end: '2025-03-11T07:20:00+01:00' }, link('revision', re)]);
    const an = await advis({ event: 'A11', id: '4', at: '20250311100000' });
    expect([deceased(an), follows(an)]).to.deep.equal([false, link('removal', again)]);
    expect(await outbox()).to.deep.equal(['MORS', 'RE_MORS', 'RE_MORS', 'AN_MORS']);
  });

  it('S7 (3.3.9.3–4): death during the stay → MORS: the current activity, finished, period.end = time of death, deceased, no request', async () => {
    const stin = await advis({ event: 'A01', id: '1' });
    // PID-29 is the time of death; the A03 is entered later.
    const mors = await advis({ event: 'A03', id: '2', at: '20250312060000', deathIndicator: 'Y', deathTime: '20250312031000' });
    expect([activity(mors), encounter(mors).class.code, encounter(mors).status, deceased(mors), roa(mors)]).to.deep.equal(['admit-inpatient', 'IMP', 'finished', true, undefined]);
    expect(encounter(mors).period).to.deep.equal({ start: '2025-03-11T07:55:00+01:00', end: '2025-03-12T03:10:00+01:00' });
    expect([episode(mors), provenance(mors).length, follows(mors), receiverEndpoint(mors)]).to.deep.equal([episode(stin), 2, link('revision', stin), HERLEV]);
  });

  it('S7: death during an acute ambulant stay → MORS with activity admit-emergency and class EMER', async () => {
    const staa = await advis({ event: 'A04', id: '1', patientClass: 'E', department: 'AKM', at: '20250311100000' });
    const mors = await advis({ event: 'A03', id: '2', patientClass: 'E', department: 'AKM', at: '20250311120000', disposition: '41' });
    expect([activity(mors), encounter(mors).class.code, encounter(mors).status, encounter(mors).period, deceased(mors), roa(mors)]).to.deep.equal([
      'admit-emergency', 'EMER', 'finished', { start: '2025-03-11T10:00:00+01:00', end: '2025-03-11T12:00:00+01:00' }, true, undefined,
    ]);
    expect([episode(mors), provenance(mors).length, follows(mors)]).to.deep.equal([episode(staa), 2, link('revision', staa)]);
  });

  it('S7 / S.BR16 (3.3.9.5–6): death during leave (PV1-36 death code) → MORS with start-leave-inpatient; after a return, end-leave-inpatient', async () => {
    const stin = await advis({ event: 'A01', id: '1', at: '20250320080000' });
    const stor = await advis({ event: 'A21', id: '2', at: '20250321080000' });
    const mors = await advis({ event: 'A03', id: '3', at: '20250321200000', disposition: '20' });
    expect([activity(mors), encounter(mors).status, deceased(mors), roa(mors)]).to.deep.equal(['start-leave-inpatient', 'finished', true, undefined]);
    expect([encounter(mors).period, leavePeriod(mors)]).to.deep.equal([{ start: '2025-03-20T08:00:00+01:00', end: '2025-03-21T20:00:00+01:00' }, { start: '2025-03-21T08:00:00+01:00' }]);
    expect([episode(mors), provenance(mors).length, follows(mors)]).to.deep.equal([episode(stin), 3, link('revision', stor)]);

    await advis({ event: 'A01', id: '4', visit: 'V2', at: '20250401080000' });
    await advis({ event: 'A21', id: '5', visit: 'V2', at: '20250402080000' });
    const slor = await advis({ event: 'A22', id: '6', visit: 'V2', at: '20250402180000' });
    const after = await advis({ event: 'A03', id: '7', visit: 'V2', at: '20250403080000', deathIndicator: 'Y' });
    expect([activity(after), encounter(after).period!.end, provenance(after).length, follows(after)]).to.deep.equal(['end-leave-inpatient', '2025-04-03T08:00:00+02:00', 4, link('revision', slor)]);
  });

  it('S.CANC / S.BR23 (3.3.10.1–2): A11 → AN_STIN (entered-in-error, removal) to the receiver of the STIN; after a correction it refers to the correction', async () => {
    const stin = await advis({ event: 'A01', id: '1' });
    const an = await advis({ event: 'A11', id: '2' });
    expect([encounter(an).status, activity(an), roa(an), receiverEndpoint(an)]).to.deep.equal(['entered-in-error', 'cancel-admit-inpatient', undefined, HERLEV]);
    expect([encounter(an).period, follows(an), provenance(an).length, episode(an)]).to.deep.equal([{ start: '2025-03-11T07:55:00+01:00' }, link('removal', stin), 2, episode(stin)]);

    await advis({ event: 'A01', id: '3', visit: 'V2' });
    const re = await advis({ event: 'A08', id: '4', visit: 'V2', admitTime: '20250311070000' });
    const an2 = await advis({ event: 'A11', id: '5', visit: 'V2' });
    expect([follows(an2), provenance(an2).length]).to.deep.equal([link('removal', re), 3]);
    // S.BR23: the correction went first, the cancellation after it.
    expect(await outbox('V2|REGH')).to.deep.equal(['STIN', 'RE_STIN', 'AN_STIN']);
  });

  it('S.CANC (3.3.10.1–2), wrong type: admitted instead of acute ambulant → AN_STIN, then the STAA starts a new flow with a request', async () => {
    const stin = await advis({ event: 'A01', id: '1' });
    const an = await advis({ event: 'A11', id: '2', at: '20250311081000' });
    expect([activity(an), encounter(an).status, follows(an), receiverEndpoint(an)]).to.deep.equal(['cancel-admit-inpatient', 'entered-in-error', link('removal', stin), HERLEV]);
    const staa = await advis({ event: 'A04', id: '3', patientClass: 'E', department: 'AKM', at: '20250311075500' });
    expect([activity(staa), roa(staa), provenance(staa).length, follows(staa)]).to.deep.equal(['admit-emergency', true, 1, undefined]);
    expect(episode(staa)).not.to.equal(episode(stin));
  });

  it('S.CANC (3.3.10.3–4): A52 / A53 cancel a wrongly registered leave and return → AN_STOR, AN_SLOR to their receiver', async () => {
    const stin = await advis({ event: 'A01', id: '1' });
    const stor = await advis({ event: 'A21', id: '2', at: '20250313140000' });
    const anStor = await advis({ event: 'A52', id: '3', at: '20250313150000' });
    expect([activity(anStor), encounter(anStor).status, roa(anStor), receiverEndpoint(anStor)]).to.deep.equal(['cancel-start-leave-inpatient', 'in-progress', undefined, HERLEV]);
    expect([provenance(anStor).length, follows(anStor), episode(anStor)]).to.deep.equal([3, link('removal', stor), episode(stin)]);
    await advis({ event: 'A21', id: '4', at: '20250314140000' });
    const slor = await advis({ event: 'A22', id: '5', at: '20250314180000' });
    const anSlor = await advis({ event: 'A53', id: '6', at: '20250314190000' });
    expect([activity(anSlor), encounter(anSlor).status, leavePeriod(anSlor)]).to.deep.equal(['cancel-end-leave-inpatient', 'onleave', { start: '2025-03-14T14:00:00+01:00' }]);
    expect([provenance(anSlor).length, follows(anSlor)]).to.deep.equal([6, link('removal', slor)]);
    expect(await outbox()).to.deep.equal(['STIN', 'STOR', 'AN_STOR', 'STOR', 'SLOR', 'AN_SLOR']);
  });

  it('S.CANC: A13 cancels the discharge (AN_SLHJ back to in-progress) or the death (AN_MORS, deceased false)', async () => {
    await advis({ event: 'A01', id: '1' });
    await advis({ event: 'A03', id: '2', at: '20250318140000' });
    const an = await advis({ event: 'A13', id: '3', at: '20250318150000' });
    expect([encounter(an).status, activity(an), encounter(an).period!.end]).to.deep.equal(['in-progress', 'cancel-discharge-inpatient-home', undefined]);
    await advis({ event: 'A03', id: '4', at: '20250319031000', deathIndicator: 'Y' });
    const anMors = await advis({ event: 'A13', id: '5', at: '20250319040000' });
    expect([activity(anMors), resources<Patient>(anMors, 'Patient')[0].deceasedBoolean]).to.deep.equal(['admit-inpatient', false]);
  });

  it('S.CANC: AN_MORS of a death registered during leave restores the "previous status" onleave; the return then gives SLOR', async () => {
    await advis({ event: 'A01', id: '1' });
    await advis({ event: 'A21', id: '2', at: '20250313140000' });
    const mors = await advis({ event: 'A03', id: '3', at: '20250313200000', deathIndicator: 'Y' });
    const an = await advis({ event: 'A13', id: '4', at: '20250313210000' });
    expect([activity(an), encounter(an).status, encounter(an).period, leavePeriod(an), deceased(an), follows(an)]).to.deep.equal([
      'start-leave-inpatient', 'onleave', { start: '2025-03-11T07:55:00+01:00' }, { start: '2025-03-13T14:00:00+01:00' }, false, link('removal', mors),
    ]);
    const slor = await advis({ event: 'A22', id: '5', at: '20250314100000' });
    expect([activity(slor), leavePeriod(slor), provenance(slor).length, follows(slor)]).to.deep.equal([
      'end-leave-inpatient', { start: '2025-03-13T14:00:00+01:00', end: '2025-03-14T10:00:00+01:00' }, 5, link('revision', an),
    ]);
    expect(await outbox()).to.deep.equal(['STIN', 'STOR', 'MORS', 'AN_MORS', 'SLOR']);
  });

  it('S.CANC: AN_SLHJ of a discharge registered during leave is in-progress, as MedCom\'s code table says for every AN_SLHJ', async () => {
    await advis({ event: 'A01', id: '1' });
    await advis({ event: 'A21', id: '2', at: '20250313140000' });
    const slhj = await advis({ event: 'A03', id: '3', at: '20250315120000' });
    const an = await advis({ event: 'A13', id: '4', at: '20250315130000' });
    expect([activity(an), encounter(an).status, encounter(an).period, leavePeriod(an), follows(an)]).to.deep.equal([
      'cancel-discharge-inpatient-home', 'in-progress', { start: '2025-03-11T07:55:00+01:00' }, undefined, link('removal', slhj),
    ]);
  });

  it('S.CORR (3.3.11.1–4): A08 with a new admission time or department → RE_STIN to the same receiver; nothing relevant → none', async () => {
    const stin = await advis({ event: 'A01', id: '1' });
    await noAdvis({ event: 'A08', id: '2', admitTime: '20250311075500' }, 'nothing-changed');
    const time = await advis({ event: 'A08', id: '3', admitTime: '20250311074500', at: '20250311090000' });
    expect([activity(time), encounter(time).period!.start, current(time).entity![0].role]).to.deep.equal(['revise-admit-inpatient', '2025-03-11T07:45:00+01:00', 'revision']);
    expect(header(time).destination![0].endpoint).to.equal(header(stin).destination![0].endpoint);
    const department = await advis({ event: 'A08', id: '4', admitTime: '20250311074500', department: 'AKM', at: '20250311093000' });
    expect(senderSor(department)).to.equal('265171000016007');
    expect(current(department).entity![0].what.reference).to.equal(`MessageHeader/${header(time).id}`);
    // No cancellation goes before (or instead of) a correction.
    expect(await outbox()).to.deep.equal(['STIN', 'RE_STIN', 'RE_STIN']);
  });

  const serviceProvider = (b: Bundle) => encounter(b).serviceProvider!.reference;
  it('S.CORR across hospitals (TouchStone PF-send-imp-05): A08 moving the stay to a department of another hospital of the region → RE_STIN from it', async () => {
    const stin = await advis({ event: 'A01', id: '1' });
    const re = await advis({ event: 'A08', id: '2', hospital: 'RH', department: 'KAR', at: '20250311090000' });
    expect([activity(re), senderSor(re), serviceProvider(re), follows(re), episode(re), receiverEndpoint(re)]).to.deep.equal([
      'revise-admit-inpatient', '265191000016006', header(re).sender!.reference, link('revision', stin), episode(stin), HERLEV,
    ]);
    expect(senderSor(re)).to.not.equal(senderSor(stin));
    // The stay is at the corrected hospital now: its discharge comes from there.
    const slhj = await advis({ event: 'A03', id: '3', hospital: 'RH', department: 'KAR', at: '20250312100000' });
    expect([senderSor(slhj), follows(slhj)]).to.deep.equal(['265191000016006', link('revision', re)]);
    expect(await outbox()).to.deep.equal(['STIN', 'RE_STIN', 'SLHJ']);
  });

  it('S.CORR across hospitals (TouchStone PF-send-emer-01): the same for an acute ambulant stay → RE_STAA from the corrected department', async () => {
    const staa = await advis({ event: 'A04', id: '1', patientClass: 'E', department: 'AKM' });
    const re = await advis({ event: 'A08', id: '2', patientClass: 'E', hospital: 'RH', department: 'KAR', at: '20250311090000' });
    expect([activity(re), encounter(re).class.code, senderSor(re), serviceProvider(re), follows(re), episode(re)]).to.deep.equal([
      'revise-admit-emergency', 'EMER', '265191000016006', header(re).sender!.reference, link('revision', staa), episode(staa),
    ]);
  });

  it('S.CORR / S.CANC on an acute ambulant stay: RE_STAA with the corrected start, then AN_STAA cancelling the correction', async () => {
    const staa = await advis({ event: 'A04', id: '1', patientClass: 'E', department: 'AKM', at: '20250311100000' });
    const re = await advis({ event: 'A08', id: '2', patientClass: 'E', department: 'AKM', admitTime: '20250311094500', at: '20250311110000' });
    expect([activity(re), encounter(re).class.code, encounter(re).status, encounter(re).period, roa(re)]).to.deep.equal([
      'revise-admit-emergency', 'EMER', 'in-progress', { start: '2025-03-11T09:45:00+01:00' }, undefined,
    ]);
    expect(follows(re)).to.deep.equal(link('revision', staa));
    const an = await advis({ event: 'A11', id: '3', patientClass: 'E', department: 'AKM', at: '20250311113000' });
    expect([activity(an), encounter(an).class.code, encounter(an).status, encounter(an).period]).to.deep.equal([
      'cancel-admit-emergency', 'EMER', 'entered-in-error', { start: '2025-03-11T09:45:00+01:00' },
    ]);
    expect([follows(an), provenance(an).length, episode(an)]).to.deep.equal([link('removal', re), 3, episode(staa)]);
    expect(await outbox()).to.deep.equal(['STAA', 'RE_STAA', 'AN_STAA']);
  });

  it('S.CORR / S.BR22 (3.3.11.5–6): after SLHJ an A08 changing the admission time gives no RE_STIN; a new discharge time gives RE_SLHJ', async () => {
    await advis({ event: 'A01', id: '1' });
    await advis({ event: 'A03', id: '2', at: '20250318140000', dischargeTime: '20250318140000' });
    await noAdvis({ event: 'A08', id: '3', admitTime: '20250311070000', dischargeTime: '20250318140000' }, 'not-latest-advis');
    const re = await advis({ event: 'A08', id: '4', admitTime: '20250311075500', dischargeTime: '20250318150000' });
    expect([activity(re), encounter(re).period!.end]).to.deep.equal(['revise-discharge-inpatient-home', '2025-03-18T15:00:00+01:00']);
  });

  it('S.BR22: while a STOR is the latest advis, a changed admission time gives no RE_STIN; a changed department gives RE_STOR', async () => {
    await advis({ event: 'A01', id: '1' });
    const stor = await advis({ event: 'A21', id: '2', at: '20250313140000' });
    await noAdvis({ event: 'A08', id: '3', admitTime: '20250311070000', at: '20250313150000' }, 'not-latest-advis');
    const re = await advis({ event: 'A08', id: '4', department: 'AKM', at: '20250313160000' });
    expect([activity(re), encounter(re).status, leavePeriod(re), senderSor(re), follows(re)]).to.deep.equal([
      'revise-start-leave-inpatient', 'onleave', { start: '2025-03-13T14:00:00+01:00' }, '265171000016007', link('revision', stor),
    ]);
    expect(await outbox()).to.deep.equal(['STIN', 'STOR', 'RE_STOR']);
  });

  it('S.CORR / S.BR21: a corrected time of death gives RE_MORS (allowed, not required) with the current activity and deceased', async () => {
    await advis({ event: 'A01', id: '1' });
    const mors = await advis({ event: 'A03', id: '2', at: '20250312031000', deathIndicator: 'Y', deathTime: '20250312031000' });
    const re = await advis({ event: 'A08', id: '3', at: '20250312090000', deathIndicator: 'Y', deathTime: '20250312024500' });
    expect([activity(re), encounter(re).status, encounter(re).period, deceased(re), follows(re)]).to.deep.equal([
      'admit-inpatient', 'finished', { start: '2025-03-11T07:55:00+01:00', end: '2025-03-12T02:45:00+01:00' }, true, link('revision', mors),
    ]);
  });

  it('S.BR25 (3.3.10.2, 3.3.11.2): RE and AN go to the receiver of the advis they correct, even after the patient moved; new advis to the new municipality', async () => {
    const stin = await advis({ event: 'A01', id: '1' });
    expect(receiverEndpoint(stin)).to.equal(HERLEV);
    // The patient now lives in Copenhagen (0101): the correction still goes to Herlev, which got the STIN.
    const re = await advis({ event: 'A08', id: '2', municipality: '101', admitTime: '20250311074500', at: '20250311090000' });
    expect([receiverEndpoint(re), (await send({ event: 'A08', id: '3', municipality: '101', admitTime: '20250311074500', at: '20250311091000' })).outcome.reason]).to.deep.equal([HERLEV, 'nothing-changed']);
    // Neither does a municipality the site does not know hold a correction back: its receiver is known.
    const again = await advis({ event: 'A08', id: '3a', municipality: '665', admitTime: '20250311074000', at: '20250311092000' });
    expect([receiverEndpoint(again), follows(again)]).to.deep.equal([HERLEV, link('revision', re)]);
    // A new advis goes to the municipality of residence now.
    const stor = await advis({ event: 'A21', id: '4', municipality: '101', at: '20250313140000' });
    expect(receiverEndpoint(stor)).to.equal(COPENHAGEN);
    // The patient moves back: the cancellation of the STOR goes to Copenhagen, which got it.
    const an = await advis({ event: 'A52', id: '5', at: '20250313150000' });
    expect([receiverEndpoint(an), follows(an)]).to.deep.equal([COPENHAGEN, link('removal', stor)]);
    expect((await runtime.store.outboxByStay('V1|REGH')).map((e) => [e.advis, e.receiverSor])).to.deep.equal([
      ['STIN', '953741000016009'],
      ['RE_STIN', '953741000016009'],
      ['RE_STIN', '953741000016009'],
      ['STOR', '953701000016004'],
      ['AN_STOR', '953701000016004'],
    ]);
  });

  it('3.4.2–3.4.6: period.start, leavePeriod.start/end, period.end and the time of death are the event times (EVN-6), not the time of data entry', async () => {
    // Every event is entered 40 minutes after it happened (EVN-2, MSH-7), and sent later still.
    clock = new Date('2025-03-20T12:00:00Z');
    const stin = await advis({ event: 'A01', id: '1', at: '20250311100000', recorded: '20250311104000' });
    const stor = await advis({ event: 'A21', id: '2', at: '20250312110000', recorded: '20250312114000' });
    const slor = await advis({ event: 'A22', id: '3', at: '20250312170000', recorded: '20250312174000' });
    const slhj = await advis({ event: 'A03', id: '4', at: '20250313150000', recorded: '20250313154000' });
    expect(encounter(stin).period).to.deep.equal({ start: '2025-03-11T10:00:00+01:00' });
    expect(leavePeriod(stor)).to.deep.equal({ start: '2025-03-12T11:00:00+01:00' });
    expect(leavePeriod(slor)).to.deep.equal({ start: '2025-03-12T11:00:00+01:00', end: '2025-03-12T17:00:00+01:00' });
    expect(encounter(slhj).period).to.deep.equal({ start: '2025-03-11T10:00:00+01:00', end: '2025-03-13T15:00:00+01:00' });
    await advis({ event: 'A01', id: '5', visit: 'V2', at: '20250315100000', recorded: '20250315104000' });
    const mors = await advis({ event: 'A03', id: '6', visit: 'V2', at: '20250315180000', recorded: '20250315184000', deathIndicator: 'Y' });
    expect([encounter(mors).period!.end, deceased(mors)]).to.deep.equal(['2025-03-15T18:00:00+01:00', true]);
    // The send time is the Bundle's and the Provenance's, never the Encounter's.
    expect([slhj.timestamp, current(slhj).occurredDateTime]).to.deep.equal(['2025-03-20T13:00:00+01:00', '2025-03-20T13:00:00+01:00']);
  });

  it('3.4.2 (TouchStone PF-send-tec-04): times the EPR sends with another offset or a Z are written in Danish time with +01:00/+02:00', async () => {
    const stin = await advis({ event: 'A01', id: '1', at: '20230701100000+0000' });
    const slhj = await advis({ event: 'A03', id: '2', at: '20231201093000Z' });
    expect([encounter(stin).period!.start, encounter(slhj).period!.end]).to.deep.equal(['2023-07-01T12:00:00+02:00', '2023-12-01T10:30:00+01:00']);
  });

  it('3.4.2: timestamps carry +01:00 in winter and +02:00 in summer, also on a leap day and at the spring change', async () => {
    expect(encounter(await advis({ event: 'A01', id: '1', at: '20250115100000' })).period!.start).to.equal('2025-01-15T10:00:00+01:00');
    expect(encounter(await advis({ event: 'A01', id: '2', visit: 'V2', at: '20250715100000' })).period!.start).to.equal('2025-07-15T10:00:00+02:00');
    expect(encounter(await advis({ event: 'A01', id: '3', visit: 'V3', at: '20240229235959' })).period!.start).to.equal('2024-02-29T23:59:59+01:00');
    expect(encounter(await advis({ event: 'A01', id: '4', visit: 'V4', at: '20250330030000' })).period!.start).to.equal('2025-03-30T03:00:00+02:00');
  });

  it('3.4.2: a stay across a daylight-saving change: period.start and period.end carry the offsets of their own dates', async () => {
    await advis({ event: 'A01', id: '1', at: '20250329220000' });
    const slhj = await advis({ event: 'A03', id: '2', at: '20250330120000' });
    expect(encounter(slhj).period).to.deep.equal({ start: '2025-03-29T22:00:00+01:00', end: '2025-03-30T12:00:00+02:00' });
    await advis({ event: 'A01', id: '3', visit: 'V2', at: '20251025220000' });
    const winter = await advis({ event: 'A03', id: '4', visit: 'V2', at: '20251026120000' });
    expect(encounter(winter).period).to.deep.equal({ start: '2025-10-25T22:00:00+02:00', end: '2025-10-26T12:00:00+01:00' });
  });

  it('S.BR13 / clinical rule 1 (3.4.7): a pre-registration is deferred durably and decided when its time comes, across a restart', async () => {
    clock = new Date('2025-03-10T12:00:00Z');
    expect((await send({ event: 'A01', id: '1' })).outcome).to.include({ reason: 'deferred', deferredUntil: '2025-03-11T07:55:00+01:00' });
    expect((await runtime.engine.releaseDue()).outcomes).to.deep.equal([]);
    await runtime.close();
    clock = new Date('2025-03-11T07:00:00Z');
    await open();
    expect(released(await runtime.engine.releaseDue()).map((n) => n.outcome.advis)).to.deep.equal(['STIN']);
    expect((await runtime.engine.releaseDue()).outcomes).to.deep.equal([]);
  });

  it('S.BR13: a cancellation that arrives before its pre-registration falls due withdraws it; neither gives an advis', async () => {
    clock = new Date('2025-03-10T12:00:00Z');
    expect((await send({ event: 'A01', id: '1' })).outcome.reason).to.equal('deferred');
    expect((await send({ event: 'A11', id: '2', at: '20250310130000' })).outcome).to.include({ advis: null, reason: 'pre-registration-cancelled' });
    clock = new Date('2025-03-12T12:00:00Z');
    expect((await runtime.engine.releaseDue()).outcomes).to.deep.equal([]);
    expect(await runtime.store.getStay('V1|REGH')).to.equal(undefined);
    expect((await runtime.store.getProcessed<{ outcomes: { reason: string }[] }>('EPJ|REGH|1'))!.outcome.outcomes[0].reason).to.equal('pre-registration-cancelled');
  });

  it('S.BR13 (3.4.7): a pre-registered leave gives its STOR only when the leave starts, with that time', async () => {
    clock = new Date('2025-03-12T08:00:00Z');
    const stin = await advis({ event: 'A01', id: '1' });
    expect((await send({ event: 'A21', id: '2', at: '20250312140000', recorded: '20250312090000' })).outcome).to.include({ reason: 'deferred', deferredUntil: '2025-03-12T14:00:00+01:00' });
    expect(await outbox()).to.deep.equal(['STIN']);
    clock = new Date('2025-03-12T12:59:00Z');
    expect((await runtime.engine.releaseDue()).outcomes).to.deep.equal([]);
    clock = new Date('2025-03-12T13:00:00Z');
    const [stor] = released(await runtime.engine.releaseDue());
    expect([stor.outcome.advis, encounter(stor.bundle).status, leavePeriod(stor.bundle), follows(stor.bundle)]).to.deep.equal([
      'STOR', 'onleave', { start: '2025-03-12T14:00:00+01:00' }, link('revision', stin),
    ]);
    expect(await outbox()).to.deep.equal(['STIN', 'STOR']);
  });

  it('S.BR13: a pre-registered admission and leave are decided in the order of their times, each when due', async () => {
    clock = new Date('2025-03-10T12:00:00Z');
    expect((await send({ event: 'A01', id: '1', at: '20250311080000' })).outcome.reason).to.equal('deferred');
    expect((await send({ event: 'A21', id: '2', at: '20250312140000' })).outcome.reason).to.equal('deferred');
    clock = new Date('2025-03-11T07:00:00Z');
    expect(released(await runtime.engine.releaseDue()).map((n) => [n.outcome.advis, encounter(n.bundle).period!.start])).to.deep.equal([['STIN', '2025-03-11T08:00:00+01:00']]);
    clock = new Date('2025-03-13T00:00:00Z');
    const [stor] = released(await runtime.engine.releaseDue());
    expect([stor.outcome.advis, leavePeriod(stor.bundle), provenance(stor.bundle).length]).to.deep.equal(['STOR', { start: '2025-03-12T14:00:00+01:00' }, 2]);
    expect(await outbox()).to.deep.equal(['STIN', 'STOR']);
  });

  it('S.BR26 / R.BR1: no CPR, invalid or replacement CPR, no Danish address → no advis with the reason code', async () => {
    await noAdvis({ event: 'A01', id: '1', cpr: '' }, 'no-cpr');
    await noAdvis({ event: 'A01', id: '2', cpr: '010180AB12' }, 'no-cpr');
    await noAdvis({ event: 'A01', id: '3', cpr: '3213801234' }, 'no-cpr');
    await noAdvis({ event: 'A01', id: '5', cpr: '6101800005' }, 'no-cpr');
    await noAdvis({ event: 'A01', id: '4', municipality: '' }, 'no-danish-address');
  });

  it('an unknown municipality holds the advis until the site is fixed, then releases it', async () => {
    expect((await send({ event: 'A01', id: '1', municipality: '665' })).outcome).to.include({ reason: 'unknown-municipality', held: true });
    expect((await runtime.engine.releaseHeld()).outcomes).to.deep.equal([]);
    await runtime.close();
    const site = siteDocument() as { municipalities: object[] };
    site.municipalities.push({ code: '0665', name: 'Sygehusadviser, Lemvig Kommune (example values)', sor: '953771000016009', gln: '5790000000159' });
    await open(site);
    expect(released(await runtime.engine.releaseHeld()).map((n) => [n.outcome.advis, n.outcome.receiver!.municipalityCode])).to.deep.equal([['STIN', '0665']]);
    expect(await runtime.store.held()).to.deep.equal([]);
  });

  it('an unknown department holds the advis until the site knows it, then releases it from that department', async () => {
    expect((await send({ event: 'A01', id: '1', department: 'GER' })).outcome).to.include({ advis: null, reason: 'unknown-department', held: true });
    expect([(await runtime.store.held()).map((h) => h.reason), await outbox()]).to.deep.equal([['unknown-department'], []]);
    await runtime.close();
    const site = siteDocument() as { departments: object[] };
    site.departments.push({ code: 'GER', hospital: 'HGH', name: 'Geriatrisk afdeling, Herlev', sor: '265221000016001', kind: 'somatic' });
    await open(site);
    const [stin] = released(await runtime.engine.releaseHeld());
    expect([stin.outcome.advis, senderSor(stin.bundle), roa(stin.bundle), receiverEndpoint(stin.bundle)]).to.deep.equal(['STIN', '265221000016001', true, HERLEV]);
    expect(await runtime.store.held()).to.deep.equal([]);
  });

  it('an acute ambulant patient admitted to a department the site does not know yet: the STIN is held, then sent without request in the same flow', async () => {
    const staa = await advis({ event: 'A04', id: '1', patientClass: 'E', department: 'AKM' });
    expect((await send({ event: 'A06', id: '2', department: 'GER', at: '20250311120000' })).outcome).to.include({ advis: null, reason: 'unknown-department', held: true });
    expect(await outbox()).to.deep.equal(['STAA']);
    await runtime.close();
    const site = siteDocument() as { departments: object[] };
    site.departments.push({ code: 'GER', hospital: 'HGH', name: 'Geriatrisk afdeling, Herlev', sor: '265221000016001', kind: 'somatic' });
    await open(site);
    const [stin] = released(await runtime.engine.releaseHeld());
    expect([stin.outcome.advis, senderSor(stin.bundle), roa(stin.bundle), encounter(stin.bundle).period]).to.deep.equal(['STIN', '265221000016001', false, { start: '2025-03-11T12:00:00+01:00' }]);
    expect([episode(stin.bundle), follows(stin.bundle)]).to.deep.equal([episode(staa), link('revision', staa)]);
  });

  it('ignores A05, A14, A38, A54 and A55 with a reason', async () => {
    for (const event of ['A05', 'A14', 'A38', 'A54', 'A55']) await noAdvis({ event, id: event }, 'ignored-event');
  });
});
