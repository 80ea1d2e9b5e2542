// HospitalNotifications for the MedCom delivery tests, built by the project's own builder with counted ids, so the
// tests need no shared material to have real messages to envelope, acknowledge and resend.
import { expect } from 'chai';
import type { Bundle } from 'fhir/r4';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sorEndpoint } from '../../lib/advis/site';
import type { EncounterSnapshot, OrganisationRef, ProvenanceRecord, Receiver } from '../../lib/advis/types';
import { buildHospitalNotification, type BuiltNotification } from '../../lib/fhir/bundle';
import { MedComError } from '../../lib/medcom/errors';

export const hospital: OrganisationRef = { name: 'Hjerteafdelingen', sor: '265161000016000', gln: '5790000209354' };
export const municipality: Receiver = { municipalityCode: '0163', name: 'Sygehusadviser, Herlev Kommune', sor: '953741000016009', gln: '5790001348120' };

/** UUIDs that count up, in a form the VANS XSD and the FHIR validator accept. */
export function counter(prefix = '00000000'): () => string {
  let n = 0;
  return () => `${prefix}-0000-4000-8000-${String(++n).padStart(12, '0')}`;
}

const start = '2025-03-11T07:55:00+01:00';
const inpatient: EncounterSnapshot = { class: 'IMP', status: 'in-progress', periodStart: start };

/** STIN, then SLHJ carrying the STIN's Provenance: the second message has a chain of two. */
export function admissionAndDischarge(newId = counter()): [BuiltNotification, BuiltNotification] {
  const base = {
    episode: { system: sorEndpoint(hospital.sor), value: '3b9e2c4a-7d1f-4e8a-9c2b-5f6a7b8c9d0e' },
    sender: hospital,
    receiver: municipality,
    // Danish letters: their UTF-8 bytes outnumber their characters, which SizeInBytes must count right.
    patient: { cpr: '0101800005', family: 'Ærø-Søndergård' },
  };
  const stin = buildHospitalNotification({ ...base, advis: 'STIN', activity: 'admit-inpatient', encounter: inpatient, reportOfAdmission: true, previous: [] }, '2025-03-11T08:00:02+01:00', newId);
  const previous: ProvenanceRecord[] = [stin.provenance];
  const slhj = buildHospitalNotification(
    {
      ...base,
      advis: 'SLHJ',
      activity: 'discharge-inpatient-home',
      encounter: { ...inpatient, status: 'finished', periodEnd: '2025-03-18T14:00:00+01:00' },
      entity: { role: 'revision', messageHeaderId: stin.messageHeaderId },
      previous,
    },
    '2025-03-18T14:05:00+01:00',
    newId,
  );
  return [stin, slhj];
}

/** The same message with its current Provenance's activity replaced, for the Name postfix table. */
export function withActivity(bundle: Bundle, activity: string): Bundle {
  const copy = structuredClone(bundle);
  const header = copy.entry![0].resource!.id;
  for (const e of copy.entry!) {
    const r = e.resource!;
    if (r.resourceType === 'Provenance' && r.target[0].reference === `MessageHeader/${header}`) r.activity!.coding![0].code = activity;
  }
  return copy;
}

/**
 * Hands `parse` the document `withEntity` makes, whose DOCTYPE declares an external entity on a file holding a secret:
 * the parse must fail as malformed without having read the file.
 */
export function expectExternalEntityRefused(withEntity: (secretFile: string) => string, parse: (xml: string) => unknown): void {
  const secret = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'advis-xxe-')), 'secret.txt');
  fs.writeFileSync(secret, 'SECRET-CONTENT');
  const xml = withEntity(secret);
  expect(xml).to.include('&x;');
  try {
    parse(xml);
    expect.fail('parsed');
  } catch (error) {
    expect((error as MedComError).code).to.equal('malformed');
    expect(String(error)).not.to.include('SECRET-CONTENT');
  } finally {
    fs.rmSync(path.dirname(secret), { recursive: true, force: true });
  }
}

/** The code of the MedComError `fn` throws; fails the test when it throws something else or nothing. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(MedComError);
    return (error as MedComError).code;
  }
  throw new Error('expected a MedComError');
}
