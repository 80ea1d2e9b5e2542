// FHIR XML, the other wire format MedCom receivers must accept: JSON ⇄ XML through FHIR.js, which matched MedCom's
// own XML examples element for element (docs/architecture.md, "Dependency choices").
//
// Reading XML (acknowledgements, `advis validate`) must not reach out: FHIR.js parses with xml-js over sax, a
// non-validating parser that reads no DTD and expands no external entity; a document with a DOCTYPE is refused
// here anyway, because FHIR XML never has one.

import { Fhir } from 'fhir';
import type { Bundle } from 'fhir/r4';

const fhir = new Fhir();

export function bundleToXml(bundle: Bundle): string {
  return fhir.objToXml(bundle);
}

export function xmlToBundle(xml: string): Bundle {
  if (/<!DOCTYPE/i.test(xml)) throw new Error('FHIR XML has no DOCTYPE: a document with one is refused (no entities are expanded)');
  const resource = fhir.xmlToObj(xml) as { resourceType?: string };
  if (resource?.resourceType !== 'Bundle') throw new Error(`the XML is a ${resource?.resourceType ?? 'document'} resource, not a Bundle`);
  return resource as Bundle;
}
