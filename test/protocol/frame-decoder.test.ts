import { expect } from 'chai';
import { FrameDecoder, ProtocolError, DEFAULT_MAX_BODY_LENGTH, Packet, encodePacket } from '../../lib/protocol';
import { FRAMES, STREAM, expectedPlain } from './frames';
import { hex, plain, reasonOf } from './helpers';

const EXPECTED = FRAMES.map(expectedPlain);
const EXPECTED_SIG = JSON.stringify(EXPECTED);

/** Decodes `chunks` and returns the packets as one comparable string (fast to compare). */
function signature(chunks: Buffer[]): string {
  return JSON.stringify(decodeChunks(chunks));
}

function drain(d: FrameDecoder, out: Packet[]): void {
  for (let p = d.next(); p !== null; p = d.next()) out.push(p);
}

function decodeChunks(chunks: Buffer[]): Array<Record<string, unknown>> {
  const d = new FrameDecoder();
  const out: Packet[] = [];
  for (const c of chunks) {
    d.push(c);
    drain(d, out);
  }
  expect(d.bufferedBytes).to.equal(0);
  return out.map(plain);
}

describe('protocol: FrameDecoder', () => {
  it('splits a recorded stream of 10 mixed frames pushed as one chunk', () => {
    expect(decodeChunks([STREAM])).to.deep.equal(EXPECTED);
  });

  it('yields the same packets for the stream split in two at every point', () => {
    for (let i = 0; i <= STREAM.length; i++) {
      const got = signature([STREAM.subarray(0, i), STREAM.subarray(i)]);
      if (got !== EXPECTED_SIG) expect(JSON.parse(got), `split at ${i}`).to.deep.equal(EXPECTED);
    }
  });

  it('yields the same packets for the stream split in three at many points', () => {
    let combos = 0;
    for (let i = 1; i < STREAM.length; i += 3) {
      for (let j = i + 1; j < STREAM.length; j += 7) {
        const got = signature([STREAM.subarray(0, i), STREAM.subarray(i, j), STREAM.subarray(j)]);
        if (got !== EXPECTED_SIG) expect(JSON.parse(got), `split at ${i}, ${j}`).to.deep.equal(EXPECTED);
        combos++;
      }
    }
    expect(combos).to.be.greaterThan(5000);
  });

  it('yields the same packets when fed one byte at a time', () => {
    const chunks: Buffer[] = [];
    for (let i = 0; i < STREAM.length; i++) chunks.push(STREAM.subarray(i, i + 1));
    expect(decodeChunks(chunks)).to.deep.equal(EXPECTED);
  });

  it('handles several pushes before the first next() (merged and split chunks)', () => {
    const d = new FrameDecoder();
    const twice = Buffer.concat([STREAM, STREAM]);
    for (let i = 0; i < twice.length; i += 97) d.push(twice.subarray(i, i + 97));
    const out: Packet[] = [];
    drain(d, out);
    expect(out.map(plain)).to.deep.equal([...EXPECTED, ...EXPECTED]);
  });

  it('decodes a frame lying inside one chunk in place and copies only straddling frames', () => {
    const d = new FrameDecoder();
    const cut = FRAMES[0].bytes.length + 30; // frame 0 whole + part of frame 1
    const a = Buffer.alloc(cut);
    STREAM.copy(a, 0, 0, cut);
    const b = Buffer.alloc(STREAM.length - cut);
    STREAM.copy(b, 0, cut);
    d.push(a);
    const first = d.next()!;
    expect(d.next()).to.equal(null);
    d.push(b);
    const second = d.next()!;
    const third = d.next()!;
    expect(plain(second)).to.deep.equal(EXPECTED[1]);
    // Scribble over both chunks: in-place packets see it, the copied (straddling) one does not.
    a.fill(0x5a);
    b.fill(0x5a);
    expect(first.key.toString('hex')).to.equal('5a'.repeat(5));
    expect(third.value.toString('hex')).to.equal('5a');
    expect(plain(second)).to.deep.equal(EXPECTED[1]);
  });

  it('keeps earlier packets intact while later chunks arrive', () => {
    const d = new FrameDecoder();
    d.push(STREAM.subarray(0, 40));
    const first = d.next()!;
    d.push(STREAM.subarray(40));
    const rest: Packet[] = [];
    drain(d, rest);
    expect(plain(first)).to.deep.equal(EXPECTED[0]);
    expect(rest.map(plain)).to.deep.equal(EXPECTED.slice(1));
  });

  it('reassembles a 4 MiB value pushed in 64 KiB chunks', () => {
    const value = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < value.length; i += 4096) value[i] = (i / 4096) & 0xff;
    const frame = encodePacket({ magic: 0x80, opcode: 0x01, key: 'big', extras: Buffer.alloc(8), value, opaque: 77 });
    const d = new FrameDecoder();
    let got: Packet | null = null;
    for (let i = 0; i < frame.length; i += 65536) {
      d.push(frame.subarray(i, i + 65536));
      const p = d.next();
      if (p) got = p;
      else expect(i + 65536).to.be.lessThan(frame.length);
    }
    expect(got).to.not.equal(null);
    expect(got!.opaque).to.equal(77);
    expect(got!.key.toString()).to.equal('big');
    expect(got!.value.equals(value)).to.equal(true);
    expect(d.bufferedBytes).to.equal(0);
  });

  it('returns null on a partial frame and reports buffered bytes', () => {
    const d = new FrameDecoder();
    d.push(FRAMES[8].bytes.subarray(0, 10));
    expect(d.next()).to.equal(null);
    expect(d.bufferedBytes).to.equal(10);
    d.push(FRAMES[8].bytes.subarray(10, 100));
    expect(d.next()).to.equal(null);
    d.push(FRAMES[8].bytes.subarray(100));
    expect(plain(d.next()!)).to.deep.equal(EXPECTED[8]);
    expect(d.next()).to.equal(null);
    expect(d.bufferedBytes).to.equal(0);
  });

  it('returns the good frames before a bad magic, then throws bad_magic', () => {
    const d = new FrameDecoder();
    d.push(Buffer.concat([FRAMES[0].bytes, FRAMES[2].bytes, hex('ff00000000000000000000000000000000000000000000aa')]));
    expect(plain(d.next()!)).to.deep.equal(EXPECTED[0]);
    expect(plain(d.next()!)).to.deep.equal(EXPECTED[2]);
    expect(reasonOf(() => d.next())).to.equal('bad_magic');
    // the stream cannot be resynchronised: the error sticks
    d.push(FRAMES[0].bytes);
    expect(reasonOf(() => d.next())).to.equal('bad_magic');
  });

  it('rejects a body over the limit from the header alone, before the body arrives', () => {
    const d = new FrameDecoder({ maxBodyLength: 100 });
    d.push(hex('80 01 0001 08 00 0000 00000065 00000000 0000000000000000')); // body 101
    expect(reasonOf(() => d.next())).to.equal('body_too_large');
    const ok = new FrameDecoder({ maxBodyLength: 100 });
    ok.push(hex('80 01 0001 08 00 0000 00000064 00000000 0000000000000000'));
    expect(ok.next()).to.equal(null);
  });

  it('defaults the limit to 20 MiB + 1 KiB', () => {
    expect(DEFAULT_MAX_BODY_LENGTH).to.equal(20 * 1024 * 1024 + 1024);
    const d = new FrameDecoder();
    expect(d.maxBodyLength).to.equal(DEFAULT_MAX_BODY_LENGTH);
    const head = hex('80 01 0001 08 00 0000 00000000 00000000 0000000000000000');
    head.writeUInt32BE(DEFAULT_MAX_BODY_LENGTH + 1, 8);
    d.push(head);
    expect(reasonOf(() => d.next())).to.equal('body_too_large');
  });

  it('rejects extras + key longer than the body', () => {
    const d = new FrameDecoder();
    d.push(hex('80 00 0010 04 00 0000 00000010 00000000 0000000000000000'));
    expect(reasonOf(() => d.next())).to.equal('bad_lengths');
  });

  it('rejects a header split across chunks just as it rejects a whole one', () => {
    const bad = hex('81 00 0000 08 00 0000 00000004 00000000 0000000000000000 00000000');
    for (let i = 1; i < 24; i++) {
      const d = new FrameDecoder();
      d.push(bad.subarray(0, i));
      expect(d.next()).to.equal(null);
      d.push(bad.subarray(i));
      expect(reasonOf(() => d.next()), `split at ${i}`).to.equal('bad_lengths');
    }
  });

  it('a truncated stream leaves a partial frame buffered and yields nothing more', () => {
    const d = new FrameDecoder();
    d.push(STREAM.subarray(0, STREAM.length - 1));
    const out: Packet[] = [];
    drain(d, out);
    expect(out.map(plain)).to.deep.equal(EXPECTED.slice(0, 9));
    expect(d.bufferedBytes).to.equal(FRAMES[9].bytes.length - 1);
  });

  it('reset() drops buffered bytes and a recorded failure', () => {
    const d = new FrameDecoder();
    d.push(hex('77'.repeat(24)));
    expect(reasonOf(() => d.next())).to.equal('bad_magic');
    d.reset();
    d.push(FRAMES[0].bytes);
    expect(plain(d.next()!)).to.deep.equal(EXPECTED[0]);
  });

  it('survives random garbage by throwing ProtocolError, never anything else', () => {
    let seed = 7;
    for (let round = 0; round < 200; round++) {
      const d = new FrameDecoder({ maxBodyLength: 4096 });
      const junk = Buffer.alloc(200);
      for (let i = 0; i < junk.length; i++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        junk[i] = seed & 0xff;
      }
      d.push(junk);
      try {
        while (d.next() !== null);
      } catch (err) {
        expect(err).to.be.instanceOf(ProtocolError);
      }
    }
  });
});
