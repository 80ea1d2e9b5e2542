// ADT messages for scenario tests (lib/certify/adt.ts writes them), each test saying only what matters to its rule.
// Defaults: patient 0101800005 living in Herlev (0163), admitted to HJA at HGH on visit V1.
import { adtMessage as write, type AdtSpec as FullSpec } from '../../lib/certify/adt';

export type AdtSpec = Partial<FullSpec> & Pick<FullSpec, 'event' | 'id'>;

export function adtMessage(spec: AdtSpec): string {
  const hospital = spec.hospital ?? 'HGH';
  return write({
    at: '20250311075500',
    sendingFacility: hospital === 'OUH' ? 'OUH' : 'REGH',
    cpr: '0101800005',
    name: 'Hansen^Jens',
    birthDate: '19800101',
    street: 'Hovedgaden 1',
    city: 'Herlev',
    postalCode: '2730',
    municipality: '163',
    patientClass: 'I',
    department: 'HJA',
    visit: 'V1',
    ...spec,
    hospital,
  });
}
