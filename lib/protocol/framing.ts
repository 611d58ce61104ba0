// Framing extras (magic 0x08 / 0x18): a run of FrameInfo objects. Each starts with one byte,
// high nibble = id, low nibble = data length; a nibble of 15 is an escape meaning "15 + the
// next byte" (the id's escape byte comes before the length's). Then `length` bytes of data.
import { ProtocolError } from './packet';

/** Frame ids a client may put on a request. */
export const RequestFrameId = {
  BARRIER: 0,
  DURABILITY: 1,
  DCP_STREAM_ID: 2,
  OPEN_TRACING_CONTEXT: 3,
  IMPERSONATE: 4,
  PRESERVE_TTL: 5,
  IMPERSONATE_EXTRA_PRIVILEGE: 6,
} as const;

/** Frame ids a server may put on a response. */
export const ResponseFrameId = {
  SERVER_DURATION: 0,
  READ_UNITS: 1,
  WRITE_UNITS: 2,
  THROTTLE: 3,
} as const;

/** Durability level carried by a DURABILITY frame. */
export const DurabilityLevel = {
  MAJORITY: 1,
  MAJORITY_AND_PERSIST_TO_ACTIVE: 2,
  PERSIST_TO_MAJORITY: 3,
} as const;

export interface FrameInfo {
  id: number;
  data: Buffer;
}

const MAX_ESCAPED = 15 + 0xff;

function nibbleBytes(n: number): number {
  return n < 15 ? 0 : 1;
}

/** Encodes a list of FrameInfo objects into one buffer (the framing-extras section). */
export function encodeFrameInfos(list: readonly FrameInfo[]): Buffer {
  let size = 0;
  for (const f of list) {
    if (f.id < 0 || f.id > MAX_ESCAPED || f.data.length > MAX_ESCAPED) {
      throw new ProtocolError('bad_framing_extras', `frame info id ${f.id} / length ${f.data.length} cannot be encoded`);
    }
    size += 1 + nibbleBytes(f.id) + nibbleBytes(f.data.length) + f.data.length;
  }
  const out = Buffer.allocUnsafe(size);
  let p = 0;
  for (const f of list) {
    const len = f.data.length;
    const at = p++;
    let first = 0;
    if (f.id < 15) first = f.id << 4;
    else {
      first = 0xf0;
      out[p++] = f.id - 15;
    }
    if (len < 15) first |= len;
    else {
      first |= 0x0f;
      out[p++] = len - 15;
    }
    out[at] = first;
    p += f.data.copy(out, p);
  }
  return out;
}

/**
 * Decodes a framing-extras section. Data buffers are views into `buf`. Throws
 * `ProtocolError('bad_framing_extras')` when an object runs past the end.
 */
export function decodeFrameInfos(buf: Buffer): FrameInfo[] {
  const out: FrameInfo[] = [];
  let p = 0;
  while (p < buf.length) {
    const first = buf[p++];
    let id = first >>> 4;
    let len = first & 0x0f;
    if (id === 15) {
      if (p >= buf.length) throw new ProtocolError('bad_framing_extras', 'frame info id escape byte missing');
      id += buf[p++];
    }
    if (len === 15) {
      if (p >= buf.length) throw new ProtocolError('bad_framing_extras', 'frame info length escape byte missing');
      len += buf[p++];
    }
    if (p + len > buf.length) {
      throw new ProtocolError('bad_framing_extras', `frame info ${id} needs ${len} bytes, ${buf.length - p} left`);
    }
    out.push({ id, data: buf.subarray(p, p + len) });
    p += len;
  }
  return out;
}

/** Encodes a server duration (microseconds) the way kv_engine does: (micros*2)^(1/1.74). */
export function encodeServerDuration(micros: number): number {
  if (!(micros > 0)) return 0;
  const v = Math.round(Math.pow(micros * 2, 1 / 1.74));
  return v > 0xffff ? 0xffff : v;
}

/** Decodes an encoded server duration back to (approximate) microseconds: v^1.74 / 2. */
export function decodeServerDuration(encoded: number): number {
  return Math.pow(encoded, 1.74) / 2;
}

/**
 * The server duration (microseconds, decoded) a response's framing extras carry, or -1 when they
 * carry none. Walks the frame infos in place: no allocation.
 */
export function readServerDuration(framingExtras: Buffer): number {
  let p = 0;
  const n = framingExtras.length;
  while (p < n) {
    const first = framingExtras[p++];
    let id = first >>> 4;
    let len = first & 0x0f;
    if (id === 15) id += framingExtras[p++];
    if (len === 15) len += framingExtras[p++];
    if (p + len > n) return -1;
    if (id === ResponseFrameId.SERVER_DURATION && len === 2) return decodeServerDuration((framingExtras[p] << 8) | framingExtras[p + 1]);
    p += len;
  }
  return -1;
}

/** A SERVER_DURATION response frame for `micros`. */
export function serverDurationFrame(micros: number): FrameInfo {
  const data = Buffer.allocUnsafe(2);
  data.writeUInt16BE(encodeServerDuration(micros), 0);
  return { id: ResponseFrameId.SERVER_DURATION, data };
}

export interface DurabilityRequirement {
  level: number;
  /** Milliseconds; undefined when the frame carries no timeout (server default applies). */
  timeout?: number;
}

/** A DURABILITY request frame: level(1) [+ timeout ms(2)]. */
export function durabilityFrame(level: number, timeout?: number): FrameInfo {
  if (timeout === undefined) return { id: RequestFrameId.DURABILITY, data: Buffer.from([level]) };
  const data = Buffer.allocUnsafe(3);
  data[0] = level;
  data.writeUInt16BE(timeout, 1);
  return { id: RequestFrameId.DURABILITY, data };
}

/** Reads a DURABILITY frame's data. Throws ProtocolError on a length other than 1 or 3. */
export function decodeDurability(data: Buffer): DurabilityRequirement {
  if (data.length === 1) return { level: data[0] };
  if (data.length === 3) return { level: data[0], timeout: data.readUInt16BE(1) };
  throw new ProtocolError('bad_framing_extras', `durability frame of ${data.length} bytes (expected 1 or 3)`);
}
