// The packing of the store's large columns: what is packed comes back exactly, text from before packing is read as
// text, and a format this engine does not know is refused instead of misread.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pack, unpack } from '../../lib/store/pack';
import { StoreError } from '../../lib/store';

const EXAMPLES = path.join(__dirname, '..', '..', '..', 'lib', 'fhir', 'packages', 'hospitalnotification-3.0.2', 'example');

describe('store packing', () => {
  it('returns every MedCom example Bundle exactly as packed, each at least four times smaller', () => {
    const files = fs.readdirSync(EXAMPLES).filter((f) => f.startsWith('Bundle-'));
    expect(files.length).to.be.greaterThan(5);
    for (const file of files) {
      const text = JSON.stringify(JSON.parse(fs.readFileSync(path.join(EXAMPLES, file), 'utf8')));
      const packed = pack(text);
      expect(unpack(packed), file).to.equal(text);
      expect(packed.length, file).to.be.below(text.length / 4);
    }
    expect(unpack(pack('Ærø – ½'))).to.equal('Ærø – ½');
  });

  it('reads text written before packing, as a string or as its UTF-8 bytes', () => {
    expect(unpack('{"a":1}')).to.equal('{"a":1}');
    expect(unpack(Buffer.from('<Bundle/>'))).to.equal('<Bundle/>');
  });

  it('refuses a packing format it does not know', () => {
    expect(() => unpack(Buffer.from([2, 0, 0]))).to.throw(StoreError, /packing format 2/);
  });
});
