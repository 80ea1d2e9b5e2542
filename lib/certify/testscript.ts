// MedCom's TouchStone sender TestScripts, evaluated here on the Bundles a sender posted: what each script asserts about
// the request (`direction: request`) of each of its tests. TouchStone itself is a hosted service with no offline
// runner, and no maintained package evaluates TestScript assertions, so this does the part a sender's certification
// turns on: `resource`, `validateProfileId`, and FHIRPath `expression`s with their `operator` and `value`, with the
// script's `variable`s bound from the earlier messages of the same script. FHIRPath is @medplum/core's.
//
// Two readings, both documented in docs/mapping.md §5.5:
//  - `x.reference.resolve()`: FHIR's resolve() finds a reference's target among the Bundle's entries, as TouchStone
//    does; Medplum's gives a stub without the target's elements unless the Reference carries the resource itself. The
//    expression is evaluated on a copy whose Bundle-local References carry their entry, with `.reference.resolve()`
//    read as `.resolve()`.
//  - A variable written without quotes (`!= ${hospitalSOR-STAA}`) and bound to text is put in as a FHIRPath string.
//    Written in as digits it would be an integer, and a string never equals an integer, so the assertion could not fail.
//  - PF-send-tec-04 writes `period.end.(substring(19,3) = '…').exists().not`, which is no FHIRPath: `.(…)` is read as
//    `.where(…)` and a closing `.not` as `.not()`, which says what the script's description says (the end's offset
//    is not the start's).
//  - A variable is bound from the latest message with its `sourceId` up to the test that reads it (TouchStone binds
//    it when it is used: PF-send-imp-04 posts two STORs under one id, and each SLOR revises the STOR before it).

import { evalFhirPathTyped, toTypedValue } from '@medplum/core';
import type { Bundle, Reference } from 'fhir/r4';
import type { ValidationResult } from '../fhir/validate';

/** The parts of a TestScript (R4) the runner reads. */
export interface TestScript {
  resourceType: 'TestScript';
  id: string;
  title?: string;
  description?: string;
  profile?: { id?: string; reference?: string }[];
  variable?: { name: string; expression?: string; sourceId?: string }[];
  test?: { id?: string; name?: string; description?: string; action: TestAction[] }[];
}

interface TestAction {
  operation?: { sourceId?: string; responseId?: string; type?: { code?: string } };
  assert?: {
    description?: string;
    direction?: 'request' | 'response';
    resource?: string;
    validateProfileId?: string;
    expression?: string;
    operator?: string;
    value?: string;
    warningOnly?: boolean;
  };
}

export interface AssertionResult {
  description: string;
  /** What was checked: the expression after the variables were put in, or `resource` / `validateProfileId`. */
  check: string;
  passed: boolean;
  /** What the expression gave, or why the check failed. */
  detail: string;
  warningOnly: boolean;
}

export interface TestResult {
  id: string;
  name: string;
  /** MessageHeader.id of the Bundle the test was evaluated on; undefined when the sender posted too few. */
  messageHeaderId: string | undefined;
  assertions: AssertionResult[];
  passed: boolean;
}

export interface ScriptResult {
  id: string;
  title: string;
  tests: TestResult[];
  /** Every assertion that is not `warningOnly` passed, and the sender posted one Bundle per test. */
  passed: boolean;
  problems: string[];
}

/**
 * Evaluates `script` on `posted`, the Bundles in the order they reached the receiver: the n-th is the request of the
 * script's n-th test. `validate` is the MedCom validation `validateProfileId` stands for.
 */
export function evaluateTestScript(script: TestScript, posted: Bundle[], validate: (bundle: Bundle) => ValidationResult): ScriptResult {
  const tests = script.test ?? [];
  const problems: string[] = [];
  if (posted.length !== tests.length) problems.push(`the script has ${tests.length} tests, and ${posted.length} messages reached the receiver`);
  // Each test posts one fixture; its operation names the id variables read from (`sourceId` of a variable).
  const bundleOf = new Map<string, Bundle>();
  const results = tests.map((test, i): TestResult => {
    const bundle = posted[i];
    const operation = test.action.find((a) => a.operation)?.operation;
    if (bundle) for (const id of [operation?.responseId, operation?.sourceId]) if (id) bundleOf.set(id, bundle);
    const variables = new Map<string, string | undefined>();
    for (const v of script.variable ?? []) {
      const source = v.sourceId ? bundleOf.get(v.sourceId) : undefined;
      variables.set(v.name, source && v.expression ? first(evaluate(v.expression, source)) : undefined);
    }
    const assertions = test.action
      .flatMap((a) => (a.assert && a.assert.direction === 'request' ? [a.assert] : []))
      .map((a) => check(a, bundle, variables, validate, script));
    return {
      id: test.id ?? `test-${i + 1}`,
      name: test.name ?? '',
      messageHeaderId: bundle?.entry?.[0]?.resource?.id,
      assertions,
      passed: assertions.every((a) => a.passed || a.warningOnly),
    };
  });
  return { id: script.id, title: script.title ?? script.id, tests: results, passed: !problems.length && results.every((t) => t.passed), problems };
}

function check(
  a: NonNullable<TestAction['assert']>,
  bundle: Bundle | undefined,
  variables: Map<string, string | undefined>,
  validate: (bundle: Bundle) => ValidationResult,
  script: TestScript,
): AssertionResult {
  const base = { description: a.description ?? '', warningOnly: a.warningOnly === true };
  if (!bundle) return { ...base, check: a.expression ?? a.validateProfileId ?? a.resource ?? '', passed: false, detail: 'no message reached the receiver for this test' };
  if (a.resource) {
    return { ...base, check: `resource ${a.resource}`, passed: bundle.resourceType === a.resource, detail: bundle.resourceType };
  }
  if (a.validateProfileId) {
    const profile = script.profile?.find((p) => p.id === a.validateProfileId)?.reference ?? a.validateProfileId;
    const result = validate(bundle);
    const errors = result.issues.filter((i) => i.severity === 'error');
    return { ...base, check: `validate against ${profile}`, passed: result.valid, detail: errors.length ? errors.map((e) => `${e.path}: ${e.message}`).join('; ') : 'valid' };
  }
  if (!a.expression) return { ...base, check: '', passed: false, detail: 'the assertion has nothing the runner can check' };
  const unbound: string[] = [];
  const expression = a.expression.replace(/('?)\$\{([^}]+)\}('?)/g, (_, open: string, name: string, close: string) => {
    const value = variables.get(name);
    if (value === undefined) {
      unbound.push(name);
      return `${open}${close}`;
    }
    // Quoted in the script: the text goes in as it is; unquoted: as a string literal (see the header).
    return open && close ? `'${escape(value)}'` : `${open}'${escape(value)}'${close}`;
  });
  if (unbound.length) return { ...base, check: expression, passed: false, detail: `the variable(s) ${unbound.join(', ')} got no value from the earlier messages` };
  let values: unknown[];
  try {
    values = evaluate(expression, bundle);
  } catch (error) {
    return { ...base, check: expression, passed: false, detail: `FHIRPath error: ${(error as Error).message}` };
  }
  const shown = JSON.stringify(values);
  const operator = a.operator ?? (a.value === undefined ? undefined : 'equals');
  const texts = values.map(String);
  let passed: boolean;
  switch (operator) {
    case undefined:
      passed = values.length === 1 && values[0] === true;
      break;
    case 'equals':
      passed = texts.length > 0 && texts.every((t) => t === a.value);
      break;
    case 'notEquals':
      passed = texts.length > 0 && texts.every((t) => t !== a.value);
      break;
    case 'in':
      passed = texts.length > 0 && texts.every((t) => (a.value ?? '').split(',').includes(t));
      break;
    case 'notIn':
      passed = texts.every((t) => !(a.value ?? '').split(',').includes(t));
      break;
    case 'contains':
      passed = texts.some((t) => t.includes(a.value ?? ''));
      break;
    case 'notContains':
      passed = texts.every((t) => !t.includes(a.value ?? ''));
      break;
    case 'empty':
      passed = values.length === 0;
      break;
    case 'notEmpty':
      passed = values.length > 0;
      break;
    default:
      return { ...base, check: expression, passed: false, detail: `the operator ${operator} is not one the runner evaluates` };
  }
  return { ...base, check: operator && a.value !== undefined ? `${expression} ${operator} ${a.value}` : expression, passed, detail: shown };
}

/** The expression's values on `bundle`, with Bundle-local references resolving to their entries (see the header). */
function evaluate(expression: string, bundle: Bundle): unknown[] {
  const resolvable = withTargets(bundle);
  const typed = toTypedValue(resolvable);
  const read = expression.replace(/\.reference\.resolve\(\)/g, '.resolve()').replace(/\.\(/g, '.where(').replace(/\.not\b(?!\()/g, '.not()');
  return evalFhirPathTyped(read, [typed], { '%resource': typed }).map((v) => v.value?.valueOf());
}

/** A copy of the Bundle in which every Reference to an entry also carries that entry's resource. */
function withTargets(bundle: Bundle): Bundle {
  const copy = structuredClone(bundle);
  const byReference = new Map<string, unknown>();
  for (const e of copy.entry ?? []) if (e.resource) byReference.set(`${e.resource.resourceType}/${e.resource.id}`, e.resource);
  const seen = new Set<unknown>();
  const visit = (value: unknown): void => {
    if (!value || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    if (Array.isArray(value)) return value.forEach(visit);
    const ref = value as Reference & { resource?: unknown };
    for (const child of Object.values(ref)) visit(child);
    if (typeof ref.reference === 'string' && byReference.has(ref.reference)) ref.resource = byReference.get(ref.reference);
  };
  for (const e of copy.entry ?? []) visit(e.resource);
  return copy;
}

function first(values: unknown[]): string | undefined {
  return values.length ? String(values[0]) : undefined;
}

function escape(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
}
