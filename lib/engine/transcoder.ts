// Value <-> bytes with the flags the Couchbase Python SDK 2.x writes: the top byte of the 32-bit
// item flags is the "common flags" format every SDK reads, and the low bits repeat it in the
// legacy layout older clients read (couchbase/_libcouchbase constants: FMT_JSON = 0x02000000,
// FMT_BYTES = 0x03000002, FMT_UTF8 = 0x04000004, FMT_PICKLE = 0x01000001). Documents written by a
// Python 2.x application therefore read back with their type, and the reverse. Values with no
// common flags are read by their legacy bits (0 is JSON).
import { ValueFormatError } from './errors';

/** Legacy (pre-common-flags) format bits, Python's FMT_LEGACY_MASK. */
export const FMT_LEGACY_MASK = 0x07;
/** The common-flags format byte, Python's FMT_COMMON_MASK. */
export const FMT_COMMON_MASK = 0xff000000;

const LEGACY_JSON = 0x00;
const LEGACY_PICKLE = 0x01;
const LEGACY_BYTES = 0x02;
const LEGACY_UTF8 = 0x04;
const COMMON_PICKLE = 0x01000000;
const COMMON_JSON = 0x02000000;
const COMMON_BYTES = 0x03000000;
const COMMON_UTF8 = 0x04000000;

export const FMT_JSON = COMMON_JSON | LEGACY_JSON;
export const FMT_BYTES = COMMON_BYTES | LEGACY_BYTES;
export const FMT_UTF8 = COMMON_UTF8 | LEGACY_UTF8;
/** Python's pickle format: read back as an error (no pickle in JavaScript), refused on write. */
export const FMT_PICKLE = COMMON_PICKLE | LEGACY_PICKLE;
/** Not a flag value: choose by type (Buffer -> bytes, string -> UTF-8, anything else -> JSON). */
export const FMT_AUTO = -1;

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
  /**
   * Set when a Python-shaped transcoder overrides encodeKey/decodeKey: the adapters map every
   * key a call names through it before the call, and every key a result carries after it, on the
   * calling thread. Absent: keys go as they are (the KV hot path pays one null check).
   */
  keys?: KeyCodec;
}

/** A transcoder's key methods as the adapters use them: the key a user gave -> the key sent, and back. */
export interface KeyCodec {
  /** ValueFormatError when the key cannot be encoded (or encodes to bytes that are not UTF-8). */
  encode(key: unknown): string;
  /** ValueFormatError when decodeKey throws. */
  decode(key: string): unknown;
}

// --- JSON converters (Python's couchbase.set_json_converters) -------------------------------

export type JsonEncode = (value: unknown) => string;
export type JsonDecode = (text: string) => unknown;

let jsonEncode: JsonEncode = JSON.stringify;
let jsonDecode: JsonDecode = JSON.parse;
let customJson = false;

/**
 * Replaces the functions FMT_JSON documents (and sub-document values) are written and read
 * with, for every bucket of this thread; returns the previous pair. A blocking Bucket runs them
 * in the calling thread. `setJsonConverters(JSON.stringify, JSON.parse)` restores the default.
 */
export function setJsonConverters(encode: JsonEncode, decode: JsonDecode): [JsonEncode, JsonDecode] {
  if (typeof encode !== 'function' || typeof decode !== 'function') throw new TypeError('setJsonConverters(encode, decode) takes two functions');
  const old: [JsonEncode, JsonDecode] = [jsonEncode, jsonDecode];
  jsonEncode = encode;
  jsonDecode = decode;
  customJson = encode !== JSON.stringify || decode !== JSON.parse;
  return old;
}

/** Whether setJsonConverters() put other functions than JSON's in place. */
export function jsonConvertersChanged(): boolean {
  return customJson;
}

function fail(key: string, why: string): never {
  throw new ValueFormatError(`value for key "${key}" ${why}`, { key });
}

/** A value as JSON text with the current converters; ValueFormatError (naming `what`) when it cannot be. */
export function toJson(what: string, value: unknown): string {
  let text: unknown;
  try {
    text = jsonEncode(value);
  } catch (err) {
    throw new ValueFormatError(`${what} cannot be encoded as JSON (${(err as Error).message}); pass a JSON-safe value`);
  }
  if (typeof text !== 'string') throw new ValueFormatError(`${what} of type ${typeof value} cannot be encoded as JSON; pass a JSON-safe value`);
  return text;
}

/** JSON text read with the current converters; ValueFormatError (naming `what`) when it does not parse. */
export function fromJson(what: string, text: string): unknown {
  try {
    return jsonDecode(text);
  } catch {
    throw new ValueFormatError(`${what} is not valid JSON`);
  }
}

function encodeJson(key: string, value: unknown): Buffer {
  let text: unknown;
  try {
    text = jsonEncode(value);
  } catch (err) {
    fail(key, `cannot be encoded as JSON (${(err as Error).message}); pass format FMT_BYTES/FMT_UTF8 or a JSON-safe value`);
  }
  if (typeof text !== 'string') fail(key, `of type ${typeof value} cannot be encoded as JSON; pass a JSON-safe value`);
  return Buffer.from(text, 'utf8');
}

/** Which format flags describe: the common-flags byte when set, else the legacy bits (as Python reads them). */
export function formatOfFlags(flags: number): Format {
  const common = (flags & FMT_COMMON_MASK) >>> 0;
  if (common !== 0) {
    switch (common) {
      case COMMON_JSON:
        return FMT_JSON;
      case COMMON_UTF8:
        return FMT_UTF8;
      case COMMON_PICKLE:
        return FMT_PICKLE;
      default:
        return FMT_BYTES;
    }
  }
  switch (flags & FMT_LEGACY_MASK) {
    case LEGACY_JSON:
      return FMT_JSON;
    case LEGACY_UTF8:
      return FMT_UTF8;
    case LEGACY_PICKLE:
      return FMT_PICKLE;
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
      case FMT_PICKLE:
        fail(key, 'was given FMT_PICKLE, Python\'s pickle format, which JavaScript cannot write; use FMT_JSON, FMT_UTF8 or FMT_BYTES');
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
          return jsonDecode(text);
        } catch {
          // Legacy flags 0 are also what other clients write for plain strings: keep the data.
          if ((flags & FMT_COMMON_MASK) === 0 && format === undefined) return text;
          throw new ValueFormatError(`value of key "${key}" is flagged JSON but does not parse as JSON; read it with format FMT_BYTES`, { key });
        }
      }
      case FMT_UTF8:
        return value.toString('utf8');
      case FMT_PICKLE:
        throw new ValueFormatError(`value of key "${key}" was written with Python's pickle (flags 0x${(flags >>> 0).toString(16)}), which JavaScript cannot read; get it with noFormat: true for its bytes`, { key });
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

/**
 * Python's Transcoder interface (couchbase.transcoder.Transcoder): encodeValue(value, format)
 * gives [bytes, flags] and decodeValue(bytes, flags) the value; encodeKey(key) gives the key's
 * bytes and decodeKey(bytes) the key a result names (both optional: keys go as UTF-8 strings).
 */
export interface PythonTranscoder {
  encodeValue(value: unknown, format: Format): [Buffer | Uint8Array | string, number];
  decodeValue(value: Buffer, flags: number): unknown;
  encodeKey?(key: unknown): Buffer | Uint8Array | string;
  decodeKey?(key: Buffer): unknown;
}

/** Marks a method that only forwards to its camelCase twin (Transcoder's snake_case names), so an override of either is found. */
export const FORWARDS = Symbol('deferbase.forwards');

type Method = ((...a: unknown[]) => unknown) & { [FORWARDS]?: boolean; [KEEPS_KEYS]?: boolean };

/** `o`'s method under its camelCase name, or its snake_case one when a subclass overrode that instead. */
function methodOf(o: Record<string, unknown>, camel: string, snake: string): Method | undefined {
  const s = o[snake] as Method | undefined;
  if (typeof s === 'function' && s[FORWARDS] !== true) return s;
  const c = o[camel] as Method | undefined;
  return typeof c === 'function' ? c : undefined;
}

/**
 * A transcoder from what a Bucket was given: a Transcoder, an object with Python's
 * encodeValue/decodeValue (or encode_value/decode_value), or a class of either (instantiated, as
 * Python does with a class). Overridden encodeKey/decodeKey become the transcoder's `keys`.
 */
export function toTranscoder(t: unknown): Transcoder {
  const obj = typeof t === 'function' ? new (t as new () => unknown)() : t;
  const o = obj as Partial<Transcoder & PythonTranscoder> | null;
  if (o && typeof o.encode === 'function' && typeof o.decode === 'function') return o as Transcoder;
  const rec = (o ?? {}) as Record<string, unknown>;
  const ev = methodOf(rec, 'encodeValue', 'encode_value');
  const dv = methodOf(rec, 'decodeValue', 'decode_value');
  if (o && ev && dv) {
    const encodeValue = ev.bind(o);
    const decodeValue = dv.bind(o);
    const keys = keyCodecOf(o, rec);
    return {
      ...(keys === undefined ? {} : { keys }),
      encode(key: string, value: unknown, format: Format): Encoded {
        let out: [Buffer | Uint8Array | string, number];
        try {
          out = encodeValue(value, format) as [Buffer | Uint8Array | string, number];
        } catch (err) {
          if (err instanceof ValueFormatError) throw err;
          throw new ValueFormatError(`value for key "${key}": ${(err as Error).message}`, { key, cause: err });
        }
        if (!Array.isArray(out) || out.length !== 2) throw new ValueFormatError(`value for key "${key}": encodeValue must return [bytes, flags]`, { key });
        const [bytes, flags] = out;
        return { value: typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), flags: flags >>> 0, datatype: 0 };
      },
      decode(key: string, value: Buffer, flags: number): unknown {
        try {
          return decodeValue(Buffer.from(value), flags);
        } catch (err) {
          if (err instanceof ValueFormatError) throw err;
          throw new ValueFormatError(`value of key "${key}": ${(err as Error).message}`, { key, cause: err });
        }
      },
    };
  }
  throw new TypeError('a transcoder needs encode() and decode() (or Python\'s encodeValue() and decodeValue())');
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The key methods `o` overrides (either name; the base Transcoder's pass keys as UTF-8 and are
 * skipped), as a KeyCodec: Python 2.5 runs encode_key on every key a call names and decode_key on
 * every key a result carries. One overridden alone gets the base one as its twin.
 */
function keyCodecOf(o: object, rec: Record<string, unknown>): KeyCodec | undefined {
  const ek = methodOf(rec, 'encodeKey', 'encode_key');
  const dk = methodOf(rec, 'decodeKey', 'decode_key');
  const encodes = ek !== undefined && ek[KEEPS_KEYS] !== true;
  const decodes = dk !== undefined && dk[KEEPS_KEYS] !== true;
  if (!encodes && !decodes) return undefined;
  const encodeKey = encodes ? ek!.bind(o) : undefined;
  const decodeKey = decodes ? dk!.bind(o) : undefined;
  return {
    encode(key: unknown): string {
      if (encodeKey === undefined) {
        if (typeof key !== 'string') throw new ValueFormatError(`key must be a string, got ${describe(key)}`, { key: String(key) });
        return key;
      }
      let out: unknown;
      try {
        out = encodeKey(key);
      } catch (err) {
        if (err instanceof ValueFormatError) throw err;
        throw new ValueFormatError(`encodeKey(${String(key)}) failed: ${(err as Error).message}`, { key: String(key), cause: err });
      }
      if (typeof out === 'string') return out;
      if (!(out instanceof Uint8Array)) throw new ValueFormatError(`encodeKey(${String(key)}) must return bytes (a Buffer) or a string, got ${describe(out)}`, { key: String(key) });
      try {
        return STRICT_UTF8.decode(out);
      } catch {
        throw new ValueFormatError(`encodeKey(${String(key)}) returned bytes that are not UTF-8; Couchbase keys are UTF-8`, { key: String(key) });
      }
    },
    decode(key: string): unknown {
      if (decodeKey === undefined) return key;
      try {
        return decodeKey(Buffer.from(key, 'utf8'));
      } catch (err) {
        if (err instanceof ValueFormatError) throw err;
        throw new ValueFormatError(`decodeKey of key "${key}" failed: ${(err as Error).message}`, { key, cause: err });
      }
    },
  };
}

/** Marks the base Transcoder's key methods: they send keys as UTF-8, as the engine does anyway. */
export const KEEPS_KEYS = Symbol('deferbase.keepsKeys');
