// FHIRPath invariants written as JS, for the profile walk (profile-walk.ts). Medplum's FHIRPath evaluator builds a
// typed value for every node it visits and resolves every name through the type schema, so an invariant that reads
// every entry of a Bundle costs more than checking the entries' structure. These are the invariants of every
// HospitalNotification (base R4 ones on every entry, resource, narrative and extension; the Bundle-level bdl-*; MedCom's
// own on the Bundle, the Encounter and the Organizations): evaluated by FHIRPath they were a quarter of a validation.
//
// Each test gives what Medplum's FHIRPath gives (true, or not true: false, empty or an evaluation error), or undefined
// to leave the case to FHIRPath. The JS decides only the shapes whose FHIRPath result is plain (strings where codes
// are, objects where elements are, no `_name` primitive extensions); anything else goes to FHIRPath, so a malformed
// Bundle is judged exactly as before. test/fhir/differential.test.ts evaluates both on every value of the MedCom
// examples and on edge cases, and compares the whole validation with Medplum's validator on seeded errors.
//
// Keyed by key and expression, so a profile whose expression differs (or a new package version that changes one)
// falls back to FHIRPath.

type Json = Record<string, unknown>;

/** The kind of value an invariant sits on, which the differential test collects from the examples. */
export type InvariantContext = 'Extension' | 'BundleEntry' | 'Resource' | 'Narrative' | 'Bundle' | 'Encounter' | 'Organization' | 'Period' | 'Reference';

/** A full dateTime to the second (or finer) with an offset, the form every time of a HospitalNotification has. */
const SECOND_WITH_OFFSET = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/**
 * `emptyPasses`: an invariant of a data type, which the walk lets pass when FHIRPath gives empty (profile-walk.ts,
 * CompiledInvariant.emptyPasses); its test answers true there too.
 */
export const COMPILED_INVARIANTS: Record<string, { type: InvariantContext; test: (value: unknown) => boolean | undefined; emptyPasses?: true }> = {
  'ext-1|extension.exists() != value.exists()': { type: 'Extension', test: (v) => hasItems((v as { extension?: unknown }).extension) !== hasChoice(v, 'value') },
  'bdl-5|resource.exists() or request.exists() or response.exists()': {
    type: 'BundleEntry',
    test: (v) => !isEmptyValue((v as Json).resource) || !isEmptyValue((v as Json).request) || !isEmptyValue((v as Json).response),
  },
  "bdl-8|fullUrl.exists() implies fullUrl.contains('/_history/').not()": {
    type: 'BundleEntry',
    test: (v) => {
      const url = plainString(v, 'fullUrl');
      return url === undefined ? undefined : url === null || !url.includes('/_history/');
    },
  },
  // The R4 4.0.1 wording MedCom's snapshots carry: without a fullUrl it is empty, so not true.
  "bdl-8|fullUrl.contains('/_history/').not()": {
    type: 'BundleEntry',
    test: (v) => {
      const url = plainString(v, 'fullUrl');
      return url === undefined ? undefined : url !== null && !url.includes('/_history/');
    },
  },
  // Without contained resources these hold; with them, FHIRPath decides.
  'dom-2|contained.contained.empty()': { type: 'Resource', test: (v) => (isEmptyValue((v as Json).contained) ? true : undefined) },
  'dom-4|contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()': { type: 'Resource', test: (v) => (isEmptyValue((v as Json).contained) ? true : undefined) },
  'dom-5|contained.meta.security.empty()': { type: 'Resource', test: (v) => (isEmptyValue((v as Json).contained) ? true : undefined) },
  // The data types' own (on every Period and Reference): decided here for plain values, the rest by FHIRPath.
  // per-1 compares instants, as FHIRPath does for dateTimes with offsets; Medplum's evaluator compares their text, which
  // gets a stay across the autumn change wrong (02:30+02:00 is before 02:10+01:00), so this is not left to it.
  'per-1|start.hasValue().not() or end.hasValue().not() or (start <= end)': {
    type: 'Period',
    emptyPasses: true,
    test: (v) => {
      const start = plainString(v, 'start');
      const end = plainString(v, 'end');
      if (start === undefined || end === undefined) return undefined;
      if (start === null || end === null) return true;
      return SECOND_WITH_OFFSET.test(start) && SECOND_WITH_OFFSET.test(end) ? Date.parse(start) <= Date.parse(end) : undefined;
    },
  },
  "ref-1|reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))": {
    type: 'Reference',
    emptyPasses: true,
    test: (v) => {
      const reference = plainString(v, 'reference');
      if (reference === undefined) return undefined;
      return reference === null || !reference.startsWith('#') ? true : undefined;
    },
  },
  // Medplum's htmlChecks() is true for any narrative (it does not parse the XHTML), so these always hold.
  'txt-1|htmlChecks()': { type: 'Narrative', test: () => true },
  'txt-2|htmlChecks()': { type: 'Narrative', test: () => true },

  // Bundle-level, on the Bundle itself (where %resource is the Bundle).
  "bdl-1|total.empty() or (type = 'searchset') or (type = 'history')": {
    type: 'Bundle',
    test: (v) => {
      const b = v as Json;
      if (b.total === undefined && b._total === undefined) return true;
      const type = plainCode(b, 'type');
      if (type === undefined) return undefined;
      if (type === 'searchset' || type === 'history') return true;
      return typeof b.total === 'number' && b._total === undefined ? false : undefined;
    },
  },
  "bdl-2|entry.search.empty() or (type = 'searchset')": {
    type: 'Bundle',
    test: (v) => {
      const entries = plainEntries(v);
      if (!entries) return undefined;
      if (entries.every((e) => e.search === undefined && e._search === undefined)) return true;
      return plainCode(v, 'type') === 'searchset' ? true : undefined;
    },
  },
  "bdl-3|entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' or %resource.type = 'history'))": {
    type: 'Bundle',
    test: (v) => entriesHaveIf(v, 'request', ['batch', 'transaction', 'history']),
  },
  "bdl-4|entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = 'transaction-response' or %resource.type = 'history'))": {
    type: 'Bundle',
    test: (v) => entriesHaveIf(v, 'response', ['batch-response', 'transaction-response', 'history']),
  },
  "bdl-7|(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId).isDistinct()": {
    type: 'Bundle',
    test: (v) => {
      const type = plainCode(v, 'type');
      const entries = plainEntries(v);
      if (type === undefined || !entries) return undefined;
      // The right side is evaluated whatever the type, and `&` fails on anything but single strings: read it all first.
      const seen = new Set<string>();
      let distinct = true;
      for (const e of entries) {
        const url = plainString(e, 'fullUrl');
        if (url === undefined) return undefined;
        if (url === null) continue;
        const resource = e.resource;
        let version: string | null | undefined = null;
        if (resource !== undefined) {
          if (!isPlainObject(resource) || resource._meta !== undefined) return undefined;
          const meta = resource.meta;
          if (meta !== undefined) version = isPlainObject(meta) ? plainString(meta, 'versionId') : undefined;
        }
        if (version === undefined) return undefined;
        const key = url + (version ?? '');
        if (seen.has(key)) distinct = false;
        seen.add(key);
      }
      return type === 'history' || distinct;
    },
  },
  "bdl-9|type = 'document' implies (identifier.system.exists() and identifier.value.exists())": { type: 'Bundle', test: (v) => unlessDocument(v) },
  "bdl-10|type = 'document' implies (timestamp.hasValue())": { type: 'Bundle', test: (v) => unlessDocument(v) },
  "bdl-11|type = 'document' implies entry.first().resource.is(Composition)": { type: 'Bundle', test: (v) => unlessDocument(v) },
  "bdl-12|type = 'message' implies entry.first().resource.is(MessageHeader)": {
    type: 'Bundle',
    test: (v) => {
      const type = plainCode(v, 'type');
      if (type === undefined) return undefined;
      if (type !== 'message') return true;
      const entries = plainEntries(v);
      if (!entries) return undefined;
      if (!entries.length) return false; // entry.first() is empty, and so is what `implies` gives
      const type0 = resourceTypeOf(entries[0]);
      return type0 === undefined ? undefined : type0 === 'MessageHeader';
    },
  },
  'medcom-messaging-2|entry.resource.ofType(Provenance).exists()': { type: 'Bundle', test: (v) => countResources(v, 'Provenance', (n) => n > 0) },
  'medcom-hospitalNotification-2|entry.where(resource.is(Patient)).count() = 1': { type: 'Bundle', test: (v) => countResources(v, 'Patient', (n) => n === 1) },
  // ofType(Provenance) on the entries themselves (not their resources) keeps none, so `all` holds: the activities are
  // checked by checkActivities in medcom-layer.ts instead.
  "medcom-hospitalNotification-3|entry.ofType(Provenance).all(resource.activity.memberOf('http://medcomfhir.dk/fhir/dk-medcom-terminology/ValueSet/medcom-hospitalNotification-messageActivities'))": {
    type: 'Bundle',
    test: (v) => {
      const entries = plainEntries(v);
      return entries && entries.every((e) => !('resourceType' in e)) ? true : undefined;
    },
  },
  "medcom-hospitalNotification-4|entry.resource.ofType(Patient).identifier.system = 'urn:oid:1.2.208.176.1.2'": {
    type: 'Bundle',
    test: (v) => {
      const resources = resourcesOf(v);
      if (!resources) return undefined;
      const systems: string[] = [];
      for (const r of resources) {
        if (r.resourceType !== 'Patient') continue;
        if (r._identifier !== undefined) return undefined;
        const identifiers = plainObjects(r.identifier);
        if (!identifiers) return undefined;
        for (const identifier of identifiers) {
          const system = plainString(identifier, 'system');
          if (system === undefined) return undefined;
          if (system !== null) systems.push(system);
        }
      }
      // `=` of collections: equal only item for item (and empty when either is empty).
      return systems.length === 1 && systems[0] === 'urn:oid:1.2.208.176.1.2';
    },
  },
  "medcom-hospitalNotification-5|Bundle.entry.resource.ofType(MessageHeader).destination.extension.value.code = 'primary'": {
    type: 'Bundle',
    test: (v) => {
      if ((v as Json).resourceType !== 'Bundle') return undefined;
      const resources = resourcesOf(v);
      if (!resources) return undefined;
      const codes: string[] = [];
      for (const r of resources) {
        if (r.resourceType !== 'MessageHeader') continue;
        if (r._destination !== undefined) return undefined;
        const destinations = plainObjects(r.destination);
        if (!destinations) return undefined;
        for (const destination of destinations) {
          const values = extensionValues(destination, 'valueCoding');
          if (!values) return undefined;
          for (const coding of values) {
            const code = plainString(coding, 'code');
            if (code === undefined) return undefined;
            if (code !== null) codes.push(code);
          }
        }
      }
      return codes.length === 1 && codes[0] === 'primary';
    },
  },
  "medcom-hospitalNotification-6|where(status = 'onleave').extension.value.start.exists() or status != 'onleave'": {
    type: 'Encounter',
    test: (v) => {
      const status = plainCode(v, 'status');
      if (status === undefined) return undefined;
      if (status !== 'onleave') return true;
      const periods = extensionValues(v as Json, 'valuePeriod');
      if (!periods) return undefined;
      let started = false;
      for (const period of periods) {
        const start = plainString(period, 'start');
        if (start === undefined) return undefined;
        if (start !== null) started = true;
      }
      return started;
    },
  },
  "dk-core-organization-mandatory-identifier|identifier.where(system='urn:oid:1.2.208.176.1.1' or system='https://kombit.dk/sts/organisation' or system='urn:oid:2.16.840.1.113883.2.24.1.1').exists()": {
    type: 'Organization',
    test: (v) => {
      if ((v as Json)._identifier !== undefined) return undefined;
      const identifiers = plainObjects((v as Json).identifier);
      if (!identifiers) return undefined;
      let found = false;
      for (const identifier of identifiers) {
        const system = plainString(identifier, 'system');
        if (system === undefined) return undefined;
        if (system !== null && ORGANIZATION_SYSTEMS.has(system)) found = true;
      }
      return found;
    },
  },
};

/** SOR, KOMBIT organisation and CVR: dk-core's identifiers an Organization must have one of. */
const ORGANIZATION_SYSTEMS = new Set(['urn:oid:1.2.208.176.1.1', 'https://kombit.dk/sts/organisation', 'urn:oid:2.16.840.1.113883.2.24.1.1']);

export function isEmptyValue(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === 'string') return v === '';
  if (typeof v === 'object') {
    if (Array.isArray(v)) return v.length === 0;
    for (const _ in v) return false;
    return true;
  }
  return false;
}

function hasItems(v: unknown): boolean {
  return Array.isArray(v) ? v.length > 0 : v !== undefined && v !== null;
}

/** Whether the object has a populated `<prefix><Type>` choice element, as FHIRPath's `value.exists()` sees it. */
function hasChoice(v: unknown, prefix: string): boolean {
  if (!v || typeof v !== 'object') return false;
  for (const key in v) {
    if (isChoiceKey(key, prefix)) {
      const x = (v as Json)[key];
      if (x !== undefined && x !== null && x !== '' && !(Array.isArray(x) && !x.length)) return true;
    }
  }
  return false;
}

const isChoiceKey = (key: string, prefix: string): boolean =>
  key.length > prefix.length && key.startsWith(prefix) && key.charCodeAt(prefix.length) >= 65 && key.charCodeAt(prefix.length) <= 90;

const isPlainObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A string element as FHIRPath reads it: the string (non-empty), null when absent, undefined for anything else (an
 * empty string, another type, a `_name` extension), which the tests leave to FHIRPath.
 */
function plainString(object: unknown, name: string): string | null | undefined {
  const o = object as Json;
  if (o['_' + name] !== undefined) return undefined;
  const value = o[name];
  if (value === undefined) return null;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A code that is there as a plain string, else undefined (left to FHIRPath). */
function plainCode(object: unknown, name: string): string | undefined {
  return plainString(object, name) ?? undefined;
}

/** An array of plain objects ([] when absent), else undefined. */
function plainObjects(value: unknown): Json[] | undefined {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return undefined;
  for (const item of value) if (!isPlainObject(item)) return undefined;
  return value as Json[];
}

function plainEntries(bundle: unknown): Json[] | undefined {
  return (bundle as Json)._entry === undefined ? plainObjects((bundle as Json).entry) : undefined;
}

/** The resourceType of an entry's resource (null without a resource), undefined when FHIRPath should look. */
function resourceTypeOf(entry: Json): string | null | undefined {
  const resource = entry.resource;
  if (resource === undefined && entry._resource === undefined) return null;
  return isPlainObject(resource) && typeof resource.resourceType === 'string' && resource.resourceType !== '' ? resource.resourceType : undefined;
}

/** The entries' resources, when every entry is plain and has a plain resource (or none). */
function resourcesOf(bundle: unknown): Json[] | undefined {
  const entries = plainEntries(bundle);
  if (!entries) return undefined;
  const resources: Json[] = [];
  for (const e of entries) {
    const type = resourceTypeOf(e);
    if (type === undefined) return undefined;
    if (type !== null) resources.push(e.resource as Json);
  }
  return resources;
}

function countResources(bundle: unknown, resourceType: string, ok: (count: number) => boolean): boolean | undefined {
  const resources = resourcesOf(bundle);
  return resources && ok(resources.filter((r) => r.resourceType === resourceType).length);
}

/** bdl-9, -10, -11: `type = 'document' implies …` holds for any other plain type. */
function unlessDocument(bundle: unknown): boolean | undefined {
  const type = plainCode(bundle, 'type');
  return type !== undefined && type !== 'document' ? true : undefined;
}

/**
 * bdl-3 and -4: every entry has `element` exactly when the Bundle's type is one of `types`. FHIRPath's exists() is
 * false for an empty object, so only absent or non-empty elements are decided here.
 */
function entriesHaveIf(bundle: unknown, element: string, types: string[]): boolean | undefined {
  const type = plainCode(bundle, 'type');
  const entries = plainEntries(bundle);
  if (type === undefined || !entries) return undefined;
  const wanted = types.includes(type);
  let all = true;
  for (const e of entries) {
    const value = e[element];
    let has: boolean;
    if (value === undefined && e['_' + element] === undefined) has = false;
    else if (isPlainObject(value) && !isEmptyValue(value)) has = true;
    else return undefined;
    if (has !== wanted) all = false;
  }
  return all;
}

/**
 * The values of one type (`valueCoding`, `valuePeriod`) of an element's extensions, as `extension.value` reads them:
 * extensions without a value add nothing; any other value type, or anything not plain, leaves it to FHIRPath.
 */
function extensionValues(element: Json, name: string): Json[] | undefined {
  if (element._extension !== undefined) return undefined;
  const extensions = plainObjects(element.extension);
  if (!extensions) return undefined;
  const values: Json[] = [];
  for (const extension of extensions) {
    for (const key in extension) {
      if (!isChoiceKey(key, 'value') && !isChoiceKey(key, '_value')) continue;
      const value = extension[key];
      if (key !== name || !isPlainObject(value)) return undefined;
      values.push(value);
    }
  }
  return values;
}
