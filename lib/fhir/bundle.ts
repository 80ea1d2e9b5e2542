// Builds a MedCom HospitalNotification message (IG 3.0.x): a Bundle of type message with the MessageHeader first,
// then Patient, Encounter, the Organizations every reference needs, and the stay's Provenance chain plus one new
// Provenance for this message (docs/mapping.md §2–§3).
//
// The builder decides nothing: the rules (lib/advis) say which advis, with which Encounter values, to whom. It only
// turns that into FHIR exactly as MedCom's 3.0.2 examples do, so every Bundle it makes validates against the profiles.

import type { Bundle, BundleEntry, Encounter, Extension, FhirResource, MessageHeader, Organization, Patient, Provenance } from 'fhir/r4';
import { sorEndpoint } from '../advis/site';
import type { AdvisPlan, OrganisationRef, ProvenanceRecord } from '../advis/types';

export const PROFILE = {
  message: 'http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-hospitalNotification-message',
  messageHeader: 'http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-hospitalNotification-messageHeader',
  encounter: 'http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-hospitalNotification-encounter',
  patient: 'http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-patient',
  organization: 'http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-organization',
  provenance: 'http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-provenance',
} as const;

const EXT = {
  reportOfAdmission: 'http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-messaging-reportOfAdmissionExtension',
  reportOfAdmissionRecipient:
    'http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-messaging-reportOfAdmissionRecipientExtension',
  destinationUse: 'http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-destinationUseExtension',
  // "notifiation" is MedCom's spelling of the canonical URL.
  leavePeriod: 'http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-hospitalnotifiation-leave-period-extension',
} as const;

const SYSTEM = {
  cpr: 'urn:oid:1.2.208.176.1.2',
  sor: 'urn:oid:1.2.208.176.1.1',
  gln: 'https://www.gs1.org/gln',
  actCode: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  eventCodes: 'http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes',
  destinationUse: 'http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-destinationUse',
  activityCodes: 'http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-activityCodes',
} as const;

/** fullUrl base of MedCom's 3.0.2 examples, which moved from relative to absolute fullUrls to satisfy the validator. */
const FULL_URL_BASE = 'https://medcomfhir.dk/ig/hospitalnotification/';

/** An advis plan with the patient it is about and the stay's Provenance chain so far (carried forward unchanged). */
export interface HospitalNotificationContent extends AdvisPlan {
  patient: { cpr: string; family: string; given?: string[] };
  previous: ProvenanceRecord[];
}

export interface BuiltNotification {
  bundle: Bundle;
  messageHeaderId: string;
  /** The Provenance this message added: the next message carries it forward. */
  provenance: ProvenanceRecord;
}

/**
 * Makes the Bundle. `now` is the send time (Bundle.timestamp, Provenance occurred/recorded); `newId` gives a fresh
 * UUID per call (Bundle, MessageHeader and every resource get new ids in every message, as MedCom requires for the
 * first two and does in its own examples for the rest).
 */
export function buildHospitalNotification(content: HospitalNotificationContent, now: string, newId: () => string): BuiltNotification {
  const messageHeaderId = newId();
  const provenance: ProvenanceRecord = {
    id: newId(),
    target: messageHeaderId,
    activity: content.activity,
    occurred: now,
    agent: content.sender,
    ...(content.entity ? { entity: content.entity } : {}),
  };

  // One Organization per distinct organisation referenced anywhere (sender, receiver, earlier agents).
  const organisations = new Map<string, { id: string; org: OrganisationRef }>();
  const organisationRef = (org: OrganisationRef): string => {
    const key = `${org.sor}|${org.gln}`;
    let entry = organisations.get(key);
    if (!entry) organisations.set(key, (entry = { id: newId(), org }));
    return `Organization/${entry.id}`;
  };
  const senderRef = organisationRef(content.sender);
  const receiverRef = organisationRef(content.receiver);
  const chain = [...content.previous, provenance];
  const provenanceResources = chain.map((p) => provenanceResource(p, organisationRef(p.agent)));

  const patientId = newId();
  const encounterId = newId();
  const header = messageHeader(messageHeaderId, content, senderRef, receiverRef, `Encounter/${encounterId}`);
  const resources: FhirResource[] = [
    header,
    patientResource(patientId, content.patient, content.deceased),
    encounterResource(encounterId, content, `Patient/${patientId}`, senderRef),
    ...[...organisations.values()].map(({ id, org }) => organizationResource(id, org)),
    ...provenanceResources,
  ];
  const bundle: Bundle = {
    resourceType: 'Bundle',
    id: newId(),
    meta: { profile: [PROFILE.message] },
    type: 'message',
    timestamp: now,
    entry: resources.map((resource): BundleEntry => ({ fullUrl: `${FULL_URL_BASE}${resource.resourceType}/${resource.id}`, resource })),
  };
  return { bundle, messageHeaderId, provenance };
}

function messageHeader(id: string, c: HospitalNotificationContent, senderRef: string, receiverRef: string, focus: string): MessageHeader {
  const extension: Extension[] = [];
  if (c.reportOfAdmission !== undefined) {
    extension.push({ url: EXT.reportOfAdmission, valueBoolean: c.reportOfAdmission });
    // The recipient of the report of admission is the sending department, as in MedCom's examples.
    if (c.reportOfAdmission) extension.push({ url: EXT.reportOfAdmissionRecipient, valueReference: { reference: senderRef } });
  }
  return {
    resourceType: 'MessageHeader',
    id,
    meta: { profile: [PROFILE.messageHeader] },
    text: narrative([
      ['Advis', c.advis],
      ['Afsender', c.sender.name],
      ['Modtager', c.receiver.name],
    ]),
    ...(extension.length ? { extension } : {}),
    eventCoding: { system: SYSTEM.eventCodes, code: 'hospital-notification-message' },
    destination: [
      {
        extension: [{ url: EXT.destinationUse, valueCoding: { system: SYSTEM.destinationUse, code: 'primary' } }],
        endpoint: sorEndpoint(c.receiver.sor),
        receiver: { reference: receiverRef },
      },
    ],
    sender: { reference: senderRef },
    source: { endpoint: sorEndpoint(c.sender.sor) },
    focus: [{ reference: focus }],
  };
}

function patientResource(id: string, p: HospitalNotificationContent['patient'], deceased: boolean | undefined): Patient {
  // MedCom: "shall not contain more information than necessary": the CPR number and the official name only.
  return {
    resourceType: 'Patient',
    id,
    meta: { profile: [PROFILE.patient] },
    text: narrative([['Navn', [...(p.given ?? []), p.family].join(' ')]]),
    identifier: [{ system: SYSTEM.cpr, value: p.cpr }],
    name: [{ use: 'official', family: p.family, ...(p.given?.length ? { given: p.given } : {}) }],
    ...(deceased !== undefined ? { deceasedBoolean: deceased } : {}),
  };
}

function encounterResource(id: string, c: HospitalNotificationContent, subject: string, serviceProvider: string): Encounter {
  const e = c.encounter;
  const leave = e.leaveStart ? { start: e.leaveStart, ...(e.leaveEnd ? { end: e.leaveEnd } : {}) } : undefined;
  return {
    resourceType: 'Encounter',
    id,
    meta: { profile: [PROFILE.encounter] },
    text: narrative([
      ['Status', e.status],
      ['Klasse', e.class],
      ['Start', e.periodStart],
      ...(e.periodEnd ? [['Slut', e.periodEnd] as [string, string]] : []),
      ...(leave ? [['Orlov', `${leave.start}${leave.end ? ` – ${leave.end}` : ''}`] as [string, string]] : []),
    ]),
    ...(leave ? { extension: [{ url: EXT.leavePeriod, valuePeriod: leave }] } : {}),
    status: e.status,
    class: { system: SYSTEM.actCode, code: e.class },
    subject: { reference: subject },
    episodeOfCare: [{ identifier: { system: c.episode.system, value: c.episode.value } }],
    period: { start: e.periodStart, ...(e.periodEnd ? { end: e.periodEnd } : {}) },
    serviceProvider: { reference: serviceProvider },
  };
}

function organizationResource(id: string, org: OrganisationRef): Organization {
  return {
    resourceType: 'Organization',
    id,
    meta: { profile: [PROFILE.organization] },
    text: narrative([['Navn', org.name], ['SOR', org.sor], ['GLN', org.gln]]),
    identifier: [
      { system: SYSTEM.gln, value: org.gln },
      { system: SYSTEM.sor, value: org.sor },
    ],
    name: org.name,
  };
}

function provenanceResource(p: ProvenanceRecord, agentRef: string): Provenance {
  return {
    resourceType: 'Provenance',
    id: p.id,
    meta: { profile: [PROFILE.provenance] },
    text: narrative([['Aktivitet', p.activity], ['Tidspunkt', p.occurred]]),
    target: [{ reference: `MessageHeader/${p.target}` }],
    occurredDateTime: p.occurred,
    recorded: p.occurred,
    activity: { coding: [{ system: SYSTEM.activityCodes, code: p.activity }] },
    agent: [{ who: { reference: agentRef } }],
    ...(p.entity ? { entity: [{ role: p.entity.role, what: { reference: `MessageHeader/${p.entity.messageHeaderId}` } }] } : {}),
  };
}

/** A small XHTML narrative: MedCom requires text on the MessageHeader and shows it to municipal staff. */
function narrative(rows: [string, string][]): { status: 'generated'; div: string } {
  const body = rows.map(([label, value]) => `<p><b>${escapeXml(label)}</b>: ${escapeXml(value)}</p>`).join('');
  return { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${body}</div>` };
}

function escapeXml(s: string): string {
  return s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);
}
