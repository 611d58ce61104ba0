// Edge cases of scalar functions where the query service's behaviour goes beyond the examples of
// the 7.6 reference pages: the bitwise, number, token, crypto, object, pattern and array functions.
// Digests are the published test vectors of each algorithm (RFC 1320 for MD4, RFC 1321 for MD5).
import { expect } from 'chai';
import { Engine } from './harness';
import type { Value } from '../../lib/server/n1ql/value';

const e = new Engine();
const one = (expr: string): Value => {
  const o = e.run(`SELECT RAW ${expr}`);
  if (o.errors.length) throw new Error(`${expr}: ${JSON.stringify(o.errors)}`);
  return o.rows[0];
};

describe('n1ql function edges: numbers and bits', () => {
  it('BITSHIFT shifts right logically, filling the top with zeros', () => {
    expect(one('[BITSHIFT(-1, -21, FALSE), BITSHIFT(-1, -63), BITSHIFT(-1, -64), BITSHIFT(-8, -1), BITSHIFT(512, -6)]')).to.deep.equal([8796093022207, 1, 0, 9223372036854775804n, 8]);
    // Rotation is unchanged: every bit comes back in at the other end.
    expect(one('[BITSHIFT(-1, -64, TRUE), BITSHIFT(-1, -5, TRUE), BITSHIFT(1, 70, TRUE)]')).to.deep.equal([-1, -1, 64]);
  });

  it('SIGN of NaN is 0', () => {
    expect(one('[SIGN(NaN()), SIGN(-0.5), SIGN(POSINF()), SIGN(0)]')).to.deep.equal([0, -1, 1, 0]);
  });

  it('TOKENS of MISSING is MISSING', () => {
    expect(one('[TOKENS(MISSING) IS MISSING, TOKENS(NULL)]')).to.deep.equal([true, [null]]);
  });
});

describe('n1ql function edges: HASHBYTES', () => {
  it('takes the algorithm as a string or in the options object, by any spelling of its name', () => {
    expect(one('HASHBYTES("Hello world", "crc32")')).to.equal('8bd69e52');
    expect(one('HASHBYTES("message digest", "MD5")')).to.equal('f96b697d7cb7938d525a2f31aaf161d0');
    expect(one('HASHBYTES("abc", "SHA-256")')).to.equal('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(one('HASHBYTES("abc", {"algorithm": "sha-224"})')).to.equal('23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7');
  });

  it('supports MD4', () => {
    expect(one('HASHBYTES("", "md4")')).to.equal('31d6cfe0d16ae931b73c59d7e0c089c0');
    expect(one('HASHBYTES("abc", {"algorithm": "md4"})')).to.equal('a448017aaf21d8525fc10ae87aa6729d');
    expect(one('HASHBYTES("message digest", "md4")')).to.equal('d9130a8164549fe818874806e1c7014b');
    expect(one('HASHBYTES("12345678901234567890123456789012345678901234567890123456789012345678901234567890", "md4")')).to.equal('e33b4ddc9c38f2199c3e7b164fcc0536');
  });

  it('is NULL for a NULL input, an unknown algorithm or options of another type; NULL options mean SHA-256', () => {
    expect(one('[HASHBYTES(NULL, {"algorithm": "sha512"}), HASHBYTES("a", "sha1024"), HASHBYTES("a", 5), HASHBYTES("a", [])]')).to.deep.equal([null, null, null, null]);
    expect(one('HASHBYTES("abc", NULL)')).to.equal('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(one('HASHBYTES(MISSING) IS MISSING')).to.equal(true);
  });

  it('reads a CRC-32 polynomial as a name, a number or a number in text', () => {
    const castagnoli = one('HASHBYTES("Hello world", {"algorithm": "crc32", "polynomial": "castagnoli"})');
    expect(one('HASHBYTES("Hello world", {"algorithm": "crc32", "polynomial": "0x82f63b78"})')).to.equal(castagnoli);
    expect(one('HASHBYTES("Hello world", {"algorithm": "crc32", "polynomial": 2197175160})')).to.equal(castagnoli);
    // Text that is not a polynomial falls back to IEEE.
    expect(one('HASHBYTES("Hello world", {"algorithm": "crc32", "polynomial": "nonsense"})')).to.equal('8bd69e52');
  });
});

describe('n1ql function edges: patterns', () => {
  it('LIKE_STOP and REGEXP_STOP end a literal pattern with NUL, and are [] without a prefix', () => {
    expect(one('[LIKE_STOP("abc\\u0000"), LIKE_STOP("abc"), LIKE_STOP("abc%"), LIKE_STOP("%abc")]')).to.deep.equal(['abc\u0000\u0000', 'abc\u0000', 'abd', []]);
    expect(one('[REGEXP_STOP("abc\\u0000"), REGEXP_STOP("abc.*"), REGEXP_STOP(".*")]')).to.deep.equal(['abc\u0000\u0000', 'abd', []]);
  });

  it('LIKE_SUFFIX and REGEXP_SUFFIX drop leading characters until a literal prefix starts', () => {
    expect(one('[LIKE_SUFFIX("___123"), LIKE_SUFFIX("%a_"), LIKE_SUFFIX("abc%1"), LIKE_SUFFIX("%_")]')).to.deep.equal(['123', 'a_', 'abc%1', '']);
    expect(one('[REGEXP_SUFFIX("...123"), REGEXP_SUFFIX("..ab+"), REGEXP_SUFFIX("abc.*"), REGEXP_SUFFIX("...")]')).to.deep.equal(['123', 'ab+', 'abc.*', '']);
  });
});

describe('n1ql function edges: objects and arrays', () => {
  it('OBJECT_PAIRS_NESTED with composites lists objects reached by a field, not array elements', () => {
    const doc = '{"a": 1, "c": {"a": [{"b": 3}, {"b": [{"c": 5}]}]}}';
    expect(one(`OBJECT_PAIRS_NESTED(${doc}, {"composites": true})`)).to.deep.equal([
      { name: 'a', val: 1 },
      { name: 'c', val: { a: [{ b: 3 }, { b: [{ c: 5 }] }] } },
      { name: 'c.a', val: [{ b: 3 }, { b: [{ c: 5 }] }] },
      { name: 'c.a[0].b', val: 3 },
      { name: 'c.a[1].b', val: [{ c: 5 }] },
      { name: 'c.a[1].b[0].c', val: 5 },
    ]);
  });

  it('ARRAY_CONTAINS_ALL / _ANY take the values to look for as an array, or one value', () => {
    expect(one('[ARRAY_CONTAINS_ALL([1, 2, 3], [1, 2]), ARRAY_CONTAINS_ALL([1, 2, 3], [1, 2, 3, 4]), ARRAY_CONTAINS_ALL([1, 2, 3], [])]')).to.deep.equal([true, false, true]);
    expect(one('[ARRAY_CONTAINS_ANY([1, 2, 3], [4, 3]), ARRAY_CONTAINS_ANY([1, 2, 3], [9, 8]), ARRAY_CONTAINS_ANY([1, 2, 3], [])]')).to.deep.equal([true, false, false]);
    expect(one('[ARRAY_CONTAINS_ALL([[1], 2], [1]), ARRAY_CONTAINS_ANY([1, 2], 2), ARRAY_CONTAINS_ALL([1], NULL)]')).to.deep.equal([false, true, null]);
    expect(one('ARRAY_CONTAINS_ALL([[1], 2], [[1]])')).to.equal(true);
    expect(e.run('SELECT ARRAY_CONTAINS_ALL([1, 2], 1, 2)').errors[0]).to.deep.include({ code: 3100 });
  });
});
