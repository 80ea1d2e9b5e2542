// The MedCom layer: what MedCom's profiles mean that a generic profile walk does not see (docs/architecture.md,
// "Dependency choices"). Used by the validator (validate.ts) and, unchanged, by the Medplum-based oracle the tests compare it with.
//  1. patchSnapshot rewrites the snapshots Medplum's parser misreads: nested slices (`destination:primary.extension:use`),
//     slices under an already sliced ancestor, `$this.` discriminator paths, and type-profiled slices whose
//     discriminating `system` lives in a dk-core identifier profile that MedCom does not publish (grafted in);
//  2. checkIdentifiers: the dk-core identifier rules (CPR format, SOR at least 11 digits, GLN 13 digits with its GS1
//     check digit);
//  3. valueSetCodes: values under required bindings against the ValueSets of the loaded terminology package;
//     checkActivities: the HospitalNotification activity codes (invariant -3, which cannot evaluate as written);
//  4. MESSAGE_KINDS: the profile of each entry per kind of message (Medplum crawls entries as base types);
//     checkMessageStructure: the MessageHeader first, every reference the message needs resolves to an entry.

import type { Bundle, BundleEntry, CodeSystem, ElementDefinition, Identifier, Resource, StructureDefinition, ValueSet } from 'fhir/r4';
import { isValidGln, isValidSor } from '../advis/site';
import { canonical, type LoadedPackages } from './profiles';
import type { ValidationIssue } from './validate';

const HN = 'http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/';
const ACK = 'http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/';
const MESSAGING = 'http://medcomfhir.dk/ig/messaging/StructureDefinition/';

/** A kind of MedCom message: its Bundle profile, the profile of each entry that names none, its own rules. */
export interface MessageKind {
  /** The FHIR package that publishes the profile. */
  package: string;
  profile: string;
  entries: Record<string, string>;
  /** The ValueSet every Provenance.activity must come from (HospitalNotification invariant -3). */
  activities?: string;
}

/** The kinds the validator knows, picked by the Bundle's meta.profile; the first is the default. */
export const MESSAGE_KINDS: readonly MessageKind[] = [
  {
    package: 'medcom.fhir.dk.hospitalnotification',
    profile: `${HN}medcom-hospitalNotification-message`,
    entries: {
      MessageHeader: `${HN}medcom-hospitalNotification-messageHeader`,
      Patient: 'http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-patient',
      Encounter: `${HN}medcom-hospitalNotification-encounter`,
      Organization: `${MESSAGING}medcom-messaging-organization`,
      Provenance: `${MESSAGING}medcom-messaging-provenance`,
    },
    activities: 'http://medcomfhir.dk/ig/terminology/ValueSet/medcom-hospitalNotification-messageActivities',
  },
  {
    package: 'medcom.fhir.dk.acknowledgement',
    profile: `${ACK}medcom-messaging-acknowledgement`,
    entries: {
      MessageHeader: `${ACK}medcom-messaging-acknowledgementHeader`,
      OperationOutcome: `${ACK}medcom-acknowledgement-operationoutcome`,
      Organization: `${MESSAGING}medcom-messaging-organization`,
      Provenance: `${MESSAGING}medcom-messaging-provenance`,
    },
  },
  {
    package: 'medcom.fhir.dk.messaging',
    profile: `${MESSAGING}medcom-messaging-message`,
    entries: {
      MessageHeader: `${MESSAGING}medcom-messaging-messageHeader`,
      Organization: `${MESSAGING}medcom-messaging-organization`,
      Provenance: `${MESSAGING}medcom-messaging-provenance`,
    },
  },
];

/** The kind of a Bundle: the first kind its meta.profile names, else HospitalNotification (what the engine sends). */
export function messageKind(bundle: Bundle): MessageKind {
  const profiles = new Set((bundle.meta?.profile ?? []).map(canonical));
  return MESSAGE_KINDS.find((k) => profiles.has(k.profile)) ?? MESSAGE_KINDS[0];
}

/** dk-core identifier profiles (not published with MedCom's packages) by their fixed system. */
const DK_CORE_IDENTIFIER_SYSTEMS: Record<string, string> = {
  'http://hl7.dk/fhir/core/StructureDefinition/dk-core-cpr-identifier': 'urn:oid:1.2.208.176.1.2',
  'http://hl7.dk/fhir/core/StructureDefinition/dk-core-sor-identifier': 'urn:oid:1.2.208.176.1.1',
  'http://hl7.dk/fhir/core/StructureDefinition/dk-core-gln-identifier': 'https://www.gs1.org/gln',
  'http://hl7.dk/fhir/core/StructureDefinition/dk-core-kombit-org-identifier': 'https://kombit.dk/sts/organisation',
  'http://hl7.dk/fhir/core/StructureDefinition/dk-core-cvr-identifier': 'urn:oid:2.16.840.1.113883.2.24.1.1',
};

const SYSTEM = { cpr: 'urn:oid:1.2.208.176.1.2', sor: 'urn:oid:1.2.208.176.1.1', gln: 'https://www.gs1.org/gln' };
/** dk-core invariant `cpr`: DDMMYY + 4 digits with a possible day and month. */
const CPR = /^(?:(?:31(?:0[13578]|1[02])|(?:30|29)(?:0[13-9]|1[0-2])|(?:0[1-9]|1[0-9]|2[0-8])(?:0[1-9]|1[0-2]))[0-9]{2}|2902(?:[02468][048]|[13579][26]))[0-9]{4}$/;

/**
 * The Bundle as the Bundle-level pass needs it: each entry reduced to what MedCom's Bundle invariants read (resource
 * type and id; Patient.identifier for HospitalNotification -4; MessageHeader.destination for -5, .response for
 * Acknowledgement -1). The walk would otherwise crawl every entry as a base R4 resource, duplicating the entry pass,
 * which checks each entry fully against its own profile.
 */
export function forBundlePass(bundle: Bundle): Bundle {
  return {
    ...bundle,
    entry: bundle.entry?.map((e) => {
      const r = e.resource as (Resource & { identifier?: unknown; destination?: unknown; response?: unknown }) | undefined;
      if (!r) return e;
      const kept = r.resourceType === 'Patient' ? { identifier: r.identifier } : r.resourceType === 'MessageHeader' ? { destination: r.destination, response: r.response } : {};
      return { ...e, resource: { resourceType: r.resourceType, id: r.id, ...kept } as Resource as BundleEntry['resource'] };
    }),
  };
}

/**
 * `conformsTo('<a MedCom profile>')` cannot be evaluated (Medplum's FHIRPath knows only base profiles and reports an
 * error); the validator checks each entry against its kind's profile instead (MESSAGE_KINDS), which is what these
 * invariants ask.
 */
const CONFORMS_TO_MEDCOM = /conformsTo\('http:\/\/medcomfhir\.dk\//;

/** Rewrites a snapshot so Medplum reads MedCom's slicing as MedCom means it (see the header, point 1). */
export function patchSnapshot(sd: StructureDefinition): StructureDefinition {
  const elements = sd.snapshot!.element.map((e) =>
    e.constraint?.some((c) => CONFORMS_TO_MEDCOM.test(c.expression ?? '')) ? { ...e, constraint: e.constraint.filter((c) => !CONFORMS_TO_MEDCOM.test(c.expression ?? '')) } : { ...e },
  ) as ElementDefinition[];
  const byId = new Map(elements.map((e) => [e.id!, e]));
  const drop = new Set<string>();

  for (const e of elements) {
    if (e.slicing?.discriminator) {
      e.slicing = { ...e.slicing, discriminator: e.slicing.discriminator.map((d) => ({ ...d, path: d.path.replace(/^\$this\./, '') })) };
    }
  }
  for (const e of elements) {
    const id = e.id!;
    const segments = id.split('.');
    const sliceSegment = segments.findIndex((s) => s.includes(':'));
    if (sliceSegment < 0) continue;
    const lastSlice = segments.length - 1 - [...segments].reverse().findIndex((s) => s.includes(':'));
    if (lastSlice !== segments.length - 1) continue; // only slice entries themselves; their children follow them
    const head = [...segments.slice(0, -1), segments[segments.length - 1].split(':')[0]].join('.');
    const nested = segments.slice(0, -1).some((s) => s.includes(':'));
    if (nested) {
      // A slice inside a slice: fold it into its head, which takes the slice's cardinality and children.
      const headElement = byId.get(head);
      if (headElement) {
        delete headElement.slicing;
        headElement.min = Math.max(headElement.min ?? 0, e.min ?? 0);
      }
      drop.add(id);
      for (const child of elements) {
        if (child.id!.startsWith(id + '.')) {
          const renamed = head + child.id!.slice(id.length);
          if (byId.has(renamed)) drop.add(child.id!);
          else child.id = renamed;
        }
      }
      continue;
    }
    // A slice whose element sits under an already sliced ancestor: Medplum would attach it to the outer slicing.
    const ancestors = segments.slice(0, -1).map((_, i) => segments.slice(0, i + 1).join('.'));
    if (ancestors.slice(1).some((a) => byId.get(a)?.slicing)) {
      drop.add(id);
      for (const child of elements) if (child.id!.startsWith(id + '.')) drop.add(child.id!);
      const headElement = byId.get(head);
      if (headElement) delete headElement.slicing;
    }
  }

  // A discriminator names a choice element without `[x]` (`extension.value`): name the slice's element the same way.
  for (const e of elements) {
    for (const d of e.slicing?.discriminator ?? []) {
      const choice = `.${d.path}[x]`;
      for (const child of elements) {
        const at = child.id!.indexOf(choice);
        if (at < 0 || !child.id!.startsWith(`${e.id}:`)) continue;
        child.id = child.id!.slice(0, at) + `.${d.path}` + child.id!.slice(at + choice.length);
        child.path = child.path!.replace(`.${d.path}[x]`, `.${d.path}`);
      }
    }
  }

  const result: ElementDefinition[] = [];
  for (const e of elements) {
    if (drop.has(e.id!)) continue;
    result.push(e);
    // Graft the discriminating `system` into slices typed by a dk-core identifier profile that has no children here.
    const profile = e.type?.[0]?.profile?.[0];
    const system = profile ? DK_CORE_IDENTIFIER_SYSTEMS[profile] : undefined;
    if (system && e.id!.includes(':') && !elements.some((c) => c.id === `${e.id}.system`)) {
      result.push({ id: `${e.id}.system`, path: `${e.path}.system`, min: 1, max: '1', base: { path: 'Identifier.system', min: 0, max: '1' }, type: [{ code: 'uri' }], fixedUri: system });
    }
  }
  return { ...sd, snapshot: { element: result } };
}

/**
 * Whether the loaded terminology package is older than the one `kind`'s package was published against: its ValueSets
 * may then lack codes the profile allows (Acknowledgement 2.0.3 uses terminology 1.4.0, HospitalNotification 3.0.2
 * uses 1.1.1), so their binding failures are reported as warnings, not errors.
 */
export function terminologyBehind(packages: LoadedPackages, kind: MessageKind): string | undefined {
  const wanted = packages.packages.find((p) => p.name === kind.package)?.dependencies['medcom.fhir.dk.terminology'];
  const loaded = packages.packages.find((p) => p.name === 'medcom.fhir.dk.terminology')?.version;
  if (!wanted || !loaded) return undefined;
  const [w, l] = [wanted, loaded].map((v) => v.split('.').map(Number));
  const at = w.findIndex((n, i) => n !== (l[i] ?? 0));
  return at >= 0 && w[at] > (l[at] ?? 0) ? `${kind.package} was published against medcom.fhir.dk.terminology ${wanted}; ${loaded} is loaded` : undefined;
}

/** Codes of a ValueSet by canonical URL, expanded once; null for a ValueSet the loaded packages cannot expand. */
export function valueSetCodes(packages: LoadedPackages): (url: string) => Set<string> | null {
  const cache = new Map<string, Set<string> | null>();
  return (url) => {
    const key = canonical(url);
    if (!cache.has(key)) cache.set(key, expand(packages, key));
    return cache.get(key)!;
  };
}

/** The issue for a value under a required binding that is not in its ValueSet, if it is not. */
export function checkBinding(codes: Set<string>, valueSet: string, type: string, value: unknown, path: string): ValidationIssue | undefined {
  const found = codings(type, value);
  if (found.some((c) => codes.has(`${c.system ?? ''}|${c.code}`) || codes.has(`|${c.code}`))) return undefined;
  return {
    severity: 'error',
    path,
    message: `${found.map((c) => c.code).join(', ') || 'the value'} is not in the required ValueSet ${valueSet.split('|')[0]}`,
    rule: 'binding',
  };
}

/** The codes of a ValueSet from the loaded packages, as `system|code` (and `|code`); null when it cannot be expanded. */
function expand(packages: LoadedPackages, url: string): Set<string> | null {
  const vs: ValueSet | undefined = packages.valueSets.get(url);
  if (!vs?.compose?.include?.length) return null;
  const codes = new Set<string>();
  for (const include of vs.compose.include) {
    if (include.filter?.length || include.valueSet?.length) return null;
    const concepts = include.concept?.map((c) => c.code) ?? codeSystemCodes(packages.codeSystems.get(canonical(include.system ?? '')));
    if (!concepts) return null;
    for (const code of concepts) {
      codes.add(`${include.system ?? ''}|${code}`);
      codes.add(`|${code}`);
    }
  }
  return codes;
}

function codeSystemCodes(cs: CodeSystem | undefined): string[] | null {
  if (!cs?.concept) return null;
  const out: string[] = [];
  const walk = (concepts: NonNullable<CodeSystem['concept']>): void => {
    for (const c of concepts) {
      out.push(c.code);
      if (c.concept) walk(c.concept);
    }
  };
  walk(cs.concept);
  return out;
}

function codings(type: string, value: unknown): { system?: string; code?: string }[] {
  if (type === 'code' || type === 'string' || type === 'uri') return [{ code: String(value) }];
  if (type === 'Coding') return [value as { system?: string; code?: string }];
  if (type === 'CodeableConcept') return ((value as { coding?: { system?: string; code?: string }[] }).coding ?? []);
  return [];
}

/** dk-core identifier rules (cpr, min-digits-sor, gln-length, gln-modulus-10) on every identifier of the entry. */
export function checkIdentifiers(resource: Resource, at: string, issues: ValidationIssue[]): void {
  const identifiers = (resource as { identifier?: Identifier[] }).identifier;
  if (!Array.isArray(identifiers)) return;
  identifiers.forEach((id, i) => {
    const path = `${at}.identifier[${i}].value`;
    const value = id.value ?? '';
    if (id.system === SYSTEM.cpr && !CPR.test(value)) issues.push({ severity: 'error', path, message: 'a CPR number must be 10 digits starting with a valid date (DDMMYY)', rule: 'cpr' });
    if (id.system === SYSTEM.sor && !isValidSor(value)) issues.push({ severity: 'error', path, message: 'a SOR id must be at least 11 digits', rule: 'min-digits-sor' });
    if (id.system === SYSTEM.gln) {
      if (!/^[0-9]{13}$/.test(value)) issues.push({ severity: 'error', path, message: 'a GLN must be 13 digits', rule: 'gln-length' });
      else if (!isValidGln(value)) issues.push({ severity: 'error', path, message: 'the GLN check digit is wrong', rule: 'gln-modulus-10' });
    }
  });
}

/** FHIR forbids empty strings and empty arrays (a value is either there or absent); Medplum lets '' through. */
export function checkNoEmptyValues(value: unknown, path: string, issues: ValidationIssue[]): void {
  // Found in one pass without paths; the paths are spelled out only for a resource that has one.
  if (holdsEmpty(value)) reportEmpty(value, path, issues);
}

function holdsEmpty(value: unknown): boolean {
  if (value === '') return true;
  if (Array.isArray(value)) {
    if (!value.length) return true;
    for (const v of value) if (holdsEmpty(v)) return true;
  } else if (value && typeof value === 'object') {
    for (const key in value) if (key !== 'div' && holdsEmpty((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

function reportEmpty(value: unknown, path: string, issues: ValidationIssue[]): void {
  if (value === '') issues.push({ severity: 'error', path, message: 'an empty string is not a FHIR value: leave the element out or fill it', rule: 'empty-value' });
  else if (Array.isArray(value)) {
    if (!value.length) issues.push({ severity: 'error', path, message: 'an empty array is not a FHIR value', rule: 'empty-value' });
    value.forEach((v, i) => reportEmpty(v, `${path}[${i}]`, issues));
  } else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) if (key !== 'div') reportEmpty(v, `${path}.${key}`, issues);
  }
}

/**
 * MessageHeader first; every reference the message relies on resolves to an entry; Provenance points at MessageHeaders.
 *
 * A Provenance agent need not resolve: FHIR does not require a message Bundle's references to resolve (the HL7
 * validator reports it as information), and MedCom's own TouchStone examples (HospitalNotification_Ex_*) carry the
 * chain without the organisations that sent the earlier messages, one (MORS_L) without the current sender's. It is a
 * warning, so a Bundle or an acknowledgement from another system is not rejected for it; the engine's own Bundles
 * carry every organisation they reference (test/fhir/validate.test.ts checks they give no such warning).
 */
export function checkMessageStructure(entries: BundleEntry[], issues: ValidationIssue[]): void {
  if (entries[0]?.resource?.resourceType !== 'MessageHeader') {
    issues.push({ severity: 'error', path: 'Bundle.entry[0].resource', message: 'the MessageHeader must be the first entry of a message' });
  }
  const present = new Set(entries.map((e) => e.resource && `${e.resource.resourceType}/${e.resource.id}`));
  const must = (ref: string | undefined, path: string, severity: ValidationIssue['severity'] = 'error'): void => {
    if (ref === undefined) return;
    if (!present.has(ref)) issues.push({ severity, path, message: `the reference ${ref} does not resolve to an entry of the Bundle`, rule: 'bundled-reference' });
  };
  const messageHeaderRef = (ref: string | undefined, path: string): void => {
    if (ref !== undefined && !/^MessageHeader\/[A-Za-z0-9\-.]{1,64}$/.test(ref)) {
      issues.push({ severity: 'error', path, message: `${ref} is not a reference to a MessageHeader (MessageHeader/<id>)`, rule: 'provenance-reference' });
    }
  };
  entries.forEach((entry, i) => {
    const r = entry.resource as Record<string, unknown> | undefined;
    if (!r) return;
    const at = `Bundle.entry[${i}].resource`;
    const ref = (v: unknown): string | undefined => (v as { reference?: string } | undefined)?.reference;
    switch (r.resourceType) {
      case 'MessageHeader': {
        must(ref(r.sender), `${at}.sender`);
        ((r.destination as unknown[]) ?? []).forEach((d, j) => must(ref((d as { receiver?: unknown }).receiver), `${at}.destination[${j}].receiver`));
        ((r.focus as unknown[]) ?? []).forEach((f, j) => must(ref(f), `${at}.focus[${j}]`));
        break;
      }
      case 'Encounter':
        must(ref(r.subject), `${at}.subject`);
        must(ref(r.serviceProvider), `${at}.serviceProvider`);
        break;
      case 'Provenance':
        ((r.target as unknown[]) ?? []).forEach((t, j) => messageHeaderRef(ref(t), `${at}.target[${j}]`));
        ((r.entity as { what?: unknown }[]) ?? []).forEach((e, j) => messageHeaderRef(ref(e.what), `${at}.entity[${j}].what`));
        ((r.agent as { who?: unknown }[]) ?? []).forEach((a, j) => must(ref(a.who), `${at}.agent[${j}].who`, 'warning'));
        break;
    }
  });
  // The newest Provenance belongs to this message: its target is this Bundle's MessageHeader.
  const header = entries[0]?.resource;
  const provenances = entries.map((e) => e.resource as { resourceType?: string; target?: { reference?: string }[] } | undefined).filter((r) => r?.resourceType === 'Provenance');
  if (header?.resourceType === 'MessageHeader' && provenances.length && !provenances.some((p) => p!.target?.some((t) => t.reference === `MessageHeader/${header.id}`))) {
    issues.push({ severity: 'error', path: 'Bundle.entry.resource.ofType(Provenance).target', message: "no Provenance targets this message's MessageHeader", rule: 'provenance-reference' });
  }
}

/** medcom-hospitalNotification-3: every Provenance activity is a HospitalNotification activity. */
export function checkActivities(entries: BundleEntry[], codes: Set<string> | null, issues: ValidationIssue[]): void {
  if (!codes) return;
  entries.forEach((entry, i) => {
    const r = entry.resource as { resourceType?: string; activity?: { coding?: { system?: string; code?: string }[] } } | undefined;
    if (r?.resourceType !== 'Provenance') return;
    for (const c of r.activity?.coding ?? []) {
      if (!codes.has(`${c.system ?? ''}|${c.code}`)) {
        issues.push({ severity: 'error', path: `Bundle.entry[${i}].resource.activity`, message: `${c.code} is not a HospitalNotification activity`, rule: 'medcom-hospitalNotification-3' });
      }
    }
  });
}
