// The server's request splitter: the hot-path twin of lib/protocol's FrameDecoder.
//
// FrameDecoder hands out a fresh Packet with four subarray views per frame; at a few hundred
// thousand requests a second that garbage is a measurable share of the server's time. Here one
// KvRequest per connection is refilled in place, its fields are read straight from the chunk,
// and views are only made for the parts a handler actually asks for. The header checks are the
// same as FrameDecoder's (and raise the same ProtocolError reasons), so a peer that breaks the
// format is treated identically.
import { Magic, ProtocolError, type Packet } from '../../protocol/packet';

const EMPTY = Buffer.alloc(0);
const HEADER = 24;

// 0 = unknown magic, 1 = classic layout, 2 = flexible-framing layout.
const LAYOUT = new Uint8Array(256);
LAYOUT[Magic.REQUEST] = 1;
LAYOUT[Magic.RESPONSE] = 1;
LAYOUT[Magic.SERVER_REQUEST] = 1;
LAYOUT[Magic.SERVER_RESPONSE] = 1;
LAYOUT[Magic.ALT_REQUEST] = 2;
LAYOUT[Magic.ALT_RESPONSE] = 2;

/** One decoded request, valid until the next call to RequestReader.next(). Do not keep it. */
export class KvRequest implements Packet {
  magic = 0;
  opcode = 0;
  datatype = 0;
  vbucket = 0;
  status = 0;
  opaque = 0;
  private buf: Buffer = EMPTY;
  private base = 0;
  private feLen = 0;
  private exLen = 0;
  private keyLen = 0;
  private valLen = 0;
  private cachedExtras: Buffer | null = null;
  private cachedKey: Buffer | null = null;
  private cachedValue: Buffer | null = null;

  /** Fills the fields from the (already checked) frame at buf[base]. */
  load(buf: Buffer, base: number, layout: number, bodyLen: number): void {
    this.buf = buf;
    this.base = base;
    this.magic = buf[base];
    this.opcode = buf[base + 1];
    if (layout === 1) {
      this.feLen = 0;
      this.keyLen = (buf[base + 2] << 8) | buf[base + 3];
    } else {
      this.feLen = buf[base + 2];
      this.keyLen = buf[base + 3];
    }
    this.exLen = buf[base + 4];
    this.datatype = buf[base + 5];
    this.vbucket = (buf[base + 6] << 8) | buf[base + 7];
    this.opaque = buf.readUInt32BE(base + 12);
    this.valLen = bodyLen - this.feLen - this.exLen - this.keyLen;
    this.cachedExtras = this.cachedKey = this.cachedValue = null;
  }

  get cas(): bigint {
    const b = this.buf;
    const o = this.base + 16;
    if ((b[o] | b[o + 1] | b[o + 2] | b[o + 3] | b[o + 4] | b[o + 5] | b[o + 6] | b[o + 7]) === 0) return 0n;
    return b.readBigUInt64BE(o);
  }

  get framingExtras(): Buffer {
    if (this.feLen === 0) return EMPTY;
    const o = this.base + HEADER;
    return this.buf.subarray(o, o + this.feLen);
  }

  get extras(): Buffer {
    if (this.exLen === 0) return EMPTY;
    if (this.cachedExtras === null) {
      const o = this.base + HEADER + this.feLen;
      this.cachedExtras = this.buf.subarray(o, o + this.exLen);
    }
    return this.cachedExtras;
  }

  get key(): Buffer {
    if (this.keyLen === 0) return EMPTY;
    if (this.cachedKey === null) {
      const o = this.base + HEADER + this.feLen + this.exLen;
      this.cachedKey = this.buf.subarray(o, o + this.keyLen);
    }
    return this.cachedKey;
  }

  get value(): Buffer {
    if (this.valLen === 0) return EMPTY;
    if (this.cachedValue === null) {
      const o = this.base + HEADER + this.feLen + this.exLen + this.keyLen;
      this.cachedValue = this.buf.subarray(o, o + this.valLen);
    }
    return this.cachedValue;
  }

  get keyLength(): number {
    return this.keyLen;
  }

  /** Key byte `i` without making a view. */
  keyByte(i: number): number {
    return this.buf[this.base + HEADER + this.feLen + this.exLen + i];
  }

  /** The key from byte `skip` on, decoded as UTF-8, without making a view. */
  keyString(skip: number): string {
    const o = this.base + HEADER + this.feLen + this.exLen;
    return this.buf.toString('utf8', o + skip, o + this.keyLen);
  }

  /** Copies the value into a buffer of its own (stored documents must not pin socket chunks). */
  copyValue(): Buffer {
    if (this.valLen === 0) return Buffer.alloc(0);
    const o = this.base + HEADER + this.feLen + this.exLen + this.keyLen;
    const out = Buffer.allocUnsafe(this.valLen);
    this.buf.copy(out, 0, o, o + this.valLen);
    return out;
  }
}

/** Small chunks are copied into accumulators that start this big ... */
const ACCUMULATOR_MIN = 4096;
/** ... and double up to this, so a peer trickling bytes costs memory in proportion to what it sent. */
const ACCUMULATOR_MAX = 64 * 1024;

/**
 * Splits the byte stream of one connection into requests. Received chunks wait in a list (never
 * a growing concatenation); a frame that lies inside one chunk is read in place, and one that
 * straddles chunks is joined only once all of its bytes are here, so the memory an unfinished
 * frame holds is what the peer actually sent, not what its header announced.
 */
export class RequestReader {
  /** Largest body accepted; a header announcing more fails at once (the connection lowers it before authentication). */
  maxBodyLength: number;
  /** Unread chunks; the first is read from `pos`. */
  private readonly chunks: Buffer[] = [];
  private pos = 0;
  private buffered = 0;
  /** The last chunk is a view of this buffer we own, with room to copy small chunks into. */
  private acc: Buffer | null = null;
  private accLen = 0;
  private readonly hdr = Buffer.allocUnsafe(HEADER);
  private failure: ProtocolError | null = null;

  constructor(maxBodyLength: number) {
    this.maxBodyLength = maxBodyLength;
  }

  /** Bytes received but not yet returned as requests. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): void {
    const n = chunk.length;
    if (n === 0) return;
    const chunks = this.chunks;
    if (this.buffered === 0) {
      // The hot path: everything before was consumed.
      chunks.length = 0;
      chunks.push(chunk);
      this.pos = 0;
      this.buffered = n;
      this.acc = null;
      return;
    }
    this.buffered += n;
    if (n >= ACCUMULATOR_MIN) {
      chunks.push(chunk);
      this.acc = null;
      return;
    }
    let acc = this.acc;
    if (acc === null || this.accLen + n > acc.length) {
      const size = acc === null ? ACCUMULATOR_MIN : Math.min(acc.length * 2, ACCUMULATOR_MAX);
      acc = Buffer.allocUnsafe(Math.max(size, n));
      this.acc = acc;
      this.accLen = 0;
      chunks.push(acc.subarray(0, 0));
    }
    chunk.copy(acc, this.accLen);
    this.accLen += n;
    // The view grows over the same memory: offsets into it (`pos`, when it is the first chunk) stay valid.
    chunks[chunks.length - 1] = acc.subarray(0, this.accLen);
  }

  /** Loads the next whole frame into `req`; false when more bytes are needed. Throws ProtocolError. */
  next(req: KvRequest): boolean {
    if (this.failure !== null) throw this.failure;
    const avail = this.buffered;
    if (avail < HEADER) return false;
    const cur = this.chunks[0];
    const pos = this.pos;
    const inHead = cur.length - pos;
    let layout: number;
    let bodyLen: number;
    if (inHead >= HEADER) {
      layout = LAYOUT[cur[pos]];
      bodyLen = this.check(cur, pos, layout);
    } else {
      this.gather(this.hdr, HEADER, false);
      layout = LAYOUT[this.hdr[0]];
      bodyLen = this.check(this.hdr, 0, layout);
    }
    const total = HEADER + bodyLen;
    if (avail < total) return false;
    if (inHead >= total) {
      req.load(cur, pos, layout, bodyLen);
      this.buffered = avail - total;
      if (inHead === total) this.dropHead();
      else this.pos = pos + total;
      return true;
    }
    const frame = Buffer.allocUnsafe(total);
    this.gather(frame, total, true);
    req.load(frame, 0, layout, bodyLen);
    return true;
  }

  /** Copies the next `n` bytes into `out`, consuming them when `consume`. */
  private gather(out: Buffer, n: number, consume: boolean): void {
    const chunks = this.chunks;
    let pos = this.pos;
    let i = 0;
    let filled = 0;
    while (filled < n) {
      const c = chunks[i];
      const take = Math.min(n - filled, c.length - pos);
      c.copy(out, filled, pos, pos + take);
      filled += take;
      pos += take;
      if (pos === c.length) {
        i++;
        pos = 0;
      }
    }
    if (!consume) return;
    if (i > 0) {
      if (i >= chunks.length) this.acc = null;
      chunks.splice(0, i);
    }
    this.pos = pos;
    this.buffered -= n;
  }

  private dropHead(): void {
    const chunks = this.chunks;
    if (chunks.length === 1) {
      chunks.length = 0;
      this.acc = null;
    } else chunks.shift();
    this.pos = 0;
  }

  /** Validates a header; returns its body length. */
  private check(b: Buffer, o: number, layout: number): number {
    if (layout === 0) return this.fail('bad_magic', `invalid magic 0x${b[o].toString(16).padStart(2, '0')}`);
    const bodyLen = b.readUInt32BE(o + 8);
    if (bodyLen > this.maxBodyLength) {
      return this.fail('body_too_large', `body length ${bodyLen} exceeds the limit of ${this.maxBodyLength} bytes`);
    }
    const fe = layout === 1 ? 0 : b[o + 2];
    const key = layout === 1 ? (b[o + 2] << 8) | b[o + 3] : b[o + 3];
    if (fe + b[o + 4] + key > bodyLen) {
      return this.fail('bad_lengths', `framing extras (${fe}) + extras (${b[o + 4]}) + key (${key}) exceed body length ${bodyLen}`);
    }
    return bodyLen;
  }

  private fail(reason: 'bad_magic' | 'body_too_large' | 'bad_lengths', message: string): never {
    this.failure = new ProtocolError(reason, message);
    throw this.failure;
  }
}
