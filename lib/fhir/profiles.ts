// Loads MedCom's published FHIR packages (StructureDefinitions, ValueSets, CodeSystems) from a FHIR package
// directory at run time. The profiles are MedCom's publication and are never copied into the project.
//
// Accepted layouts: the standard cache (`~/.fhir/packages/<name>#<version>/package/package.json`), a folder of
// package folders (`<dir>/<any>/package.json`), or one package folder. A missing directory or a missing required
// package is an error that says where it looked and how to fix it: validation never silently passes.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CodeSystem, StructureDefinition, ValueSet } from 'fhir/r4';

/** The packages the engine needs (HospitalNotifications out, Acknowledgements in), with the version lines it supports. */
export const REQUIRED_PACKAGES: readonly { name: string; version: RegExp; shown: string }[] = [
  { name: 'medcom.fhir.dk.hospitalnotification', version: /^3\.0\./, shown: '3.0.x' },
  { name: 'medcom.fhir.dk.messaging', version: /^2\./, shown: '2.x' },
  { name: 'medcom.fhir.dk.core', version: /^2\./, shown: '2.x' },
  { name: 'medcom.fhir.dk.terminology', version: /^1\./, shown: '1.x' },
  { name: 'medcom.fhir.dk.acknowledgement', version: /^2\./, shown: '2.x' },
];

export interface FhirPackage {
  name: string;
  version: string;
  dir: string;
  dependencies: Record<string, string>;
}

export interface LoadedPackages {
  directory: string;
  packages: FhirPackage[];
  structureDefinitions: Map<string, StructureDefinition>;
  valueSets: Map<string, ValueSet>;
  codeSystems: Map<string, CodeSystem>;
}

export class ProfilePackageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProfilePackageError';
  }
}

/** The package directory to use: the given one, else $ADVIS_FHIR_PACKAGES, else ~/.fhir/packages. */
export function defaultPackageDirectory(dir?: string): string {
  return dir ?? process.env.ADVIS_FHIR_PACKAGES ?? path.join(os.homedir(), '.fhir', 'packages');
}

/** Finds every package (a folder with a package.json naming a FHIR package) at or below `dir`, two levels deep. */
export function findPackages(dir: string): FhirPackage[] {
  const found: FhirPackage[] = [];
  const visit = (folder: string, depth: number): void => {
    const manifest = path.join(folder, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string; version?: string; dependencies?: Record<string, string> };
        if (pkg.name && pkg.version) {
          found.push({ name: pkg.name, version: pkg.version, dir: folder, dependencies: pkg.dependencies ?? {} });
          return;
        }
      } catch {
        // Not a package manifest we can read: look further down.
      }
    }
    if (depth === 0) return;
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      if (entry.isDirectory() || entry.isSymbolicLink()) visit(path.join(folder, entry.name), depth - 1);
    }
  };
  visit(dir, 2);
  return found.sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}

const INSTALL_HINT = 'install them with "npx advis profiles install <package.tgz | url>" (see README: MedCom profiles)';

/** Loads the MedCom packages from `dir` (see defaultPackageDirectory); throws ProfilePackageError when any is missing. */
export function loadProfilePackages(dir?: string): LoadedPackages {
  const directory = defaultPackageDirectory(dir);
  if (!fs.existsSync(directory)) {
    throw new ProfilePackageError(`the FHIR package directory ${directory} does not exist: ${INSTALL_HINT}`);
  }
  const all = findPackages(directory);
  const packages: FhirPackage[] = [];
  const missing: string[] = [];
  for (const required of REQUIRED_PACKAGES) {
    const candidates = all.filter((p) => p.name === required.name && required.version.test(p.version));
    if (candidates.length) packages.push(candidates[candidates.length - 1]);
    else missing.push(`${required.name} ${required.shown}`);
  }
  if (missing.length) {
    throw new ProfilePackageError(`the FHIR package directory ${directory} lacks ${missing.join(', ')}: ${INSTALL_HINT}`);
  }

  const loaded: LoadedPackages = { directory, packages, structureDefinitions: new Map(), valueSets: new Map(), codeSystems: new Map() };
  for (const pkg of packages) {
    for (const file of fs.readdirSync(pkg.dir)) {
      if (!file.endsWith('.json') || file === 'package.json') continue;
      const kind = file.split('-')[0];
      if (kind !== 'StructureDefinition' && kind !== 'ValueSet' && kind !== 'CodeSystem') continue;
      const resource = JSON.parse(fs.readFileSync(path.join(pkg.dir, file), 'utf8')) as StructureDefinition | ValueSet | CodeSystem;
      if (!resource.url) continue;
      const key = canonical(resource.url);
      if (resource.resourceType === 'StructureDefinition') loaded.structureDefinitions.set(key, resource);
      else if (resource.resourceType === 'ValueSet') loaded.valueSets.set(key, resource);
      else if (resource.resourceType === 'CodeSystem') loaded.codeSystems.set(key, resource);
    }
  }
  return loaded;
}

/**
 * The key a canonical URL is indexed by: without `|version`, and with http and https folded together, because
 * MedCom's packages publish some terminology under https while every reference to it says http.
 */
export function canonical(url: string): string {
  return url.split('|')[0].replace(/^https:/, 'http:');
}
