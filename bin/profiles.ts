// `advis profiles install <package.tgz | url> [--dir DIR]` and `advis profiles list [--dir DIR]`: the MedCom FHIR
// packages the engine validates against, in a FHIR package directory ($ADVIS_FHIR_PACKAGES or ~/.fhir/packages).
import * as fs from 'node:fs';
import { installPackage } from '../lib/fhir/package-install';
import { defaultPackageDirectory, findPackages, REQUIRED_PACKAGES } from '../lib/fhir/profiles';
import type { CommandIo } from './advis';

const USAGE = 'usage: advis profiles install <package.tgz | url> [--dir DIR] | advis profiles list [--dir DIR]';

export async function runProfiles(args: string[], io: CommandIo): Promise<number> {
  const [action, ...rest] = args;
  const dirAt = rest.indexOf('--dir');
  const dir = defaultPackageDirectory(dirAt >= 0 ? rest[dirAt + 1] : undefined);
  const positional = rest.filter((_, i) => i !== dirAt && i !== dirAt + 1);
  if (dirAt >= 0 && !rest[dirAt + 1]) {
    io.err(`advis profiles: --dir needs a directory\n${USAGE}`);
    return 2;
  }
  if (action === 'install' && positional.length === 1) {
    try {
      fs.mkdirSync(dir, { recursive: true });
      const pkg = await installPackage(positional[0], dir);
      io.out(`installed ${pkg.name}#${pkg.version} in ${pkg.dir}`);
      for (const dependency of pkg.missingDependencies) io.out(`  needs ${dependency}: install it too`);
      return 0;
    } catch (error) {
      io.err(`advis profiles: ${(error as Error).message}`);
      return 1;
    }
  }
  if (action === 'list' && positional.length === 0) {
    const packages = fs.existsSync(dir) ? findPackages(dir) : [];
    if (!packages.length) io.out(`no FHIR packages in ${dir}`);
    for (const p of packages) io.out(`${p.name}#${p.version}  ${p.dir}`);
    const missing = REQUIRED_PACKAGES.filter((r) => !packages.some((p) => p.name === r.name && r.version.test(p.version)));
    for (const m of missing) io.out(`missing: ${m.name} ${m.shown}`);
    return missing.length ? 1 : 0;
  }
  io.err(USAGE);
  return 2;
}
