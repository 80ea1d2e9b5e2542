// Loads MedCom's published FHIR packages (StructureDefinitions, ValueSets, CodeSystems) at run time. The package
// ships them unchanged in lib/fhir/packages (see its README.md); an override directory ($ADVIS_FHIR_PACKAGES, else
// ~/.fhir/packages, or one given explicitly) can replace any of them: for each required package, a matching version
// found there wins over the shipped one, and the rest come from the shipped set.
//
// Accepted override layouts: the standard cache (`~/.fhir/packages/<name>#<version>/package/package.json`), a folder
// of package folders (`<dir>/<any>/package.json`), or one package folder. A directory named explicitly or by
// $ADVIS_FHIR_PACKAGES that does not exist is an error (a typo must not silently fall back to the shipped set).

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

/** Where a loaded package came from: the set shipped with the engine, or the override directory. */
export interface LoadedPackage extends FhirPackage {
  source: 'shipped' | { directory: string };
}

export interface LoadedPackages {
  packages: LoadedPackage[];
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

/**
 * The packages shipped with the engine. Resolved from the compiled file (dist/lib/fhir) to the package's own
 * lib/fhir/packages, which is the same path in the repository and in an installed tarball; tsc copies no data files.
 */
export const SHIPPED_PACKAGE_DIRECTORY = path.resolve(__dirname, '..', '..', '..', 'lib', 'fhir', 'packages');

/** The override directory: the given one, else $ADVIS_FHIR_PACKAGES, else ~/.fhir/packages. */
export function defaultPackageDirectory(dir?: string): string {
  return dir ?? process.env.ADVIS_FHIR_PACKAGES ?? path.join(os.homedir(), '.fhir', 'packages');
}

/** "hospitalnotification 3.0.2 (shipped), core 2.0.1 (/opt/fhir), …": which version was loaded from where. */
export function describePackages(packages: readonly LoadedPackage[], shipped = 'shipped'): string {
  return packages
    .map((p) => `${p.name.replace(/^medcom\.fhir\.dk\./, '')} ${p.version} (${p.source === 'shipped' ? shipped : p.source.directory})`)
    .join(', ');
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

/**
 * Picks each required package: the newest matching version in the override directory (see defaultPackageDirectory),
 * else the shipped one. Throws ProfilePackageError when an explicitly named directory does not exist or a required
 * package is found nowhere.
 */
export function selectProfilePackages(dir?: string, shippedDir = SHIPPED_PACKAGE_DIRECTORY): LoadedPackage[] {
  const directory = defaultPackageDirectory(dir);
  const named = dir !== undefined || process.env.ADVIS_FHIR_PACKAGES !== undefined;
  if (named && !fs.existsSync(directory)) {
    throw new ProfilePackageError(`the FHIR package directory ${directory} does not exist (unset it to use the shipped MedCom packages)`);
  }
  const overrides = fs.existsSync(directory) ? findPackages(directory) : [];
  const shipped = fs.existsSync(shippedDir) ? findPackages(shippedDir) : [];
  const packages: LoadedPackage[] = [];
  const missing: string[] = [];
  for (const required of REQUIRED_PACKAGES) {
    const matching = (all: FhirPackage[]) => all.filter((p) => p.name === required.name && required.version.test(p.version)).at(-1);
    const override = matching(overrides);
    const own = matching(shipped);
    if (override) packages.push({ ...override, source: { directory } });
    else if (own) packages.push({ ...own, source: 'shipped' });
    else missing.push(`${required.name} ${required.shown}`);
  }
  if (missing.length) {
    throw new ProfilePackageError(`neither ${directory} nor the shipped set (${shippedDir}) holds ${missing.join(', ')}`);
  }
  return packages;
}

/** Loads the MedCom packages selectProfilePackages picks. */
export function loadProfilePackages(dir?: string, shippedDir = SHIPPED_PACKAGE_DIRECTORY): LoadedPackages {
  const packages = selectProfilePackages(dir, shippedDir);
  const loaded: LoadedPackages = { packages, structureDefinitions: new Map(), valueSets: new Map(), codeSystems: new Map() };
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
