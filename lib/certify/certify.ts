// `advis certify`: MedCom's sender test run against one site's configuration. Every step of MedCom's sender test
// protocol that the rules decide (cases.ts PROTOCOL_STEPS) and every TouchStone sender script given, each played as
// ADT through the engine and the outbox worker (run.ts), and judged: the protocol's expected outcomes and facts, the
// scripts' own assertions (testscript.ts), and MedCom validation of every Bundle. The result is plain data, written as
// JSON and as a self-contained HTML page (report.ts) that a region hands MedCom with its test.

import type { Encounter, MessageHeader, Organization, Patient, Provenance } from 'fhir/r4';
import type { Site } from '../advis/site';
import type { LoadedPackage } from '../fhir/profiles';
import type { MedComValidator } from '../fhir/validate';
import { castOf, PROTOCOL_STEPS, PROTOCOL_STEPS_ELSEWHERE, TOUCHSTONE_SEQUENCES, type Cast, type ProtocolStep, type Sequence } from './cases';
import { CERTIFICATION_POLICY, runSequence, type SequenceRun, type StepTrace } from './run';
import { evaluateTestScript, type AssertionResult, type TestResult, type TestScript } from './testscript';

/** One Bundle that reached the receiver, as a municipality reads it, with its validation. */
export interface MessageSummary {
  advis: string;
  messageHeaderId: string;
  bundleId: string;
  sender: string;
  receiver: string;
  encounter: { class?: string; status?: string; start?: string; end?: string; leaveStart?: string; leaveEnd?: string };
  episode?: string;
  deceased?: boolean;
  provenance: { activity?: string; target?: string; entity?: string }[];
  valid: boolean;
  errors: string[];
  warnings: number;
}

export type Status = 'passed' | 'failed' | 'not-applicable';

export interface ProtocolResult {
  step: string;
  what: string;
  status: Status;
  /** Why the step does not apply to this site, or what failed. */
  notes: string[];
  expectedOutcomes: string[];
  outcomes: string[];
  steps: StepTrace[];
  messages: MessageSummary[];
  assertions: AssertionResult[];
}

export interface ScriptReport {
  id: string;
  title: string;
  status: Status;
  notes: string[];
  steps: StepTrace[];
  messages: MessageSummary[];
  tests: TestResult[];
}

export interface CertificationReport {
  generatedAt: string;
  engine: { name: string; version: string };
  site: { hospitals: string[]; departments: number; municipalities: number };
  cast: Record<string, string>;
  resendAs: string;
  profiles: string[];
  protocol: ProtocolResult[];
  elsewhere: typeof PROTOCOL_STEPS_ELSEWHERE;
  /** undefined when no TouchStone scripts were given. */
  touchstone: ScriptReport[] | undefined;
  summary: { protocol: Record<Status, number>; touchstone: Record<Status, number> | undefined; passed: boolean };
}

export interface CertifyOptions {
  site: Site;
  validator: MedComValidator;
  profiles: readonly LoadedPackage[];
  /** MedCom's TouchStone sender TestScripts; none given: the report says the step 3.2.1 part was not run, and fails. */
  scripts?: TestScript[];
  engine: { name: string; version: string };
  now?: Date;
}

export async function certify(options: CertifyOptions): Promise<CertificationReport> {
  const { site, validator } = options;
  const cast = castOf(site);
  const protocol: ProtocolResult[] = [];
  for (const step of PROTOCOL_STEPS) protocol.push(await protocolStep(step, cast, site, validator));
  let touchstone: ScriptReport[] | undefined;
  if (options.scripts) {
    touchstone = [];
    for (const script of options.scripts) touchstone.push(await touchstoneScript(script, cast, site, validator));
  }
  const count = (results: { status: Status }[]): Record<Status, number> => ({
    passed: results.filter((r) => r.status === 'passed').length,
    failed: results.filter((r) => r.status === 'failed').length,
    'not-applicable': results.filter((r) => r.status === 'not-applicable').length,
  });
  const summary = { protocol: count(protocol), touchstone: touchstone && count(touchstone), passed: false };
  summary.passed = summary.protocol.failed === 0 && !!summary.touchstone && summary.touchstone.failed === 0 && summary.touchstone.passed === 44;
  const organisation = (d: Cast['department'] | undefined) => (d ? `${d.name} (SOR ${site.departmentOrganisation(d).sor}, GLN ${site.departmentOrganisation(d).gln})` : 'none in this site');
  return {
    generatedAt: (options.now ?? new Date()).toISOString(),
    engine: options.engine,
    site: { hospitals: site.config.hospitals.map((h) => `${h.name} (${h.code}, SOR ${h.sor}, region ${h.region})`), departments: site.config.departments.length, municipalities: site.config.municipalities.length },
    cast: {
      'admitting department': organisation(cast.department),
      'another department of that hospital': organisation(cast.sibling),
      'a department of another hospital of the region': organisation(cast.otherHospital),
      municipality: `${cast.municipality.name} (${cast.municipality.code}, SOR ${cast.municipality.sor})`,
      'test patients': 'MedCom national test CPR numbers 2509479989 (Bruno Test Elmer), 2103009996 (Kaja Test Hansen)',
    },
    resendAs: CERTIFICATION_POLICY.resendAs,
    profiles: options.profiles.map((p) => `${p.name} ${p.version} (${p.source === 'shipped' ? 'shipped' : p.source.directory})`),
    protocol,
    elsewhere: PROTOCOL_STEPS_ELSEWHERE,
    touchstone,
    summary,
  };
}

/** Why the site cannot play a sequence, or undefined. */
function missing(sequence: Sequence, cast: Cast, site: Site): string | undefined {
  switch (sequence.needs) {
    case 'sibling':
      return cast.sibling ? undefined : 'the site has no second somatic department at the admitting hospital';
    case 'otherHospital':
      return cast.otherHospital ? undefined : 'the site has no somatic department at another hospital of the region with another SOR and GLN';
    case 'selfTransport':
      return site.adt.selfTransportDispositions.length ? undefined : 'the site names no self-transport discharge code (adt.selfTransportDispositions)';
    default:
      return undefined;
  }
}

async function protocolStep(step: ProtocolStep, cast: Cast, site: Site, validator: MedComValidator): Promise<ProtocolResult> {
  const base = { step: step.step, what: step.what, expectedOutcomes: step.outcomes };
  const why = missing(step, cast, site);
  if (why) return { ...base, status: 'not-applicable', notes: [why], outcomes: [], steps: [], messages: [], assertions: [] };
  const run = await runSequence(step, cast, site, validator);
  const outcomes = run.steps.flatMap((s) => s.outcomes);
  // The step's facts, written as the assertions of a TestScript with one test per message, so that they are judged
  // exactly as MedCom's scripts are, variables included.
  const script: TestScript = {
    resourceType: 'TestScript',
    id: step.step,
    variable: [
      ...run.posted.flatMap((_, i) => [
        { name: `episode-${i}`, expression: 'Bundle.entry.resource.ofType(Encounter).episodeOfCare.identifier.value', sourceId: `m${i}` },
        { name: `receiver-${i}`, expression: 'Bundle.entry.resource.ofType(MessageHeader).destination.endpoint', sourceId: `m${i}` },
        { name: `source-${i}`, expression: 'Bundle.entry.resource.ofType(MessageHeader).source.endpoint', sourceId: `m${i}` },
      ]),
      { name: 'municipality', expression: `'${cast.municipality.sor}'`, sourceId: 'm0' },
    ],
    test: run.posted.map((_, i) => ({
      id: `message-${i + 1}`,
      name: `message ${i + 1}`,
      action: [
        { operation: { responseId: `m${i}` } },
        { assert: { direction: 'request' as const, description: 'valid against the MedCom profiles', validateProfileId: 'hospitalnotification' } },
        ...step.assertions.filter((a) => a.message === i).map((a) => ({ assert: { direction: 'request' as const, description: a.description, expression: a.expression } })),
      ],
    })),
  };
  const evaluated = evaluateTestScript(script, run.posted.map((p) => p.bundle), (b) => validator.validate(b));
  const assertions = evaluated.tests.flatMap((t) => t.assertions.map((a) => ({ ...a, description: `${t.name}: ${a.description}` })));
  const notes: string[] = [];
  if (outcomes.join(' ') !== step.outcomes.join(' ')) notes.push(`expected ${step.outcomes.join(', ')}; the engine gave ${outcomes.join(', ')}`);
  const unmet = step.assertions.filter((a) => a.message >= run.posted.length);
  if (unmet.length) notes.push(`${unmet.length} fact(s) are about messages that never reached the receiver`);
  notes.push(...assertions.filter((a) => !a.passed).map((a) => `${a.description}: ${a.detail}`));
  return { ...base, status: notes.length ? 'failed' : 'passed', notes, outcomes, steps: run.steps, messages: summaries(run), assertions };
}

async function touchstoneScript(script: TestScript, cast: Cast, site: Site, validator: MedComValidator): Promise<ScriptReport> {
  const base = { id: script.id, title: script.title ?? script.id };
  const sequence = TOUCHSTONE_SEQUENCES[script.id];
  if (!sequence) return { ...base, status: 'failed', notes: ['no ADT sequence is known for this script (not one of the 44 sender scripts of HospitalNotification 3.0.x)'], steps: [], messages: [], tests: [] };
  const why = missing(sequence, cast, site);
  if (why) return { ...base, status: 'failed', notes: [`${why}: MedCom's script needs it`], steps: [], messages: [], tests: [] };
  const run = await runSequence(sequence, cast, site, validator);
  const result = evaluateTestScript(script, run.posted.map((p) => p.bundle), (b) => validator.validate(b));
  const notes = [...result.problems, ...result.tests.flatMap((t) => t.assertions.filter((a) => !a.passed && !a.warningOnly).map((a) => `${t.name}: ${a.description} (${a.detail})`))];
  return { ...base, status: result.passed ? 'passed' : 'failed', notes, steps: run.steps, messages: summaries(run), tests: result.tests };
}

function summaries(run: SequenceRun): MessageSummary[] {
  return run.posted.map(({ bundle, validation, advis }) => {
    const of = <T>(type: string) => (bundle.entry ?? []).map((e) => e.resource).filter((r) => r?.resourceType === type) as T[];
    const header = of<MessageHeader>('MessageHeader')[0];
    const encounter = of<Encounter>('Encounter')[0];
    const organisation = (reference: string | undefined) => {
      const o = of<Organization>('Organization').find((x) => `Organization/${x.id}` === reference);
      return o ? `${o.name ?? ''} (SOR ${o.identifier?.find((i) => i.system === 'urn:oid:1.2.208.176.1.1')?.value ?? '?'})` : (reference ?? '');
    };
    const leave = encounter?.extension?.[0]?.valuePeriod;
    const deceased = of<Patient>('Patient')[0]?.deceasedBoolean;
    return {
      advis,
      messageHeaderId: header?.id ?? '',
      bundleId: bundle.id ?? '',
      sender: organisation(header?.sender?.reference),
      receiver: organisation(header?.destination?.[0]?.receiver?.reference),
      encounter: {
        ...(encounter?.class?.code && { class: encounter.class.code }),
        ...(encounter?.status && { status: encounter.status }),
        ...(encounter?.period?.start && { start: encounter.period.start }),
        ...(encounter?.period?.end && { end: encounter.period.end }),
        ...(leave?.start && { leaveStart: leave.start }),
        ...(leave?.end && { leaveEnd: leave.end }),
      },
      ...(encounter?.episodeOfCare?.[0]?.identifier?.value && { episode: encounter.episodeOfCare[0].identifier.value }),
      ...(deceased !== undefined && { deceased }),
      provenance: of<Provenance>('Provenance').map((p) => ({
        ...(p.activity?.coding?.[0]?.code && { activity: p.activity.coding[0].code }),
        ...(p.target?.[0]?.reference && { target: p.target[0].reference }),
        ...(p.entity?.[0] && { entity: `${p.entity[0].role} of ${p.entity[0].what.reference ?? ''}` }),
      })),
      valid: validation.valid,
      errors: validation.issues.filter((i) => i.severity === 'error').map((i) => `${i.path}: ${i.message}`),
      warnings: validation.issues.filter((i) => i.severity === 'warning').length,
    };
  });
}
