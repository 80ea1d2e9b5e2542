// Plays one ADT sequence (lib/certify/cases.ts) through the engine and the delivery layer into a receiver that keeps
// what reaches it, the way a certifier's test receiver does: a store of its own per sequence (so no other stay of the
// test patient is in play), the site's configuration, the validator of the shipped profiles, the outbox worker with
// its real resend rules, and a clock that moves only when the sequence says so.

import type { Bundle } from 'fhir/r4';
import type { Site } from '../advis/site';
import { OutboxWorker, type DeliveryReceipt, type OutgoingMessage, type Sink } from '../delivery';
import { createAdvisEngine } from '../engine/engine';
import type { AdvisOutcome } from '../engine/outcome';
import type { MedComValidator, ValidationResult } from '../fhir/validate';
import { parseAdt } from '../hl7';
import { currentProvenance, DEFAULT_RETRY_POLICY, messageHeaderOf, type RetryPolicy } from '../medcom';
import { openMemoryStore } from '../store';
import { adtMessage } from './adt';
import { TEST_PATIENTS, type Cast, type Sequence } from './cases';

/** What one step did: the ADT it fed (or the silence) and the outcomes the engine recorded. */
export interface StepTrace {
  /** The HL7 message, segments on lines of their own; undefined for a silence or a wait. */
  adt?: string;
  event?: string;
  /** What the engine decided: an advis type, `none:<reason>`, or `deferred` (a pre-registration). */
  outcomes: string[];
}

function outcome(o: AdvisOutcome): string {
  return o.advis ?? (o.reason === 'deferred' ? 'deferred' : `none:${o.reason}`);
}

export interface PostedMessage {
  /** The advis type, as the outbox entry has it (a resend as a new message: that of the message it revises). */
  advis: string;
  bundle: Bundle;
  validation: ValidationResult;
}

export interface SequenceRun {
  steps: StepTrace[];
  /** The Bundles that reached the receiver, in order: first transmissions and resends. */
  posted: PostedMessage[];
}

/** When the run's clock starts: after every event time of the sequences, so nothing is taken for a pre-registration. */
const START = Date.parse('2026-01-01T00:00:00Z');

/** The resend policy of a certification run: MedCom's, resending as new messages, as TouchStone PF-send-tec-03 expects. */
export const CERTIFICATION_POLICY: RetryPolicy = { ...DEFAULT_RETRY_POLICY, resendAs: 'new-message' };

export async function runSequence(sequence: Sequence, cast: Cast, site: Site, validator: MedComValidator): Promise<SequenceRun> {
  let now = START;
  const clock = () => new Date(now);
  const posted: PostedMessage[] = [];
  const store = openMemoryStore();
  const advisOf = new Map<string, string>();
  const receiver: Sink = {
    async deliver(message: OutgoingMessage): Promise<DeliveryReceipt> {
      const bundle = JSON.parse(String(message.body)) as Bundle;
      const id = messageHeaderOf(bundle).id!;
      const revised = currentProvenance(bundle).entity?.[0]?.what.reference?.replace('MessageHeader/', '');
      const advis = (await store.getOutbox(id))?.advis ?? (revised && advisOf.get(revised)) ?? '?';
      advisOf.set(id, advis);
      posted.push({ advis, bundle, validation: validator.validate(bundle) });
      return { outcome: 'delivered', status: 200 };
    },
    async close() {},
  };
  const worker = new OutboxWorker({ store, transport: { kind: 'rest', sink: receiver }, concurrency: 1, policy: CERTIFICATION_POLICY, now: clock, validator });
  const engine = createAdvisEngine({ store, site, validator, patientKeySecret: 'advis certify', now: clock });
  const steps: StepTrace[] = [];
  try {
    let n = 0;
    for (const step of sequence.steps) {
      if (step.kind !== 'adt') {
        now += step.kind === 'silence' ? CERTIFICATION_POLICY.ackTimeoutMs + 1000 : step.hours * 3_600_000;
        const released = step.kind === 'wait' ? (await engine.releaseDue()).outcomes : [];
        await worker.tick();
        steps.push({ outcomes: released.map(outcome) });
        continue;
      }
      const department = (step.role && cast[step.role]) || cast.department;
      const patient = TEST_PATIENTS[step.patient ?? 0];
      // The site's own self-transport code, for the protocol step that needs one (cases.ts `needs: 'selfTransport'`).
      const disposition = step.adt.disposition === 'self-transport' ? site.adt.selfTransportDispositions[0] : step.adt.disposition;
      const text = adtMessage({
        ...step.adt,
        ...(disposition ? { disposition } : {}),
        id: `CERT-${String(++n).padStart(3, '0')}`,
        sendingFacility: cast.sendingFacility,
        cpr: patient.cpr,
        name: patient.name,
        municipality: cast.municipality.code,
        department: department.code,
        hospital: department.hospital,
        visit: step.visit ?? 'CERT-V1',
      });
      const parsed = parseAdt(text, site.adt);
      if (!parsed.ok) throw parsed.error;
      const result = await engine.process(parsed.adt);
      now += 1000;
      await worker.tick();
      steps.push({ adt: text.replace(/\r/g, '\n').trimEnd(), event: step.adt.event, outcomes: result.outcomes.map(outcome) });
    }
  } finally {
    await worker.stop();
    await store.close();
  }
  return { steps, posted };
}
