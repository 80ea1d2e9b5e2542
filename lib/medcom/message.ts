// Reading and writing MedCom messages on the wire, and finding the parts of them the delivery layer works with:
// the MessageHeader, the Provenance of the current message, and the organisations at either end.
//
// FHIR XML goes through lib/fhir/xml.ts (FHIR.js), after a strict well-formedness check here: FHIR.js reads a
// truncated document without complaint, and a cut-off acknowledgement must be refused, not half read. Both refuse a
// DOCTYPE and neither expands an entity, so an inbound file cannot make the engine read a local file or reach the
// network.

import { DOMParser } from '@xmldom/xmldom';
import type { Document } from '@xmldom/xmldom';
import type { Bundle, FhirResource, MessageHeader, Organization, Provenance } from 'fhir/r4';
import { bundleToXml, xmlToBundle } from '../fhir/xml';
import { MedComError } from './errors';

/** FHIR JSON or FHIR XML: MedCom receivers must accept both (the same two values as an outbox entry's `format`). */
export type WireFormat = 'json' | 'xml';

const GLN_SYSTEM = 'https://www.gs1.org/gln';
const SOR_SYSTEM = 'urn:oid:1.2.208.176.1.1';

/** An organisation as the delivery layer reports it: GLN (the VANS address), SOR id and name, each if present. */
export interface Party {
  gln?: string;
  sor?: string;
  name?: string;
}

/** The format of a body by its first character; `{` is JSON, `<` is XML (after whitespace and a byte order mark). */
export function detectFormat(body: string): WireFormat {
  const first = body.replace(/^\uFEFF/, '').trimStart()[0];
  if (first === '{') return 'json';
  if (first === '<') return 'xml';
  throw new MedComError('malformed', 'the body is neither FHIR JSON nor FHIR XML');
}

export function readBundle(body: string, format: WireFormat): Bundle {
  let resource: { resourceType?: unknown };
  try {
    if (format === 'xml') parseXml(body);
    resource = format === 'json' ? (JSON.parse(body) as { resourceType?: unknown }) : xmlToBundle(body);
  } catch (error) {
    if (error instanceof MedComError) throw error;
    // Not the parser's message: V8's JSON errors quote the text around the fault, which could be personal data.
    throw new MedComError('malformed', `the body is not readable FHIR ${format.toUpperCase()}`, { cause: error });
  }
  if (resource?.resourceType !== 'Bundle') throw new MedComError('not-message', 'the body is not a FHIR Bundle');
  return resource as Bundle;
}

/**
 * A strict, non-validating XML parse with @xmldom/xmldom (no dependencies, loads no DTD, expands no entity): any
 * error, not just a fatal one, refuses the document, and so does a DOCTYPE, which no MedCom document has.
 */
export function parseXml(xml: string): Document {
  if (/<!DOCTYPE/i.test(xml)) throw new MedComError('malformed', 'a document with a DOCTYPE is refused (no entities are expanded)');
  try {
    return new DOMParser({
      onError: (level, message) => {
        if (level !== 'warning') throw new Error(message);
      },
    }).parseFromString(xml, 'text/xml');
  } catch (error) {
    throw new MedComError('malformed', `not well-formed XML: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
}

export function writeBundle(bundle: Bundle, format: WireFormat): string {
  return format === 'json' ? JSON.stringify(bundle) : bundleToXml(bundle);
}

/** The MessageHeader, which FHIR messaging puts first in the Bundle. */
export function messageHeaderOf(bundle: Bundle): MessageHeader {
  const header = bundle.entry?.[0]?.resource;
  if (bundle.type !== 'message' || header?.resourceType !== 'MessageHeader' || !header.id) {
    throw new MedComError('incomplete-message', 'the Bundle is not a FHIR message: its first entry is not a MessageHeader with an id');
  }
  return header;
}

/**
 * The Provenance of the message itself: the one whose target is this Bundle's MessageHeader. The others were carried
 * forward from earlier messages of the stay and describe those.
 */
export function currentProvenance(bundle: Bundle): Provenance {
  const target = `MessageHeader/${messageHeaderOf(bundle).id}`;
  const found = resourcesOf<Provenance>(bundle, 'Provenance').find((p) => p.target?.some((t) => t.reference === target));
  if (!found) throw new MedComError('incomplete-message', 'no Provenance of the message targets its MessageHeader');
  return found;
}

export function resourcesOf<T extends FhirResource>(bundle: Bundle, type: T['resourceType']): T[] {
  return (bundle.entry ?? []).map((e) => e.resource).filter((r): r is T => r?.resourceType === type);
}

/**
 * The entry a reference inside the Bundle points at. MedCom references are relative (`Organization/<id>`); an
 * absolute one is matched against the entries' fullUrl.
 */
export function resolve(bundle: Bundle, reference: string | undefined): FhirResource | undefined {
  if (!reference) return undefined;
  return bundle.entry?.find((e) => {
    const r = e.resource;
    return (r && `${r.resourceType}/${r.id}` === reference) || e.fullUrl === reference;
  })?.resource;
}

export function partyOf(bundle: Bundle, reference: string | undefined): Party {
  const org = resolve(bundle, reference);
  if (org?.resourceType !== 'Organization') return {};
  return partyOfOrganization(org);
}

function partyOfOrganization(org: Organization): Party {
  const id = (system: string) => org.identifier?.find((i) => i.system === system)?.value;
  const party: Party = {};
  const gln = id(GLN_SYSTEM);
  const sor = id(SOR_SYSTEM);
  if (gln) party.gln = gln;
  if (sor) party.sor = sor;
  if (org.name) party.name = org.name;
  return party;
}
