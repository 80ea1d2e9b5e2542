// Every real-world ADT sample in ../shared/hl7-samples, read as the bytes a listener receives (BOMs, LF, CRLF, mixed
// line ends, Latin-1), and a cell-by-cell comparison with node-hl7-client on what that library reads correctly.
import { expect } from 'chai';
import * as fs from 'node:fs';
import { Message } from 'node-hl7-client';
import { parseAdt, parseHl7, type AdtEvent } from '../../lib/hl7';
import { describeShared, shared } from '../support/shared';

describeShared('real-world ADT samples (../shared/hl7-samples)', () => {
  const files = (): string[] =>
    fs
      .readdirSync(shared('hl7-samples'))
      .filter((f) => f.endsWith('.hl7'))
      .sort();
  const bytes = (file: string): Buffer => fs.readFileSync(shared('hl7-samples', file));
  const read = (input: string | Uint8Array, name: string): AdtEvent => {
    const result = parseAdt(input);
    if (!result.ok) throw new Error(`${name}: ${result.error.message}`);
    return result.adt;
  };
  const adt = (file: string): AdtEvent => read(bytes(file), file);

  it('reads every sample as sent, with the event its name says', () => {
    expect(files().length).to.be.at.least(54);
    for (const file of files()) expect(adt(file).event, file).to.equal(file.slice(0, 3));
  });

  it('reads A01_ipf_1, which lacks the required PID, as an event without a patient: the rules answer "no-cpr"', () => {
    const event = adt('A01_ipf_1.hl7');
    expect(event.missingSegments).to.deep.equal(['PID']);
    expect(event.patient).to.deep.include({ cpr: null, cprStatus: 'missing', family: null, municipalityCode: null });
    expect(event.visit).to.deep.include({ patientClass: 'I', stayClass: 'admitted', visitNumber: null, stayKey: null });
    expect(event.eventTime).to.equal('2008-04-11T11:23:02+02:00');
  });

  it('reads the Danish Epic sample: CPR by CX.5, the 3-digit kommunekode padded, Epic department and facility', () => {
    const event = adt('A01_epicdk_1.hl7');
    expect(event.patient).to.deep.include({ cpr: '1111111111', cprStatus: 'valid', family: 'Sigård', given: ['Tenna'], municipalityCode: '0510' });
    expect(event.visit).to.deep.include({ patientClass: 'O', admissionType: 'Skade', visitNumber: '67644', stayKey: '67644|HGH' });
    expect(event.visit.location).to.deep.equal({ pointOfCare: '10595400', facility: '10000290' });
    expect(event.idempotencyKey).to.equal('Epic|HGH|179186');
  });

  it('decodes every escape of the escape fixture and UTF-8 text', () => {
    const event = adt('A08_derived_escapes_1.hl7');
    expect(event.patient).to.deep.include({ cpr: '0101011234', family: 'S|rensen&Co', given: ['Åse ^ Ærø', 'Bø ~ x'], municipalityCode: '0101' });
    const m = parseHl7(bytes('A08_derived_escapes_1.hl7'));
    expect([m.get('PID', 11), m.get('PID', 11, { component: 10 })]).to.deep.equal(['Østergade 1\\2', 'KAbenhavn']);
  });

  it('decodes the sample that declares ISO-8859-1 as such', () => {
    expect(parseHl7(bytes('A01_lfh_2.hl7')).charset).to.equal('iso-8859-1');
  });

  it('reads the samples with a BOM, CRLF and mixed line ends like their normalised text', () => {
    for (const file of ['A01_microsoft_3.hl7', 'A04_microsoft_2.hl7', 'A01_hl7standard_1.hl7', 'A02_lfh_1.hl7', 'A03_lfh_1.hl7']) {
      const normalised = bytes(file).toString('utf8').replace(/^\uFEFF/, '').replace(/\r\n|\n/g, '\r');
      expect(adt(file), file).to.deep.equal(read(normalised, file));
    }
    expect(adt('A02_lfh_1.hl7').visit).to.deep.include({ patientClass: 'I', admitTime: '2015-05-02T09:00:00+02:00' });
  });

  it('reads the death of A03_emap_2 from PID-29/30', () => {
    expect(adt('A03_emap_2.hl7').patient).to.deep.include({ deceased: true, deathTime: '2013-02-11T08:34:56+01:00' });
  });

  describe('agreement with node-hl7-client 4', () => {
    // Compared only where node-hl7-client reads correctly (research/experiments-node22.md §3): it returns a field's
    // first component and a component's first subcomponent, of the first repetition, trimmed, and "" for the HL7 null;
    // it needs CR line ends and no BOM; and it decodes \Xhh\ bytes one by one as Latin-1, so cells with \X escapes
    // are left out. Our read of the same cell is therefore get(segment, field, { component }), trimmed.
    const CELLS: [string, number, number?][] = [
      ['MSH', 3], ['MSH', 4], ['MSH', 7], ['MSH', 9, 1], ['MSH', 9, 2], ['MSH', 10], ['MSH', 11], ['MSH', 12],
      ['EVN', 1], ['EVN', 2], ['EVN', 6],
      ['PID', 3, 1], ['PID', 3, 4], ['PID', 3, 5], ['PID', 5, 1], ['PID', 5, 2], ['PID', 7], ['PID', 8], ['PID', 11, 7], ['PID', 11, 9],
      ['PID', 12], ['PID', 29], ['PID', 30],
      ['PV1', 2], ['PV1', 3, 1], ['PV1', 3, 4], ['PV1', 4], ['PV1', 6, 1], ['PV1', 14], ['PV1', 19, 1], ['PV1', 36], ['PV1', 44], ['PV1', 45],
      ['PV2', 47],
    ];

    it('agrees on every cell it reads correctly, across all samples', () => {
      let compared = 0;
      let valued = 0;
      for (const file of files()) {
        const text = bytes(file).toString(parseHl7(bytes(file)).charset === 'utf-8' ? 'utf8' : 'latin1').replace(/^\uFEFF/, '').replace(/\r\n|\n/g, '\r');
        const ours = parseHl7(text);
        const theirs = new Message({ text });
        for (const [segment, field, component] of CELLS) {
          if (ours.raw(segment, field).includes(`${ours.delimiters.escape}X`)) continue;
          const at = { component: component ?? 1 };
          const expected = ours.isNull(segment, field, at) ? '""' : ours.get(segment, field, at).trim();
          const path = [segment, field, ...(component ? [component] : [])].join('.');
          expect(String(theirs.get(path).toString()).trim(), `${file} ${path}`).to.equal(expected);
          compared++;
          if (expected !== '') valued++;
        }
      }
      expect(compared).to.be.at.least(1800);
      expect(valued).to.be.at.least(1300);
    });
  });
});
