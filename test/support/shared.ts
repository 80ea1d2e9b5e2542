// Where the team's shared material (`../shared`: MedCom packages, HL7 samples) is. Nothing from it is copied into
// the project; suites that need it skip with a clear message when it is absent.
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

/** The MedCom FHIR package folder the tests validate against. */
export const medcomPackages = (): string => shared('medcom', 'packages');

/** A mocha suite that needs ../shared: skipped, with the reason in its title, when it is absent. */
export function describeShared(title: string, fn: (this: Mocha.Suite) => void): void {
  if (sharedDir) describe(title, fn);
  else describe.skip(`${title} (skipped: ../shared is not beside the checkout; set ADVIS_SHARED_DIR)`, fn);
}
