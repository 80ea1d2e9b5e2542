// `advis validate [--profiles DIR] FILE...`: validates HospitalNotification Bundles (FHIR JSON or XML) against the
// MedCom profiles, printing `OK <file>` or one line per error with its element path. Exit 0 when every file is valid,
// 1 when any is not, 2 for unusable arguments or missing profiles.
import * as fs from 'node:fs';
import type { Bundle } from 'fhir/r4';
import { loadProfilePackages } from '../lib/fhir/profiles';
import { createValidator } from '../lib/fhir/validate';
import { xmlToBundle } from '../lib/fhir/xml';
import type { CommandIo } from './advis';

const USAGE = 'usage: advis validate [--profiles DIR] FILE...';

export async function runValidate(args: string[], io: CommandIo): Promise<number> {
  const at = args.indexOf('--profiles');
  const profiles = at >= 0 ? args[at + 1] : undefined;
  const files = args.filter((_, i) => at < 0 || (i !== at && i !== at + 1));
  if ((at >= 0 && !profiles) || files.length === 0 || files.some((f) => f.startsWith('--'))) {
    io.err(USAGE);
    return 2;
  }
  let validator;
  try {
    validator = createValidator(loadProfilePackages(profiles));
  } catch (error) {
    io.err(`advis validate: ${(error as Error).message}`);
    return 2;
  }
  let invalid = 0;
  for (const file of files) {
    let bundle: Bundle;
    try {
      const text = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
      bundle = text.trimStart().startsWith('<') ? xmlToBundle(text) : (JSON.parse(text) as Bundle);
    } catch (error) {
      io.out(`${file}: cannot be read as FHIR JSON or XML: ${(error as Error).message}`);
      invalid++;
      continue;
    }
    const result = validator.validate(bundle);
    const errors = result.issues.filter((i) => i.severity === 'error');
    if (!errors.length) io.out(`OK ${file}`);
    else {
      invalid++;
      for (const e of errors) io.out(`${file}: ${e.path}: ${e.message}`);
    }
  }
  return invalid ? 1 : 0;
}
