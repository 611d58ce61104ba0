// Python's couchbase.transcoder.Transcoder: the default conversions as a class to subclass. A
// Bucket given one (or its class) calls encodeValue(value, format) -> [bytes, flags] on every
// store and decodeValue(bytes, flags) on every read; override either (camelCase or Python's
// snake_case name) and call super for the rest. Override encodeKey(key) -> bytes and
// decodeKey(bytes) -> key to change keys: every key a call names goes through encodeKey before it
// is sent, and every key a result names (Result.key, a MultiResult's keys) through decodeKey.
import { defaultTranscoder, FORWARDS, KEEPS_KEYS, type Format } from './transcoder';

function forwarding<F extends (...a: never[]) => unknown>(f: F): F {
  (f as F & { [FORWARDS]: boolean })[FORWARDS] = true;
  return f;
}

export class Transcoder {
  /** The key's bytes (UTF-8). */
  encodeKey(key: string): Buffer {
    return Buffer.from(key, 'utf8');
  }

  /** The key from its bytes (UTF-8). */
  decodeKey(key: Buffer): string {
    return Buffer.from(key).toString('utf8');
  }

  /** [bytes, flags] for `value` in `format` (FMT_JSON, FMT_UTF8, FMT_BYTES, FMT_AUTO); ValueFormatError when it cannot be. */
  encodeValue(value: unknown, format: Format): [Buffer, number] {
    const e = defaultTranscoder.encode('', value, format);
    return [e.value, e.flags];
  }

  /** The value the bytes and flags stand for (JSON parsed, UTF-8 as a string, anything else as bytes). */
  decodeValue(value: Buffer, flags: number): unknown {
    return defaultTranscoder.decode('', value, flags);
  }

  encode_key(key: string): Buffer {
    return this.encodeKey(key);
  }

  decode_key(key: Buffer): string {
    return this.decodeKey(key);
  }

  encode_value(value: unknown, format: Format): [Buffer, number] {
    return this.encodeValue(value, format);
  }

  decode_value(value: Buffer, flags: number): unknown {
    return this.decodeValue(value, flags);
  }
}

for (const name of ['encode_key', 'decode_key', 'encode_value', 'decode_value'] as const) forwarding(Transcoder.prototype[name]);
for (const name of ['encodeKey', 'decodeKey', 'encode_key', 'decode_key'] as const) (Transcoder.prototype[name] as unknown as { [KEEPS_KEYS]: boolean })[KEEPS_KEYS] = true;
