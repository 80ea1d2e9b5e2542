// ADT → AdtEvent, field by field, against spec/advis-rules.md §2: each test changes only what its rule reads.
import { expect } from 'chai';
import { cprStatus, DEFAULT_ADT_SOURCES, Hl7Error, parseAdt, parseHl7, readAdtEvent, type AdtEvent, type AdtSources } from '../../lib/hl7';

type Fields = Record<number, string>;

/** Segments of a test message; null leaves a segment out. MSH fields are numbered like the standard (from MSH-3). */
interface MessageSpec {
  msh?: Fields;
  evn?: Fields | null;
  pid?: Fields | null;
  pv1?: Fields | null;
  pv2?: Fields;
}

const DEFAULTS = {
  msh: { 3: 'EPJ', 4: 'HGH', 5: 'ADVIS', 6: 'REGION', 7: '20250311080000', 9: 'ADT^A01^ADT_A01', 10: 'C1', 11: 'P', 12: '2.5' },
  evn: { 1: 'A01', 2: '20250311080000', 6: '20250311075500' },
  pid: { 1: '1', 3: '0101800005^^^CPR^CPR', 5: 'Hansen^Jens', 11: 'Hovedgaden 1^^Herlev^^2730^DK^H^^163' },
  pv1: { 1: '1', 2: 'I', 3: 'HJA^1^1^HGH', 19: 'V1^^^HGH^VN', 44: '20250311070000' },
};

function line(id: string, fields: Fields, first = 1): string {
  const last = Math.max(first, ...Object.keys(fields).map(Number));
  return [id, ...Array.from({ length: last - first + 1 }, (_, i) => fields[first + i] ?? '')].join('|');
}

function message(spec: MessageSpec = {}): string {
  const segments = [line('MSH|^~\\&', { ...DEFAULTS.msh, ...spec.msh }, 3)];
  if (spec.evn !== null) segments.push(line('EVN', { ...DEFAULTS.evn, ...spec.evn }));
  if (spec.pid !== null) segments.push(line('PID', { ...DEFAULTS.pid, ...spec.pid }));
  if (spec.pv1 !== null) segments.push(line('PV1', { ...DEFAULTS.pv1, ...spec.pv1 }));
  if (spec.pv2) segments.push(line('PV2', spec.pv2));
  return segments.join('\r') + '\r';
}

function adt(spec: MessageSpec = {}, sources?: Partial<AdtSources>): AdtEvent {
  const result = parseAdt(message(spec), sources);
  if (!result.ok) throw result.error;
  return result.adt;
}

function failure(spec: MessageSpec, sources?: Partial<AdtSources>): Hl7Error {
  const result = parseAdt(message(spec), sources);
  if (result.ok) throw new Error('expected the message to be refused');
  return result.error;
}

describe('AdtEvent (spec §2)', () => {
  describe('the message', () => {
    it('takes the event from MSH-9.2, never from EVN-1 or MSH-9.3', () => {
      const event = adt({ msh: { 9: 'ADT^A03^ADT_A01' }, evn: { 1: 'A01' } });
      expect(event.event).to.equal('A03');
      expect(adt({ msh: { 9: 'ADT^A08' }, evn: { 1: '' } }).event).to.equal('A08');
    });

    it('keys idempotency on MSH-3.1 | MSH-4.1 | MSH-10, and reads version and character set', () => {
      const event = adt({ msh: { 3: 'EPJ^1.2.208.1^ISO', 4: 'HGH&x', 10: 'MSG 42', 12: '2.5.1', 18: 'UNICODE UTF-8' } });
      expect(event).to.deep.include({
        version: 1,
        messageControlId: 'MSG 42',
        sendingApplication: 'EPJ',
        sendingFacility: 'HGH',
        idempotencyKey: 'EPJ|HGH|MSG 42',
        hl7Version: '2.5.1',
        characterSet: 'UNICODE UTF-8',
      });
    });

    it('refuses a message without MSH-9.2 or MSH-10, naming the field', () => {
      for (const [msh, field] of [
        [{ 9: 'ADT' }, 'MSH-9.2'],
        [{ 9: 'ADT^""' }, 'MSH-9.2'],
        [{ 10: '' }, 'MSH-10'],
        [{ 10: '  ' }, 'MSH-10'],
      ] as const) {
        const error = failure({ msh });
        expect([error.code, error.field]).to.deep.equal(['missing-field', field]);
        expect(error.message).to.include(field);
      }
    });

    it('reads a message without EVN, PID or PV1 and names what is missing for the rules to give a reason', () => {
      const event = adt({ evn: null, pid: null, pv1: null });
      expect(event.missingSegments).to.deep.equal(['EVN', 'PID', 'PV1']);
      expect(event.patient).to.deep.include({ cpr: null, cprStatus: 'missing', family: null, municipalityCode: null, deceased: false });
      expect(event.visit).to.deep.include({ visitNumber: null, stayKey: null, stayClass: 'other', disposition: 'home' });
      expect(event.eventTime).to.equal('2025-03-11T08:00:00+01:00');
      expect(adt().missingSegments).to.deep.equal([]);
    });
  });

  describe('the CPR number', () => {
    const patient = (pid3: string, sources?: Partial<AdtSources>) => adt({ pid: { 3: pid3 } }, sources).patient;

    it('takes the PID-3 repetition whose identifier type (CX.5) is CPR or NNDNK', () => {
      expect(patient('A1^^^HGH^MR~0101800005^^^^CPR')).to.include({ cpr: '0101800005', cprStatus: 'valid' });
      expect(patient('A1^^^HGH^MR~0101800005^^^^NNDNK')).to.include({ cpr: '0101800005', cprStatus: 'valid' });
      expect(patient('0101800005^^^HGH^MR')).to.include({ cpr: null, cprStatus: 'missing' });
    });

    it('or whose assigning authority (CX.4) is CPR by namespace or by OID', () => {
      expect(patient('A1^^^HGH^MR~0101800005^^^CPR^PI')).to.include({ cpr: '0101800005', cprStatus: 'valid' });
      expect(patient('A1^^^HGH^MR~0101800005^^^&1.2.208.176.1.2&ISO^PI')).to.include({ cpr: '0101800005', cprStatus: 'valid' });
      expect(patient('0101800005^^^&1.2.208.176.1.1&ISO^PI')).to.include({ cprStatus: 'missing' });
    });

    it('uses the site configuration for both, compared without case', () => {
      const sources = { cprIdentifierTypes: ['PN'], cprAuthorities: ['folkeregister'] };
      expect(patient('0101800005^^^^PN', sources).cprStatus).to.equal('valid');
      expect(patient('0101800005^^^FOLKEREGISTER', sources).cprStatus).to.equal('valid');
      expect(patient('0101800005^^^CPR^CPR', sources).cprStatus).to.equal('missing');
    });

    it('accepts numbers without the modulus-11 check, and the customary hyphen', () => {
      const weights = [4, 3, 2, 7, 6, 5, 4, 3, 2, 1];
      const mod11 = (n: string) => [...n].reduce((sum, d, i) => sum + Number(d) * weights[i], 0) % 11;
      expect(mod11('0101801234')).not.to.equal(0);
      expect(patient('0101801234^^^CPR^CPR')).to.include({ cpr: '0101801234', cprStatus: 'valid' });
      expect(patient('010180-1234^^^CPR^CPR')).to.include({ cpr: '0101801234', cprStatus: 'valid' });
    });

    it('refuses a number whose first six digits are no date, as invalid', () => {
      for (const id of ['3213801234', '0013801234', '3104801234', '2222222222', '010180123', '01018012345', 'ABCDEFGHIJ']) {
        expect(patient(`${id}^^^CPR^CPR`), id).to.include({ cpr: null, cprStatus: 'invalid' });
      }
    });

    it('checks 29 February against the century the 7th digit gives', () => {
      expect(cprStatus('2902001234')).to.equal('invalid'); // 1900
      expect(cprStatus('2902004234')).to.equal('valid'); // 2000
      expect(cprStatus('2902041234')).to.equal('valid'); // 1904
      expect(cprStatus('2902031234')).to.equal('invalid'); // 1903
      expect(cprStatus('2902615234')).to.equal('invalid'); // 1861
      expect(cprStatus('2902645234')).to.equal('valid'); // 1864
    });

    it('recognises replacement numbers (eCPR): letters in the serial part, or 6 added to the day', () => {
      // X-eCPR examples from the national eCPR documentation, a D-eCPR, and the CPR office's own suggestion.
      for (const id of ['0203291WQ3', '1308781OS6', '3101057JC9', '0101800AB1', '6701801234', '9112801234']) {
        expect(patient(`${id}^^^CPR^CPR`), id).to.include({ cpr: null, cprStatus: 'replacement' });
      }
      expect(cprStatus('3213800AB1')).to.equal('invalid');
      expect(cprStatus('9201801234')).to.equal('invalid');
    });

    it('prefers a valid number among several marked ones, else says why the first one is no CPR', () => {
      expect(patient('0101800AB1^^^CPR^CPR~0101800005^^^CPR^CPR')).to.include({ cpr: '0101800005', cprStatus: 'valid' });
      expect(patient('""^^^CPR^CPR~0101800AB1^^^CPR^CPR~3213801234^^^CPR^CPR')).to.include({ cpr: null, cprStatus: 'replacement' });
      expect(patient('""^^^CPR^CPR')).to.include({ cpr: null, cprStatus: 'missing' });
      expect(patient('')).to.include({ cpr: null, cprStatus: 'missing' });
    });
  });

  describe('name', () => {
    it('reads the family name (FN.1) and the given and further given names, escapes decoded', () => {
      expect(adt({ pid: { 5: 'Hansen&van^Jens^Peter Ole^^^^L' } }).patient).to.deep.include({ family: 'Hansen', given: ['Jens', 'Peter Ole'] });
      expect(adt({ pid: { 5: 'S\\F\\rensen^\\XC3A6\\bbe' } }).patient).to.deep.include({ family: 'S|rensen', given: ['æbbe'] });
      expect(adt({ pid: { 5: '' } }).patient).to.deep.include({ family: null, given: [] });
    });
  });

  describe('municipality of residence', () => {
    const municipality = (pid: Fields, sources?: Partial<AdtSources>) => adt({ pid }, sources).patient.municipalityCode;

    it('reads PID-11.9 of the home address, padded to 4 digits', () => {
      expect(municipality({ 11: 'Work 1^^^^^DK^B^^101~Home 2^^^^^DK^H^^51' })).to.equal('0051');
      expect(municipality({ 11: 'Street 1^^^^^DK^H^^0740' })).to.equal('0740');
    });

    it('reads the first address when none is marked H', () => {
      expect(municipality({ 11: 'Street 1^^Harestrup^83^6100^DK^P^^510^Haderslev~Other^^^^^DK^M^^101' })).to.equal('0510');
    });

    it('falls back to PID-12 when PID-11.9 is empty or null', () => {
      expect(municipality({ 11: 'Street 1^^^^^DK^H', 12: '510' })).to.equal('0510');
      expect(municipality({ 11: 'Street 1^^^^^DK^H^^""', 12: '84' })).to.equal('0084');
      expect(municipality({ 11: '' })).to.equal(null);
    });

    it('gives none for a value that is no kommunekode, without trying the next source', () => {
      expect(municipality({ 11: 'Street 1^^^^^US^H^^HENNEPIN', 12: '510' })).to.equal(null);
      expect(municipality({ 11: 'Street 1^^^^^DK^H^^12345' })).to.equal(null);
    });

    it('reads the sources a site configures, in order', () => {
      const sources = { municipality: ['PID-11.4', 'PID-12'] };
      expect(municipality({ 11: 'Street 1^^^740^^DK^H^^101' }, sources)).to.equal('0740');
      expect(municipality({ 11: 'Street 1^^^^^DK^H^^101', 12: '163' }, sources)).to.equal('0163');
    });
  });

  describe('death', () => {
    it('is shown by PID-30 = Y, with PID-29 as the time', () => {
      const event = adt({ msh: { 9: 'ADT^A03' }, pid: { 29: '20250312031000', 30: 'Y' }, pv1: { 45: '20250312040000' } });
      expect(event.patient).to.deep.include({ deceased: true, deathTime: '2025-03-12T03:10:00+01:00' });
      expect(event.visit.disposition).to.equal('home');
    });

    it('or by a death disposition in PV1-36, with PV1-45 as the time when PID-29 is empty', () => {
      const event = adt({ msh: { 9: 'ADT^A03' }, pv1: { 36: '41', 45: '20250312040000' } });
      expect(event.patient).to.deep.include({ deceased: true, deathTime: '2025-03-12T04:00:00+01:00' });
      expect(event.visit).to.deep.include({ dischargeDispositionCode: '41', disposition: 'death' });
    });

    it('takes the event time as the time of death when neither is sent', () => {
      expect(adt({ pid: { 30: 'y' } }).patient).to.deep.include({ deceased: true, deathTime: '2025-03-11T07:55:00+01:00' });
    });

    it('is not shown by PID-30 = N or a time alone', () => {
      expect(adt({ pid: { 29: '20250312031000', 30: 'N' } }).patient).to.deep.include({ deceased: false, deathTime: null });
    });
  });

  describe('the visit', () => {
    const visit = (pv1: Fields, sources?: Partial<AdtSources>) => adt({ pv1 }, sources).visit;

    it('reads the stay class from PV1-2, with PV1-4 for outpatients', () => {
      expect(visit({ 2: 'I' }).stayClass).to.equal('admitted');
      expect(visit({ 2: 'E' }).stayClass).to.equal('acute-ambulant');
      expect(visit({ 2: 'O', 4: 'A' }).stayClass).to.equal('acute-ambulant');
      expect(visit({ 2: 'O', 4: 'E' }).stayClass).to.equal('acute-ambulant');
      expect(visit({ 2: 'O', 4: 'R' }).stayClass).to.equal('other');
      expect(visit({ 2: 'O' }).stayClass).to.equal('other');
      expect(visit({ 2: 'DAY CASE' }).stayClass).to.equal('other');
      expect(visit({ 2: 'E', 4: 'Skade' })).to.deep.include({ patientClass: 'E', admissionType: 'Skade' });
      expect(visit({ 2: 'DAG' }, { admittedClasses: ['DAG'] }).stayClass).to.equal('admitted');
    });

    it('reads the discharge disposition from PV1-36', () => {
      expect(visit({ 36: '50' }).disposition).to.equal('transfer');
      expect(visit({ 36: '04' }).disposition).to.equal('transfer');
      expect(visit({ 36: '01' }).disposition).to.equal('home');
      expect(visit({ 36: '' }).disposition).to.equal('home');
      expect(visit({ 36: '20' }).disposition).to.equal('death');
      expect(visit({ 36: 'SELV' }, { selfTransportDispositions: ['SELV'] }).disposition).to.equal('self-transport');
      expect(visit({ 36: '04' }, { selfTransportDispositions: ['04'] }).disposition).to.equal('self-transport');
    });

    it('tells a transfer from another hospital of the region by PV1-14', () => {
      expect(visit({ 14: '4' })).to.include({ admitSource: '4', transferredIn: true });
      expect(visit({ 14: '1' })).to.include({ admitSource: '1', transferredIn: false });
      expect(visit({ 14: 'R' }, { transferAdmitSources: ['R'] }).transferredIn).to.equal(true);
    });

    it('keys the stay on PV1-19.1 | MSH-4.1, and has no key without a visit number', () => {
      expect(adt({ msh: { 4: 'HGH^1.2^ISO' }, pv1: { 19: 'V77^^^HGH^VN' } }).visit).to.include({ visitNumber: 'V77', stayKey: 'V77|HGH' });
      expect(visit({ 19: '' })).to.include({ visitNumber: null, stayKey: null });
      expect(visit({ 18: 'V78', 19: '' }, { visitNumber: 'PV1-18' })).to.include({ visitNumber: 'V78', stayKey: 'V78|HGH' });
    });

    it('reads the location from PV1-3.1 and the facility HD.1 of PV1-3.4, the prior location from PV1-6', () => {
      expect(visit({ 3: 'HJA^12^3^HGH&1.2.208.176.1.1&ISO', 6: 'AKM^1^1^BFH' })).to.deep.include({
        location: { pointOfCare: 'HJA', facility: 'HGH' },
        priorLocation: { pointOfCare: 'AKM', facility: 'BFH' },
      });
      expect(visit({ 3: '' })).to.deep.include({ location: { pointOfCare: null, facility: null }, priorLocation: { pointOfCare: null, facility: null } });
    });

    it('reads configured location sources, the prior location at the same place in PV1-6', () => {
      const sources = { pointOfCare: 'PV1-3.9', facility: 'PV1-3.4.2' };
      expect(visit({ 3: 'X^^^HGH&4711^^^^^HJA', 6: 'Y^^^BFH&4712^^^^^AKM' }, sources)).to.deep.include({
        location: { pointOfCare: 'HJA', facility: '4711' },
        priorLocation: { pointOfCare: 'AKM', facility: '4712' },
      });
    });

    it('reads the times, converted', () => {
      const event = adt({ pv1: { 44: '20250311070000', 45: '20250318143000' }, pv2: { 47: '20250315' } });
      expect(event.visit).to.include({
        admitTime: '2025-03-11T07:00:00+01:00',
        dischargeTime: '2025-03-18T14:30:00+01:00',
        expectedLeaveReturn: '2025-03-15T00:00:00+01:00',
      });
      expect(event.times).to.deep.equal({
        occurred: '2025-03-11T07:55:00+01:00',
        recorded: '2025-03-11T08:00:00+01:00',
        message: '2025-03-11T08:00:00+01:00',
      });
    });

    it('refuses an unreadable time, naming its field', () => {
      for (const [spec, field] of [
        [{ pv1: { 44: '2025031' } }, 'PV1-44'],
        [{ evn: { 6: '20251301' } }, 'EVN-6'],
        [{ pv2: { 47: 'soon' } }, 'PV2-47'],
      ] as [MessageSpec, string][]) {
        const error = failure(spec);
        expect([error.code, error.field]).to.deep.equal(['bad-datetime', field]);
      }
    });
  });

  describe('the event time', () => {
    const times = { pv1: { 44: '20250311070000', 45: '20250318140000' }, evn: { 6: '' } };
    const eventTime = (event: string, spec: MessageSpec = {}) =>
      adt({ ...times, ...spec, msh: { 9: `ADT^${event}`, ...spec.msh }, evn: spec.evn === null ? null : { ...times.evn, ...spec.evn } }).eventTime;

    it('is EVN-6 when sent', () => {
      expect(eventTime('A01', { evn: { 6: '20250311075500' } })).to.equal('2025-03-11T07:55:00+01:00');
      expect(eventTime('A03', { evn: { 6: '20250318135500' } })).to.equal('2025-03-18T13:55:00+01:00');
    });

    it('else PV1-44 for admissions and their cancellation', () => {
      for (const event of ['A01', 'A04', 'A06', 'A07', 'A11']) expect(eventTime(event), event).to.equal('2025-03-11T07:00:00+01:00');
    });

    it('else EVN-2 for a transfer or its cancellation, whose PV1-44 is still the original admission', () => {
      for (const event of ['A02', 'A12']) expect(eventTime(event), event).to.equal('2025-03-11T08:00:00+01:00');
    });

    it('else PV1-45 for discharges and their cancellation', () => {
      for (const event of ['A03', 'A13']) expect(eventTime(event), event).to.equal('2025-03-18T14:00:00+01:00');
    });

    it('else PID-29 for a deceased patient', () => {
      expect(eventTime('A08', { pid: { 29: '20250312031000', 30: 'Y' } })).to.equal('2025-03-12T03:10:00+01:00');
      expect(eventTime('A08', { pid: { 29: '20250312031000', 30: 'N' } })).to.equal('2025-03-11T08:00:00+01:00');
    });

    it('else EVN-2, else MSH-7, else none', () => {
      expect(eventTime('A08')).to.equal('2025-03-11T08:00:00+01:00');
      expect(eventTime('A21', { evn: null, msh: { 7: '20250311081500' } })).to.equal('2025-03-11T08:15:00+01:00');
      expect(eventTime('A01', { evn: null, pv1: { 44: '' }, msh: { 7: '' } })).to.equal(null);
    });
  });

  describe('sources', () => {
    it('falls back to the defaults for sources given as undefined', () => {
      const event = adt({}, { municipality: undefined, visitNumber: undefined } as unknown as Partial<AdtSources>);
      expect([event.patient.municipalityCode, event.visit.visitNumber]).to.deep.equal(['0163', 'V1']);
    });

    it('refuses a source that is no field path as a configuration error', () => {
      const error = failure({}, { pointOfCare: 'PV1.3' });
      expect(error.code).to.equal('bad-source');
      expect(error.message).to.include('"PV1.3"');
    });

    it('has defaults that are all valid field paths and code lists', () => {
      const m = parseHl7(message());
      expect(() => readAdtEvent(m, DEFAULT_ADT_SOURCES)).not.to.throw();
      expect(readAdtEvent(m, DEFAULT_ADT_SOURCES)).to.deep.equal(readAdtEvent(m));
    });
  });

  describe('parseAdt', () => {
    it('returns the parsed message with a reading error, so a negative ACK can echo MSH-10', () => {
      const result = parseAdt(message({ msh: { 9: 'ADT' } }));
      expect(result.ok).to.equal(false);
      if (!result.ok) expect(result.message?.get('MSH', 10)).to.equal('C1');
      const unparsed = parseAdt('not HL7');
      expect(unparsed.ok === false && unparsed.message).to.equal(null);
    });

    it('reports a defect in the engine as an internal error instead of throwing', () => {
      const result = parseAdt(message(), { admittedClasses: null as unknown as string[] });
      expect(result.ok).to.equal(false);
      if (!result.ok) {
        expect(result.error.code).to.equal('internal');
        expect(result.error.cause).to.be.instanceOf(TypeError);
      }
    });

    it('gives plain JSON that survives a round trip, as msg.adt must in a flow', () => {
      const event = adt({ pid: { 29: '20250312031000', 30: 'Y' }, pv2: { 47: '20250315' } });
      expect(JSON.parse(JSON.stringify(event))).to.deep.equal(event);
    });
  });
});
