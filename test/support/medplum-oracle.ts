// The test oracle: the same MedCom validator with @medplum/core's own validateTypedValue doing the profile walk, as
// the engine did before the compiled walk (lib/fhir/profile-walk.ts). test/fhir/differential.test.ts proves both agree.
import { validateTypedValue, type OperationOutcomeError } from '@medplum/core';
import type { TypedValueWithPath } from '@medplum/core';
import type { LoadedPackages } from '../../lib/fhir/profiles';
import { loadProfiles, validatorWith, type MedComValidator } from '../../lib/fhir/validate';

export function createMedplumValidator(packages: LoadedPackages): MedComValidator {
  loadProfiles(packages);
  return validatorWith(packages, (profile, resource, issues, bound) => {
    const tokens: Record<string, TypedValueWithPath[]> = {};
    try {
      validateTypedValue({ type: profile, value: resource }, { collect: { tokens } });
    } catch (error) {
      const outcome = (error as OperationOutcomeError).outcome;
      if (!outcome) throw error;
      for (const issue of outcome.issue ?? []) {
        const text = issue.details?.text ?? issue.diagnostics ?? 'invalid';
        issues.push({
          severity: issue.severity === 'error' || issue.severity === 'fatal' ? 'error' : 'warning',
          expression: issue.expression?.[0] ?? '',
          message: text,
          ...(text.startsWith('Constraint ') ? { rule: text.split(' ')[1] } : {}),
        });
      }
    }
    for (const [valueSet, values] of Object.entries(tokens)) for (const v of values) bound.push({ valueSet, type: v.type, value: v.value, path: v.path });
  });
}
