// The memcached binary packet: a 24-byte header followed by
// [framing extras] + extras + key + value. Pure functions, no I/O.
//
// Layouts (all integers big-endian):
//   0x80/0x81/0x82/0x83: magic(1) opcode(1) keylen(2) extlen(1) datatype(1)
//                         vbucket|status(2) bodylen(4) opaque(4) cas(8)
//   0x08/0x18 (flexible framing): as above, but byte 2 = framing-extras length and
//                         byte 3 = key length (so keys are <= 255 bytes there).
// Requests (0x80, 0x08, 0x82) carry a vbucket id in bytes 6-7, responses a status.

export const Magic = {
  REQUEST: 0x80,
  RESPONSE: 0x81,
  ALT_REQUEST: 0x08,
  ALT_RESPONSE: 0x18,
  SERVER_REQUEST: 0x82,
  SERVER_RESPONSE: 0x83,
} as const;

export type MagicValue = (typeof Magic)[keyof typeof Magic];

export const HEADER_LENGTH = 24;

/**
 * Default cap on a frame's body. Couchbase's item limit is 20 MiB; the extra KiB leaves room
 * for key (<= 250 + 5 bytes of collection prefix), extras and framing extras so that a value of
 * exactly the limit (or a little over it, which the server must answer with E2BIG rather than by
 * dropping the connection) still gets through the splitter.
 */
export const DEFAULT_MAX_BODY_LENGTH = 20 * 1024 * 1024 + 1024;

export interface Packet {
  magic: number;
  opcode: number;
  datatype: number;
  /** vBucket id (requests: 0x80, 0x08, 0x82); 0 in responses. */
  vbucket: number;
  /** Status code (responses: 0x81, 0x18, 0x83); 0 in requests. */
  status: number;
  opaque: number;
  cas: bigint;
  framingExtras: Buffer;
  extras: Buffer;
  key: Buffer;
  value: Buffer;
}

/** What `encodePacket` takes. Key and value may also be strings (written as UTF-8). */
export type PacketInit = { magic: number; opcode: number } & Partial<Omit<Packet, 'key' | 'value'>> & {
  key?: Buffer | string;
  value?: Buffer | string;
};

export type ProtocolErrorReason =
  | 'bad_magic'
  | 'truncated'
  | 'trailing_bytes'
  | 'body_too_large'
  | 'bad_lengths'
  | 'field_too_long'
  | 'bad_framing_extras'
  | 'bad_leb128'
  | 'bad_extras'
  | 'bad_config'
  | 'bad_error_map'
  | 'bad_snappy';

/**
 * A frame or field that breaks the wire format. A peer that sends one cannot be resynchronised:
 * close its connection (after logging `reason`).
 */
export class ProtocolError extends Error {
  readonly reason: ProtocolErrorReason;
  constructor(reason: ProtocolErrorReason, message: string) {
    super(message);
    this.name = 'ProtocolError';
    this.reason = reason;
  }
}

const EMPTY: Buffer = Buffer.alloc(0);
/** A shared zero-length buffer; decoded empty fields are this very object. */
export const EMPTY_BUFFER = EMPTY;

// Buffer#writeBigUInt64BE costs ~10x a typed-array store on Node 20 (it splits the BigInt with
// BigInt arithmetic); a scratch BigUint64Array plus eight byte moves is much cheaper.
const SCRATCH64 = new BigUint64Array(1);
const SCRATCH8 = new Uint8Array(SCRATCH64.buffer);
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Writes an unsigned 64-bit big-endian integer (BigInt.asUintN(64) of `value`). */
export function writeUInt64BE(buf: Uint8Array, off: number, value: bigint): void {
  SCRATCH64[0] = value;
  const s = SCRATCH8;
  if (LITTLE_ENDIAN_HOST) {
    buf[off] = s[7]; buf[off + 1] = s[6]; buf[off + 2] = s[5]; buf[off + 3] = s[4];
    buf[off + 4] = s[3]; buf[off + 5] = s[2]; buf[off + 6] = s[1]; buf[off + 7] = s[0];
  } else {
    buf[off] = s[0]; buf[off + 1] = s[1]; buf[off + 2] = s[2]; buf[off + 3] = s[3];
    buf[off + 4] = s[4]; buf[off + 5] = s[5]; buf[off + 6] = s[6]; buf[off + 7] = s[7];
  }
}

/** Reads an unsigned 64-bit big-endian integer. */
export function readUInt64BE(buf: Uint8Array, off: number): bigint {
  const s = SCRATCH8;
  if (LITTLE_ENDIAN_HOST) {
    s[7] = buf[off]; s[6] = buf[off + 1]; s[5] = buf[off + 2]; s[4] = buf[off + 3];
    s[3] = buf[off + 4]; s[2] = buf[off + 5]; s[1] = buf[off + 6]; s[0] = buf[off + 7];
  } else {
    for (let i = 0; i < 8; i++) s[i] = buf[off + i];
  }
  return SCRATCH64[0];
}

/**
 * Zero-copy views for decoded fields. On Node 20 `Buffer#subarray` goes through Buffer's species
 * constructor and measured ~3x the cost of constructing a typed array directly; this subclass inherits every Buffer method (Buffer.isBuffer and instanceof hold,
 * and its `constructor` is Buffer), so it is a Buffer to all code except prototype-identity
 * checks such as node:assert's deepStrictEqual (chai and sinon compare it equal).
 */
class BufferView extends Uint8Array {
  // An explicit constructor: the implicit one forwards `...args`, which V8 does not optimise.
  constructor(ab: ArrayBuffer, byteOffset: number, length: number) {
    super(ab, byteOffset, length);
  }
}
Object.setPrototypeOf(BufferView.prototype, Buffer.prototype);
Object.defineProperty(BufferView.prototype, 'constructor', { value: Buffer, writable: true, configurable: true });

function view(ab: ArrayBuffer, start: number, end: number): Buffer {
  return new BufferView(ab, start, end - start) as unknown as Buffer;
}

function u32(buf: Uint8Array, off: number): number {
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

function putU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v >>> 24;
  buf[off + 1] = v >>> 16;
  buf[off + 2] = v >>> 8;
  buf[off + 3] = v;
}

// 0 = unknown magic, 1 = classic layout, 2 = flexible-framing layout.
const LAYOUT = new Uint8Array(256);
LAYOUT[Magic.REQUEST] = 1;
LAYOUT[Magic.RESPONSE] = 1;
LAYOUT[Magic.SERVER_REQUEST] = 1;
LAYOUT[Magic.SERVER_RESPONSE] = 1;
LAYOUT[Magic.ALT_REQUEST] = 2;
LAYOUT[Magic.ALT_RESPONSE] = 2;

/** True for a magic whose bytes 6-7 hold a status (a response). */
export function isResponseMagic(magic: number): boolean {
  return magic === Magic.RESPONSE || magic === Magic.ALT_RESPONSE || magic === Magic.SERVER_RESPONSE;
}

/** True for any of the six magics this codec understands. */
export function isValidMagic(magic: number): boolean {
  return LAYOUT[magic & 0xff] !== 0;
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(2, '0');
}

/**
 * Checks a header at `buf[off..off+24)` and returns the frame's body length. Shared by
 * `decodePacket` and `FrameDecoder` so both reject exactly the same frames.
 */
function checkHeader(buf: Buffer, off: number, maxBodyLength: number): number {
  const magic = buf[off];
  const layout = LAYOUT[magic];
  if (layout === 0) throw new ProtocolError('bad_magic', `invalid magic ${hex(magic)}`);
  const bodyLength = u32(buf, off + 8);
  if (bodyLength > maxBodyLength) {
    throw new ProtocolError('body_too_large', `body length ${bodyLength} exceeds the limit of ${maxBodyLength} bytes`);
  }
  let framing: number;
  let keyLength: number;
  if (layout === 1) {
    framing = 0;
    keyLength = (buf[off + 2] << 8) | buf[off + 3];
  } else {
    framing = buf[off + 2];
    keyLength = buf[off + 3];
  }
  const extrasLength = buf[off + 4];
  if (framing + extrasLength + keyLength > bodyLength) {
    throw new ProtocolError(
      'bad_lengths',
      `framing extras (${framing}) + extras (${extrasLength}) + key (${keyLength}) exceed body length ${bodyLength}`,
    );
  }
  return bodyLength;
}

function readCas(buf: Buffer, off: number): bigint {
  // Most request frames carry CAS 0; skip the BigInt construction for them.
  if ((buf[off] | buf[off + 1] | buf[off + 2] | buf[off + 3] | buf[off + 4] | buf[off + 5] | buf[off + 6] | buf[off + 7]) === 0) {
    return 0n;
  }
  return readUInt64BE(buf, off);
}

/** Decodes a frame whose header has already been validated. Fields are views into `frame`. */
function decodeChecked(frame: Buffer, off: number, bodyLength: number): Packet {
  const magic = frame[off];
  let framing: number;
  let keyLength: number;
  if (LAYOUT[magic] === 1) {
    framing = 0;
    keyLength = (frame[off + 2] << 8) | frame[off + 3];
  } else {
    framing = frame[off + 2];
    keyLength = frame[off + 3];
  }
  const extrasLength = frame[off + 4];
  const word = (frame[off + 6] << 8) | frame[off + 7];
  const response = isResponseMagic(magic);
  // Views are built on the frame's ArrayBuffer directly; positions are absolute in it.
  const ab = frame.buffer as ArrayBuffer;
  const base = frame.byteOffset;
  let p = base + off + HEADER_LENGTH;
  const fe = framing === 0 ? EMPTY : view(ab, p, p + framing);
  p += framing;
  const ex = extrasLength === 0 ? EMPTY : view(ab, p, p + extrasLength);
  p += extrasLength;
  const key = keyLength === 0 ? EMPTY : view(ab, p, p + keyLength);
  p += keyLength;
  const end = base + off + HEADER_LENGTH + bodyLength;
  const value = p === end ? EMPTY : view(ab, p, end);
  return {
    magic,
    opcode: frame[off + 1],
    datatype: frame[off + 5],
    vbucket: response ? 0 : word,
    status: response ? word : 0,
    opaque: u32(frame, off + 12),
    cas: readCas(frame, off + 16),
    framingExtras: fe,
    extras: ex,
    key,
    value,
  };
}

/**
 * Decodes exactly one whole frame. Every Buffer field is a zero-copy view into `frame`, so keep
 * `frame` unchanged while the packet is in use. Throws `ProtocolError`.
 */
export function decodePacket(frame: Buffer): Packet {
  if (frame.length < HEADER_LENGTH) {
    throw new ProtocolError('truncated', `frame of ${frame.length} bytes is shorter than the 24-byte header`);
  }
  const bodyLength = checkHeader(frame, 0, 0xffffffff);
  const total = HEADER_LENGTH + bodyLength;
  if (frame.length < total) {
    throw new ProtocolError('truncated', `frame of ${frame.length} bytes is shorter than its declared ${total}`);
  }
  if (frame.length > total) {
    throw new ProtocolError('trailing_bytes', `frame of ${frame.length} bytes has ${frame.length - total} bytes after its declared end`);
  }
  return decodeChecked(frame, 0, bodyLength);
}

/**
 * Reads the total length (header + body) of the frame starting at `buf[off]`, or -1 when fewer
 * than 24 bytes are there. Does not validate; useful for peeking.
 */
export function peekFrameLength(buf: Buffer, off = 0): number {
  if (buf.length - off < HEADER_LENGTH) return -1;
  return HEADER_LENGTH + u32(buf, off + 8);
}

function byteLength(v: Buffer | string | undefined): number {
  if (v === undefined) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

function put(buf: Buffer, v: Buffer | string | undefined, at: number, len: number): number {
  if (len === 0 || v === undefined) return at;
  if (typeof v === 'string') buf.write(v, at, len, 'utf8');
  else v.copy(buf, at);
  return at + len;
}

/**
 * Encodes one packet into a single freshly allocated Buffer. Missing fields are zero/empty.
 * Throws `ProtocolError('field_too_long')` when a field does not fit its header slot, and
 * `ProtocolError('bad_framing_extras')` when framing extras are given with a classic magic.
 */
export function encodePacket(init: PacketInit): Buffer {
  const magic = init.magic;
  const layout = LAYOUT[magic & 0xff];
  if (layout === 0 || magic > 0xff) throw new ProtocolError('bad_magic', `cannot encode magic ${hex(magic)}`);
  const fe = init.framingExtras;
  const ex = init.extras;
  const feLen = fe === undefined ? 0 : fe.length;
  const exLen = ex === undefined ? 0 : ex.length;
  const keyLen = byteLength(init.key);
  const valLen = byteLength(init.value);
  if (exLen > 0xff) throw new ProtocolError('field_too_long', `extras of ${exLen} bytes exceed 255`);
  if (layout === 1) {
    if (feLen !== 0) {
      throw new ProtocolError('bad_framing_extras', `framing extras need magic 0x08/0x18, not ${hex(magic)}`);
    }
    if (keyLen > 0xffff) throw new ProtocolError('field_too_long', `key of ${keyLen} bytes exceeds 65535`);
  } else {
    if (feLen > 0xff) throw new ProtocolError('field_too_long', `framing extras of ${feLen} bytes exceed 255`);
    if (keyLen > 0xff) throw new ProtocolError('field_too_long', `key of ${keyLen} bytes exceeds 255 with magic ${hex(magic)}`);
  }
  const bodyLen = feLen + exLen + keyLen + valLen;
  if (bodyLen > 0xffffffff) throw new ProtocolError('field_too_long', `body of ${bodyLen} bytes exceeds 2^32-1`);
  const buf = Buffer.allocUnsafe(HEADER_LENGTH + bodyLen);
  buf[0] = magic;
  buf[1] = init.opcode;
  if (layout === 1) {
    buf[2] = keyLen >>> 8;
    buf[3] = keyLen & 0xff;
  } else {
    buf[2] = feLen;
    buf[3] = keyLen;
  }
  buf[4] = exLen;
  buf[5] = init.datatype ?? 0;
  const word = isResponseMagic(magic) ? (init.status ?? 0) : (init.vbucket ?? 0);
  buf[6] = (word >>> 8) & 0xff;
  buf[7] = word & 0xff;
  putU32(buf, 8, bodyLen);
  putU32(buf, 12, init.opaque ?? 0);
  const cas = init.cas;
  if (cas === undefined || cas === 0n) {
    putU32(buf, 16, 0);
    putU32(buf, 20, 0);
  } else {
    writeUInt64BE(buf, 16, cas);
  }
  let at = HEADER_LENGTH;
  if (feLen !== 0) at += fe!.copy(buf, at);
  if (exLen !== 0) at += ex!.copy(buf, at);
  at = put(buf, init.key, at, keyLen);
  put(buf, init.value, at, valLen);
  return buf;
}

/**
 * Hot-path helper: writes a classic (0x80 request / 0x81 response / 0x82 / 0x83) header into
 * `buf` at `off` without allocating. `vbucketOrStatus` goes to bytes 6-7. The caller writes the
 * body (extras, key, value) right after it and must make `bodyLength` match.
 */
export function writeHeader(
  buf: Buffer,
  off: number,
  magic: number,
  opcode: number,
  keyLength: number,
  extrasLength: number,
  datatype: number,
  vbucketOrStatus: number,
  bodyLength: number,
  opaque: number,
  cas: bigint,
): void {
  buf[off] = magic;
  buf[off + 1] = opcode;
  buf[off + 2] = keyLength >>> 8;
  buf[off + 3] = keyLength & 0xff;
  buf[off + 4] = extrasLength;
  buf[off + 5] = datatype;
  buf[off + 6] = (vbucketOrStatus >>> 8) & 0xff;
  buf[off + 7] = vbucketOrStatus & 0xff;
  putU32(buf, off + 8, bodyLength);
  putU32(buf, off + 12, opaque);
  if (cas === 0n) {
    putU32(buf, off + 16, 0);
    putU32(buf, off + 20, 0);
  } else {
    writeUInt64BE(buf, off + 16, cas);
  }
}

/**
 * Hot-path helper: writes a flexible-framing (0x08 / 0x18) header. Key length and framing-extras
 * length must each fit one byte.
 */
export function writeAltHeader(
  buf: Buffer,
  off: number,
  magic: number,
  opcode: number,
  framingExtrasLength: number,
  keyLength: number,
  extrasLength: number,
  datatype: number,
  vbucketOrStatus: number,
  bodyLength: number,
  opaque: number,
  cas: bigint,
): void {
  writeHeader(buf, off, magic, opcode, 0, extrasLength, datatype, vbucketOrStatus, bodyLength, opaque, cas);
  buf[off + 2] = framingExtrasLength;
  buf[off + 3] = keyLength;
}

export interface FrameDecoderOptions {
  /** Largest body accepted, in bytes; default `DEFAULT_MAX_BODY_LENGTH` (20 MiB + 1 KiB). */
  maxBodyLength?: number;
}

/**
 * Streaming frame splitter: `push()` arbitrary chunks as they come off a socket, then call
 * `next()` until it returns null. A frame that lies inside one chunk is decoded in place
 * (zero-copy); only a frame that straddles chunks is copied, once, into its own buffer.
 *
 * Packets decoded in place are views into the pushed chunks: do not reuse or modify a chunk
 * (e.g. a static `onread` buffer) while packets from it are in use.
 *
 * A header is validated as soon as its 24 bytes are in, before the body arrives, so an
 * oversized or malformed frame is rejected without buffering it. After a `ProtocolError` the
 * stream cannot be resynchronised: every later `next()` throws the same error.
 */
export class FrameDecoder {
  readonly maxBodyLength: number;
  private chunks: Buffer[] = [];
  /** Offset of the first unread byte in chunks[0]. */
  private offset = 0;
  /** Unread bytes across all chunks. */
  private queued = 0;
  /** Total length of the frame at the head, once its header has been checked; else -1. */
  private needed = -1;
  private failure: ProtocolError | null = null;
  private readonly scratch = Buffer.allocUnsafe(HEADER_LENGTH);

  constructor(opts?: FrameDecoderOptions) {
    this.maxBodyLength = opts?.maxBodyLength ?? DEFAULT_MAX_BODY_LENGTH;
  }

  /** Bytes received but not yet returned as packets. */
  get bufferedBytes(): number {
    return this.queued;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.queued += chunk.length;
  }

  /** The next whole packet, or null until more bytes are pushed. Throws `ProtocolError`. */
  next(): Packet | null {
    if (this.failure !== null) throw this.failure;
    if (this.queued < HEADER_LENGTH) return null;
    let head = this.chunks[0];
    let off = this.offset;
    let needed = this.needed;
    if (needed < 0) {
      let hdr: Buffer;
      let hoff: number;
      if (head.length - off >= HEADER_LENGTH) {
        hdr = head;
        hoff = off;
      } else {
        this.peekInto(this.scratch, HEADER_LENGTH);
        hdr = this.scratch;
        hoff = 0;
      }
      try {
        needed = HEADER_LENGTH + checkHeader(hdr, hoff, this.maxBodyLength);
      } catch (err) {
        this.failure = err as ProtocolError;
        throw err;
      }
      this.needed = needed;
    }
    if (this.queued < needed) return null;
    this.needed = -1;
    this.queued -= needed;
    if (head.length - off >= needed) {
      // Whole frame inside the current chunk: decode in place.
      const packet = decodeChecked(head, off, needed - HEADER_LENGTH);
      off += needed;
      if (off === head.length) {
        this.chunks.shift();
        off = 0;
      }
      this.offset = off;
      // Views must not extend past the frame; decodeChecked slices by length so they don't.
      return packet;
    }
    const frame = Buffer.allocUnsafe(needed);
    let filled = 0;
    while (filled < needed) {
      head = this.chunks[0];
      const take = Math.min(head.length - off, needed - filled);
      head.copy(frame, filled, off, off + take);
      filled += take;
      off += take;
      if (off === head.length) {
        this.chunks.shift();
        off = 0;
      }
    }
    this.offset = off;
    return decodeChecked(frame, 0, needed - HEADER_LENGTH);
  }

  /** Drops everything buffered (and any recorded failure). */
  reset(): void {
    this.chunks = [];
    this.offset = 0;
    this.queued = 0;
    this.needed = -1;
    this.failure = null;
  }

  private peekInto(dst: Buffer, n: number): void {
    let filled = 0;
    let off = this.offset;
    for (let i = 0; filled < n; i++) {
      const c = this.chunks[i];
      const take = Math.min(c.length - off, n - filled);
      c.copy(dst, filled, off, off + take);
      filled += take;
      off = 0;
    }
  }
}
