// Installs a FHIR package (package.tgz, from a file or an http(s) URL such as MedCom's package server) into a FHIR
// package directory in the standard cache layout: `<dir>/<name>#<version>/package/...`. Uses `tar`, the npm team's
// own tar implementation, which refuses absolute paths and `..` in archives.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar';
import { findPackages, type FhirPackage } from './profiles';

export interface InstalledPackage extends FhirPackage {
  /** Declared dependencies that the directory does not hold yet. */
  missingDependencies: string[];
}

export async function installPackage(source: string, targetDir: string): Promise<InstalledPackage> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'advis-fhir-package-'));
  try {
    const archive = /^https?:\/\//.test(source) ? await download(source, work) : source;
    if (!fs.existsSync(archive)) throw new Error(`no package file at ${archive}`);
    const unpacked = path.join(work, 'unpacked');
    fs.mkdirSync(unpacked);
    await tar.x({ file: archive, cwd: unpacked, strict: true });
    const root = fs.existsSync(path.join(unpacked, 'package', 'package.json')) ? path.join(unpacked, 'package') : unpacked;
    const manifest = path.join(root, 'package.json');
    if (!fs.existsSync(manifest)) throw new Error(`${source} is not a FHIR package: it has no package/package.json`);
    const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string; version?: string; dependencies?: Record<string, string> };
    if (!pkg.name || !pkg.version || !/^[a-z0-9._-]+$/i.test(pkg.name) || !/^[a-z0-9._-]+$/i.test(pkg.version)) {
      throw new Error(`${source} has no usable name and version in its package.json`);
    }
    const dir = path.join(targetDir, `${pkg.name}#${pkg.version}`, 'package');
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.cpSync(root, dir, { recursive: true });
    const installed = findPackages(targetDir);
    const missingDependencies = Object.entries(pkg.dependencies ?? {})
      .filter(([name, version]) => !installed.some((p) => p.name === name && p.version === version))
      .map(([name, version]) => `${name}#${version}`);
    return { name: pkg.name, version: pkg.version, dir, dependencies: pkg.dependencies ?? {}, missingDependencies };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function download(url: string, dir: string): Promise<string> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`downloading ${url} failed: HTTP ${response.status} ${response.statusText}`);
  const file = path.join(dir, 'package.tgz');
  fs.writeFileSync(file, Buffer.from(await response.arrayBuffer()));
  return file;
}
