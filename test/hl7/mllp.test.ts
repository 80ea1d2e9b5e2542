// The MLLP framer on every way bytes arrive: whole, split anywhere (inside a UTF-8 character too), several per read,
// with garbage, cut short, over the size limit.
import { expect } from 'chai';
import { MllpFramer, mllpFrame, type MllpEvent } from '../../lib/hl7';

const VT = '\x0b';
const END = '\x1c\r';

function feed(framer: MllpFramer, chunks: (string | Buffer)[]): MllpEvent[] {
  return chunks.flatMap((c) => framer.push(typeof c === 'string' ? Buffer.from(c, 'latin1') : c));
}
const frames = (events: MllpEvent[]): string[] => events.flatMap((e) => (e.kind === 'frame' ? [e.bytes.toString('utf8')] : []));

describe('MLLP framer', () => {
  it('frames a message as VT … FS CR and reads it back whole', () => {
    const framed = mllpFrame('MSH|^~\\&|A\rEVN|A01\r');
    expect([framed[0], framed.at(-2), framed.at(-1)]).to.deep.equal([0x0b, 0x1c, 0x0d]);
    expect(frames(new MllpFramer(1024).push(framed))).to.deep.equal(['MSH|^~\\&|A\rEVN|A01\r']);
  });

  it('returns several frames of one read in order', () => {
    const events = feed(new MllpFramer(1024), [`${VT}one${END}${VT}two${END}${VT}three${END}`]);
    expect(frames(events)).to.deep.equal(['one', 'two', 'three']);
  });

  it('joins a frame split at every possible byte, the framing bytes included', () => {
    const stream = Buffer.concat([mllpFrame('first'), mllpFrame('second')]);
    for (let cut = 1; cut < stream.length; cut++) {
      const events = feed(new MllpFramer(1024), [stream.subarray(0, cut), stream.subarray(cut)]);
      expect(frames(events), `cut at ${cut}`).to.deep.equal(['first', 'second']);
      expect(events.filter((e) => e.kind !== 'frame'), `cut at ${cut}`).to.deep.equal([]);
    }
  });

  it('joins a frame split inside a multi-byte UTF-8 character before decoding it', () => {
    const text = 'PID|1||||Ærø^Søren^Åge';
    const framed = mllpFrame(text);
    const inside = framed.indexOf(Buffer.from('Æ')) + 1; // between the two bytes of Æ
    const events = feed(new MllpFramer(1024), [framed.subarray(0, inside), framed.subarray(inside, inside + 3), framed.subarray(inside + 3)]);
    expect(frames(events)).to.deep.equal([text]);
  });

  it('delivers a frame byte by byte', () => {
    const framer = new MllpFramer(1024);
    const events = [...mllpFrame('MSH|x')].flatMap((b) => framer.push(Buffer.from([b])));
    expect(frames(events)).to.deep.equal(['MSH|x']);
  });

  it('tolerates a missing CR after FS and line ends between frames, without counting them as skipped', () => {
    const events = feed(new MllpFramer(1024), [`${VT}a\x1c${VT}b${END}\r\n${VT}c${END}\n`]);
    expect(frames(events)).to.deep.equal(['a', 'b', 'c']);
    expect(events.some((e) => e.kind === 'skipped')).to.equal(false);
  });

  it('skips bytes outside a frame and says how many, keeping the frames around them', () => {
    const events = feed(new MllpFramer(1024), [`GET / HTTP/1.1${VT}a${END}junk${VT}b${END}`]);
    expect(frames(events)).to.deep.equal(['a', 'b']);
    expect(events.filter((e) => e.kind === 'skipped')).to.deep.equal([{ kind: 'skipped', count: 18 }]);
  });

  it('drops a frame cut short by the next VT and reports it, keeping the next frame', () => {
    const events = feed(new MllpFramer(1024), [`${VT}half a mess`, `age${VT}whole${END}`]);
    expect(events[0]).to.deep.equal({ kind: 'truncated', size: 14 });
    expect(frames(events)).to.deep.equal(['whole']);
  });

  it('reads an oversized frame to its end, keeps only its head and goes on with the next frame', () => {
    const framer = new MllpFramer(100);
    const big = 'MSH|^~\\&|EPJ|HGH|ADVIS|REGION|20250101||ADT^A01|BIG1|P|2.5\r' + 'NTE|'.padEnd(10_000, 'x');
    const framed = mllpFrame(big);
    const chunks = [framed.subarray(0, 50), framed.subarray(50, 5000), framed.subarray(5000), mllpFrame('small')];
    const events = feed(framer, chunks);
    expect(events.map((e) => e.kind)).to.deep.equal(['oversized', 'frame']);
    const oversized = events[0] as Extract<MllpEvent, { kind: 'oversized' }>;
    expect(oversized.size).to.equal(Buffer.byteLength(big));
    expect(oversized.head.toString().startsWith('MSH|^~\\&|EPJ|HGH')).to.equal(true);
    expect(oversized.head.length).to.be.at.most(4096);
    expect(frames(events)).to.deep.equal(['small']);
  });

  it('accepts a frame exactly at the limit', () => {
    expect(frames(new MllpFramer(5).push(mllpFrame('12345')))).to.deep.equal(['12345']);
    expect(new MllpFramer(4).push(mllpFrame('12345'))[0]!.kind).to.equal('oversized');
  });

  it('counts the bytes of an unfinished frame, which are lost if the connection ends', () => {
    const framer = new MllpFramer(1024);
    expect(framer.pendingBytes).to.equal(0);
    framer.push(Buffer.from(`${VT}MSH|^~\\&|A`, 'latin1'));
    expect(framer.pendingBytes).to.equal(10);
    framer.push(Buffer.from(END, 'latin1'));
    expect(framer.pendingBytes).to.equal(0);
  });

  it('encodes ISO-8859-1 messages as one byte per character when asked', () => {
    const framed = mllpFrame('Ærø', 'latin1');
    expect(framed.length).to.equal(6);
    expect(framed.subarray(1, 4)).to.deep.equal(Buffer.from([0xc6, 0x72, 0xf8]));
  });
});
