// Unsigned LEB128, as used for the collection-id prefix of keys once COLLECTIONS is negotiated.
// Collection ids are 32-bit, so a canonical encoding is 1..5 bytes.
import { ProtocolError } from './packet';

const MAX_BYTES = 5;

/** Encodes a 32-bit unsigned integer as canonical LEB128 (1..5 bytes). */
export function encodeLeb128(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`LEB128 value out of range: ${n}`);
  const out = Buffer.allocUnsafe(leb128Length(n));
  writeLeb128(out, 0, n);
  return out;
}

/** Bytes that `encodeLeb128(n)` produces. */
export function leb128Length(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  return 5;
}

/** Writes `n` as LEB128 into `buf` at `offset`; returns the offset after it. */
export function writeLeb128(buf: Buffer, offset: number, n: number): number {
  let v = n >>> 0;
  while (v >= 0x80) {
    buf[offset++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[offset++] = v;
  return offset;
}

/**
 * Decodes the LEB128 integer at `buf[offset]`. Rejects (ProtocolError 'bad_leb128') a truncated
 * number, one longer than 5 bytes or above 2^32-1, and a non-canonical one (redundant trailing
 * zero groups), since a key must have exactly one spelling.
 */
export function decodeLeb128(buf: Buffer, offset = 0): { value: number; length: number } {
  const first = buf[offset];
  if (first === undefined) throw new ProtocolError('bad_leb128', 'LEB128 number missing');
  if (first < 0x80) return { value: first, length: 1 };
  let value = 0;
  let shift = 0;
  for (let i = 0; i < MAX_BYTES; i++) {
    const b = buf[offset + i];
    if (b === undefined) throw new ProtocolError('bad_leb128', 'LEB128 number truncated');
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) {
      if (b === 0) throw new ProtocolError('bad_leb128', 'non-canonical LEB128 (trailing zero group)');
      if (value > 0xffffffff) throw new ProtocolError('bad_leb128', 'LEB128 value exceeds 32 bits');
      return { value, length: i + 1 };
    }
  }
  throw new ProtocolError('bad_leb128', 'LEB128 number longer than 5 bytes');
}

/** Splits a collection-prefixed key into its collection id and the bare key (a view). */
export function splitCollectionKey(key: Buffer): { collectionId: number; key: Buffer } {
  const { value, length } = decodeLeb128(key, 0);
  return { collectionId: value, key: key.subarray(length) };
}

/** Prefixes `key` with the LEB128 collection id. */
export function joinCollectionKey(collectionId: number, key: Buffer | string): Buffer {
  const keyLen = typeof key === 'string' ? Buffer.byteLength(key) : key.length;
  const prefix = leb128Length(collectionId);
  const out = Buffer.allocUnsafe(prefix + keyLen);
  writeLeb128(out, 0, collectionId);
  if (typeof key === 'string') out.write(key, prefix, 'utf8');
  else key.copy(out, prefix);
  return out;
}
