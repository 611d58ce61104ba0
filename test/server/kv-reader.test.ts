import { expect } from 'chai';
import { KvRequest, RequestReader } from '../../lib/server/kv/reader';
import { Magic, Opcode, encodePacket, ProtocolError } from '../../lib/protocol';

const MiB = 1024 * 1024;

function frame(key: string, value: Buffer | string, opaque: number): Buffer {
  return encodePacket({ magic: Magic.REQUEST, opcode: Opcode.SET, key, extras: Buffer.alloc(8), value, opaque });
}

function drain(reader: RequestReader): Array<{ key: string; value: string; opaque: number }> {
  const req = new KvRequest();
  const out: Array<{ key: string; value: string; opaque: number }> = [];
  while (reader.next(req)) out.push({ key: req.key.toString(), value: req.value.toString(), opaque: req.opaque });
  return out;
}

describe('server: the KV request reader', () => {
  it('splits frames however the stream is cut, in place or joined across chunks', () => {
    const frames = Buffer.concat([frame('a', 'x'.repeat(5000), 1), frame('b', '', 2), frame('c', 'y'.repeat(70_000), 3)]);
    for (const cut of [1, 7, 24, 100, 4095, 4096, 65_536, frames.length]) {
      const reader = new RequestReader(30 * MiB);
      const got: ReturnType<typeof drain> = [];
      for (let off = 0; off < frames.length; off += cut) {
        reader.push(frames.subarray(off, off + cut));
        got.push(...drain(reader));
      }
      expect(got.map((r) => [r.key, r.value.length, r.opaque]), `cut ${cut}`).to.deep.equal([['a', 5000, 1], ['b', 0, 2], ['c', 70_000, 3]]);
      expect(reader.bufferedBytes).to.equal(0);
    }
  });

  it('a header announcing 20 MiB holds only the bytes that came (100 such readers: well under 20 MiB)', () => {
    const head = frame('k', Buffer.alloc(20 * MiB - 9), 1).subarray(0, 40);
    const readers: RequestReader[] = [];
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 100; i++) {
      const reader = new RequestReader(30 * MiB);
      reader.push(Buffer.from(head.subarray(0, 20)));
      reader.push(Buffer.from(head.subarray(20)));
      expect(drain(reader)).to.deep.equal([]);
      expect(reader.bufferedBytes).to.equal(40);
      readers.push(reader);
    }
    expect(process.memoryUsage().arrayBuffers - before).to.be.below(20 * MiB);
  });

  it('a frame trickled one byte at a time costs memory in proportion to what arrived', () => {
    const f = frame('t', 'z'.repeat(300_000), 9);
    const reader = new RequestReader(30 * MiB);
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < f.length - 1; i++) reader.push(Buffer.from([f[i]]));
    expect(process.memoryUsage().arrayBuffers - before).to.be.below(4 * f.length);
    reader.push(Buffer.from([f[f.length - 1]]));
    expect(drain(reader).map((r) => [r.key, r.value.length, r.opaque])).to.deep.equal([['t', 300_000, 9]]);
  });

  it('a header over the limit fails as soon as the header is in, and keeps failing', () => {
    const reader = new RequestReader(16 * 1024 - 24);
    reader.push(frame('k', Buffer.alloc(16 * 1024), 1).subarray(0, 24));
    const req = new KvRequest();
    expect(() => reader.next(req)).to.throw(ProtocolError, /exceeds the limit/);
    expect(() => reader.next(req)).to.throw(ProtocolError);
  });
});
