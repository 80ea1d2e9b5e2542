// `advis profiles install <package.tgz | url> [--dir DIR]` and `advis profiles list [--dir DIR]`: the MedCom FHIR
// packages the engine validates against. They ship with the package; an override directory can replace any of them.
import * as fs from 'node:fs';
import { installPackage } from '../lib/fhir/package-install';
import { defaultPackageDirectory, selectProfilePackages, SHIPPED_PACKAGE_DIRECTORY } from '../lib/fhir/profiles';
import type { CommandIo } from './advis';

const USAGE = 'usage: advis profiles install <package.tgz | url> [--dir DIR] | advis profiles list [--dir DIR]';

const HELP = `${USAGE}

MedCom's FHIR packages (hospitalnotification 3.0.2, messaging 2.1.0, core 2.0.0, terminology 1.1.1,
acknowledgement 2.0.3) ship with the engine in ${SHIPPED_PACKAGE_DIRECTORY}; nothing needs installing.

An override directory can replace any of them: --dir DIR, else $ADVIS_FHIR_PACKAGES, else ~/.fhir/packages.
For each package, the newest version found there in a supported line (hospitalnotification 3.0.x, messaging 2.x,
core 2.x, terminology 1.x, acknowledgement 2.x) wins over the shipped one; the others stay shipped. A directory
given by --dir or $ADVIS_FHIR_PACKAGES that does not exist is an error; a missing ~/.fhir/packages is not.

  install   unpack a package.tgz (file or http(s) URL) into the override directory
  list      each package the engine loads: name, version, and where from (shipped, or the directory)`;

export async function runProfiles(args: string[], io: CommandIo): Promise<number> {
  const [action, ...rest] = args;
  if (action === '--help' || action === '-h') {
    io.out(HELP);
    return 0;
  }
  const dirAt = rest.indexOf('--dir');
  const given = dirAt >= 0 ? rest[dirAt + 1] : undefined;
  const positional = rest.filter((_, i) => i !== dirAt && i !== dirAt + 1);
  if (dirAt >= 0 && !given) {
    io.err(`advis profiles: --dir needs a directory\n${USAGE}`);
    return 2;
  }
  if (action === 'install' && positional.length === 1) {
    try {
      const dir = defaultPackageDirectory(given);
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
    try {
      for (const p of selectProfilePackages(given)) io.out(`${p.name}  ${p.version}  ${p.source === 'shipped' ? 'shipped' : p.source.directory}`);
      return 0;
    } catch (error) {
      io.err(`advis profiles: ${(error as Error).message}`);
      return 1;
    }
  }
  io.err(USAGE);
  return 2;
}
