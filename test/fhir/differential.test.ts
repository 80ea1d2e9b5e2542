// The compiled profile walk (the validator the engine uses) against Medplum's own validator (the oracle, as the
// engine used it before): the same errors, at the same places, on every MedCom example, on seeded errors, and on the
// Bundles the engine builds. Also: each invariant compiled into JS gives what FHIRPath gives.
import { expect } from 'chai';
import { evalFhirPath, getDataType, getNestedProperty } from '@medplum/core';
import type { Bundle } from 'fhir/r4';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openAdvisRuntime, readSiteSource } from '../../lib/engine/runtime';
import { COMPILED_INVARIANTS } from '../../lib/fhir/invariants';
import { readPath } from '../../lib/fhir/profile-walk';
import { MESSAGE_KINDS, forBundlePass } from '../../lib/fhir/medcom-layer';
import { loadProfilePackages } from '../../lib/fhir/profiles';
import { createValidator, type MedComValidator } from '../../lib/fhir/validate';
import { xmlToBundle } from '../../lib/fhir/xml';
import { parseAdt } from '../../lib/hl7';
import { createMedplumValidator } from '../support/medplum-oracle';
import { describeShared, medcomPackages, shared } from '../support/shared';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describeShared('profile walk against the Medplum oracle', function () {
  let walk: MedComValidator;
  let oracle: MedComValidator;
  const errors = (v: MedComValidator, b: Bundle) => v.validate(b).issues.filter((i) => i.severity === 'error').map((i) => `${i.path}: ${i.message}`).sort();

  /** Every MedCom example message: HospitalNotification, Acknowledgement (JSON and XML), messaging. */
  const examples = (): [string, Bundle][] => {
    const out: [string, Bundle][] = [];
    for (const pkg of ['hospitalnotification-3.0.2', 'acknowledgement-2.0.3', 'messaging-2.1.0']) {
      const dir = path.join(medcomPackages(), pkg, 'example');
      for (const f of fs.readdirSync(dir).filter((f) => f.startsWith('Bundle-'))) out.push([`${pkg}/${f}`, JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))]);
    }
    const acks = shared('medcom', 'acknowledgement-docs', 'test-examples-receive');
    for (const f of fs.readdirSync(acks)) {
      const text = fs.readFileSync(path.join(acks, f), 'utf8');
      out.push([`acknowledgement-docs/${f}`, f.endsWith('.xml') ? xmlToBundle(text) : JSON.parse(text)]);
    }
    return out;
  };

  before(() => {
    const packages = loadProfilePackages(medcomPackages());
    walk = createValidator(packages);
    oracle = createMedplumValidator(packages);
  });

  it('agrees on every MedCom example; all valid but the acknowledgement package\'s copy of the messaging example', () => {
    const all = examples();
    expect(all.length).to.be.greaterThan(25);
    const invalid: string[] = [];
    for (const [name, bundle] of all) {
      const found = errors(walk, bundle);
      expect(found, name).to.deep.equal(errors(oracle, bundle));
      if (found.length) invalid.push(name);
    }
    // Its Provenance targets a MessageHeader that is not the message's own: an error in MedCom's example.
    expect(invalid).to.deep.equal(['acknowledgement-2.0.3/Bundle-eb26be85-fdb7-454d-a980-95cba6d1745b.json']);
  });

  it('validates Acknowledgements by their own profiles, and not by HospitalNotification rules', () => {
    const [, ack] = examples().find(([n]) => n.endsWith('Bundle-bc9535ef-ed94-4060-a928-7baddec7ee71.json'))!;
    expect(walk.validate(ack).valid).to.equal(true);
    const entry = (b: Json, type: string): Json => b.entry.find((e: Json) => e.resource.resourceType === type).resource;
    const seeded: [string, (b: Json) => void, RegExp][] = [
      ['an error response without its OperationOutcome', (b) => (b.entry = b.entry.filter((e: Json) => e.resource.resourceType !== 'OperationOutcome')), /medcom-acknowledgement-1/],
      ['a MessageHeader without response', (b) => delete entry(b, 'MessageHeader').response, /response/],
      ['a response identifier that is no id', (b) => (entry(b, 'MessageHeader').response.identifier = 'not an id'), /response\.identifier.*Invalid id format/],
      ['an OperationOutcome without issue', (b) => delete entry(b, 'OperationOutcome').issue, /issue/],
    ];
    for (const [name, mutate, expected] of seeded) {
      const broken = structuredClone(ack) as Json;
      mutate(broken);
      const found = errors(walk, broken as Bundle);
      expect(found, name).to.deep.equal(errors(oracle, broken as Bundle));
      expect(found.some((e) => expected.test(e)), `${name}:\n${found.join('\n')}`).to.equal(true);
    }
  });

  it('agrees on seeded errors in a HospitalNotification, each caught by both', () => {
    const [, original] = examples().find(([n]) => n.endsWith('Bundle-a5e5b880-c087-4055-b9ec-99108695f81d.json'))!;
    const entry = (b: Json, type: string): Json => b.entry.find((e: Json) => e.resource.resourceType === type).resource;
    const seeded: [string, (b: Json) => void][] = [
      ['missing CPR', (b) => delete entry(b, 'Patient').identifier],
      ['wrong class code', (b) => (entry(b, 'Encounter').class.code = 'FLD')],
      ['missing period.start', (b) => delete entry(b, 'Encounter').period.start],
      ['no Provenance', (b) => (b.entry = b.entry.filter((e: Json) => e.resource.resourceType !== 'Provenance'))],
      ['onleave without leave period', (b) => (entry(b, 'Encounter').status = 'onleave')],
      ['wrong eventCoding', (b) => (entry(b, 'MessageHeader').eventCoding.code = 'care-communication-message')],
      ['a forbidden Encounter element', (b) => (entry(b, 'Encounter').hospitalization = { admitSource: { text: 'ambulance' } })],
      ['an unknown element', (b) => (entry(b, 'Patient').nickname = 'Jens')],
      ['a choice of a type the element does not allow', (b) => {
        const header = entry(b, 'MessageHeader');
        header.eventUri = 'urn:x';
        delete header.eventCoding;
      }],
      ['an extension with both value and extensions', (b) => (entry(b, 'MessageHeader').destination[0].extension[0].extension = [{ url: 'x', valueString: 'y' }])],
      ['a malformed date', (b) => (entry(b, 'Encounter').period.start = '2025-02-30T10:00:00+01:00')],
      ['a number where a string belongs', (b) => (entry(b, 'Patient').name[0].family = 42)],
      ['a null', (b) => (entry(b, 'Patient').gender = null)],
      ['an id that is too long', (b) => (entry(b, 'Encounter').id = 'x'.repeat(65))],
      // The invariants written as JS (lib/fhir/invariants.ts), each broken.
      ['a second Patient', (b) => b.entry.push({ fullUrl: 'https://x/Patient/2', resource: { ...entry(b, 'Patient'), id: '2' } })],
      ['a Patient identified by another system', (b) => (entry(b, 'Patient').identifier[0].system = 'urn:oid:1.2.208.176.1.1')],
      ['a destination that is not primary', (b) => (entry(b, 'MessageHeader').destination[0].extension[0].valueCoding.code = 'cc')],
      ['an Organization without a SOR identifier', (b) => (entry(b, 'Organization').identifier = entry(b, 'Organization').identifier.filter((i: Json) => i.system !== 'urn:oid:1.2.208.176.1.1'))],
      ['two entries with one fullUrl', (b) => (b.entry[2].fullUrl = b.entry[1].fullUrl)],
      ['an entry without fullUrl', (b) => delete b.entry[1].fullUrl],
      ['the MessageHeader not first', (b) => b.entry.push(b.entry.shift())],
      ['a request in a message', (b) => (b.entry[1].request = { method: 'POST', url: 'Patient' })],
      ['a total in a message', (b) => (b.total = 7)],
      ['a search result in a message', (b) => (b.entry[1].search = { mode: 'match' })],
    ];
    for (const [name, mutate] of seeded) {
      const broken = structuredClone(original) as Json;
      mutate(broken);
      const found = errors(walk, broken as Bundle);
      expect(found, name).to.not.deep.equal([]);
      expect(found, name).to.deep.equal(errors(oracle, broken as Bundle));
    }
  });

  it('agrees on the Bundles the engine builds', async () => {
    const runtime = await openAdvisRuntime({ site: readSiteSource({ file: path.join(process.cwd(), 'flows', 'region.site.json') }), store: ':memory:', profiles: medcomPackages(), now: () => new Date('2025-03-18T13:00:05Z') });
    try {
      const fixture = (name: string) => fs.readFileSync(path.join(process.cwd(), 'test', 'fixtures', 'adt', name), 'utf8');
      const bundles: Bundle[] = [];
      for (const text of [fixture('A01_admitted.hl7'), fixture('A03_home.hl7')]) {
        const parsed = parseAdt(text);
        if (!parsed.ok) throw parsed.error;
        bundles.push(...(await runtime.engine.process(parsed.adt)).notifications.map((n) => n.bundle));
      }
      expect(bundles).to.have.length(2);
      for (const bundle of bundles) {
        expect(errors(walk, bundle)).to.deep.equal([]);
        expect(errors(oracle, bundle)).to.deep.equal([]);
      }
    } finally {
      await runtime.close();
    }
  });

  it('gives for each invariant compiled into JS what its FHIRPath gives, on every value of its type in the examples and on edge cases', () => {
    const messageHeader = (codes: Json[]): Json => ({ resourceType: 'MessageHeader', destination: [{ extension: codes.map((value) => ({ url: 'u', ...value })) }] });
    const values: Record<string, unknown[]> = {
      Extension: [{ url: 'a' }, { url: 'a', valueString: 'x', extension: [{ url: 'b', valueString: 'y' }] }, { url: 'a', extension: [] }],
      BundleEntry: [{}, { request: { method: 'GET', url: 'x' } }, { fullUrl: 'http://x/Patient/1/_history/2', resource: { resourceType: 'Basic' } }, { resource: {} }, { fullUrl: '' }, { _fullUrl: { id: 'x' } }],
      Resource: [{ resourceType: 'Patient', contained: [{ resourceType: 'Patient', meta: { versionId: '1' } }] }, { resourceType: 'Patient', contained: [] }],
      Narrative: [{ status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><script/></div>' }],
      Bundle: [
        { resourceType: 'Bundle', type: 'message' },
        { resourceType: 'Bundle', type: 'message', entry: [] },
        { resourceType: 'Bundle', type: 'collection', total: 3 },
        { resourceType: 'Bundle', type: 'collection', total: 3, _total: { id: 't' } },
        { resourceType: 'Bundle', total: 3 },
        { resourceType: 'Bundle', _type: { id: 't' }, type: 'message', entry: [{ resource: { resourceType: 'MessageHeader' } }] },
        { resourceType: 'Bundle', type: 'searchset', total: 1, entry: [{ search: { mode: 'match' }, fullUrl: 'urn:uuid:1', resource: { resourceType: 'Patient' } }] },
        { resourceType: 'Bundle', type: 'message', entry: [{ search: { mode: 'match' }, resource: { resourceType: 'MessageHeader' } }] },
        { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'Patient' } }, {}] },
        { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'Patient' } }, { request: {} }] },
        { resourceType: 'Bundle', type: 'transaction-response', entry: [{ response: { status: '200' } }] },
        { resourceType: 'Bundle', type: 'message', entry: [{ resource: { resourceType: 'MessageHeader' }, response: { status: '200' } }] },
        { resourceType: 'Bundle', type: 'history', entry: [{ fullUrl: 'a', resource: { resourceType: 'Patient' } }, { fullUrl: 'a', resource: { resourceType: 'Patient' } }] },
        { resourceType: 'Bundle', type: 'message', entry: [{ fullUrl: 'a', resource: { resourceType: 'Patient', meta: { versionId: '1' } } }, { fullUrl: 'a', resource: { resourceType: 'Patient', meta: { versionId: '2' } } }] },
        { resourceType: 'Bundle', type: 'message', entry: [{ fullUrl: 'a1', resource: { resourceType: 'Patient' } }, { fullUrl: 'a', resource: { resourceType: 'Patient', meta: { versionId: '1' } } }] },
        { resourceType: 'Bundle', type: 'message', entry: [{ fullUrl: 'a', resource: { resourceType: 'Patient', meta: { versionId: ['1'] } } }] },
        { resourceType: 'Bundle', type: 'document', entry: [{ resource: { resourceType: 'Composition' } }] },
        { resourceType: 'Bundle', type: 'message', entry: [{ resource: { resourceType: 'Patient', identifier: [{ system: 'urn:oid:1.2.208.176.1.2', value: '0101801234' }] } }, { resource: { resourceType: 'MessageHeader' } }] },
        { resourceType: 'Bundle', type: 'message', entry: [{ fullUrl: 'x' }, { resource: { resourceType: 'Provenance' } }] },
        { resourceType: 'Bundle', type: 'message', entry: [{ resourceType: 'Provenance' }] },
        { resourceType: 'Bundle', type: 'message', entry: [{ resource: messageHeader([{ valueCoding: { code: 'primary' } }, { valueCoding: { code: 'cc' } }]) }] },
        { resourceType: 'Bundle', type: 'message', entry: [{ resource: messageHeader([{ valueCoding: { code: 'cc' } }]) }] },
        { resourceType: 'Bundle', type: 'message', entry: [{ resource: messageHeader([{ valueCoding: { system: 'x' } }, { extension: [{ url: 'v', valueString: 'w' }] }, { valueCoding: { code: 'primary' } }]) }] },
        { resourceType: 'Bundle', type: 'message', entry: [{ resource: messageHeader([{ valueString: 'primary' }]) }] },
        { resourceType: 'Bundle', type: 'message', entry: [{ resource: messageHeader([]) }, { resource: messageHeader([{ valueCoding: { code: 'primary' } }]) }] },
        { resourceType: 'Bundle', type: 'message', entry: [{ resource: { resourceType: 'MessageHeader', destination: [{ endpoint: 'x' }] } }] },
        ...[[{ system: 'urn:oid:1.2.208.176.1.2' }, { system: 'urn:oid:1.2.208.176.1.2' }], [{ system: 'urn:oid:1.2.208.176.1.1' }], [{ value: '1' }], [], [{ system: 'urn:oid:1.2.208.176.1.2' }, { value: '2' }]].map((identifier) => ({
          resourceType: 'Bundle',
          type: 'message',
          entry: [{ resource: { resourceType: 'Patient', identifier } }],
        })),
        { resourceType: 'Bundle', type: 'message', entry: [{ resource: { resourceType: 'Patient' } }, { resource: { resourceType: 'Patient', identifier: [{ system: 'urn:oid:1.2.208.176.1.2' }] } }] },
      ],
      Encounter: [
        { resourceType: 'Encounter', status: 'onleave' },
        { resourceType: 'Encounter', status: 'onleave', extension: [{ url: 'x', valuePeriod: { start: '2025-01-01' } }] },
        { resourceType: 'Encounter', status: 'onleave', extension: [{ url: 'x', valuePeriod: { end: '2025-01-01' } }, { url: 'y' }] },
        { resourceType: 'Encounter', status: 'onleave', extension: [{ url: 'x', valueString: 'z' }] },
        { resourceType: 'Encounter', status: 'finished', extension: [{ url: 'x', valueString: 'z' }] },
        { resourceType: 'Encounter' },
      ],
      Period: [
        { start: '2025-03-11T10:00:00+01:00', end: '2025-03-11T09:00:00+01:00' },
        { start: '2025-03-11T10:00:00+01:00', end: '2025-03-11T10:00:00+01:00' },
        { start: '2025-03-11T10:00:00+01:00', end: '2025-03-11T09:30:00+00:00' },
        { start: '2025-03-11T10:00:00Z', end: '2025-03-11T11:00:00+01:00' },
        { start: '2025-10-26T02:30:00+02:00', end: '2025-10-26T02:10:00+01:00' },
        { start: '2025-03-11T10:00:00.500+01:00', end: '2025-03-11T10:00:00+01:00' },
        { start: '2025-03-11', end: '2025-03-10' },
        { start: '2025-03-11T10:00:00+01:00' },
        { end: '2025-03-11T10:00:00+01:00' },
        {},
        { start: '2025-03-11T10:00:00+01:00', _end: { id: 'e' } },
      ],
      Reference: [{ reference: '#p' }, { reference: 'Patient/1' }, { identifier: { value: '1' } }, { display: 'x' }, { _reference: { id: 'r' } }, { reference: 'urn:uuid:1' }],
      Organization: [
        { resourceType: 'Organization' },
        { resourceType: 'Organization', identifier: [{ system: 'https://www.gs1.org/gln', value: '5790000000000' }] },
        { resourceType: 'Organization', identifier: [{ value: '1' }, { system: 'https://kombit.dk/sts/organisation', value: '2' }] },
        { resourceType: 'Organization', identifier: [{ system: 'urn:oid:2.16.840.1.113883.2.24.1.1', value: '3' }] },
        { resourceType: 'Organization', identifier: [{ _system: { id: 's' } }] },
      ],
    };
    const collect = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(collect);
      else if (v && typeof v === 'object') {
        const resourceType = (v as Json).resourceType;
        if (resourceType === 'Encounter' || resourceType === 'Organization') values[resourceType].push(v);
        if (typeof (v as Json).reference === 'string') values.Reference.push(v);
        for (const [k, x] of Object.entries(v)) {
          if (k === 'extension' || k === 'modifierExtension') values.Extension.push(...(x as unknown[]));
          if (k === 'entry') values.BundleEntry.push(...(x as Json[]));
          if (k === 'entry') values.Resource.push(...(x as Json[]).map((e) => e.resource));
          if (k === 'text') values.Narrative.push(x);
          if (k === 'period' || k === 'valuePeriod') values.Period.push(x);
          collect(x);
        }
      }
    };
    // The whole Bundle and the reduced one the Bundle-level pass walks (validate.ts).
    for (const [, bundle] of examples()) {
      collect(bundle);
      values.Bundle.push(bundle, forBundlePass(bundle));
    }
    expect(values.Extension.length).to.be.greaterThan(30);
    expect(values.BundleEntry.length).to.be.greaterThan(100);
    expect(values.Bundle.length).to.be.greaterThan(60);
    for (const [key, { type, test, emptyPasses }] of Object.entries(COMPILED_INVARIANTS)) {
      const expression = key.slice(key.indexOf('|') + 1);
      let decided = 0;
      for (const value of values[type]) {
        const answer = test(value);
        if (answer === undefined) continue;
        decided++;
        const typed = { type: ['Resource', 'Bundle', 'Encounter', 'Organization'].includes(type) ? (value as Json).resourceType : type, value } as never;
        let fhirpath: unknown[];
        try {
          // As the walk evaluates it (profile-walk.ts): on a resource, %resource is that resource.
          fhirpath = evalFhirPath(expression, typed, { '%resource': typed, '%rootResource': typed });
        } catch {
          fhirpath = []; // the walk counts an evaluation error as not met
        }
        const expected = key.startsWith('per-1|') && offsetsDiffer(value) ? instantOrder(value) : (fhirpath.length === 1 && fhirpath[0] === true) || (emptyPasses === true && fhirpath.length === 0);
        expect(answer, `${key} on ${JSON.stringify(value)}`).to.equal(expected);
      }
      expect(decided, key).to.be.greaterThan(2);
    }
  });

  // The one known divergence: Medplum's FHIRPath compares dateTimes as text, FHIRPath compares the instants when both
  // carry an offset, so where the offsets differ per-1 is judged by the instants.
  const offsetsDiffer = (v: unknown): boolean => {
    const { start, end } = v as { start?: unknown; end?: unknown };
    return typeof start === 'string' && typeof end === 'string' && /T.*(Z|[+-]\d\d:\d\d)$/.test(start) && /T.*(Z|[+-]\d\d:\d\d)$/.test(end) && start.slice(-6) !== end.slice(-6);
  };
  const instantOrder = (v: unknown): boolean => Date.parse((v as { start: string }).start) <= Date.parse((v as { end: string }).end);

  it('has every invariant of a HospitalNotification Bundle and of its entries\' profiles written as JS', () => {
    const [hospitalNotification] = MESSAGE_KINDS;
    const skipped = new Set(['ele-1', 'dom-3', 'org-1', 'sdf-19']); // never evaluated (profile-walk.ts)
    for (const profile of [hospitalNotification.profile, ...Object.values(hospitalNotification.entries)]) {
      const missing = (getDataType(profile).constraints ?? [])
        .filter((c) => c.severity === 'error' && !skipped.has(c.key))
        .map((c) => `${c.key}|${c.expression}`)
        .filter((key) => !(key in COMPILED_INVARIANTS));
      expect(missing, profile).to.deep.equal([]);
    }
  });

  it('reads nested profile paths and slice discriminators as Medplum\'s getNestedProperty does, on every entry of the examples', () => {
    const strip = (found: unknown, withPath: boolean): unknown =>
      JSON.parse(JSON.stringify(found ?? null, (k, v: unknown) => (k === 'path' && !withPath ? undefined : v === undefined ? '<undefined>' : v)));
    let compared = 0;
    for (const [, bundle] of examples()) {
      const kind = MESSAGE_KINDS.find((k) => (bundle.meta?.profile ?? []).includes(k.profile)) ?? MESSAGE_KINDS[0];
      for (const entry of bundle.entry ?? []) {
        const resource = entry.resource;
        const profile = resource && kind.entries[resource.resourceType];
        if (!profile) continue;
        const elements = getDataType(profile).elements;
        const paths = new Set(Object.keys(elements).filter((key) => key.includes('.')));
        for (const element of Object.values(elements)) for (const d of element.slicing?.discriminator ?? []) paths.add(d.path);
        for (const key of paths) {
          for (const withPath of [true, false]) {
            const start = { type: profile, value: resource, path: resource.resourceType };
            const ours = readPath(start, key.split('.'), withPath);
            if (ours === null) continue;
            compared++;
            expect(strip(ours, withPath), `${profile} ${key}`).to.deep.equal(strip(withPath ? getNestedProperty(start, key, { withPath }) : getNestedProperty(start, key), withPath));
          }
        }
      }
    }
    expect(compared).to.be.greaterThan(500);
  });
});
