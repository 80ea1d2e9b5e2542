// Warm MedCom validation cost per Bundle over the 12 IG example Bundles, profiles parsed once.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Bundle } from 'fhir/r4';
import { loadProfilePackages } from '../lib/fhir/profiles';
import { createValidator } from '../lib/fhir/validate';
import { rate, sharedPath } from './shared';

export async function benchValidate(): Promise<{ msPerBundle: number; loadMs: number; bundles: number }> {
  const start = performance.now();
  const validator = createValidator(loadProfilePackages(sharedPath('medcom', 'packages')));
  const loadMs = performance.now() - start;
  const dir = sharedPath('medcom', 'packages', 'hospitalnotification-3.0.2', 'example');
  const bundles = fs.readdirSync(dir).filter((f) => f.startsWith('Bundle-')).map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Bundle);
  const perSecond = rate(() => {
    for (const b of bundles) validator.validate(b);
    return bundles.length;
  });
  return { msPerBundle: 1000 / perSecond, loadMs, bundles: bundles.length };
}
