import { expect } from 'chai';
import { isJsonText, nestingDepth } from '../../lib/server/json-syntax';
import { prng } from '../../lib/server/samples/prng';

describe('server: JSON checked without being built (json-syntax)', () => {
  it('isJsonText agrees with JSON.parse on 15,000 seeded texts made of JSON’s pieces', () => {
    const pieces = ['{', '}', '[', ']', ',', ':', '"a"', '"\\u12"', '"\\u00e9"', '"\\x"', '"\\n"', '"\\/"', '1', '-', '0', '01', '1.5', '1.', '.5', '1e5', '1e', '-0', 'true', 'tru', 'null', 'false', ' ', '\n', '\t', '"', '\\', '"\u0001"', 'é', '1E+2', '-1.0e-3', '{"k":1}', '[]', '{}', '\u00a0', '\ufeff'];
    const next = prng(17);
    let checked = 0;
    for (let t = 0; t < 15_000; t++) {
      let text = '';
      for (let k = 1 + Math.floor(next() * 8); k > 0; k--) text += pieces[Math.floor(next() * pieces.length)];
      let want = true;
      try {
        JSON.parse(text);
      } catch {
        want = false;
      }
      expect(isJsonText(Buffer.from(text)), JSON.stringify(text)).to.equal(want);
      checked++;
    }
    expect(checked).to.equal(15_000);
  });

  it('isJsonText takes 2 million nested arrays in linear time and one byte a level', () => {
    const deep = Buffer.from('['.repeat(2e6) + ']'.repeat(2e6));
    const started = Date.now();
    expect(isJsonText(deep)).to.equal(true);
    expect(isJsonText(deep.subarray(1))).to.equal(false);
    expect(Date.now() - started).to.be.below(5000);
  });

  it('nestingDepth counts containers, skips strings with their escapes, and stops past its cap', () => {
    const depth = (s: string, cap = 100): number => nestingDepth(Buffer.from(s), cap);
    expect(depth('1')).to.equal(0);
    expect(depth('{}')).to.equal(1);
    expect(depth('{"a":[1,{"b":[]}]}')).to.equal(4);
    expect(depth('["[[[[", "\\"[[[", "\\\\", [1]]')).to.equal(2);
    expect(depth('"\\\\\\"[["')).to.equal(0);
    expect(depth('['.repeat(1e6), 32)).to.equal(33);
    expect(depth('[1,2],[3]')).to.equal(1);
  });
});
