// HELLO (0x1f) feature codes, kv_engine's cb::mcbp::Feature. The request value and the
// response value are both a list of 2-byte codes.
import { ProtocolError } from './packet';

export const HelloFeature = {
  INVALID: 0x01,
  TLS: 0x02,
  TCP_NODELAY: 0x03,
  MUTATION_SEQNO: 0x04,
  TCP_DELAY: 0x05,
  XATTR: 0x06,
  XERROR: 0x07,
  SELECT_BUCKET: 0x08,
  INVALID2: 0x09,
  SNAPPY: 0x0a,
  JSON: 0x0b,
  DUPLEX: 0x0c,
  CLUSTERMAP_CHANGE_NOTIFICATION: 0x0d,
  UNORDERED_EXECUTION: 0x0e,
  TRACING: 0x0f,
  ALT_REQUEST_SUPPORT: 0x10,
  SYNC_REPLICATION: 0x11,
  COLLECTIONS: 0x12,
  SNAPPY_EVERYWHERE: 0x13,
  PRESERVE_TTL: 0x14,
  VATTR: 0x15,
  POINT_IN_TIME_RECOVERY: 0x16,
  SUBDOC_CREATE_AS_DELETED: 0x17,
  SUBDOC_DOCUMENT_MACRO_SUPPORT: 0x18,
  SUBDOC_REPLACE_BODY_WITH_XATTR: 0x19,
  REPORT_UNIT_USAGE: 0x1a,
  NON_BLOCKING_THROTTLING_MODE: 0x1b,
  SUBDOC_REPLICA_READ: 0x1c,
  GET_CLUSTER_CONFIG_WITH_KNOWN_VERSION: 0x1d,
  DEDUPE_NOT_MY_VBUCKET_CLUSTERMAP: 0x1e,
  CLUSTERMAP_CHANGE_NOTIFICATION_BRIEF: 0x1f,
  SUBDOC_ALLOWS_ACCESS_ON_MULTIPLE_XATTR_KEYS: 0x20,
  SUBDOC_BINARY_XATTR: 0x21,
} as const;

export type HelloFeatureName = keyof typeof HelloFeature;

const NAMES = new Map<number, string>();
for (const [name, code] of Object.entries(HelloFeature)) NAMES.set(code, name);

/** The name of a HELLO feature code, or `UNKNOWN_0x....`. */
export function helloFeatureName(code: number): string {
  return NAMES.get(code) ?? `UNKNOWN_0x${code.toString(16).padStart(4, '0')}`;
}

/** Encodes feature codes as the HELLO value: 2 bytes each, big-endian. */
export function encodeHelloFeatures(codes: readonly number[]): Buffer {
  const out = Buffer.allocUnsafe(codes.length * 2);
  for (let i = 0; i < codes.length; i++) out.writeUInt16BE(codes[i], i * 2);
  return out;
}

/** Decodes a HELLO value. An odd length is a protocol error (cxx asserts on it too). */
export function decodeHelloFeatures(buf: Buffer): number[] {
  if (buf.length % 2 !== 0) throw new ProtocolError('bad_lengths', `HELLO feature list of odd length ${buf.length}`);
  const out: number[] = new Array(buf.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = buf.readUInt16BE(i * 2);
  return out;
}
