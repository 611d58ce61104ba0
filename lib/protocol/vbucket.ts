// Key -> vBucket mapping: zlib's CRC-32 of the bare key (no collection prefix), bits 16..30,
// modulo the number of vBuckets (the length of the config's vBucketMap).
import * as zlib from 'node:zlib';

let TABLE: Int32Array | undefined;

function table(): Int32Array {
  if (TABLE) return TABLE;
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  TABLE = t;
  return t;
}

/** One byte into a running CRC-32 (the table-driven step both loops below share). */
function step(t: Int32Array, crc: number, byte: number): number {
  return (crc >>> 8) ^ t[(crc ^ byte) & 0xff];
}

/** Table-driven reflected CRC-32 (poly 0xEDB88320); the fallback for Node without zlib.crc32. */
export function crc32Table(buf: Uint8Array): number {
  const t = table();
  let crc = -1;
  for (let i = 0; i < buf.length; i++) crc = step(t, crc, buf[i]);
  return (crc ^ -1) >>> 0;
}

type NativeCrc = (data: Uint8Array | string, value?: number) => number;
const native: NativeCrc | undefined = (zlib as unknown as { crc32?: NativeCrc }).crc32;

/** CRC-32 of an ASCII string's char codes (its UTF-8 bytes), or -1 at the first non-ASCII char. */
function crc32Ascii(s: string): number {
  const t = table();
  let crc = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return -1;
    crc = step(t, crc, c);
  }
  return (crc ^ -1) >>> 0;
}

/**
 * zlib's CRC-32 of `buf` (a string is taken as UTF-8), as an unsigned 32-bit number. ASCII keys,
 * the common case, are hashed here from their char codes: for a short key that is several times
 * cheaper than a call into zlib, which validates its argument and crosses into C++.
 */
export function crc32(buf: Uint8Array | string): number {
  if (typeof buf === 'string' && buf.length <= 256) {
    const c = crc32Ascii(buf);
    if (c !== -1) return c;
  }
  if (native) return native(buf);
  return crc32Table(typeof buf === 'string' ? Buffer.from(buf, 'utf8') : buf);
}

/** The vBucket id of `key` (bare key, UTF-8 if a string) in a bucket of `numVBuckets`. */
export function vbucketOf(key: string | Uint8Array, numVBuckets: number): number {
  return ((crc32(key) >>> 16) & 0x7fff) % numVBuckets;
}
