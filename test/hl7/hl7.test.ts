import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Message } from 'node-hl7-client';
import { buildAck, hl7TimeToIso, HL7_NULL, parseAdt, parseHl7, type Hl7Message } from '../../lib/hl7';
import { describeShared, shared } from '../support/shared';

const MSH = 'MSH|^~\\&|EPJ|HGH|ADVIS|REGION|20250311080000||ADT^A01^ADT_A01|C1|P|2.5';
const PID = 'PID|1||0101800005^^^CPR^CPR||Hansen^Jens||19800101|M|||Hovedgaden 1^^Herlev^^2730^DK^H^^163';
const PV1 = 'PV1|1|I|HJA^1^1^HGH||||||||||||||||V1^^^HGH^VN';
const message = (...segments: string[]): string => segments.join('\r');

function adtOf(text: string, sources = {}) {
  const result = parseAdt(text, sources);
  if (!result.ok) throw result.error;
  return result.adt;
}

describe('HL7 v2 tokenizer', () => {
  it('splits segments on CR, LF, CRLF or a mix, and ignores a UTF-8 byte-order mark and blank lines', () => {
    for (const sep of ['\r', '\n', '\r\n']) {
      const m = parseHl7(`\uFEFF${[MSH, PID, PV1].join(sep)}${sep}${sep}`);
      expect(m.segments.map((s) => s.id)).to.deep.equal(['MSH', 'PID', 'PV1']);
    }
    expect(parseHl7(`${MSH}\r\n${PID}\n${PV1}\r`).get('PV1', 19)).to.equal('V1');
  });

  it('reads fields, repetitions, components and subcomponents 1-based, MSH-1/MSH-2 being the delimiters', () => {
    const m = parseHl7(message(MSH, 'PID|1||A1^^^LOCAL&1.2.3&ISO^MR~0101800005^^^CPR^CPR'));
    expect([m.get('MSH', 1), m.get('MSH', 2), m.get('MSH', 3), m.get('MSH', 9, { component: 2 })]).to.deep.equal(['|', '^~\\&', 'EPJ', 'A01']);
    expect(m.repetitions('PID', 3)).to.equal(2);
    expect(m.get('PID', 3, { rep: 2 })).to.equal('0101800005');
    expect(m.get('PID', 3, { rep: 1, component: 4, subcomponent: 2 })).to.equal('1.2.3');
    expect(m.read('PID-3.5')).to.equal('MR');
    expect(m.get('PID', 99)).to.equal('');
  });

  it('decodes \\F\\ \\S\\ \\T\\ \\R\\ \\E\\ and \\X..\\ (UTF-8, also split over two sequences), and keeps formatting escapes', () => {
    const m = parseHl7(message(MSH, 'PID|1||X||S\\F\\r\\S\\n\\T\\s\\R\\x\\E\\y^V\\XC3A6\\rl\\XC3\\\\XB8\\se^\\X41\\ \\.br\\ \\H\\b\\N\\'));
    expect(m.get('PID', 5)).to.equal('S|r^n&s~x\\y');
    expect(m.get('PID', 5, { component: 2 })).to.equal('Værløse');
    expect(m.get('PID', 5, { component: 3 })).to.equal('A \\.br\\ \\H\\b\\N\\');
  });

  it('decodes bytes by MSH-18: UTF-8 by default, ISO-8859-1 when it says 8859/1 (also for \\X..\\)', () => {
    const latin = Buffer.from(message(`${MSH}||||||8859/1`, 'PID|1||X||S\xf8rensen^\\XE6\\') + '\r', 'latin1');
    const m = parseHl7(latin);
    expect([m.charset, m.get('PID', 5), m.get('PID', 5, { component: 2 })]).to.deep.equal(['latin1', 'Sørensen', 'æ']);
    const utf8 = Buffer.from(message(MSH, 'PID|1||X||Sørensen') + '\r', 'utf8');
    expect(parseHl7(utf8).get('PID', 5)).to.equal('Sørensen');
  });

  it('keeps the HL7 null "" apart from an empty value', () => {
    const m = parseHl7(message(MSH, 'PID|1||""|'));
    expect(m.get('PID', 3)).to.equal(HL7_NULL);
    expect(m.isNull('PID', 3)).to.equal(true);
    expect(m.isNull('PID', 4)).to.equal(false);
    expect(m.get('PID', 4)).to.equal('');
  });

  it('takes unusual delimiters from MSH-1 and MSH-2', () => {
    const m = parseHl7('MSH#$*!@#EPJ#HGH#A#B#20250311##ADT$A01#C1#P#2.5\rPID#1##A$$$CPR$CPR*B$$$X$MR');
    expect([m.get('MSH', 9, { component: 2 }), m.get('PID', 3, { rep: 2, component: 5 })]).to.deep.equal(['A01', 'MR']);
  });

  it('gives a typed error with a readable reason for every kind of malformed input, and parseAdt never throws', () => {
    const cases: [string | Uint8Array, string][] = [
      ['', 'empty'],
      ['   \r\n', 'empty'],
      ['PID|1||X', 'no-msh'],
      ['hello MSH|^~\\&|', 'no-msh'],
      ['MSHX^~\\&|A', 'bad-delimiters'],
      ['MSH|^^\\&|A', 'bad-delimiters'],
      ['MSH|^~|A', 'bad-delimiters'],
      [message(MSH, 'PI'), 'truncated-segment'],
      [message(MSH, 'pid|1'), 'truncated-segment'],
      [Uint8Array.from([0x4d, 0x53, 0x48, 0, 1, 2, 3, 0xff, 0xfe]), 'binary'],
      [message(`${MSH}||||||UNICODE UTF-16`, PID), 'unsupported-charset'],
      ['MSH|^~\\&|EPJ|HGH|A|B|20250311||ADT|C1|P|2.5', 'missing-field'],
      [message(MSH, 'EVN|A01|2025133'), 'bad-datetime'],
    ];
    for (const [input, code] of cases) {
      const result = parseAdt(input);
      expect(result.ok, String(input)).to.equal(false);
      if (!result.ok) {
        expect(result.error.code, String(input)).to.equal(code);
        expect(result.error.message.length).to.be.greaterThan(10);
      }
    }
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 300; i++) {
      const bytes = Uint8Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * 256));
      if (i % 2 && bytes.length > 9) bytes.set(Buffer.from('MSH|^~\\&|'), 0);
      expect(() => parseAdt(bytes)).not.to.throw();
    }
  });
});

describe('HL7 times → ISO 8601 with the Copenhagen offset', () => {
  it('gives +01:00 in winter, +02:00 in summer, honours a sent offset, and keeps precision', () => {
    expect(hl7TimeToIso('20250115100000', 'EVN-6')).to.equal('2025-01-15T10:00:00+01:00');
    expect(hl7TimeToIso('20250715100000', 'EVN-6')).to.equal('2025-07-15T10:00:00+02:00');
    expect(hl7TimeToIso('20240229235959.5', 'EVN-6')).to.equal('2024-02-29T23:59:59.500+01:00');
    expect(hl7TimeToIso('20250311', 'PV1-44')).to.equal('2025-03-11T00:00:00+01:00');
    expect(hl7TimeToIso('202503111015', 'PV1-44')).to.equal('2025-03-11T10:15:00+01:00');
    expect(hl7TimeToIso('20250311101500-0500', 'MSH-7')).to.equal('2025-03-11T10:15:00-05:00');
    expect(hl7TimeToIso('', 'EVN-6')).to.equal(null);
  });

  it('handles both daylight-saving edges as documented', () => {
    expect(hl7TimeToIso('20250330013000', 'EVN-6')).to.equal('2025-03-30T01:30:00+01:00');
    expect(hl7TimeToIso('20250330023000', 'EVN-6')).to.equal('2025-03-30T03:30:00+02:00');
    expect(hl7TimeToIso('20250330033000', 'EVN-6')).to.equal('2025-03-30T03:30:00+02:00');
    expect(hl7TimeToIso('20251026013000', 'EVN-6')).to.equal('2025-10-26T01:30:00+02:00');
    expect(hl7TimeToIso('20251026023000', 'EVN-6')).to.equal('2025-10-26T02:30:00+01:00');
  });

  it('refuses impossible times, naming the field', () => {
    for (const bad of ['20250230', '20250431', '20250311240000', '2025031', 'yesterday', '20251301']) {
      expect(() => hl7TimeToIso(bad, 'PV1-45'), bad).to.throw(/PV1-45/);
    }
  });
});

describe('AdtEvent extraction (spec §2)', () => {
  it('reads the event from MSH-9.2, never EVN-1, and the idempotency and stay keys', () => {
    const adt = adtOf(message('MSH|^~\\&|EPJ|HGH|ADVIS|REGION|20250311080000||ADT^A03^ADT_A03|C9|P|2.5', 'EVN|A01|20250311080000', PID, PV1));
    expect([adt.event, adt.idempotencyKey, adt.visit.stayKey]).to.deep.equal(['A03', 'EPJ|HGH|C9', 'V1|HGH']);
  });

  it('selects the CPR repetition by identifier type or assigning authority, and tells replacement and invalid numbers apart', () => {
    const pid = (pid3: string) => adtOf(message(MSH, `PID|1||${pid3}`, PV1)).patient;
    expect(pid('A1^^^LOCAL^MR~0101800005^^^CPR^CPR')).to.include({ cpr: '0101800005', cprStatus: 'valid' });
    expect(pid('0101800005^^^&1.2.208.176.1.2&ISO')).to.include({ cpr: '0101800005', cprStatus: 'valid' });
    expect(pid('0101800005^^^NNDNK^NNDNK')).to.include({ cpr: '0101800005', cprStatus: 'valid' });
    expect(pid('010180AB12^^^CPR^CPR')).to.include({ cpr: null, cprStatus: 'replacement' });
    expect(pid('3213801234^^^CPR^CPR')).to.include({ cpr: null, cprStatus: 'invalid' });
    expect(pid('2902011234^^^CPR^CPR').cprStatus).to.equal('invalid');
    expect(pid('2902041234^^^CPR^CPR').cprStatus).to.equal('valid');
    expect(pid('A1^^^LOCAL^MR')).to.include({ cpr: null, cprStatus: 'missing' });
  });

  it('pads the municipality to 4 digits, prefers the home address, and falls back to PID-12 or a configured field', () => {
    const muni = (pid: string, sources = {}) => adtOf(message(MSH, pid, PV1), sources).patient.municipalityCode;
    expect(muni('PID|1||0101800005^^^CPR^CPR||X||||||A^^^^^DK^C^^101~B^^^^^DK^H^^51')).to.equal('0051');
    expect(muni('PID|1||0101800005^^^CPR^CPR||X||||||A^^^^^DK^P^^510')).to.equal('0510');
    expect(muni('PID|1||0101800005^^^CPR^CPR||X||||||A^^^^^DK^H|740')).to.equal('0740');
    expect(muni('PID|1||0101800005^^^CPR^CPR||X||||||A^^^^^SE^H')).to.equal(null);
    expect(muni('PID|1||0101800005^^^CPR^CPR||X||||||A^^^^^DK^H^^163||||||||||||||||||||||||||0999', { municipality: ['PID-39'] })).to.equal(null);
  });

  it('reads class, location, disposition, death and the configured code lists', () => {
    const pv1 = (fields: Record<number, string>) => {
      const values = Array.from({ length: 46 }, (_, i) => fields[i] ?? '');
      values[0] = 'PV1';
      return values.join('|').replace(/\|+$/, '');
    };
    const visit = (f: Record<number, string>, sources = {}) => adtOf(message(MSH, PID, pv1({ 19: 'V1', ...f })), sources).visit;
    expect(visit({ 2: 'I', 3: 'HJA^1^1^HGH&1.2&ISO' })).to.deep.include({ stayClass: 'admitted', location: { pointOfCare: 'HJA', facility: 'HGH' } });
    expect(visit({ 2: 'E' }).stayClass).to.equal('acute-ambulant');
    expect(visit({ 2: 'O' }).stayClass).to.equal('other');
    expect(visit({ 2: 'O', 4: 'A' }).stayClass).to.equal('acute-ambulant');
    expect(visit({ 2: 'P' }).stayClass).to.equal('other');
    expect(visit({ 36: '50' }).disposition).to.equal('transfer');
    expect(visit({ 36: '01' }).disposition).to.equal('home');
    expect(visit({ 36: '' }).disposition).to.equal('home');
    expect(visit({ 36: '42' }).disposition).to.equal('death');
    expect(visit({ 36: '99' }, { selfTransportDispositions: ['99'] }).disposition).to.equal('self-transport');
    expect(visit({ 14: '4' }).transferredIn).to.equal(true);
    expect(visit({ 6: 'AKM^1^1^HGH' }).priorLocation).to.deep.equal({ pointOfCare: 'AKM', facility: 'HGH' });
    const dead = adtOf(message(MSH, `${PID}||||||||||||||||||20250312031000|Y`, PV1)).patient;
    expect([dead.deceased, dead.deathTime]).to.deep.equal([true, '2025-03-12T03:10:00+01:00']);
  });

  it('takes the event time from EVN-6, else the field for the kind of event, else EVN-2, else MSH-7', () => {
    const pv1Times = 'PV1|1|I|HJA^1^1^HGH||||||||||||||||V1|||||||||||||||||||||||||20250311070000|20250318140000';
    const at = (event: string, evn: string, pv1 = pv1Times) => adtOf(message(MSH.replace('ADT^A01', `ADT^${event}`), evn, PID, pv1)).eventTime;
    expect(at('A01', 'EVN|A01|20250311080000||||20250311075500')).to.equal('2025-03-11T07:55:00+01:00');
    expect(at('A01', 'EVN|A01|20250311080000')).to.equal('2025-03-11T07:00:00+01:00');
    expect(at('A03', 'EVN|A03|20250311080000')).to.equal('2025-03-18T14:00:00+01:00');
    expect(at('A02', 'EVN|A02|20250311080000')).to.equal('2025-03-11T08:00:00+01:00');
    expect(at('A01', 'EVN|A01', PV1)).to.equal('2025-03-11T08:00:00+01:00');
  });

  it('reads a message without PID or PV1 (the rules answer it with a reason)', () => {
    const adt = adtOf(MSH);
    expect([adt.patient.cprStatus, adt.visit.stayKey, adt.patient.municipalityCode]).to.deep.equal(['missing', null, null]);
  });
});

describe('HL7 acknowledgements', () => {
  const original = parseHl7(message(MSH, PID, PV1));
  const now = new Date('2025-03-11T07:00:05Z');

  it('AA mirrors the original: sender and receiver swapped, MSA-2 = MSH-10, version echoed', () => {
    const ack = parseHl7(buildAck(original, 'AA', { now, controlId: 'ACK1' }));
    expect([ack.get('MSH', 3), ack.get('MSH', 4), ack.get('MSH', 5), ack.get('MSH', 6)]).to.deep.equal(['ADVIS', 'REGION', 'EPJ', 'HGH']);
    expect([ack.get('MSH', 7), ack.read('MSH-9.1'), ack.read('MSH-9.2'), ack.get('MSH', 10), ack.get('MSH', 12)]).to.deep.equal(['20250311080005+0100', 'ACK', 'A01', 'ACK1', '2.5']);
    expect([ack.get('MSA', 1), ack.get('MSA', 2)]).to.deep.equal(['AA', 'C1']);
    expect(ack.has('ERR')).to.equal(false);
  });

  it('AE and AR carry the reason, escaped, in MSA-3 and an ERR segment', () => {
    const ack = parseHl7(buildAck(original, 'AE', { now, controlId: 'ACK2', text: 'store|full ^ retry' }));
    expect([ack.get('MSA', 1), ack.get('MSA', 3)]).to.deep.equal(['AE', 'store|full ^ retry']);
    expect([ack.read('ERR-3.1'), ack.get('ERR', 4), ack.get('ERR', 8)]).to.deep.equal(['207', 'E', 'store|full ^ retry']);
  });

  it('builds an AR for a message that could not be parsed at all', () => {
    const ack = parseHl7(buildAck(null, 'AR', { now, controlId: 'ACK3', text: 'no MSH segment', application: { app: 'ADVIS', facility: 'REGION' } }));
    expect([ack.get('MSA', 1), ack.get('MSA', 2), ack.get('MSA', 3), ack.read('ERR-3.1'), ack.get('MSH', 3)]).to.deep.equal(['AR', '', 'no MSH segment', '102', 'ADVIS']);
  });
});

describeShared('real-world ADT samples (../shared/hl7-samples)', () => {
  const files = (): string[] => fs.readdirSync(shared('hl7-samples')).filter((f) => f.endsWith('.hl7'));
  const read = (f: string): Buffer => fs.readFileSync(shared('hl7-samples', f));

  it('every sample parses, as sent (BOMs, LF, CRLF, mixed line ends, missing segments)', () => {
    expect(files().length).to.be.at.least(50);
    for (const f of files()) {
      const result = parseAdt(read(f));
      expect(result.ok, `${f}: ${result.ok ? '' : result.error.message}`).to.equal(true);
      if (result.ok) expect(result.adt.event, f).to.equal(path.basename(f).slice(0, 3));
    }
  });

  it('agrees with node-hl7-client on every cell that library reads correctly', () => {
    // node-hl7-client returns a field's first component and a component's first subcomponent, trimmed, and needs
    // CR line ends and no BOM (research/experiments-node22.md §3): compare on exactly that.
    const cells: [string, string, number, number][] = [
      ['MSH.9.2', 'MSH', 9, 2], ['MSH.10', 'MSH', 10, 1], ['EVN.2', 'EVN', 2, 1], ['EVN.6', 'EVN', 6, 1],
      ['PID.3.1', 'PID', 3, 1], ['PID.3.5', 'PID', 3, 5], ['PID.5.1', 'PID', 5, 1], ['PID.29', 'PID', 29, 1], ['PID.30', 'PID', 30, 1],
      ['PV1.2', 'PV1', 2, 1], ['PV1.3.1', 'PV1', 3, 1], ['PV1.3.4', 'PV1', 3, 4], ['PV1.19.1', 'PV1', 19, 1],
      ['PV1.36', 'PV1', 36, 1], ['PV1.44', 'PV1', 44, 1], ['PV1.45', 'PV1', 45, 1],
    ];
    let compared = 0;
    for (const f of files()) {
      const text = read(f).toString('utf8').replace(/^\uFEFF/, '').replace(/\r\n|\n/g, '\r');
      const ours: Hl7Message = parseHl7(text);
      const theirs = new Message({ text });
      for (const [p, seg, field, component] of cells) {
        if (!ours.has(seg)) continue;
        const expected = ours.get(seg, field, { component, subcomponent: 1 }).trim();
        const got = String(theirs.get(p).toString()).trim();
        expect(got, `${f} ${p}`).to.equal(expected);
        compared++;
      }
    }
    expect(compared).to.be.at.least(600);
  });
});
