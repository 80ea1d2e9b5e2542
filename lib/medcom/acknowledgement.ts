// MedCom Acknowledgement (IG 2.0.3; docs/delivery.md): reading the acknowledgements municipalities return for our
// HospitalNotifications, and building them for simulators and tests.
//
// An acknowledgement is correlated by MessageHeader.response.identifier, which quotes the MessageHeader.id of the
// acknowledged message (governance 052.2). That id stays the same when a message is resent, so an acknowledgement of
// any transmission settles the outbox entry.

import type { Bundle, BundleEntry, FhirResource, MessageHeader, OperationOutcome, OperationOutcomeIssue, Organization, Provenance } from 'fhir/r4';
import type { MedComValidator, ValidationResult } from '../fhir/validate';
import { MedComError } from './errors';
import { currentProvenance, detectFormat, messageHeaderOf, partyOf, readBundle, resolve, resourcesOf, type Party, type WireFormat } from './message';

/** FHIR response codes; MedCom: ok = AA, transient-error = AR (try again), fatal-error = AE (content rejected). */
export type AcknowledgementCode = 'ok' | 'transient-error' | 'fatal-error';

export interface AcknowledgementIssue {
  severity: OperationOutcomeIssue['severity'];
  /** The FHIR issue type, e.g. `structure`, `value`, `transient`. */
  code: string;
  /** The MedCom error code from details.coding, e.g. `MSG_VALUESET_VALUE_UNKNOWN`, when given. */
  detail?: string;
  /** details.text, or diagnostics, or the coding's display: whatever the receiver wrote for people. */
  text?: string;
}

export interface Acknowledgement {
  /** MessageHeader.response.identifier: the MessageHeader.id of the acknowledged message (the outbox key). */
  acknowledges: string;
  code: AcknowledgementCode;
  /** The OperationOutcome as one line for logs and operators, e.g. `error structure MSG_VALUESET_VALUE_UNKNOWN`; '' when there is none. */
  text: string;
  issues: AcknowledgementIssue[];
  /** Who sent the acknowledgement (the receiver of our message) and to whom. */
  sender: Party;
  receiver: Party;
  bundleId: string;
  messageHeaderId: string;
  timestamp?: string;
  /** The validator's findings, when a validator was given: MedCom requires received acknowledgements to be validated. */
  validation?: ValidationResult;
}

export interface ParseAcknowledgementOptions {
  /** The body's format; by default read from its first character (a VANS envelope's MCM:MIME tag also says it). */
  format?: WireFormat;
  validator?: MedComValidator;
}

const ACK_PROFILE = {
  message: 'http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-messaging-acknowledgement',
  messageHeader: 'http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-messaging-acknowledgementHeader',
  operationOutcome: 'http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-acknowledgement-operationoutcome',
  organization: 'http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-organization',
  provenance: 'http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-provenance',
} as const;

const SYSTEM = {
  eventCodes: 'http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes',
  destinationUse: 'http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-destinationUse',
  activityCodes: 'http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-activityCodes',
  errorCodes: 'http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-acknowledgement-error-codes',
} as const;
const DESTINATION_USE = 'http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-destinationUseExtension';
/** fullUrl base of MedCom's acknowledgement examples (as lib/fhir/bundle.ts uses the HospitalNotification one). */
const FULL_URL_BASE = 'https://medcomfhir.dk/ig/acknowledgement/';

const CODES: readonly string[] = ['ok', 'transient-error', 'fatal-error'] satisfies AcknowledgementCode[];

/**
 * Reads an acknowledgement (FHIR JSON or XML). Throws MedComError `malformed` (unreadable), `not-message` (not an
 * acknowledgement) or `incomplete-message` (no response identifier or code). Profile findings do not throw: they are
 * in `validation`, for the caller to log.
 */
export function parseAcknowledgement(body: string, options: ParseAcknowledgementOptions = {}): Acknowledgement {
  const bundle = readBundle(body, options.format ?? detectFormat(body));
  const header = bundle.entry?.[0]?.resource;
  if (header?.resourceType !== 'MessageHeader' || header.eventCoding?.code !== 'acknowledgement-message') {
    throw new MedComError('not-message', 'the Bundle is not a MedCom acknowledgement: its first entry is not a MessageHeader with event acknowledgement-message');
  }
  const response = header.response;
  if (!response?.identifier) throw new MedComError('incomplete-message', 'the acknowledgement has no MessageHeader.response.identifier');
  if (!CODES.includes(response.code)) throw new MedComError('incomplete-message', 'MessageHeader.response.code is none of ok, transient-error, fatal-error');

  // The OperationOutcome that response.details points at; one without the reference is still read, not lost.
  const outcome = resolve(bundle, response.details?.reference) ?? resourcesOf<OperationOutcome>(bundle, 'OperationOutcome')[0];
  const issues = outcome?.resourceType === 'OperationOutcome' ? outcome.issue.map(issueOf) : [];
  return {
    acknowledges: response.identifier,
    code: response.code as AcknowledgementCode,
    text: issues.map((i) => [i.severity, i.code, i.detail, i.text].filter(Boolean).join(' ')).join('; '),
    issues,
    sender: partyOf(bundle, header.sender?.reference),
    receiver: partyOf(bundle, header.destination?.[0]?.receiver?.reference),
    bundleId: bundle.id ?? '',
    messageHeaderId: header.id ?? '',
    ...(bundle.timestamp ? { timestamp: bundle.timestamp } : {}),
    ...(options.validator ? { validation: options.validator.validate(bundle) } : {}),
  };
}

function issueOf(issue: OperationOutcomeIssue): AcknowledgementIssue {
  const coding = issue.details?.coding?.[0];
  const text = issue.details?.text ?? issue.diagnostics ?? coding?.display;
  return { severity: issue.severity, code: issue.code, ...(coding?.code ? { detail: coding.code } : {}), ...(text ? { text } : {}) };
}

export interface AcknowledgementInput {
  /** The message being acknowledged, as received. */
  message: Bundle;
  code: AcknowledgementCode;
  /** Required unless `code` is ok (invariant medcom-acknowledgement-1); `detail` is a MedCom error code. */
  issues?: AcknowledgementIssue[];
  /** The send time: Bundle.timestamp and the acknowledgement Provenance's occurred/recorded. */
  now: string;
  newId: () => string;
}

/**
 * An acknowledgement as MedCom's examples build one: the receiver of the message answers its sender, quoting the
 * MessageHeader.id, with exactly two Provenances (the acknowledged message's own and one for the acknowledgement,
 * governance-for-acknowledgement §1.3) and an OperationOutcome unless the code is ok.
 */
export function buildAcknowledgement(input: AcknowledgementInput): Bundle {
  const original = messageHeaderOf(input.message);
  const issues = input.issues ?? [];
  if (input.code !== 'ok' && !issues.length) throw new MedComError('invalid-value', `a ${input.code} acknowledgement needs at least one issue`);

  const originalSender = organisation(input.message, original.sender?.reference, 'sender');
  const originalReceiver = organisation(input.message, original.destination?.[0]?.receiver?.reference, 'primary receiver');
  const headerId = input.newId();
  const outcome: OperationOutcome | undefined = issues.length
    ? {
        resourceType: 'OperationOutcome',
        id: input.newId(),
        meta: { profile: [ACK_PROFILE.operationOutcome] },
        issue: issues.map((i) => ({
          severity: i.severity,
          code: i.code as OperationOutcomeIssue['code'],
          ...(i.detail || i.text
            ? { details: { ...(i.detail ? { coding: [{ system: SYSTEM.errorCodes, code: i.detail }] } : {}), ...(i.text ? { text: i.text } : {}) } }
            : {}),
        })),
      }
    : undefined;

  const header: MessageHeader = {
    resourceType: 'MessageHeader',
    id: headerId,
    meta: { profile: [ACK_PROFILE.messageHeader] },
    text: {
      status: 'generated',
      div: `<div xmlns="http://www.w3.org/1999/xhtml"><p><b>Kvittering</b>: ${input.code}</p><p><b>Besked</b>: ${original.id}</p></div>`,
    },
    eventCoding: { system: SYSTEM.eventCodes, code: 'acknowledgement-message' },
    destination: [
      {
        extension: [{ url: DESTINATION_USE, valueCoding: { system: SYSTEM.destinationUse, code: 'primary' } }],
        // Back to where the message came from: its source is "the target for the Acknowledgement message".
        endpoint: endpoint(original.source?.endpoint, 'source'),
        receiver: { reference: `Organization/${originalSender.id}` },
      },
    ],
    sender: { reference: `Organization/${originalReceiver.id}` },
    source: { endpoint: endpoint(original.destination?.[0]?.endpoint, 'destination') },
    response: {
      identifier: original.id!,
      code: input.code,
      ...(outcome ? { details: { reference: `OperationOutcome/${outcome.id}` } } : {}),
    },
  };

  // The acknowledged message's own Provenance, its agent pointed at that message's sender as it is in this Bundle.
  const acknowledged: Provenance = { ...structuredClone(currentProvenance(input.message)), agent: [{ who: { reference: `Organization/${originalSender.id}` } }] };
  const acknowledgement: Provenance = {
    resourceType: 'Provenance',
    id: input.newId(),
    meta: { profile: [ACK_PROFILE.provenance] },
    target: [{ reference: `MessageHeader/${headerId}` }],
    occurredDateTime: input.now,
    recorded: input.now,
    activity: { coding: [{ system: SYSTEM.activityCodes, code: 'acknowledgement' }] },
    agent: [{ who: { reference: `Organization/${originalReceiver.id}` } }],
    entity: [{ role: 'revision', what: { reference: `MessageHeader/${original.id}` } }],
  };

  const resources: FhirResource[] = [header, acknowledged, acknowledgement, originalReceiver, originalSender, ...(outcome ? [outcome] : [])];
  return {
    resourceType: 'Bundle',
    id: input.newId(),
    meta: { profile: [ACK_PROFILE.message] },
    type: 'message',
    timestamp: input.now,
    entry: resources.map((resource): BundleEntry => ({ fullUrl: `${FULL_URL_BASE}${resource.resourceType}/${resource.id}`, resource })),
  };
}

/** An organisation of the acknowledged message, copied with its identifiers and name (no narrative, as in MedCom's examples). */
function organisation(message: Bundle, reference: string | undefined, role: string): Organization {
  const org = resolve(message, reference);
  if (org?.resourceType !== 'Organization' || !org.id) throw new MedComError('incomplete-message', `the message's ${role} Organization is not in the Bundle`);
  return { resourceType: 'Organization', id: org.id, meta: { profile: [ACK_PROFILE.organization] }, ...(org.identifier ? { identifier: org.identifier } : {}), ...(org.name ? { name: org.name } : {}) };
}

function endpoint(value: string | undefined, element: string): string {
  if (!value) throw new MedComError('incomplete-message', `the message's MessageHeader has no ${element} endpoint`);
  return value;
}
