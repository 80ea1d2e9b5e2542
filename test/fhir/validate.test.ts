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
    ['a Provenance agent outside the Bundle', (b) => (entry(b, 'Provenance').agent[0].who.reference = 'Organization/00000000-0000-4000-8000-000000000000'), /agent\[0\]\.who: the reference Organization\/0+.* does not resolve/],
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

  it('refuses XML with a DOCTYPE and expands no entities', () => {
    const [, bundle] = examples()[0];
    const xml = bundleToXml(bundle).replace('<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0"?><!DOCTYPE b [<!ENTITY x SYSTEM "file:///etc/passwd">]>');
    expect(() => xmlToBundle(xml)).to.throw(/DOCTYPE/);
  });
});
