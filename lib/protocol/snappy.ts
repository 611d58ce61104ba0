// Snappy-compressed values (datatype bit 0x02): raw Snappy blocks, as kv_engine sends and takes
// them once HELLO negotiated SNAPPY. The codec is the `snappy` package (napi-rs; its prebuilt
// binaries are npm packages of their own). copyOutputData makes it return an ordinary Buffer:
// the external buffers it makes otherwise cost a finalizer each, four times the compression.
import { compressSync, uncompressSync } from 'snappy';
import { ProtocolError } from './packet';

const COPY = { copyOutputData: true } as const;
const INFLATE = { asBuffer: true, copyOutputData: true } as const;

/** Compresses `value` into one raw Snappy block. */
export function deflateSnappy(value: Uint8Array): Buffer {
  return compressSync(value, COPY);
}

/** Decompresses one raw Snappy block; throws ProtocolError('bad_snappy') on a corrupt block. */
export function inflateSnappy(block: Uint8Array): Buffer {
  try {
    return uncompressSync(block, INFLATE) as Buffer;
  } catch (err) {
    throw new ProtocolError('bad_snappy', `value flagged Snappy does not inflate: ${(err as Error).message}`);
  }
}

/**
 * The length `block` inflates to, read from its preamble (a varint), without inflating it; -1
 * when the preamble is malformed. Lets a server check the inflated size against its limit first.
 */
export function snappyInflatedLength(block: Uint8Array): number {
  let n = 0;
  for (let i = 0, shift = 0; i < block.length && i < 5; i++, shift += 7) {
    const b = block[i];
    n += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return n;
  }
  return -1;
}

/**
 * A request frame whose value is Snappy-compressed, rewritten with the value inflated and the
 * datatype's Snappy bit cleared (for a peer that did not negotiate SNAPPY).
 */
export function inflateFrameValue(frame: Buffer): Buffer {
  const extLen = frame[4];
  const keyLen = frame.readUInt16BE(2);
  const head = 24 + extLen + keyLen;
  const value = inflateSnappy(frame.subarray(head));
  const out = Buffer.allocUnsafe(head + value.length);
  frame.copy(out, 0, 0, head);
  value.copy(out, head);
  out[5] = frame[5] & ~DATATYPE_SNAPPY;
  out.writeUInt32BE(extLen + keyLen + value.length, 8);
  return out;
}

/** The datatype bit of a Snappy-compressed value. */
export const DATATYPE_SNAPPY = 0x02;
