// Value <-> bytes with Couchbase's "common flags": the top byte of the 32-bit item flags names
// the format, so every SDK reads what the others wrote. Legacy (pre-common-flags) values carry
// the format in the low bits instead; 0 means JSON.
import { ValueFormatError } from './errors';

export const FMT_JSON = 0x02000000;
export const FMT_BYTES = 0x03000000;
export const FMT_UTF8 = 0x04000000;
/** Python SDK's private (pickle) format; read back as bytes here. */
export const FMT_PICKLE = 0x01000001;
/** Not a flag value: choose by type (Buffer -> bytes, string -> UTF-8, anything else -> JSON). */
export const FMT_AUTO = -1;

export const FMT_COMMON_MASK = 0xff000000;
const LEGACY_MASK = 0x7;

export type Format = number;

/** Datatype bit the server uses for JSON values (set on requests when negotiated). */
const DATATYPE_JSON = 1;

export interface Encoded {
  value: Buffer;
  flags: number;
  datatype: number;
}

/** A transcoder turns user values into bytes + flags and back; replaceable per engine. */
export interface Transcoder {
  /** Throws ValueFormatError when `value` cannot be written in `format`. */
  encode(key: string, value: unknown, format: Format): Encoded;
  decode(key: string, value: Buffer, flags: number, format?: Format): unknown;
}

function fail(key: string, why: string): never {
  throw new ValueFormatError(`value for key "${key}" ${why}`, { key });
}

function encodeJson(key: string, value: unknown): Buffer {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    fail(key, `cannot be encoded as JSON (${(err as Error).message}); pass format FMT_BYTES/FMT_UTF8 or a JSON-safe value`);
  }
  if (text === undefined) fail(key, `of type ${typeof value} cannot be encoded as JSON; pass a JSON-safe value`);
  return Buffer.from(text, 'utf8');
}

/** Which format flags describe (common flags first, legacy low bits otherwise). */
export function formatOfFlags(flags: number): Format {
  const common = (flags & FMT_COMMON_MASK) >>> 0;
  if (common === FMT_JSON) return FMT_JSON;
  if (common === FMT_BYTES) return FMT_BYTES;
  if (common === FMT_UTF8) return FMT_UTF8;
  if (common === 0x01000000) return FMT_BYTES;
  if (common !== 0) return FMT_BYTES;
  switch (flags & LEGACY_MASK) {
    case 0:
      return FMT_JSON;
    case 2:
      return FMT_BYTES;
    case 4:
      return FMT_UTF8;
    default:
      return FMT_BYTES;
  }
}

export const defaultTranscoder: Transcoder = {
  encode(key: string, value: unknown, format: Format): Encoded {
    if (format === FMT_AUTO) {
      if (Buffer.isBuffer(value) || value instanceof Uint8Array) format = FMT_BYTES;
      else if (typeof value === 'string') format = FMT_UTF8;
      else format = FMT_JSON;
    }
    switch (format) {
      case FMT_JSON:
        return { value: encodeJson(key, value), flags: FMT_JSON, datatype: DATATYPE_JSON };
      case FMT_UTF8:
        if (typeof value !== 'string') fail(key, `is a ${describe(value)}, but FMT_UTF8 needs a string`);
        return { value: Buffer.from(value, 'utf8'), flags: FMT_UTF8, datatype: 0 };
      case FMT_BYTES:
        if (Buffer.isBuffer(value)) return { value, flags: FMT_BYTES, datatype: 0 };
        if (value instanceof Uint8Array) return { value: Buffer.from(value.buffer, value.byteOffset, value.byteLength), flags: FMT_BYTES, datatype: 0 };
        fail(key, `is a ${describe(value)}, but FMT_BYTES needs a Buffer or Uint8Array`);
      // falls through: fail() never returns
      default:
        fail(key, `was given unknown format 0x${(format >>> 0).toString(16)}; use FMT_JSON, FMT_UTF8, FMT_BYTES or FMT_AUTO`);
    }
  },

  decode(key: string, value: Buffer, flags: number, format?: Format): unknown {
    const fmt = format === undefined || format === FMT_AUTO ? formatOfFlags(flags) : format;
    switch (fmt) {
      case FMT_JSON: {
        const text = value.toString('utf8');
        try {
          return JSON.parse(text);
        } catch {
          // Legacy flags 0 are also what other clients write for plain strings: keep the data.
          if ((flags & FMT_COMMON_MASK) === 0 && format === undefined) return text;
          throw new ValueFormatError(`value of key "${key}" is flagged JSON but does not parse as JSON; read it with format FMT_BYTES`, { key });
        }
      }
      case FMT_UTF8:
        return value.toString('utf8');
      default:
        // Copy: the frame buffer the value points into is reused by the socket reader.
        return Buffer.from(value);
    }
  },
};

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Buffer.isBuffer(v)) return 'Buffer';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}
