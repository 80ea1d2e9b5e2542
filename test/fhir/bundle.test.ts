// The HospitalNotification builder: every advis type with the values of DIGEST.md §3, each Bundle valid against the
// MedCom profiles, and the message structure a municipality reads (header first, chain carried, references bundled).
import { expect } from 'chai';
import type { Bundle, Encounter, MessageHeader, Organization, Patient, Provenance } from 'fhir/r4';
import { sorEndpoint } from '../../lib/advis/site';
import type { AdvisPlan, AdvisType, EncounterSnapshot, OrganisationRef, ProvenanceRecord, Receiver } from '../../lib/advis/types';
import { buildHospitalNotification, type BuiltNotification } from '../../lib/fhir/bundle';
import { loadProfilePackages } from '../../lib/fhir/profiles';
import { createValidator } from '../../lib/fhir/validate';
import { describeShared, medcomPackages } from '../support/shared';

const heart: OrganisationRef = { name: 'Hjerteafdelingen', sor: '265161000016000', gln: '5790000209354' };
const emergency: OrganisationRef = { name: 'Akutmodtagelsen', sor: '265171000016007', gln: '5790000000036' };
const herlev: Receiver = { municipalityCode: '0163', name: 'Plejecenter Herlev', sor: '953741000016009', gln: '5790001348120' };
const episode = { system: sorEndpoint(heart.sor), value: '3b9e2c4a-7d1f-4e8a-9c2b-5f6a7b8c9d0e' };
const start = '2025-03-11T07:55:00+01:00';

let counter = 0;
const newId = (): string => `00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}`;

function resources<T>(bundle: Bundle, type: string): T[] {
  return bundle.entry!.map((e) => e.resource!).filter((r) => r.resourceType === type) as T[];
}

/** Builds a flow of messages the way the engine chains them: each carries the Provenance of all before it. */
function chain(steps: { advis: AdvisType; activity: string; encounter: EncounterSnapshot; sender?: OrganisationRef; extra?: Partial<AdvisPlan>; follows?: 'revision' | 'removal' }[]): BuiltNotification[] {
  const built: BuiltNotification[] = [];
  const previous: ProvenanceRecord[] = [];
  for (const step of steps) {
    const last = built[built.length - 1];
    const b = buildHospitalNotification(
      {
        advis: step.advis,
        activity: step.activity,
        encounter: step.encounter,
        episode,
        sender: step.sender ?? heart,
        receiver: herlev,
        patient: { cpr: '0101800005', family: 'Hansen' },
        previous: [...previous],
        ...(last ? { entity: { role: step.follows ?? 'revision', messageHeaderId: last.messageHeaderId } } : {}),
        ...step.extra,
      },
      '2025-03-11T08:00:02+01:00',
      newId,
    );
    previous.push(b.provenance);
    built.push(b);
  }
  return built;
}

const inpatient = (e: Partial<EncounterSnapshot> = {}): EncounterSnapshot => ({ class: 'IMP', status: 'in-progress', periodStart: start, ...e });

describeShared('HospitalNotification builder', function () {
  const validator = createValidator(loadProfilePackages(medcomPackages()));

  const flows: Record<string, BuiltNotification[]> = {
    'STIN → STOR → SLOR → SLHJ': chain([
      { advis: 'STIN', activity: 'admit-inpatient', encounter: inpatient(), extra: { reportOfAdmission: true } },
      { advis: 'STOR', activity: 'start-leave-inpatient', encounter: inpatient({ status: 'onleave', leaveStart: '2025-03-13T14:00:00+01:00' }) },
      { advis: 'SLOR', activity: 'end-leave-inpatient', encounter: inpatient({ leaveStart: '2025-03-13T14:00:00+01:00', leaveEnd: '2025-03-14T10:00:00+01:00' }) },
      { advis: 'SLHJ', activity: 'discharge-inpatient-home', encounter: inpatient({ status: 'finished', periodEnd: '2025-03-18T14:00:00+01:00' }) },
    ]),
    'STAA → SLHJ': chain([
      { advis: 'STAA', activity: 'admit-emergency', encounter: { class: 'EMER', status: 'in-progress', periodStart: start }, sender: emergency, extra: { reportOfAdmission: true } },
      { advis: 'SLHJ', activity: 'discharge-emergency-home', encounter: { class: 'EMER', status: 'finished', periodStart: start, periodEnd: '2025-03-11T13:00:00+01:00' }, sender: emergency },
    ]),
    'STIN → RE_STIN (department) → AN_STIN': chain([
      { advis: 'STIN', activity: 'admit-inpatient', encounter: inpatient(), extra: { reportOfAdmission: true } },
      { advis: 'RE_STIN', activity: 'revise-admit-inpatient', encounter: inpatient({ periodStart: '2025-03-11T07:45:00+01:00' }), sender: emergency },
      { advis: 'AN_STIN', activity: 'cancel-admit-inpatient', encounter: inpatient({ status: 'entered-in-error' }), follows: 'removal' },
    ]),
    'STIN → MORS → AN_MORS': chain([
      { advis: 'STIN', activity: 'admit-inpatient', encounter: inpatient(), extra: { reportOfAdmission: true } },
      { advis: 'MORS', activity: 'admit-inpatient', encounter: inpatient({ status: 'finished', periodEnd: '2025-03-12T03:10:00+01:00' }), extra: { deceased: true } },
      { advis: 'AN_MORS', activity: 'admit-inpatient', encounter: inpatient(), extra: { deceased: false }, follows: 'removal' },
    ]),
  };

  for (const [name, built] of Object.entries(flows)) {
    it(`${name}: every Bundle is valid against the MedCom profiles`, () => {
      for (const b of built) expect(validator.validate(b.bundle).issues.filter((i) => i.severity === 'error'), b.bundle.id).to.deep.equal([]);
    });
  }

  it('puts the MessageHeader first and bundles everything it references', () => {
    for (const b of Object.values(flows).flat()) {
      const entries = b.bundle.entry!;
      expect(entries[0].resource!.resourceType).to.equal('MessageHeader');
      const ids = new Set(entries.map((e) => `${e.resource!.resourceType}/${e.resource!.id}`));
      const refs = JSON.stringify(b.bundle).match(/"reference":"(Organization|Patient|Encounter)\/[^"]+"/g)!.map((r) => r.slice(13, -1));
      for (const ref of refs) expect(ids.has(ref), ref).to.equal(true);
      for (const e of entries) expect(e.fullUrl).to.equal(`https://medcomfhir.dk/ig/hospitalnotification/${e.resource!.resourceType}/${e.resource!.id}`);
    }
  });

  it('gives every message a new Bundle.id and MessageHeader.id and carries the whole Provenance chain', () => {
    const built = flows['STIN → STOR → SLOR → SLHJ'];
    expect(new Set(built.map((b) => b.bundle.id)).size).to.equal(4);
    expect(new Set(built.map((b) => b.messageHeaderId)).size).to.equal(4);
    built.forEach((b, i) => {
      const provenances = resources<Provenance>(b.bundle, 'Provenance');
      expect(provenances).to.have.length(i + 1);
      const current = provenances[i];
      expect(current.target[0].reference).to.equal(`MessageHeader/${b.messageHeaderId}`);
      if (i > 0) expect(current.entity).to.deep.equal([{ role: 'revision', what: { reference: `MessageHeader/${built[i - 1].messageHeaderId}` } }]);
      else expect(current.entity).to.equal(undefined);
      // Carried-forward entries keep their ids and their original targets.
      provenances.slice(0, i).forEach((p, j) => expect(p.id).to.equal(resources<Provenance>(built[j].bundle, 'Provenance')[j].id));
    });
    const episodes = built.map((b) => resources<Encounter>(b.bundle, 'Encounter')[0].episodeOfCare![0].identifier);
    for (const e of episodes) expect(e).to.deep.equal(episode);
  });

  it('STIN asks for a report of admission to the sending department; follow-ups carry no flag', () => {
    const [stin, stor] = flows['STIN → STOR → SLOR → SLHJ'];
    const header = resources<MessageHeader>(stin.bundle, 'MessageHeader')[0];
    const sender = resources<Organization>(stin.bundle, 'Organization').find((o) => `Organization/${o.id}` === header.sender!.reference)!;
    expect(sender.identifier).to.deep.equal([{ system: 'https://www.gs1.org/gln', value: heart.gln }, { system: 'urn:oid:1.2.208.176.1.1', value: heart.sor }]);
    expect(header.extension).to.deep.equal([
      { url: 'http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-messaging-reportOfAdmissionExtension', valueBoolean: true },
      { url: 'http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-messaging-reportOfAdmissionRecipientExtension', valueReference: { reference: header.sender!.reference } },
    ]);
    expect(header.destination![0].endpoint).to.equal(sorEndpoint(herlev.sor));
    expect(header.source.endpoint).to.equal(sorEndpoint(heart.sor));
    expect(resources<MessageHeader>(stor.bundle, 'MessageHeader')[0].extension).to.equal(undefined);
  });

  it('writes the leave period extension for STOR and SLOR', () => {
    const [, stor, slor] = flows['STIN → STOR → SLOR → SLHJ'];
    const leave = (b: BuiltNotification) => resources<Encounter>(b.bundle, 'Encounter')[0].extension;
    const url = 'http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-hospitalnotifiation-leave-period-extension';
    expect(leave(stor)).to.deep.equal([{ url, valuePeriod: { start: '2025-03-13T14:00:00+01:00' } }]);
    expect(leave(slor)).to.deep.equal([{ url, valuePeriod: { start: '2025-03-13T14:00:00+01:00', end: '2025-03-14T10:00:00+01:00' } }]);
  });

  it('marks the patient deceased for MORS and not deceased for AN_MORS, and says nothing otherwise', () => {
    const [stin, mors, anMors] = flows['STIN → MORS → AN_MORS'];
    const patient = (b: BuiltNotification) => resources<Patient>(b.bundle, 'Patient')[0];
    expect(patient(stin)).not.to.have.property('deceasedBoolean');
    expect(patient(mors).deceasedBoolean).to.equal(true);
    expect(patient(anMors).deceasedBoolean).to.equal(false);
    expect(patient(mors).identifier).to.deep.equal([{ system: 'urn:oid:1.2.208.176.1.2', value: '0101800005' }]);
    expect(resources<Provenance>(anMors.bundle, 'Provenance')[2].entity![0].role).to.equal('removal');
  });

  it('a correction of the department changes sender and serviceProvider, and keeps the earlier agent bundled', () => {
    const [, re] = flows['STIN → RE_STIN (department) → AN_STIN'];
    const header = resources<MessageHeader>(re.bundle, 'MessageHeader')[0];
    const orgs = resources<Organization>(re.bundle, 'Organization');
    const sor = (ref: string) => orgs.find((o) => `Organization/${o.id}` === ref)!.identifier!.find((i) => i.system === 'urn:oid:1.2.208.176.1.1')!.value;
    expect(sor(header.sender!.reference!)).to.equal(emergency.sor);
    expect(sor(resources<Encounter>(re.bundle, 'Encounter')[0].serviceProvider!.reference!)).to.equal(emergency.sor);
    const agents = resources<Provenance>(re.bundle, 'Provenance').map((p) => sor(p.agent[0].who!.reference!));
    expect(agents).to.deep.equal([heart.sor, emergency.sor]);
  });
});
