// The HL7 v2 tokenizer: segment separators, delimiters, 1-based reads, escapes, character sets, the HL7 null, and a
// typed, readable error for every kind of input that is not one HL7 message.
import { expect } from 'chai';
import { Hl7Error, parseAdt, parseHl7, type Hl7ErrorCode } from '../../lib/hl7';

const MSH = 'MSH|^~\\&|EPJ|HGH|ADVIS|REGION|20250311080000||ADT^A01^ADT_A01|C1|P|2.5';
const EVN = 'EVN|A01|20250311080000';
const PID = 'PID|1||0101800005^^^CPR^CPR||Hansen^Jens';
const PV1 = 'PV1|1|I|HJA^1^1^HGH';

const latin1 = (text: string): Uint8Array => Buffer.from(text, 'latin1');
const utf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8');
const withCharset = (charset: string): string => `${MSH}||||||${charset}`;

function parseError(input: string | Uint8Array): Hl7Error {
  try {
    parseHl7(input);
  } catch (error) {
    if (error instanceof Hl7Error) return error;
    throw error;
  }
  throw new Error('expected an Hl7Error');
}

describe('HL7 v2 tokenizer', () => {
  describe('segments', () => {
    for (const [name, separator] of [
      ['CR (the standard)', '\r'],
      ['LF', '\n'],
      ['CRLF', '\r\n'],
    ]) {
      it(`splits segments on ${name}`, () => {
        const m = parseHl7([MSH, EVN, PID, PV1].join(separator) + separator);
        expect(m.segments().map((s) => s.id)).to.deep.equal(['MSH', 'EVN', 'PID', 'PV1']);
        expect(m.get('PV1', 3, { component: 4 })).to.equal('HGH');
      });
    }

    it('splits a mix of CR, LF and CRLF, skipping blank and whitespace-only lines', () => {
      const m = parseHl7(`${MSH}\r\n${EVN}\n\n${PID}\r  \r${PV1}\r\n\r\n`);
      expect(m.segments().map((s) => s.id)).to.deep.equal(['MSH', 'EVN', 'PID', 'PV1']);
      expect(m.get('PID', 5, { component: 2 })).to.equal('Jens');
    });

    it('strips a UTF-8 byte-order mark, from text and from bytes', () => {
      expect(parseHl7(`\uFEFF${MSH}\r${PID}`).get('MSH', 3)).to.equal('EPJ');
      const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${MSH}\r${PID}`)]);
      expect(parseHl7(bytes).get('MSH', 3)).to.equal('EPJ');
    });

    it('strips MLLP frame bytes and whitespace around the message', () => {
      const m = parseHl7(`\x0b  ${MSH}\r${PID}\r\x1c\r`);
      expect(m.segments().map((s) => s.id)).to.deep.equal(['MSH', 'PID']);
      expect(m.get('PID', 5)).to.equal('Hansen');
      expect(parseHl7(utf8(`\x0b${MSH}\r\x1c\r`)).get('MSH', 10)).to.equal('C1');
    });

    it('keeps the text of each segment as sent, trailing spaces included', () => {
      const m = parseHl7(`${MSH}\n${PID}|NO \n`);
      expect(m.segments('PID')[0].text).to.equal(`${PID}|NO `);
      expect(m.get('PID', 6)).to.equal('NO ');
    });
  });

  describe('reading fields', () => {
    const m = parseHl7(
      [
        MSH,
        'PID|1||A1^^^LOCAL&1.2.3&ISO^MR~0101800005^^^CPR^CPR||Hansen&van^Jens^Peter||||||Street 1^^Town^^2730^DK^C^^101~Home 2^^Herlev^^2730^DK^H^^163',
        'NK1|1|Hansen^Anna',
        'NK1|2|Hansen^Bo',
      ].join('\r'),
    );

    it('numbers MSH fields so that MSH-1 is the field separator and MSH-2 the encoding characters', () => {
      expect([m.get('MSH', 1), m.get('MSH', 2), m.get('MSH', 3), m.get('MSH', 7), m.get('MSH', 10), m.get('MSH', 12)]).to.deep.equal([
        '|',
        '^~\\&',
        'EPJ',
        '20250311080000',
        'C1',
        '2.5',
      ]);
      expect(m.segments('MSH')[0].fieldCount).to.equal(12);
      expect(m.segments('PID')[0].fieldCount).to.equal(11);
    });

    it('reads repetitions, components and subcomponents 1-based, a field read giving its first component', () => {
      expect(m.repetitions('PID', 3)).to.equal(2);
      expect(m.get('PID', 3)).to.equal('A1');
      expect(m.get('PID', 3, { rep: 2 })).to.equal('0101800005');
      expect(m.get('PID', 3, { rep: 2, component: 5 })).to.equal('CPR');
      expect(m.get('PID', 3, { component: 4 })).to.equal('LOCAL');
      expect(m.get('PID', 3, { component: 4, subcomponent: 2 })).to.equal('1.2.3');
      expect(m.get('PID', 3, { component: 4, subcomponent: 3 })).to.equal('ISO');
      expect(m.get('PID', 5)).to.equal('Hansen');
      expect(m.get('PID', 5, { subcomponent: 2 })).to.equal('van');
      expect(m.get('PID', 5, { component: 3 })).to.equal('Peter');
      expect(m.get('PID', 11, { rep: 2, component: 9 })).to.equal('163');
    });

    it('gives an empty value for whatever is not there', () => {
      expect(m.get('PID', 99)).to.equal('');
      expect(m.get('PID', 3, { rep: 3 })).to.equal('');
      expect(m.get('PID', 3, { component: 12 })).to.equal('');
      expect(m.get('PID', 3, { component: 4, subcomponent: 4 })).to.equal('');
      expect(m.get('PV1', 2)).to.equal('');
      expect(m.repetitions('PID', 4)).to.equal(0);
      expect(m.repetitions('PV1', 3)).to.equal(0);
    });

    it('reads repeated segments by their 1-based index and lists them', () => {
      expect(m.segments('NK1').map((s) => s.get(2, { component: 2 }))).to.deep.equal(['Anna', 'Bo']);
      expect(m.get('NK1', 2, { component: 2, segmentIndex: 2 })).to.equal('Bo');
      expect(m.get('NK1', 2, { segmentIndex: 3 })).to.equal('');
      expect([m.has('NK1'), m.has('PV1')]).to.deep.equal([true, false]);
    });

    it('reads field paths as site configurations write them', () => {
      expect(m.read('PID-11.9')).to.equal('101');
      expect(m.read('PID-11.9', { rep: 2 })).to.equal('163');
      expect(m.read('PID-3.4.2')).to.equal('1.2.3');
      expect(m.read('MSH-9.2')).to.equal('A01');
      expect(m.read('NK1-2.2', { segmentIndex: 2 })).to.equal('Bo');
      for (const bad of ['PID11', 'PID-0', 'pid-3', 'PID-3.x', 'PID-3.1.1.1', '']) {
        expect(() => m.read(bad), bad).to.throw(Hl7Error, /not an HL7 field path/).with.property('code', 'bad-source');
      }
    });

    it('returns a field exactly as sent with raw()', () => {
      expect(m.raw('PID', 3)).to.equal('A1^^^LOCAL&1.2.3&ISO^MR~0101800005^^^CPR^CPR');
      expect(m.raw('MSH', 1)).to.equal('|');
      expect(m.raw('MSH', 9)).to.equal('ADT^A01^ADT_A01');
      expect(m.raw('NK1', 2, 2)).to.equal('Hansen^Bo');
      expect(m.raw('PV1', 2)).to.equal('');
    });
  });

  describe('the HL7 null', () => {
    const m = parseHl7(`${MSH}\rPID|1||""^^^&2.71&ISO~306567^^^MPI||""|`);

    it('reads "" as an empty value that isNull() tells apart from one not sent', () => {
      expect(m.get('PID', 3)).to.equal('');
      expect(m.isNull('PID', 3)).to.equal(true);
      expect(m.get('PID', 5)).to.equal('');
      expect(m.isNull('PID', 5)).to.equal(true);
      expect(m.isNull('PID', 6)).to.equal(false);
      expect(m.isNull('PID', 3, { component: 4, subcomponent: 2 })).to.equal(false);
      expect(m.get('PID', 3, { component: 4, subcomponent: 2 })).to.equal('2.71');
      expect(m.get('PID', 3, { rep: 2 })).to.equal('306567');
      expect(m.isNull('PV1', 2)).to.equal(false);
    });
  });

  describe('escapes', () => {
    it('decodes \\F\\ \\S\\ \\T\\ \\R\\ \\E\\ to the delimiters, after the value has been found', () => {
      const m = parseHl7(`${MSH}\rPID|1||X||S\\F\\rensen\\T\\Co^A\\S\\B\\R\\C\\E\\D^next`);
      expect(m.get('PID', 5)).to.equal('S|rensen&Co');
      expect(m.get('PID', 5, { component: 2 })).to.equal('A^B~C\\D');
      expect(m.get('PID', 5, { component: 3 })).to.equal('next');
    });

    it('decodes \\Xhh\\ as UTF-8 bytes, also when one character is split over two sequences', () => {
      const m = parseHl7(`${MSH}\rPID|1||X||V\\XC3A6\\rl\\XC3B8\\se^\\XC3\\\\XA6\\^\\X41\\^P\\XE282AC\\`);
      expect(m.get('PID', 5)).to.equal('Værløse');
      expect(m.get('PID', 5, { component: 2 })).to.equal('æ');
      expect(m.get('PID', 5, { component: 3 })).to.equal('A');
      expect(m.get('PID', 5, { component: 4 })).to.equal('P€');
    });

    it('reads \\Xhh\\ bytes that are no valid UTF-8 as Latin-1, the only thing they can mean', () => {
      expect(parseHl7(`${MSH}\rPID|1||X||S\\XF8\\rensen`).get('PID', 5)).to.equal('Sørensen');
    });

    it('keeps formatting escapes, unknown and unterminated escapes as sent', () => {
      const m = parseHl7(`${MSH}\rNTE|1||line\\.br\\next \\H\\bold\\N\\ \\Zsite\\ \\X4\\ end\\`);
      expect(m.get('NTE', 3)).to.equal('line\\.br\\next \\H\\bold\\N\\ \\Zsite\\ \\X4\\ end\\');
    });

    it('decodes \\Xhh\\ as ISO-8859-1 when MSH-18 says so', () => {
      const m = parseHl7(`${withCharset('8859/1')}\rPID|1||X||\\XE6\\bler`);
      expect([m.charset, m.get('PID', 5)]).to.deep.equal(['iso-8859-1', 'æbler']);
    });
  });

  describe('character sets (MSH-18)', () => {
    it('decodes bytes as UTF-8 by default and when MSH-18 says UNICODE UTF-8', () => {
      for (const msh of [MSH, withCharset('UNICODE UTF-8')]) {
        const m = parseHl7(utf8(`${msh}\rPID|1||X||Sørensen^Åse`));
        expect([m.charset, m.get('PID', 5), m.get('PID', 5, { component: 2 })]).to.deep.equal(['utf-8', 'Sørensen', 'Åse']);
      }
    });

    for (const name of ['8859/1', 'ISO IR100', 'ISO-8859-1']) {
      it(`decodes bytes as ISO-8859-1 when MSH-18 is ${name}`, () => {
        const m = parseHl7(latin1(`${withCharset(name)}\rPID|1||X||Sørensen^\\XE6\\`));
        expect([m.charset, m.get('PID', 5), m.get('PID', 5, { component: 2 })]).to.deep.equal(['iso-8859-1', 'Sørensen', 'æ']);
      });
    }

    it('reads bytes that are no UTF-8 under an empty MSH-18 as Latin-1 rather than losing letters', () => {
      const m = parseHl7(latin1(`${MSH}\rPID|1||X||Sørensen`));
      expect([m.charset, m.get('PID', 5)]).to.deep.equal(['iso-8859-1', 'Sørensen']);
    });

    it('refuses bytes that contradict a declared UTF-8, and a character set it cannot decode', () => {
      expect(parseError(latin1(`${withCharset('UNICODE UTF-8')}\rPID|1||X||Sørensen`)).code).to.equal('bad-encoding');
      for (const input of [utf8(`${withCharset('UNICODE UTF-16')}\r${PID}`), `${withCharset('ISO IR87')}\r${PID}`]) {
        const error = parseError(input);
        expect(error.code).to.equal('unsupported-charset');
        expect(error.message).to.match(/MSH-18 names a character set the engine cannot decode/);
      }
    });
  });

  describe('delimiters', () => {
    it('takes unusual delimiters from MSH-1 and MSH-2', () => {
      const m = parseHl7('MSH#$*!@#EPJ#HGH#A#B#20250311##ADT$A01#C1#P#2.5\rPID#1##A$$$CPR$CPR*0101800005$$$L@1.2@ISO$MR##S!F!n!S!x!T!y!R!z!E!');
      expect(m.delimiters).to.deep.equal({ field: '#', component: '$', repetition: '*', escape: '!', subcomponent: '@' });
      expect([m.get('MSH', 1), m.get('MSH', 2), m.get('MSH', 9, { component: 2 })]).to.deep.equal(['#', '$*!@', 'A01']);
      expect(m.get('PID', 3, { rep: 2, component: 4, subcomponent: 2 })).to.equal('1.2');
      expect(m.get('PID', 3, { rep: 2, component: 5 })).to.equal('MR');
      expect(m.get('PID', 5)).to.equal('S#n$x@y*z!');
    });

    it('accepts the truncation character of version 2.7 as a fifth encoding character', () => {
      const m = parseHl7('MSH|^~\\&#|EPJ|HGH|||20250311||ADT^A01|C1|P|2.7\rPID|1||X^^^CPR^CPR');
      expect([m.get('MSH', 2), m.get('PID', 3, { component: 5 })]).to.deep.equal(['^~\\&#', 'CPR']);
    });
  });

  describe('input that is not one HL7 message', () => {
    const garbage = (length: number, seed: number): Uint8Array => {
      let state = seed;
      return Uint8Array.from({ length }, () => (state = (state * 1103515245 + 12345) % 2 ** 31) >>> 23);
    };
    const cases: [string, string | Uint8Array, Hl7ErrorCode, RegExp][] = [
      ['an empty string', '', 'empty', /empty/],
      ['only whitespace and frame bytes', ' \r\n\x0b\x1c\r', 'empty', /empty/],
      ['no MSH at all', `${PID}\r${PV1}`, 'no-msh', /no MSH segment/],
      ['text before MSH', `hello ${MSH}`, 'no-msh', /6 characters come before it/],
      ['a letter as field separator', 'MSHX^~\\&X', 'bad-delimiters', /punctuation/],
      ['a repeated delimiter', 'MSH|^^\\&|EPJ', 'bad-delimiters', /all be different/],
      ['too few encoding characters', 'MSH|^~|EPJ', 'bad-delimiters', /4 encoding characters .* not 2/],
      ['too many encoding characters', 'MSH|^~\\&#$|EPJ', 'bad-delimiters', /not 6/],
      ['a space among the encoding characters', 'MSH|^~ &|EPJ', 'bad-delimiters', /punctuation/],
      ['a segment cut short', `${MSH}\r${PID}\rPV`, 'truncated-segment', /segment 3 does not begin with a segment id/],
      ['a lower-case segment id', `${MSH}\rpid|1`, 'truncated-segment', /segment 2/],
      ['a line break inside a segment', `${MSH}\rPID|1||0101800005\r^^^CPR^CPR`, 'truncated-segment', /line break inside one/],
      ['a four-letter segment id', `${MSH}\rPIDX|1`, 'truncated-segment', /segment 2/],
      ['two messages run together', `${MSH}\r${PID}\r${MSH}\r${PID}`, 'framing', /second MSH segment/],
      ['two MLLP frames run together', `${MSH}\r${PID}\r\x1c\x0b${MSH}`, 'framing', /MLLP frame byte/],
      ['NUL bytes', utf8(`${MSH}\r\0\0\0\0`), 'binary', /binary data/],
      ['UTF-16 text', Buffer.from(`${MSH}\r${PID}\r`, 'utf16le'), 'binary', /binary data/],
      ['random bytes', garbage(2000, 7), 'binary', /binary data/],
    ];
    for (const [name, input, code, reason] of cases) {
      it(`${name} → ${code}`, () => {
        const error = parseError(input);
        expect(error.code).to.equal(code);
        expect(error.message).to.match(reason);
      });
    }

    it('never puts patient data into the reason', () => {
      const cpr = '0101800005';
      for (const input of [`${MSH}\r${PID}\r${cpr}^Hansen`, `Hansen ${cpr}\r${MSH}`, `${withCharset('Hansen')}\r${PID}`.replace('Hansen', cpr)]) {
        const error = parseError(input);
        expect(error.message).not.to.include(cpr);
        expect(error.message).not.to.include('Hansen');
      }
    });

    it('reads a megabyte of garbage without trouble', () => {
      const text = 'x'.repeat(1 << 20);
      expect(parseError(text).code).to.equal('no-msh');
      expect(parseError(`${MSH}\r${text}`).code).to.equal('truncated-segment');
      expect(parseError(garbage(1 << 20, 3)).code).to.equal('binary');
      for (const input of [text, `${MSH}\r${text}`, garbage(1 << 20, 5)]) expect(parseAdt(input).ok).to.equal(false);
    });

    it('parseAdt never throws, whatever the bytes: random ones, and real messages cut and corrupted at random', () => {
      const message = utf8([MSH, EVN, PID, PV1].join('\r'));
      let state = 11;
      const random = (n: number): number => (state = (state * 1103515245 + 12345) % 2 ** 31) % n;
      const codes = new Set<string>();
      for (let i = 0; i < 2000; i++) {
        const input = i % 4 === 0 ? garbage(1 + random(400), i) : Uint8Array.from(message.subarray(0, 1 + random(message.length)));
        if (i % 4 === 2) for (let flips = 0; flips < 3; flips++) input[random(input.length)] = random(256);
        const result = parseAdt(input);
        if (!result.ok) {
          expect(result.error).to.be.instanceOf(Hl7Error);
          expect(result.error.message.length).to.be.greaterThan(10);
          codes.add(result.error.code);
        }
      }
      expect([...codes]).not.to.include('internal');
      expect(codes.size).to.be.at.least(4);
    });
  });
});
