import { expect } from 'chai';
import {
  decodePacket,
  encodePacket,
  writeHeader,
  writeAltHeader,
  Magic,
  HEADER_LENGTH,
  ProtocolError,
  Opcode,
  Status,
  Datatype,
  opcodeName,
  statusName,
  isQuiet,
  loudOpcode,
  datatypeName,
  peekFrameLength,
} from '../../lib/protocol';
import { FRAMES, expectedPlain } from './frames';
import { hex, plain, reasonOf } from './helpers';

describe('protocol: packet codec', () => {
  it('exposes the fixed header length and magics', () => {
    expect(HEADER_LENGTH).to.equal(24);
    expect(Magic).to.deep.equal({
      REQUEST: 0x80, RESPONSE: 0x81, ALT_REQUEST: 0x08, ALT_RESPONSE: 0x18, SERVER_REQUEST: 0x82, SERVER_RESPONSE: 0x83,
    });
  });

  describe('decodePacket', () => {
    for (const c of FRAMES) {
      it(`decodes a hand-built ${c.name}`, () => {
        expect(plain(decodePacket(c.bytes))).to.deep.equal(expectedPlain(c));
      });
    }

    it('returns fields that are views into the frame, not copies', () => {
      const frame = Buffer.from(FRAMES[1].bytes);
      const p = decodePacket(frame);
      expect(p.key.buffer).to.equal(frame.buffer);
      expect(p.value.buffer).to.equal(frame.buffer);
      frame[HEADER_LENGTH + 8] = 0x4b; // the key byte 'k' -> 'K'
      expect(p.key.toString()).to.equal('K');
    });

    it('returns fields that behave as Buffers in every way callers use', () => {
      const p = decodePacket(Buffer.from(FRAMES[1].bytes));
      for (const f of [p.extras, p.key, p.value]) {
        expect(Buffer.isBuffer(f)).to.equal(true);
        expect(f).to.be.instanceOf(Buffer);
        expect(f.constructor).to.equal(Buffer);
      }
      expect(p.value.toString('utf8')).to.equal('{"a":1}');
      expect(p.value.equals(Buffer.from('{"a":1}'))).to.equal(true);
      expect(p.value).to.deep.equal(Buffer.from('{"a":1}'));
      expect(p.extras.readUInt32BE(0)).to.equal(0x02000000);
      expect(Buffer.concat([p.key, p.value]).toString()).to.equal('k{"a":1}');
      const sub = p.value.subarray(1, 4);
      expect(Buffer.isBuffer(sub)).to.equal(true);
      expect(sub.toString()).to.equal('"a"');
      expect(JSON.stringify(p.key)).to.equal('{"type":"Buffer","data":[107]}');
    });

    it('reads a CAS above 2^63 exactly', () => {
      const p = decodePacket(hex('81 00 0000 00 00 0000 00000000 00000000 ffffffffffffffff'));
      expect(p.cas).to.equal(0xffffffffffffffffn);
    });

    it('rejects an unknown magic', () => {
      expect(reasonOf(() => decodePacket(hex('90 00 0000 00 00 0000 00000000 00000000 0000000000000000')))).to.equal('bad_magic');
      expect(reasonOf(() => decodePacket(hex('00 00 0000 00 00 0000 00000000 00000000 0000000000000000')))).to.equal('bad_magic');
    });

    it('rejects a frame shorter than the header', () => {
      expect(reasonOf(() => decodePacket(hex('80 00 0000 00 00 0000 00000000')))).to.equal('truncated');
    });

    it('rejects a frame shorter than its declared body', () => {
      expect(reasonOf(() => decodePacket(FRAMES[1].bytes.subarray(0, FRAMES[1].bytes.length - 1)))).to.equal('truncated');
    });

    it('rejects bytes after the declared end', () => {
      expect(reasonOf(() => decodePacket(Buffer.concat([FRAMES[0].bytes, hex('00')])))).to.equal('trailing_bytes');
    });

    it('rejects extras + key longer than the body', () => {
      // key length 5, extras 4, body 8
      expect(reasonOf(() => decodePacket(hex('80 00 0005 04 00 0000 00000008 00000000 0000000000000000 0000000000000000')))).to.equal('bad_lengths');
    });

    it('rejects framing extras + extras + key longer than the body (alt magic)', () => {
      // framing 2, key 1, extras 0, body 2
      expect(reasonOf(() => decodePacket(hex('08 00 02 01 00 00 0000 00000002 00000000 0000000000000000 1101')))).to.equal('bad_lengths');
    });

    it('ProtocolError carries a reason and a readable message', () => {
      try {
        decodePacket(hex('42 00 0000 00 00 0000 00000000 00000000 0000000000000000'));
        expect.fail('should throw');
      } catch (err) {
        expect(err).to.be.instanceOf(Error);
        expect((err as ProtocolError).name).to.equal('ProtocolError');
        expect((err as ProtocolError).message).to.contain('0x42');
      }
    });
  });

  describe('encodePacket', () => {
    for (const c of FRAMES) {
      it(`encodes ${c.name} byte for byte`, () => {
        const f = c.fields;
        const out = encodePacket({
          magic: f.magic,
          opcode: f.opcode,
          datatype: f.datatype,
          vbucket: f.vbucket,
          status: f.status,
          opaque: f.opaque,
          cas: f.cas,
          framingExtras: Buffer.from(f.framingExtras, 'hex'),
          extras: Buffer.from(f.extras, 'hex'),
          key: Buffer.from(f.key, 'hex'),
          value: Buffer.from(f.value, 'hex'),
        });
        expect(out.toString('hex')).to.equal(c.bytes.toString('hex'));
      });
    }

    it('defaults every omitted field to zero / empty', () => {
      expect(encodePacket({ magic: Magic.REQUEST, opcode: Opcode.NOOP }).toString('hex')).to.equal(
        hex('80 0a 0000 00 00 0000 00000000 00000000 0000000000000000').toString('hex'),
      );
    });

    it('writes string keys and values as UTF-8', () => {
      const out = encodePacket({ magic: Magic.REQUEST, opcode: Opcode.SET, key: 'é', value: 'ü', extras: Buffer.alloc(8) });
      expect(out.toString('hex')).to.equal(
        hex('80 01 0002 08 00 0000 0000000c 00000000 0000000000000000 0000000000000000 c3a9 c3bc').toString('hex'),
      );
    });

    it('puts the status (not the vbucket) in bytes 6-7 of responses', () => {
      const out = encodePacket({ magic: Magic.RESPONSE, opcode: Opcode.GET, status: Status.NOT_MY_VBUCKET, vbucket: 99 });
      expect(out.readUInt16BE(6)).to.equal(7);
    });

    it('refuses framing extras with a classic magic', () => {
      expect(reasonOf(() => encodePacket({ magic: Magic.REQUEST, opcode: 0, framingExtras: hex('00') }))).to.equal('bad_framing_extras');
    });

    it('refuses a key over 255 bytes with an alt magic, and over 65535 with a classic one', () => {
      expect(reasonOf(() => encodePacket({ magic: Magic.ALT_REQUEST, opcode: 0, key: Buffer.alloc(256) }))).to.equal('field_too_long');
      expect(reasonOf(() => encodePacket({ magic: Magic.REQUEST, opcode: 0, key: Buffer.alloc(65536) }))).to.equal('field_too_long');
      expect(encodePacket({ magic: Magic.REQUEST, opcode: 0, key: Buffer.alloc(300) }).readUInt16BE(2)).to.equal(300);
    });

    it('refuses extras over 255 bytes and unknown magics', () => {
      expect(reasonOf(() => encodePacket({ magic: Magic.REQUEST, opcode: 0, extras: Buffer.alloc(256) }))).to.equal('field_too_long');
      expect(reasonOf(() => encodePacket({ magic: 0x99, opcode: 0 }))).to.equal('bad_magic');
    });

    it('round-trips random packets of every magic', () => {
      let seed = 12345;
      const rnd = (n: number) => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed % n;
      };
      const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => rnd(256)));
      const magics = [0x80, 0x81, 0x08, 0x18, 0x82, 0x83];
      for (let i = 0; i < 300; i++) {
        const magic = magics[i % magics.length];
        const alt = magic === 0x08 || magic === 0x18;
        const response = magic === 0x81 || magic === 0x18 || magic === 0x83;
        const init = {
          magic,
          opcode: rnd(256),
          datatype: rnd(8),
          vbucket: response ? 0 : rnd(1024),
          status: response ? rnd(0x10000) : 0,
          opaque: rnd(0x7fffffff) * 2 + rnd(2),
          cas: BigInt(rnd(0x7fffffff)) * 0x100000000n + BigInt(rnd(0x7fffffff)),
          framingExtras: alt ? bytes(rnd(20)) : Buffer.alloc(0),
          extras: bytes(rnd(30)),
          key: bytes(rnd(alt ? 256 : 400)),
          value: bytes(rnd(500)),
        };
        const decoded = decodePacket(encodePacket(init));
        expect(plain(decoded)).to.deep.equal(plain(init));
      }
    });
  });

  describe('writeHeader / writeAltHeader (allocation-free header writers)', () => {
    it('produce the same bytes as encodePacket', () => {
      const key = Buffer.from('key');
      const extras = hex('02000000 00000000');
      const value = Buffer.from('value');
      const body = extras.length + key.length + value.length;
      const buf = Buffer.alloc(HEADER_LENGTH + body);
      writeHeader(buf, 0, Magic.REQUEST, Opcode.SET, key.length, extras.length, Datatype.JSON, 77, body, 0xfedcba98, 5n);
      extras.copy(buf, 24);
      key.copy(buf, 32);
      value.copy(buf, 35);
      expect(buf.toString('hex')).to.equal(
        encodePacket({ magic: Magic.REQUEST, opcode: Opcode.SET, datatype: 1, vbucket: 77, opaque: 0xfedcba98, cas: 5n, extras, key, value }).toString('hex'),
      );

      const fe = hex('1101');
      const alt = Buffer.alloc(HEADER_LENGTH + fe.length + key.length);
      writeAltHeader(alt, 0, Magic.ALT_REQUEST, Opcode.DELETE, fe.length, key.length, 0, 0, 9, fe.length + key.length, 1, 0n);
      fe.copy(alt, 24);
      key.copy(alt, 26);
      expect(alt.toString('hex')).to.equal(
        encodePacket({ magic: Magic.ALT_REQUEST, opcode: Opcode.DELETE, vbucket: 9, opaque: 1, framingExtras: fe, key }).toString('hex'),
      );
    });

    it('peekFrameLength reads the total length once a header is there', () => {
      expect(peekFrameLength(FRAMES[1].bytes.subarray(0, 23))).to.equal(-1);
      expect(peekFrameLength(FRAMES[1].bytes.subarray(0, 24))).to.equal(FRAMES[1].bytes.length);
    });
  });

  describe('opcode, status and datatype tables', () => {
    it('names opcodes, statuses and datatypes', () => {
      expect(opcodeName(Opcode.GET_CLUSTER_CONFIG)).to.equal('GET_CLUSTER_CONFIG');
      expect(opcodeName(0xc5)).to.equal('SUBDOC_GET');
      expect(opcodeName(0xf0)).to.equal('UNKNOWN_0xf0');
      expect(statusName(Status.NOT_MY_VBUCKET)).to.equal('NOT_MY_VBUCKET');
      expect(statusName(0xcc)).to.equal('SUBDOC_MULTI_PATH_FAILURE');
      expect(statusName(0x1234)).to.equal('UNKNOWN_0x1234');
      expect(datatypeName(Datatype.JSON | Datatype.XATTR)).to.equal('json,xattr');
      expect(datatypeName(0)).to.equal('raw');
    });

    it('has the contract values for opcodes and statuses', () => {
      expect([Opcode.GET_REPLICA, Opcode.SELECT_BUCKET, Opcode.OBSERVE_SEQNO, Opcode.OBSERVE, Opcode.GET_LOCKED,
        Opcode.UNLOCK_KEY, Opcode.GET_META, Opcode.GET_CLUSTER_CONFIG, Opcode.GET_COLLECTIONS_MANIFEST,
        Opcode.GET_COLLECTION_ID, Opcode.SUBDOC_MULTI_LOOKUP, Opcode.SUBDOC_MULTI_MUTATION, Opcode.GET_ERROR_MAP])
        .to.deep.equal([0x83, 0x89, 0x91, 0x92, 0x94, 0x95, 0xa0, 0xb5, 0xba, 0xbb, 0xd0, 0xd1, 0xfe]);
      expect([Status.LOCKED, Status.NOT_LOCKED, Status.AUTH_STALE, Status.AUTH_CONTINUE, Status.EACCESS,
        Status.UNKNOWN_FRAME_INFO, Status.ETMPFAIL, Status.UNKNOWN_COLLECTION, Status.UNKNOWN_SCOPE,
        Status.DURABILITY_INVALID_LEVEL, Status.SYNC_WRITE_AMBIGUOUS, Status.SUBDOC_DELETED_DOCUMENT_CANT_HAVE_VALUE])
        .to.deep.equal([0x09, 0x0e, 0x1f, 0x21, 0x24, 0x80, 0x86, 0x88, 0x8c, 0xa0, 0xa3, 0xd7]);
    });

    it('maps quiet opcodes to their loud twins', () => {
      expect(isQuiet(Opcode.SETQ)).to.equal(true);
      expect(isQuiet(Opcode.SET)).to.equal(false);
      expect(loudOpcode(Opcode.GETKQ)).to.equal(Opcode.GETK);
      expect(loudOpcode(Opcode.GATQ)).to.equal(Opcode.GAT);
      expect(loudOpcode(Opcode.GET)).to.equal(Opcode.GET);
    });
  });
});
