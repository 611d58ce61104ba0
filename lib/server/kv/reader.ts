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

export class RequestReader {
  private readonly maxBodyLength: number;
  private cur: Buffer = EMPTY;
  private pos = 0;
  /** A frame that straddles chunks, allocated once its header is known. */
  private asm: Buffer | null = null;
  private asmFilled = 0;
  private asmLayout = 0;
  private readonly hdr = Buffer.allocUnsafe(HEADER);
  private hdrFilled = 0;
  private failure: ProtocolError | null = null;

  constructor(maxBodyLength: number) {
    this.maxBodyLength = maxBodyLength;
  }

  /** Bytes received but not yet returned as requests. */
  get bufferedBytes(): number {
    return this.hdrFilled + (this.asm === null ? 0 : this.asmFilled) + (this.cur.length - this.pos);
  }

  push(chunk: Buffer): void {
    if (this.pos < this.cur.length) {
      // Left unread while responses waited for the log: keep it in front of the new bytes.
      this.cur = Buffer.concat([this.cur.subarray(this.pos), chunk]);
    } else {
      this.cur = chunk;
    }
    this.pos = 0;
  }

  /** Loads the next whole frame into `req`; false when more bytes are needed. Throws ProtocolError. */
  next(req: KvRequest): boolean {
    if (this.failure !== null) throw this.failure;
    const cur = this.cur;
    if (this.hdrFilled > 0 || this.asm !== null) return this.assemble(req);
    const avail = cur.length - this.pos;
    if (avail === 0) return false;
    if (avail < HEADER) {
      cur.copy(this.hdr, 0, this.pos, cur.length);
      this.hdrFilled = avail;
      this.pos = cur.length;
      return false;
    }
    const pos = this.pos;
    const layout = LAYOUT[cur[pos]];
    const bodyLen = this.check(cur, pos, layout);
    const total = HEADER + bodyLen;
    if (avail < total) {
      this.asm = Buffer.allocUnsafe(total);
      this.asmLayout = layout;
      cur.copy(this.asm, 0, pos, cur.length);
      this.asmFilled = avail;
      this.pos = cur.length;
      return false;
    }
    req.load(cur, pos, layout, bodyLen);
    this.pos = pos + total;
    return true;
  }

  private assemble(req: KvRequest): boolean {
    const cur = this.cur;
    if (this.asm === null) {
      const take = Math.min(HEADER - this.hdrFilled, cur.length - this.pos);
      cur.copy(this.hdr, this.hdrFilled, this.pos, this.pos + take);
      this.hdrFilled += take;
      this.pos += take;
      if (this.hdrFilled < HEADER) return false;
      const layout = LAYOUT[this.hdr[0]];
      const bodyLen = this.check(this.hdr, 0, layout);
      this.asm = Buffer.allocUnsafe(HEADER + bodyLen);
      this.asmLayout = layout;
      this.hdr.copy(this.asm, 0);
      this.asmFilled = HEADER;
      this.hdrFilled = 0;
    }
    const asm = this.asm;
    const take = Math.min(asm.length - this.asmFilled, cur.length - this.pos);
    cur.copy(asm, this.asmFilled, this.pos, this.pos + take);
    this.asmFilled += take;
    this.pos += take;
    if (this.asmFilled < asm.length) return false;
    this.asm = null;
    req.load(asm, 0, this.asmLayout, asm.length - HEADER);
    return true;
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
