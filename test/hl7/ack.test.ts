// HL7 acknowledgements, read back with the tokenizer the way the sending EPR would read them.
import { expect } from 'chai';
import { buildAck, parseHl7, type Hl7Message } from '../../lib/hl7';

const ORIGINAL = [
  'MSH|^~\\&|EPJ^1.2.208.1^ISO|HGH|ADVIS|REGION|20250311080000||ADT^A01^ADT_A01|C1|P^T|2.5.1|||AL|NE||UNICODE UTF-8',
  'EVN|A01|20250311080000',
  'PID|1||0101800005^^^CPR^CPR||Hansen^Jens',
].join('\r');
const WINTER = new Date('2025-03-11T07:00:05Z');
const SUMMER = new Date('2025-07-11T07:00:05Z');

function ack(original: Hl7Message | null, code: 'AA' | 'AE' | 'AR', options: Partial<Parameters<typeof buildAck>[2]> = {}): { text: string; ack: Hl7Message } {
  const text = buildAck(original, code, { now: WINTER, controlId: 'ACK1', ...options });
  return { text, ack: parseHl7(text) };
}

describe('HL7 acknowledgements', () => {
  const original = parseHl7(ORIGINAL);

  it('AA mirrors the original: sender and receiver swapped, MSH-10 in MSA-2, processing id and version echoed', () => {
    const { text, ack: a } = ack(original, 'AA');
    expect([a.raw('MSH', 3), a.raw('MSH', 4), a.raw('MSH', 5), a.raw('MSH', 6)]).to.deep.equal(['ADVIS', 'REGION', 'EPJ^1.2.208.1^ISO', 'HGH']);
    expect([a.raw('MSH', 9), a.get('MSH', 10), a.raw('MSH', 11), a.get('MSH', 12)]).to.deep.equal(['ACK^A01^ACK', 'ACK1', 'P^T', '2.5.1']);
    expect([a.get('MSA', 1), a.get('MSA', 2), a.raw('MSA', 3)]).to.deep.equal(['AA', 'C1', '']);
    expect(a.has('ERR')).to.equal(false);
    expect(text).to.equal(text.split('\r').filter(Boolean).map((s) => s + '\r').join(''));
    expect(text).not.to.match(/\n/);
  });

  it('writes MSH-7 as Copenhagen local time with its offset', () => {
    expect(ack(original, 'AA').ack.get('MSH', 7)).to.equal('20250311080005+0100');
    expect(ack(original, 'AA', { now: SUMMER }).ack.get('MSH', 7)).to.equal('20250711090005+0200');
  });

  it('AE carries the reason, escaped, in MSA-3 and in an ERR segment (207 application internal error by default)', () => {
    const reason = 'store full | retry ^ later ~ & \\ now\r\nplease';
    const { ack: a } = ack(original, 'AE', { text: reason });
    expect([a.get('MSA', 1), a.get('MSA', 2), a.get('MSA', 3)]).to.deep.equal(['AE', 'C1', 'store full | retry ^ later ~ & \\ now  please']);
    expect(a.raw('ERR', 3)).to.equal('207^Application internal error^HL70357');
    expect([a.get('ERR', 4), a.get('ERR', 8)]).to.deep.equal(['E', 'store full | retry ^ later ~ & \\ now  please']);
    expect([a.raw('ERR', 1), a.raw('ERR', 2)]).to.deep.equal(['', '']);
  });

  it('AR carries the given HL7 table 0357 condition and where the error is', () => {
    const { ack: a } = ack(original, 'AR', { text: 'MSH-9.2 (trigger event) is empty', errorCode: '101', errorField: 'MSH-9.2' });
    expect([a.get('MSA', 1), a.get('MSA', 3)]).to.deep.equal(['AR', 'MSH-9.2 (trigger event) is empty']);
    expect(a.raw('ERR', 2)).to.equal('MSH^1^9^1^2');
    expect(a.raw('ERR', 3)).to.equal('101^Required field missing^HL70357');
    expect(ack(original, 'AR').ack.raw('ERR', 3)).to.equal('100^Segment sequence error^HL70357');
    expect(ack(original, 'AE', { errorField: 'EVN-6' }).ack.raw('ERR', 2)).to.equal('EVN^1^6');
  });

  it('also fills ERR-1, the only error field senders before 2.5 read', () => {
    const old = parseHl7(ORIGINAL.replace('2.5.1', '2.3.1'));
    const { ack: a } = ack(old, 'AE', { errorCode: '102', errorField: 'EVN-6' });
    expect(a.raw('ERR', 1)).to.equal('EVN^1^6^102&Data type error&HL70357');
    expect(a.raw('ERR', 3)).to.equal('102^Data type error^HL70357');
  });

  it('uses the original delimiters', () => {
    const custom = parseHl7('MSH#$*!@#EPJ#HGH#ADVIS#REGION#20250311##ADT$A03#C9#P#2.4');
    const { text, ack: a } = ack(custom, 'AE', { text: 'a#b$c' });
    expect(text.startsWith('MSH#$*!@#ADVIS#REGION#EPJ#HGH#')).to.equal(true);
    expect([a.raw('MSH', 9), a.get('MSA', 2), a.get('MSA', 3), a.raw('MSA', 3)]).to.deep.equal(['ACK$A03$ACK', 'C9', 'a#b$c', 'a!F!b!S!c']);
  });

  it('answers a message that could not be parsed at all: default delimiters, empty MSA-2, our own application', () => {
    const { text, ack: a } = ack(null, 'AR', { text: 'the message has no MSH segment', application: { app: 'ADVIS', facility: 'REGION' } });
    expect(text.startsWith('MSH|^~\\&|ADVIS|REGION|||')).to.equal(true);
    expect([a.raw('MSH', 9), a.get('MSH', 11), a.get('MSH', 12)]).to.deep.equal(['ACK^^ACK', 'P', '2.5']);
    expect([a.get('MSA', 1), a.raw('MSA', 2), a.get('MSA', 3)]).to.deep.equal(['AR', '', 'the message has no MSH segment']);
    expect(a.get('ERR', 3)).to.equal('100');
  });

  it('names our application when the original names no receiver, and escapes it', () => {
    const anonymous = parseHl7('MSH|^~\\&|EPJ|HGH|||20250311||ADT^A01|C1|P|2.5');
    const { ack: a } = ack(anonymous, 'AA', { application: { app: 'ADVIS^1', facility: 'REGION' }, controlId: 'A|1' });
    expect([a.get('MSH', 3), a.get('MSH', 4), a.get('MSH', 5), a.get('MSH', 10)]).to.deep.equal(['ADVIS^1', 'REGION', 'EPJ', 'A|1']);
  });
});
