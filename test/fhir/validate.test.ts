import { expect } from 'chai';
import type { Bundle } from 'fhir/r4';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadProfilePackages } from '../../lib/fhir/profiles';
import { createValidator, type MedComValidator } from '../../lib/fhir/validate';
import { bundleToXml, xmlToBundle } from '../../lib/fhir/xml';
import { describeShared, medcomPackages, shared } from '../support/shared';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describeShared('MedCom validation', function () {
  let validator: MedComValidator;
  const exampleDir = () => shared('medcom', 'packages', 'hospitalnotification-3.0.2', 'example');
  const examples = (): [string, Bundle][] =>
    fs.readdirSync(exampleDir()).filter((f) => f.startsWith('Bundle-')).map((f) => [f, JSON.parse(fs.readFileSync(path.join(exampleDir(), f), 'utf8'))]);
  const errorsOf = (b: Bundle) => validator.validate(b).issues.filter((i) => i.severity === 'error').map((i) => `${i.path}: ${i.message}`);

  before(() => {
    validator = createValidator(loadProfilePackages(medcomPackages()));
  });

  it('passes all 12 IG example Bundles of HospitalNotification 3.0.2', () => {
    const all = examples();
    expect(all).to.have.length(12);
    for (const [file, bundle] of all) expect(errorsOf(bundle), file).to.deep.equal([]);
  });

  it('passes them in FHIR XML too, after a round trip through FHIR.js', () => {
    for (const [file, bundle] of examples()) {
      const xml = bundleToXml(bundle);
      expect(xml, file).to.match(/^<\?xml.*<Bundle xmlns="http:\/\/hl7.org\/fhir">/s);
      expect(errorsOf(xmlToBundle(xml)), file).to.deep.equal([]);
    }
  });

  const entry = (b: Json, type: string): Json => b.entry.find((e: Json) => e.resource.resourceType === type).resource;
  const mutations: [string, (b: Json) => void, RegExp][] = [
    ['missing CPR', (b) => delete entry(b, 'Patient').identifier, /Patient.*identifier|identifier.*Patient|medcom-hospitalNotification-4/],
    ['wrong class code', (b) => (entry(b, 'Encounter').class.code = 'FLD'), /Encounter\.class.*FLD|FLD.*encounterClass/],
    ['missing period.start', (b) => delete entry(b, 'Encounter').period.start, /period\.start|Encounter\.period/],
    ['a cc destination', (b) => entry(b, 'MessageHeader').destination.push({ ...entry(b, 'MessageHeader').destination[0], extension: [{ url: 'http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-destinationUseExtension', valueCoding: { system: 'http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-destinationUse', code: 'cc' } }] }), /destination.*cc|cc.*destination|medcom-hospitalNotification-5/],
    ['no Provenance', (b) => (b.entry = b.entry.filter((e: Json) => e.resource.resourceType !== 'Provenance')), /Provenance|medcom-messaging-2/],
    ['onleave without leave period', (b) => (entry(b, 'Encounter').status = 'onleave'), /medcom-hospitalNotification-6/],
    ['bad GLN check digit', (b) => (entry(b, 'Organization').identifier.find((i: Json) => i.system === 'https://www.gs1.org/gln').value = '5790000209355'), /identifier\[\d\]\.value: the GLN check digit/],
    ['SOR under 11 digits', (b) => (entry(b, 'Organization').identifier.find((i: Json) => i.system === 'urn:oid:1.2.208.176.1.1').value = '12345'), /identifier\[\d\]\.value: a SOR id must be at least 11 digits/],
    ['wrong eventCoding', (b) => (entry(b, 'MessageHeader').eventCoding.code = 'care-communication-message'), /MessageHeader\.event/],
    ['a forbidden Encounter element', (b) => (entry(b, 'Encounter').hospitalization = { admitSource: { text: 'ambulance' } }), /hospitalization/],
    ['a binding violation', (b) => (entry(b, 'Encounter').status = 'planned'), /Encounter\.status.*planned|planned.*encounterStatus/],
    ['a wrong activity code', (b) => (entry(b, 'Provenance').activity.coding[0].code = 'admit-outpatient'), /activity/],
    ['a broken Provenance reference', (b) => (entry(b, 'Provenance').target[0].reference = 'MessageHeader/11111111-2222-4333-8444-555555555555'), /no Provenance targets this message's MessageHeader/],
    ['an empty value', (b) => (entry(b, 'Patient').name[0].family = ''), /name\[0\]\.family: an empty string/],
  ];

  for (const [name, mutate, expected] of mutations) {
    it(`catches ${name}, naming the element`, () => {
      const [, original] = examples().find(([f]) => f.startsWith('Bundle-a5e5b880'))!;
      expect(errorsOf(original)).to.deep.equal([]);
      const broken = structuredClone(original) as Json;
      mutate(broken);
      const errors = errorsOf(broken as Bundle);
      expect(errors, name).to.not.deep.equal([]);
      expect(errors.some((e) => expected.test(e)), `${name}:\n${errors.join('\n')}`).to.equal(true);
    });
  }

  // The invariants of the data types the profiles use, which R4 snapshots do not copy onto the elements (lib/fhir/
  // profile-walk.ts, CompiledType.invariants): each seeded where a HospitalNotification can carry it.
  const leaveExample = () => structuredClone(examples().find(([f]) => f.startsWith('Bundle-e94de8ee'))![1]) as Json;
  const onPatient = (b: Json, extension: Json) => (entry(b, 'Patient').extension = [...(entry(b, 'Patient').extension ?? []), { url: 'http://example.org/fhir/StructureDefinition/seeded', ...extension }]);
  const typeInvariants: [string, string, (b: Json) => void][] = [
    ['per-1', 'Encounter.period ending before it starts', (b) => (entry(b, 'Encounter').period = { start: '2025-03-11T10:00:00+01:00', end: '2025-03-11T09:00:00+01:00' })],
    ['per-1', 'a leave period ending before it starts', (b) => (entry(b, 'Encounter').extension[0].valuePeriod = { start: '2025-03-12T10:00:00+01:00', end: '2025-03-12T09:59:59+01:00' })],
    ['per-1', 'an identifier period ending before it starts', (b) => (entry(b, 'Patient').identifier[0].period = { start: '2025-01-02', end: '2025-01-01' })],
    ['cpt-2', 'a telecom value without a system', (b) => (entry(b, 'Patient').telecom = [{ value: '12345678' }])],
    ['ref-1', 'a local reference without a contained resource', (b) => (entry(b, 'Patient').managingOrganization = { reference: '#nowhere' })],
    ['rng-2', 'a Range whose low is above its high', (b) => onPatient(b, { valueRange: { low: { value: 5 }, high: { value: 1 } } })],
    ['qty-3', 'a Quantity with a code and no system', (b) => onPatient(b, { valueQuantity: { value: 1, code: 'mg' } })],
    ['att-1', 'an Attachment with data and no content type', (b) => onPatient(b, { valueAttachment: { data: 'aGVq' } })],
    ['rat-1', 'a Ratio with a numerator and no denominator', (b) => onPatient(b, { valueRatio: { numerator: { value: 1 } } })],
    ['age-1', 'an Age that is not positive', (b) => onPatient(b, { valueAge: { value: -1, system: 'http://unitsofmeasure.org', code: 'a' } })],
    ['drt-1', 'a Duration with a code outside UCUM', (b) => onPatient(b, { valueDuration: { value: 1, system: 'http://example.org', code: 'x' } })],
    ['exp-1', 'an Expression with neither expression nor reference', (b) => onPatient(b, { valueExpression: { language: 'text/fhirpath' } })],
    ['tim-1', 'a Timing with a duration and no unit', (b) => onPatient(b, { valueTiming: { repeat: { duration: 2 } } })],
    ['pat-1', 'a patient contact with nothing in it', (b) => (entry(b, 'Patient').contact = [{ gender: 'male' }])],
  ];
  for (const [rule, name, mutate] of typeInvariants) {
    it(`enforces ${rule}, an invariant of a data type: catches ${name}`, () => {
      const original = leaveExample();
      expect(errorsOf(original as Bundle)).to.deep.equal([]);
      mutate(original);
      const issues = validator.validate(original as Bundle).issues.filter((i) => i.severity === 'error' && i.rule === rule);
      expect(issues.map((i) => i.message), name).to.have.length.greaterThan(0);
    });
  }
  it('lets a Period with only a start, only an end, start = end, or across the autumn change pass per-1, and a Reference with only an identifier pass ref-1', () => {
    const b = leaveExample();
    entry(b, 'Encounter').period = { start: '2025-03-11T10:00:00+01:00', end: '2025-03-11T10:00:00+01:00' };
    entry(b, 'Patient').identifier[0].period = { end: '2025-01-01' };
    // Across the autumn change: 02:30 summer time comes before 02:10 winter time (an instant, not text, order).
    entry(b, 'Encounter').extension[0].valuePeriod = { start: '2025-10-26T02:30:00+02:00', end: '2025-10-26T02:10:00+01:00' };
    entry(b, 'Patient').managingOrganization = { identifier: { system: 'urn:oid:1.2.208.176.1.1', value: '265161000016000' } };
    expect(errorsOf(b as Bundle)).to.deep.equal([]);
  });

  // MedCom's TouchStone test examples carry the chain of earlier messages without the organisations that sent them.
  for (const which of ['an earlier message', 'this message'] as const) {
    it(`accepts a Provenance of ${which} whose agent is not in the Bundle, with a warning (FHIR does not require it to resolve)`, () => {
      const [, original] = examples().find(([f]) => f.startsWith('Bundle-e94de8ee'))!;
      const b = structuredClone(original) as Json;
      const header = entry(b, 'MessageHeader');
      const provenances = b.entry.map((e: Json) => e.resource).filter((r: Json) => r.resourceType === 'Provenance' && (r.target[0].reference === `MessageHeader/${header.id}`) === (which === 'this message'));
      provenances[0].agent[0].who.reference = 'Organization/00000000-0000-4000-8000-000000000000';
      const result = validator.validate(b as Bundle);
      expect(result.issues.filter((i) => i.severity === 'error')).to.deep.equal([]);
      expect(result.issues.filter((i) => i.rule === 'bundled-reference').map((i) => `${i.severity} ${i.path}`)).to.deep.equal([`warning ${entryPath(b, provenances[0])}.agent[0].who`]);
      expect(result.valid).to.equal(true);
    });
  }
  const entryPath = (b: Json, resource: Json) => `Bundle.entry[${b.entry.findIndex((e: Json) => e.resource === resource)}].resource`;

  it('refuses XML with a DOCTYPE and expands no entities', () => {
    const [, bundle] = examples()[0];
    const xml = bundleToXml(bundle).replace('<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0"?><!DOCTYPE b [<!ENTITY x SYSTEM "file:///etc/passwd">]>');
    expect(() => xmlToBundle(xml)).to.throw(/DOCTYPE/);
  });
});
