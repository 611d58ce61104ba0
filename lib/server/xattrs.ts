// Extended attributes (kv_engine docs/ExtendedAttributes.md and Document.md): named JSON values
// kept with a document beside its body. Keys starting with `_` are system xattrs (they survive
// deletion, on the tombstone, and need the SystemXattr privileges), keys starting with `$` are
// virtual (computed, read-only), every other valid key is a user xattr.
//
// In memory a document's xattrs are an immutable map of key -> JSON text (a change makes a new
// map), so a document without any costs one `undefined` and the plain get/set path never looks at
// them. On disk and on the wire they take kv_engine's blob layout: a u32 total length, then per
// pair a u32 length, the key, 0x00, the value, 0x00.

/** A document's xattrs: key -> value as JSON text. Never empty (a document without xattrs has `undefined`). */
export type Xattrs = ReadonlyMap<string, string>;

/** kv_engine: an X-Key is at most 16 bytes. */
export const MAX_XATTR_KEY_BYTES = 16;
/** System xattrs have a quota of their own beside the document's (kv_engine's max_system_xattr_size). */
export const MAX_SYSTEM_XATTR_BYTES = 1024 * 1024;

export const isSystemXattr = (key: string): boolean => key.charCodeAt(0) === 0x5f;
export const isVirtualXattr = (key: string): boolean => key.charCodeAt(0) === 0x24;

/** The X-Key of an xattr path: everything before the first `.` or `[` (no backquote escaping). */
export function xattrKeyOf(path: string): string {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0x2e || c === 0x5b) return path.slice(0, i);
  }
  return path;
}

/**
 * kv_engine's is_valid_xattr_key: 1..16 bytes of UTF-8, not starting with a control character
 * or with punctuation other than `_` (system) and `$` (virtual).
 */
export function isValidXattrKey(key: string): boolean {
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes === 0 || bytes > MAX_XATTR_KEY_BYTES || key.includes('\ufffd')) return false;
  const c = key.charCodeAt(0);
  if (c < 0x20 || c === 0x7f) return false;
  const punct = (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
  return !punct || c === 0x5f || c === 0x24;
}

/** Bytes one pair takes in the blob. */
const pairBytes = (key: string, value: string): number => 4 + Buffer.byteLength(key) + 1 + Buffer.byteLength(value) + 1;

/** The blob bytes of the system xattrs, and of the user ones (what counts against the document's size). */
export function xattrSizes(x: Xattrs | undefined): { system: number; user: number } {
  let system = 0;
  let user = 0;
  if (x !== undefined) {
    for (const [k, v] of x) {
      if (isSystemXattr(k)) system += pairBytes(k, v);
      else user += pairBytes(k, v);
    }
  }
  return { system, user };
}

/** What a deletion keeps: the system xattrs (undefined when there are none). */
export function systemXattrsOf(x: Xattrs | undefined): Xattrs | undefined {
  if (x === undefined) return undefined;
  let kept: Map<string, string> | undefined;
  for (const [k, v] of x) if (isSystemXattr(k)) (kept ??= new Map()).set(k, v);
  return kept;
}

/** The map as a document keeps it: undefined when empty. */
export function xattrsOrNone(x: ReadonlyMap<string, string>): Xattrs | undefined {
  return x.size === 0 ? undefined : x;
}

/** kv_engine's blob: u32 total, then u32 pair length, key, 0, value, 0 per pair. */
export function encodeXattrBlob(x: Xattrs): Buffer {
  let total = 0;
  for (const [k, v] of x) total += pairBytes(k, v);
  const out = Buffer.allocUnsafe(4 + total);
  out.writeUInt32BE(total, 0);
  let p = 4;
  for (const [k, v] of x) {
    const start = p + 4;
    p = start + out.write(k, start);
    out[p++] = 0;
    p += out.write(v, p);
    out[p++] = 0;
    out.writeUInt32BE(p - start, start - 4);
  }
  return out;
}

/** Reads a blob at the start of `buf`; returns the xattrs and where the body starts. Throws on a malformed blob. */
export function decodeXattrBlob(buf: Buffer): { xattrs: Xattrs | undefined; bodyAt: number } {
  if (buf.length < 4) throw new RangeError('xattr blob shorter than its length field');
  const total = buf.readUInt32BE(0);
  const end = 4 + total;
  if (end > buf.length) throw new RangeError('xattr blob longer than the value');
  const out = new Map<string, string>();
  let p = 4;
  while (p < end) {
    if (p + 4 > end) throw new RangeError('xattr pair length truncated');
    const len = buf.readUInt32BE(p);
    const start = p + 4;
    const stop = start + len;
    if (stop > end || len < 2 || buf[stop - 1] !== 0) throw new RangeError('xattr pair malformed');
    const nul = buf.indexOf(0, start);
    if (nul < 0 || nul >= stop - 1) throw new RangeError('xattr pair without a key terminator');
    out.set(buf.toString('utf8', start, nul), buf.toString('utf8', nul + 1, stop - 1));
    p = stop;
  }
  return { xattrs: xattrsOrNone(out), bodyAt: end };
}
