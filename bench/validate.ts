// Warm MedCom validation cost per Bundle over the 12 IG example Bundles, profiles parsed once; beside it, in the same
// run, the same validator with @medplum/core's own profile walk (test/support/medplum-oracle.ts, the test oracle).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Bundle } from 'fhir/r4';
import { loadProfilePackages } from '../lib/fhir/profiles';
import { createValidator } from '../lib/fhir/validate';
import { createMedplumValidator } from '../test/support/medplum-oracle';
import { rate, sharedPath } from './shared';

export async function benchValidate(): Promise<{ msPerBundle: number; oracleMsPerBundle: number; loadMs: number; bundles: number }> {
  const start = performance.now();
  const packages = loadProfilePackages(sharedPath('medcom', 'packages'));
  const validator = createValidator(packages);
  const loadMs = performance.now() - start;
  const dir = sharedPath('medcom', 'packages', 'hospitalnotification-3.0.2', 'example');
  const bundles = fs.readdirSync(dir).filter((f) => f.startsWith('Bundle-')).map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Bundle);
  const perSecond = (v: typeof validator) =>
    rate(() => {
      for (const b of bundles) v.validate(b);
      return bundles.length;
    });
  const compiled = perSecond(validator);
  const oracle = perSecond(createMedplumValidator(packages));
  return { msPerBundle: 1000 / compiled, oracleMsPerBundle: 1000 / oracle, loadMs, bundles: bundles.length };
}
