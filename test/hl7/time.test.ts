// HL7 times → ISO 8601 with the Copenhagen offset: precision, sent offsets, both daylight-saving edges, impossible dates.
import { expect } from 'chai';
import { DateTime, IANAZone } from 'luxon';
import { copenhagenTime, Hl7Error, hl7TimeToIso } from '../../lib/hl7';

const iso = (value: string): string | null => hl7TimeToIso(value, 'EVN-6');

function timeError(value: string, field = 'PID-29'): Hl7Error {
  try {
    hl7TimeToIso(value, field);
  } catch (error) {
    if (error instanceof Hl7Error) return error;
    throw error;
  }
  throw new Error(`expected ${value} to be refused`);
}

describe('HL7 times → ISO 8601', () => {
  it('gives local Copenhagen time +01:00 in winter and +02:00 in summer', () => {
    expect(iso('20250115100000')).to.equal('2025-01-15T10:00:00+01:00');
    expect(iso('20250715100000')).to.equal('2025-07-15T10:00:00+02:00');
    expect(iso('20251231235959')).to.equal('2025-12-31T23:59:59+01:00');
  });

  it('fills what is not sent from the start: a date alone is local midnight, seconds default to 00', () => {
    expect(iso('2025')).to.equal('2025-01-01T00:00:00+01:00');
    expect(iso('202507')).to.equal('2025-07-01T00:00:00+02:00');
    expect(iso('20250311')).to.equal('2025-03-11T00:00:00+01:00');
    expect(iso('2025031110')).to.equal('2025-03-11T10:00:00+01:00');
    expect(iso('202503111015')).to.equal('2025-03-11T10:15:00+01:00');
  });

  it('keeps fractions of a second to the millisecond, truncating rather than rounding into the next second', () => {
    expect(iso('20250311101500.5')).to.equal('2025-03-11T10:15:00.500+01:00');
    expect(iso('20250311101500.1234')).to.equal('2025-03-11T10:15:00.123+01:00');
    expect(iso('20250311101559.9999')).to.equal('2025-03-11T10:15:59.999+01:00');
  });

  it('keeps the instant of a sent offset and writes it in Danish time with the Danish offset (TouchStone PF-send-tec-04)', () => {
    expect(iso('20250311101500-0500')).to.equal('2025-03-11T16:15:00+01:00');
    expect(iso('20250715101500+0000')).to.equal('2025-07-15T12:15:00+02:00');
    expect(iso('20230701100000+0000')).to.equal('2023-07-01T12:00:00+02:00');
    expect(iso('20250715101500.25+0530')).to.equal('2025-07-15T06:45:00.250+02:00');
    expect(iso('20250715+0100')).to.equal('2025-07-15T01:00:00+02:00');
    expect(iso('20250311101500+0100')).to.equal('2025-03-11T10:15:00+01:00');
  });

  it('reads a trailing Z as UTC, which some EPRs send although HL7 v2 has no such form', () => {
    expect(iso('20250115101500Z')).to.equal('2025-01-15T11:15:00+01:00');
    expect(iso('20250715101500.5Z')).to.equal('2025-07-15T12:15:00.500+02:00');
    expect(timeError('20250715101500+0000Z').message).to.match(/format/);
  });

  it('an offset time in the autumn repeated hour is written with the offset Copenhagen showed at that instant', () => {
    expect(iso('20251026003000+0000')).to.equal('2025-10-26T02:30:00+02:00');
    expect(iso('20251026013000+0000')).to.equal('2025-10-26T02:30:00+01:00');
  });

  it('reads the HL7 null, an empty value and surrounding spaces sensibly', () => {
    expect(iso('')).to.equal(null);
    expect(iso('""')).to.equal(null);
    expect(iso('  20250311  ')).to.equal('2025-03-11T00:00:00+01:00');
  });

  it('accepts 29 February only in leap years', () => {
    expect(iso('20240229')).to.equal('2024-02-29T00:00:00+01:00');
    expect(iso('20000229120000')).to.equal('2000-02-29T12:00:00+01:00');
    expect(timeError('20250229').message).to.match(/day does not exist/);
    expect(timeError('19000229').message).to.match(/day does not exist/);
  });

  describe('daylight saving (documented in lib/hl7/time.ts)', () => {
    it('spring, 30 March 2025: the skipped hour 02:00–02:59 is read with the winter offset, i.e. shown an hour later', () => {
      expect(iso('20250330015959')).to.equal('2025-03-30T01:59:59+01:00');
      expect(iso('20250330020000')).to.equal('2025-03-30T03:00:00+02:00');
      expect(iso('20250330023000')).to.equal('2025-03-30T03:30:00+02:00');
      expect(Date.parse(iso('20250330023000')!)).to.equal(Date.parse('2025-03-30T02:30:00+01:00'));
      expect(iso('20250330023000.25')).to.equal('2025-03-30T03:30:00.250+02:00');
      expect(iso('20250330030000')).to.equal('2025-03-30T03:00:00+02:00');
    });

    it('autumn, 26 October 2025: the repeated hour 02:00–02:59 is its first occurrence, still summer time', () => {
      expect(iso('20251026015959')).to.equal('2025-10-26T01:59:59+02:00');
      expect(iso('20251026020000')).to.equal('2025-10-26T02:00:00+02:00');
      expect(iso('20251026023000')).to.equal('2025-10-26T02:30:00+02:00');
      expect(iso('20251026025959')).to.equal('2025-10-26T02:59:59+02:00');
      expect(iso('20251026030000')).to.equal('2025-10-26T03:00:00+01:00');
    });

    it('finds the edges of other years from the zone data (31 March and 27 October 2024)', () => {
      expect(iso('20240331023000')).to.equal('2024-03-31T03:30:00+02:00');
      expect(iso('20241027023000')).to.equal('2024-10-27T02:30:00+02:00');
      expect(iso('20241027033000')).to.equal('2024-10-27T03:30:00+01:00');
    });

    it('agrees with luxon around every transition of 2024–2026 and all through those years, except that the repeated autumn hour is the earlier one', () => {
      const zone = IANAZone.create('Europe/Copenhagen');
      const HOUR = 3_600_000;
      const hours = new Set<number>();
      // Every hour of the days around each transition, and every 7th hour (all hours of the day in turn) in between.
      for (const [year, month, day] of [[2024, 2, 31], [2024, 9, 27], [2025, 2, 30], [2025, 9, 26], [2026, 2, 29], [2026, 9, 25]]) {
        for (let h = -48; h < 48; h++) hours.add(Date.UTC(year, month, day) + h * HOUR);
      }
      for (let t = Date.UTC(2024, 0, 1); t < Date.UTC(2027, 0, 1); t += 7 * HOUR) hours.add(t);
      let repeated = 0;
      for (const t of hours) {
        // The UTC digits of t are the wall-clock time to convert.
        const digits = new Date(t).toISOString().replace(/\D/g, '').slice(0, 12);
        const ours = iso(digits)!;
        const instant = Date.parse(ours);
        const reference = DateTime.fromObject(
          { year: +digits.slice(0, 4), month: +digits.slice(4, 6), day: +digits.slice(6, 8), hour: +digits.slice(8, 10) },
          { zone: 'Europe/Copenhagen' },
        );
        // luxon takes the later occurrence of a repeated hour: an hour earlier shows the same wall-clock hour.
        const ambiguous = reference.hour === +digits.slice(8, 10) && reference.minus({ hours: 1 }).hour === reference.hour;
        expect(instant, ours).to.equal(reference.toMillis() - (ambiguous ? HOUR : 0));
        expect(ours.slice(-6), ours).to.equal(zone.formatOffset(instant, 'short'));
        if (ambiguous) repeated++;
      }
      expect(hours.size).to.be.greaterThan(4000);
      expect(repeated).to.equal(3);
    });
  });

  describe('refusals', () => {
    const bad: [string, RegExp][] = [
      ['2025031', /format/],
      ['20250311 1015', /format/],
      ['2025-03-11', /format/],
      ['yesterday', /format/],
      ['20250311.5', /fractions/],
      ['20250311101500.12345', /fractions/],
      ['20250311101500+01', /format/],
      ['20250311101500+1500', /offset is out of range/],
      ['20251301', /month/],
      ['20250001', /month/],
      ['20250431', /day does not exist/],
      ['20250300', /day does not exist/],
      ['2025031124', /time of day/],
      ['202503111060', /time of day/],
      ['20250311101560', /time of day/],
      ['00250311', /year/],
    ];
    for (const [value, why] of bad) {
      it(`refuses ${JSON.stringify(value)}, naming the field but not the value`, () => {
        const error = timeError(value);
        expect(error.code).to.equal('bad-datetime');
        expect(error.field).to.equal('PID-29');
        expect(error.message).to.match(/^PID-29 is not a valid HL7 date\/time: /);
        expect(error.message).to.match(why);
        expect(error.message).not.to.include(value);
      });
    }
  });
});

describe('instants as Copenhagen shows them (send times)', () => {
  it('writes every minute around the transitions of 2024–2026, and times all through those years, as luxon does, milliseconds dropped', () => {
    const MINUTE = 60_000;
    const instants: number[] = [];
    for (const day of [Date.UTC(2024, 2, 31), Date.UTC(2024, 9, 27), Date.UTC(2025, 2, 30), Date.UTC(2025, 9, 26), Date.UTC(2026, 2, 29), Date.UTC(2026, 9, 25)]) {
      for (let m = -180; m < 360; m++) instants.push(day + m * MINUTE + 999);
    }
    for (let t = Date.UTC(2024, 0, 1, 0, 0, 0, 1); t < Date.UTC(2027, 0, 1); t += 331 * MINUTE) instants.push(t);
    const offsets = new Set<string>();
    for (const t of instants) {
      const ours = copenhagenTime(new Date(t));
      expect(ours).to.equal(DateTime.fromMillis(t, { zone: 'Europe/Copenhagen' }).startOf('second').toISO({ suppressMilliseconds: true }));
      offsets.add(ours.slice(-6));
    }
    expect([...offsets].sort()).to.deep.equal(['+01:00', '+02:00']);
  });
});
