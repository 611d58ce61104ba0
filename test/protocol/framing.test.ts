import { expect } from 'chai';
import {
  encodeFrameInfos,
  decodeFrameInfos,
  RequestFrameId,
  ResponseFrameId,
  encodeServerDuration,
  decodeServerDuration,
  serverDurationFrame,
  readServerDuration,
  durabilityFrame,
  decodeDurability,
  DurabilityLevel,
  ProtocolError,
} from '../../lib/protocol';
import { hex } from './helpers';

function roundTrip(list: { id: number; data: Buffer }[]): Array<{ id: number; data: string }> {
  return decodeFrameInfos(encodeFrameInfos(list)).map((f) => ({ id: f.id, data: f.data.toString('hex') }));
}

describe('protocol: framing extras', () => {
  const cases: Array<[string, { id: number; data: Buffer }[], string]> = [
    ['a barrier (id 0, no data)', [{ id: RequestFrameId.BARRIER, data: Buffer.alloc(0) }], '00'],
    ['a durability level', [{ id: RequestFrameId.DURABILITY, data: hex('01') }], '11 01'],
    ['a durability level with a timeout', [{ id: 1, data: hex('02 0064') }], '13 02 0064'],
    ['preserve TTL', [{ id: RequestFrameId.PRESERVE_TTL, data: Buffer.alloc(0) }], '50'],
    ['an impersonated user', [{ id: RequestFrameId.IMPERSONATE, data: Buffer.from('bob') }], '43 626f62'],
    ['an escaped id (17)', [{ id: 17, data: hex('aabb') }], 'f2 02 aabb'],
    ['an escaped length (20)', [{ id: 2, data: Buffer.alloc(20, 1) }], '2f 05' + '01'.repeat(20)],
    ['escaped id and length (id 20, 16 bytes)', [{ id: 20, data: Buffer.alloc(16, 2) }], 'ff 05 01' + '02'.repeat(16)],
    ['id 15 exactly (escape byte 0)', [{ id: 15, data: Buffer.alloc(0) }], 'f0 00'],
    ['length 15 exactly (escape byte 0)', [{ id: 3, data: Buffer.alloc(15, 3) }], '3f 00' + '03'.repeat(15)],
    ['several objects in order', [
      { id: 0, data: Buffer.alloc(0) },
      { id: 1, data: hex('01') },
      { id: 5, data: Buffer.alloc(0) },
    ], '00 1101 50'],
  ];

  for (const [name, list, bytes] of cases) {
    it(`encodes and decodes ${name} byte for byte`, () => {
      expect(encodeFrameInfos(list).toString('hex')).to.equal(hex(bytes).toString('hex'));
      expect(decodeFrameInfos(hex(bytes)).map((f) => ({ id: f.id, data: f.data.toString('hex') }))).to.deep.equal(
        list.map((f) => ({ id: f.id, data: f.data.toString('hex') })),
      );
    });
  }

  it('round-trips the largest escaped id and length', () => {
    expect(roundTrip([{ id: 270, data: Buffer.alloc(270, 9) }])).to.deep.equal([{ id: 270, data: '09'.repeat(270) }]);
  });

  it('refuses ids or lengths beyond the escape range', () => {
    expect(() => encodeFrameInfos([{ id: 271, data: Buffer.alloc(0) }])).to.throw(ProtocolError);
    expect(() => encodeFrameInfos([{ id: 0, data: Buffer.alloc(271) }])).to.throw(ProtocolError);
  });

  for (const [name, bytes] of [
    ['data running past the end', '13 01'],
    ['a missing id escape byte', 'f0'],
    ['a missing length escape byte', '1f'],
    ['a missing length escape byte after an id escape', 'ff 01'],
  ] as const) {
    it(`rejects ${name}`, () => {
      try {
        decodeFrameInfos(hex(bytes));
        expect.fail('should throw');
      } catch (err) {
        expect(err).to.be.instanceOf(ProtocolError);
        expect((err as ProtocolError).reason).to.equal('bad_framing_extras');
      }
    });
  }

  describe('server duration', () => {
    it('encodes microseconds as (micros*2)^(1/1.74), rounded', () => {
      expect(encodeServerDuration(0)).to.equal(0);
      expect(encodeServerDuration(1000)).to.equal(79); // 2000^(1/1.74) = 78.9
      expect(encodeServerDuration(1)).to.equal(1); // 2^(1/1.74) = 1.49
      expect(encodeServerDuration(1e12)).to.equal(0xffff);
    });

    it('decodes v^1.74 / 2 and agrees with the encoder to within rounding', () => {
      expect(decodeServerDuration(0)).to.equal(0);
      expect(decodeServerDuration(79)).to.be.closeTo(Math.pow(79, 1.74) / 2, 1e-9);
      // decode is the exact inverse on every encodable value...
      const mismatches: number[] = [];
      for (let e = 0; e <= 0xffff; e++) if (encodeServerDuration(decodeServerDuration(e)) !== e) mismatches.push(e);
      expect(mismatches).to.deep.equal([]);
      // ...and from a millisecond up the rounding costs well under 2%.
      for (const micros of [1234, 50_000, 1_000_000, 30_000_000]) {
        const back = decodeServerDuration(encodeServerDuration(micros));
        expect(Math.abs(back - micros) / micros, `${micros}us`).to.be.lessThan(0.02);
      }
    });

    it('builds a response frame with the 2-byte encoded duration', () => {
      const f = serverDurationFrame(1000);
      expect(f.id).to.equal(ResponseFrameId.SERVER_DURATION);
      expect(encodeFrameInfos([f]).toString('hex')).to.equal('02004f');
    });

    it('reads the duration out of the framing extras of a response, among other frame infos, or -1', () => {
      expect(readServerDuration(Buffer.from('02004f', 'hex'))).to.be.closeTo(decodeServerDuration(79), 1e-9);
      // read units (id 1) first, then the duration
      const both = encodeFrameInfos([{ id: ResponseFrameId.READ_UNITS, data: Buffer.from([0, 3]) }, serverDurationFrame(50_000)]);
      expect(readServerDuration(both)).to.be.closeTo(decodeServerDuration(encodeServerDuration(50_000)), 1e-9);
      expect(readServerDuration(Buffer.alloc(0))).to.equal(-1);
      expect(readServerDuration(encodeFrameInfos([{ id: ResponseFrameId.READ_UNITS, data: Buffer.from([0, 3]) }]))).to.equal(-1);
      // a frame info that runs past the end is no duration
      expect(readServerDuration(Buffer.from('0200', 'hex'))).to.equal(-1);
    });
  });

  describe('durability frame', () => {
    it('encodes a level alone or with a timeout, and decodes both', () => {
      expect(encodeFrameInfos([durabilityFrame(DurabilityLevel.MAJORITY)]).toString('hex')).to.equal('1101');
      expect(encodeFrameInfos([durabilityFrame(DurabilityLevel.PERSIST_TO_MAJORITY, 2500)]).toString('hex')).to.equal('130309c4');
      expect(decodeDurability(hex('01'))).to.deep.equal({ level: 1 });
      expect(decodeDurability(hex('0309c4'))).to.deep.equal({ level: 3, timeout: 2500 });
      expect(() => decodeDurability(hex('0102'))).to.throw(ProtocolError);
    });
  });
});
