// Where the team's shared material (`../shared`: MedCom test material, HL7 samples) is, and how a suite that needs
// something the machine may lack says so. Nothing from `../shared` is copied into the project. Off CI a suite whose
// needs are missing is skipped with the reason in its title; with CI=true it fails instead, because a CI run that
// passes by skipping proves nothing (.ci/run installs everything the suites need).
import * as fs from 'node:fs';
import * as path from 'node:path';

const candidates = [process.env.ADVIS_SHARED_DIR, path.resolve(process.cwd(), '..', 'shared')];

/** The shared folder, or null when it is not beside the checkout (and ADVIS_SHARED_DIR is unset). */
export const sharedDir: string | null =
  candidates.find((d): d is string => !!d && fs.existsSync(path.join(d, 'medcom', 'packages'))) ?? null;

/** A path inside the shared folder; only call it inside a suite opened with describeShared. */
export function shared(...parts: string[]): string {
  if (!sharedDir) throw new Error('../shared is not available');
  return path.join(sharedDir, ...parts);
}

/** The MedCom FHIR package folder in the shared material (the published packages the product ships a copy of). */
export const medcomPackages = (): string => shared('medcom', 'packages');

/** True on CI (`CI=true`, as .ci/run is run), where nothing may skip. */
export const onCi = /^(1|true)$/i.test(process.env.CI ?? '');

/**
 * A mocha suite that needs what `missing` names (null: nothing is missing). Off CI it is skipped with the reason in
 * its title; on CI it becomes one failing test that names what is missing.
 */
export function describeNeeding(title: string, missing: string | null, fn: (this: Mocha.Suite) => void): void {
  if (!missing) describe(title, fn);
  else if (onCi) {
    describe(title, () => {
      it('has what it needs', () => {
        throw new Error(`${missing}: on CI a suite may not skip (.ci/run installs what the suites need)`);
      });
    });
  } else describe.skip(`${title} (skipped: ${missing})`, fn);
}

/** A mocha suite that needs ../shared. */
export function describeShared(title: string, fn: (this: Mocha.Suite) => void): void {
  describeNeeding(title, sharedDir ? null : '../shared is not beside the checkout (or set ADVIS_SHARED_DIR)', fn);
}
