import { expect } from 'chai';
import {
  HelloFeature,
  helloFeatureName,
  encodeHelloFeatures,
  decodeHelloFeatures,
  encodeLeb128,
  decodeLeb128,
  leb128Length,
  splitCollectionKey,
  joinCollectionKey,
  crc32,
  crc32Table,
  vbucketOf,
  ProtocolError,
} from '../../lib/protocol';
import { hex } from './helpers';

describe('protocol: HELLO features', () => {
  it('has kv_engine feature codes', () => {
    expect([
      HelloFeature.TLS, HelloFeature.TCP_NODELAY, HelloFeature.MUTATION_SEQNO, HelloFeature.TCP_DELAY,
      HelloFeature.XATTR, HelloFeature.XERROR, HelloFeature.SELECT_BUCKET, HelloFeature.SNAPPY, HelloFeature.JSON,
      HelloFeature.DUPLEX, HelloFeature.CLUSTERMAP_CHANGE_NOTIFICATION, HelloFeature.UNORDERED_EXECUTION,
      HelloFeature.TRACING, HelloFeature.ALT_REQUEST_SUPPORT, HelloFeature.SYNC_REPLICATION,
      HelloFeature.COLLECTIONS, HelloFeature.PRESERVE_TTL, HelloFeature.VATTR,
    ]).to.deep.equal([0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x14, 0x15]);
  });

  it('names features, unknown ones included', () => {
    expect(helloFeatureName(0x12)).to.equal('COLLECTIONS');
    expect(helloFeatureName(0x10)).to.equal('ALT_REQUEST_SUPPORT');
    expect(helloFeatureName(0x7777)).to.equal('UNKNOWN_0x7777');
  });

  it('encodes and decodes the feature list as 2-byte big-endian codes', () => {
    const codes = [HelloFeature.TCP_NODELAY, HelloFeature.XERROR, HelloFeature.COLLECTIONS, 0x1234];
    expect(encodeHelloFeatures(codes).toString('hex')).to.equal('0003000700121234');
    expect(decodeHelloFeatures(hex('0003 0007 0012 1234'))).to.deep.equal(codes);
    expect(decodeHelloFeatures(Buffer.alloc(0))).to.deep.equal([]);
    expect(() => decodeHelloFeatures(hex('000300'))).to.throw(ProtocolError);
  });
});

describe('protocol: LEB128 collection ids', () => {
  const cases: Array<[number, string]> = [
    [0, '00'],
    [8, '08'],
    [127, '7f'],
    [128, '8001'],
    [0x3fff, 'ff7f'],
    [0x4000, '808001'],
    [0x1fffff, 'ffff7f'],
    [0x200000, '80808001'],
    [0xfffffff, 'ffffff7f'],
    [0x10000000, '8080808001'],
    [0xffffffff, 'ffffffff0f'],
  ];
  for (const [n, bytes] of cases) {
    it(`encodes ${n} as ${bytes} and back`, () => {
      expect(encodeLeb128(n).toString('hex')).to.equal(bytes);
      expect(leb128Length(n)).to.equal(bytes.length / 2);
      expect(decodeLeb128(Buffer.from(bytes + 'aa', 'hex'))).to.deep.equal({ value: n, length: bytes.length / 2 });
    });
  }

  it('decodes at an offset', () => {
    expect(decodeLeb128(hex('ff ff 8001'), 2)).to.deep.equal({ value: 128, length: 2 });
  });

  for (const [name, bytes] of [
    ['empty input', ''],
    ['a truncated number', '80'],
    ['a non-canonical encoding', '8000'],
    ['six bytes', '808080808001'],
    ['a value above 32 bits', 'ffffffff1f'],
  ] as const) {
    it(`rejects ${name}`, () => {
      try {
        decodeLeb128(hex(bytes));
        expect.fail('should throw');
      } catch (err) {
        expect(err).to.be.instanceOf(ProtocolError);
        expect((err as ProtocolError).reason).to.equal('bad_leb128');
      }
    });
  }

  it('refuses to encode negatives, fractions and values above 32 bits', () => {
    expect(() => encodeLeb128(-1)).to.throw(RangeError);
    expect(() => encodeLeb128(1.5)).to.throw(RangeError);
    expect(() => encodeLeb128(2 ** 32)).to.throw(RangeError);
  });

  it('prefixes and splits collection keys', () => {
    expect(joinCollectionKey(0, 'doc').toString('hex')).to.equal('00646f63');
    expect(joinCollectionKey(200, Buffer.from('x')).toString('hex')).to.equal('c80178');
    const split = splitCollectionKey(hex('c801 78'));
    expect(split.collectionId).to.equal(200);
    expect(split.key.toString()).to.equal('x');
  });
});

describe('protocol: vBucket hash', () => {
  // Bit-at-a-time CRC-32 straight from its definition, independent of both implementations.
  function crcBitwise(buf: Buffer): number {
    let crc = 0xffffffff;
    for (const byte of buf) {
      crc ^= byte;
      for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
    }
    return (crc ^ 0xffffffff) >>> 0;
  }

  it('computes the standard CRC-32 check value', () => {
    expect(crc32(Buffer.from('123456789'))).to.equal(0xcbf43926);
    expect(crc32Table(Buffer.from('123456789'))).to.equal(0xcbf43926);
    expect(crc32('')).to.equal(0);
  });

  it('agrees with a bitwise CRC-32 on many keys (native and table versions)', () => {
    for (let i = 0; i < 500; i++) {
      const key = Buffer.from(`key-${i}-${'x'.repeat(i % 37)}-ü`);
      const want = crcBitwise(key);
      expect(crc32(key)).to.equal(want);
      expect(crc32Table(key)).to.equal(want);
      expect(crc32(key.toString())).to.equal(want);
    }
  });

  it('hashes ASCII string keys from their char codes to the same CRC-32, short and long', () => {
    for (let i = 0; i < 600; i++) {
      const key = `user::${i}-${'z'.repeat(i % 300)}${i % 5 === 0 ? '\u007f' : ''}`;
      expect(crc32(key), key.slice(0, 20)).to.equal(crcBitwise(Buffer.from(key, 'latin1')));
    }
  });

  it('maps keys to the vBuckets other Couchbase clients document', () => {
    // cbgb's vbucket test: "hello" -> 528 of 1024
    expect(vbucketOf('hello', 1024)).to.equal(528);
    // libvbucket's test table with a 4-vbucket map
    const four: Record<string, number> = {
      hello: 0, doctor: 0, name: 3, continue: 3, yesterday: 0, tomorrow: 1, 'another key': 2,
    };
    for (const [k, v] of Object.entries(four)) expect(vbucketOf(k, 4), k).to.equal(v);
    // go-couchbase's vbmap test with 256 vbuckets
    const twoFiftySix: Record<string, number> = { k0: 9, k1: 14, k2: 7, k3: 0, k4: 100, k5: 99 };
    for (const [k, v] of Object.entries(twoFiftySix)) expect(vbucketOf(k, 256), k).to.equal(v);
  });

  it('is ((crc32 >>> 16) & 0x7fff) % n, with strings taken as UTF-8', () => {
    for (const key of ['a', 'user::1234', 'ключ', '🙂']) {
      const want = ((crcBitwise(Buffer.from(key, 'utf8')) >>> 16) & 0x7fff) % 1024;
      expect(vbucketOf(key, 1024)).to.equal(want);
      expect(vbucketOf(Buffer.from(key), 1024)).to.equal(want);
      expect(vbucketOf(key, 64)).to.equal(want % 64);
    }
  });
});
