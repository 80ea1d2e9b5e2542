// The MedCom packages shipped in lib/fhir/packages: unchanged against their manifest, loaded by default with nothing
// installed, and overridable package by package.
import { expect } from 'chai';
import type { Bundle } from 'fhir/r4';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describePackages, loadProfilePackages, ProfilePackageError, SHIPPED_PACKAGE_DIRECTORY } from '../../lib/fhir/profiles';
import { createValidator } from '../../lib/fhir/validate';

interface Manifest {
  packages: { name: string; version: string; license: string; folder: string; sha256: Record<string, string> }[];
}

const shippedDir = path.join(process.cwd(), 'lib', 'fhir', 'packages');
const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'advis-shipped-'));

function filesOf(folder: string, prefix = ''): string[] {
  return fs.readdirSync(folder, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesOf(path.join(folder, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]));
}

/** A copy of the shipped `folder` in `dir`, its package.json saying `version`. */
function copyWithVersion(folder: string, dir: string, version: string): void {
  const to = path.join(dir, folder);
  fs.cpSync(path.join(shippedDir, folder), to, { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(to, 'package.json'), 'utf8'));
  fs.writeFileSync(path.join(to, 'package.json'), JSON.stringify({ ...manifest, version }));
}

describe('shipped MedCom packages', () => {
  const saved = { HOME: process.env.HOME, ADVIS_FHIR_PACKAGES: process.env.ADVIS_FHIR_PACKAGES };
  beforeEach(() => {
    // Nothing installed: no $ADVIS_FHIR_PACKAGES and a HOME without ~/.fhir.
    process.env.HOME = tmp();
    delete process.env.ADVIS_FHIR_PACKAGES;
  });
  afterEach(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('are the five CC0 packages of the manifest, every file unchanged', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(shippedDir, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.packages.map((p) => `${p.name}#${p.version} ${p.license}`)).to.have.members([
      'medcom.fhir.dk.hospitalnotification#3.0.2 CC0-1.0',
      'medcom.fhir.dk.messaging#2.1.0 CC0-1.0',
      'medcom.fhir.dk.core#2.0.0 CC0-1.0',
      'medcom.fhir.dk.terminology#1.1.1 CC0-1.0',
      'medcom.fhir.dk.acknowledgement#2.0.3 CC0-1.0',
    ]);
    const folders = fs.readdirSync(shippedDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(folders).to.have.members(manifest.packages.map((p) => p.folder));
    for (const p of manifest.packages) {
      const dir = path.join(shippedDir, p.folder);
      const actual = Object.fromEntries(filesOf(dir).map((f) => [f, crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, f))).digest('hex')]));
      expect(actual, p.folder).to.deep.equal(p.sha256);
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      expect([pkg.name, pkg.version, pkg.license]).to.deep.equal([p.name, p.version, p.license]);
    }
  });

  it('is where the compiled code looks for them', () => {
    expect(SHIPPED_PACKAGE_DIRECTORY).to.equal(shippedDir);
  });

  it('load by default with nothing installed, and validate a HospitalNotification', () => {
    const loaded = loadProfilePackages();
    expect(describePackages(loaded.packages)).to.equal(
      'hospitalnotification 3.0.2 (shipped), messaging 2.1.0 (shipped), core 2.0.0 (shipped), terminology 1.1.1 (shipped), acknowledgement 2.0.3 (shipped)',
    );
    const example = path.join(shippedDir, 'hospitalnotification-3.0.2', 'example', 'Bundle-a5e5b880-c087-4055-b9ec-99108695f81d.json');
    const bundle = JSON.parse(fs.readFileSync(example, 'utf8')) as Bundle;
    const validator = createValidator(loaded);
    expect(validator.validate(bundle).issues.filter((i) => i.severity === 'error')).to.deep.equal([]);
    const broken = structuredClone(bundle);
    const encounter = broken.entry!.find((e) => e.resource?.resourceType === 'Encounter')!.resource as { class: { code: string } };
    encounter.class.code = 'FLD';
    expect(validator.validate(broken).issues.filter((i) => i.severity === 'error')).to.not.deep.equal([]);
  });

  it('give way, package by package, to another version in the override directory', () => {
    const override = tmp();
    copyWithVersion('core-2.0.0', override, '2.0.9');
    const fromArgument = loadProfilePackages(override);
    expect(describePackages(fromArgument.packages)).to.equal(
      `hospitalnotification 3.0.2 (shipped), messaging 2.1.0 (shipped), core 2.0.9 (${override}), terminology 1.1.1 (shipped), acknowledgement 2.0.3 (shipped)`,
    );
    expect(fromArgument.packages.find((p) => p.name === 'medcom.fhir.dk.core')!.dir).to.equal(path.join(override, 'core-2.0.0'));
    process.env.ADVIS_FHIR_PACKAGES = override;
    expect(describePackages(loadProfilePackages().packages)).to.include(`core 2.0.9 (${override})`);
    // ~/.fhir/packages, in the standard cache layout, is an override directory too.
    delete process.env.ADVIS_FHIR_PACKAGES;
    const cache = path.join(process.env.HOME!, '.fhir', 'packages', 'medcom.fhir.dk.terminology#1.1.5');
    fs.mkdirSync(cache, { recursive: true });
    copyWithVersion('terminology-1.1.1', cache, '1.1.5');
    fs.renameSync(path.join(cache, 'terminology-1.1.1'), path.join(cache, 'package'));
    expect(describePackages(loadProfilePackages().packages)).to.include(`terminology 1.1.5 (${path.join(process.env.HOME!, '.fhir', 'packages')})`).and.include('core 2.0.0 (shipped)');
  });

  it('ignore a version outside the supported line in the override directory', () => {
    const override = tmp();
    copyWithVersion('hospitalnotification-3.0.2', override, '4.0.0');
    expect(describePackages(loadProfilePackages(override).packages)).to.include('hospitalnotification 3.0.2 (shipped)');
  });

  it('stop with a clear error when a named override directory does not exist, or a package is found nowhere', () => {
    const nowhere = path.join(tmp(), 'nope');
    expect(() => loadProfilePackages(nowhere)).to.throw(ProfilePackageError, /nope does not exist/);
    process.env.ADVIS_FHIR_PACKAGES = nowhere;
    expect(() => loadProfilePackages()).to.throw(ProfilePackageError, /nope does not exist/);
    const empty = tmp();
    expect(() => loadProfilePackages(empty, tmp())).to.throw(ProfilePackageError, /holds medcom\.fhir\.dk\.hospitalnotification 3\.0\.x, medcom\.fhir\.dk\.messaging 2\.x/);
  });
});
