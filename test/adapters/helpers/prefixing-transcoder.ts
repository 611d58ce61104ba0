// A Python-style Transcoder that changes keys: what the shared cases use to see encodeKey and
// decodeKey run on every path.
import { Transcoder } from '../../../lib/index';

/** The key a Prefixing transcoder sends for `key` (what a bucket without it sees). */
export const sentAs = (key: string): string => `pfx:${key}`;

/** Sends every key with a prefix and takes it off the keys results name; keys ending in ':bad' fail to encode. */
export class Prefixing extends Transcoder {
  override encodeKey(key: string): Buffer {
    if (key.endsWith(':bad')) throw new Error('no such key here');
    return Buffer.from(sentAs(key));
  }

  // Python's spelling, found as well as the camelCase one.
  override decode_key(key: Buffer): string {
    return key.toString().slice('pfx:'.length);
  }
}
