// Outbox entries as the engine leaves them, for the delivery worker's tests and benchmark: for each stay an admission
// (STIN) and a discharge (SLHJ) carrying the STIN's Provenance, real HospitalNotifications built by the project's
// builder, committed in interleaved order (stay 1 STIN, stay 2 STIN, …, stay 1 SLHJ, …) as a busy ward would.
import type { StayState } from '../../lib/advis/types';
import type { AdvisStore, NewOutboxEntry, OutboxFormat } from '../../lib/store';
import { writeBundle } from '../../lib/medcom/message';
import { admissionAndDischarge, counter, municipality } from '../medcom/messages';

export const CREATED_AT = '2025-03-11T07:00:00.000Z';

/** The stay row the outbox entries hang on (the store keeps them together); only its key matters here. */
function stay(key: string): StayState {
  return {
    key,
    patientKey: 'patient-key',
    hospital: 'HGH',
    department: 'HJA',
    region: '1084',
    episode: { system: 'https://sor2.sum.dsdn.dk/#id=265161000016000', value: '3b9e2c4a-7d1f-4e8a-9c2b-5f6a7b8c9d0e' },
    status: 'finished',
    encounter: { class: 'IMP', status: 'finished', periodStart: '2025-03-11T07:55:00+01:00' },
    deceased: false,
    provenance: [],
    sent: [],
  };
}

export interface SeededStay {
  stayKey: string;
  /** MessageHeader.ids in the order the stay's messages must arrive. */
  messages: string[];
}

/** Commits `stays` stays of two messages each; returns them with their MessageHeader.ids in creation order. */
export async function seedOutbox(store: AdvisStore, stays: number, format: OutboxFormat = 'json'): Promise<SeededStay[]> {
  const seeded: SeededStay[] = [];
  const entries: NewOutboxEntry[][] = [[], []];
  for (let i = 0; i < stays; i++) {
    const stayKey = `V${1000 + i}|HGH`;
    const built = admissionAndDischarge(counter(String(i + 1).padStart(8, '0')));
    built.forEach((b, n) =>
      entries[n].push({
        messageHeaderId: b.messageHeaderId,
        bundleId: b.bundle.id!,
        stayKey,
        advis: n === 0 ? 'STIN' : 'SLHJ',
        receiverGln: municipality.gln,
        receiverSor: municipality.sor,
        format,
        body: writeBundle(b.bundle, format),
        createdAt: CREATED_AT,
      }),
    );
    seeded.push({ stayKey, messages: built.map((b) => b.messageHeaderId) });
  }
  await store.commit({ stays: seeded.map((s) => stay(s.stayKey)), outbox: [...entries[0], ...entries[1]] });
  return seeded;
}

/** True when, for every stay, its messages first arrived in creation order (later copies, resends, may follow). */
export function inOrderPerStay(stays: SeededStay[], arrived: string[]): boolean {
  return stays.every((s) => {
    const firsts = s.messages.map((id) => arrived.indexOf(id));
    return firsts.every((at, i) => at >= 0 && (i === 0 || at > firsts[i - 1]));
  });
}
