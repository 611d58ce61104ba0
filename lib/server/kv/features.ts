// The HELLO features this server implements, as bits of one connection's negotiated set.
import { HelloFeature } from '../../protocol/hello';

/** Feature bits negotiated by HELLO. */
export const Feat = {
  MUTATION_SEQNO: 1,
  XERROR: 2,
  JSON: 4,
  DUPLEX: 8,
  CLUSTERMAP_NOTIFY: 16,
  COLLECTIONS: 32,
  ALT_REQUEST: 64,
  SYNC_REPLICATION: 128,
  PRESERVE_TTL: 256,
  SELECT_BUCKET: 512,
  UNORDERED: 1024,
  TCP_NODELAY: 2048,
  SNAPPY: 4096,
  /** Responses carry the server's receive-to-send duration (alt response magic 0x18). */
  TRACING: 8192,
  /** Informational, as in kv_engine: the ReplicaRead doc flag works whether or not it was negotiated. */
  SUBDOC_REPLICA_READ: 16384,
  XATTR: 32768,
  VATTR: 65536,
  SUBDOC_CREATE_AS_DELETED: 131072,
  SUBDOC_DOCUMENT_MACRO_SUPPORT: 262144,
  SUBDOC_REPLACE_BODY_WITH_XATTR: 524288,
  SUBDOC_MULTIPLE_XATTR_KEYS: 1048576,
} as const;

/** HELLO feature code -> our bit; the features this server implements. */
export const HELLO_FEATURES: ReadonlyMap<number, number> = new Map<number, number>([
  [HelloFeature.TCP_NODELAY, Feat.TCP_NODELAY],
  [HelloFeature.MUTATION_SEQNO, Feat.MUTATION_SEQNO],
  [HelloFeature.XERROR, Feat.XERROR],
  [HelloFeature.SELECT_BUCKET, Feat.SELECT_BUCKET],
  [HelloFeature.JSON, Feat.JSON],
  [HelloFeature.DUPLEX, Feat.DUPLEX],
  [HelloFeature.CLUSTERMAP_CHANGE_NOTIFICATION, Feat.CLUSTERMAP_NOTIFY],
  [HelloFeature.UNORDERED_EXECUTION, Feat.UNORDERED],
  [HelloFeature.ALT_REQUEST_SUPPORT, Feat.ALT_REQUEST],
  [HelloFeature.SYNC_REPLICATION, Feat.SYNC_REPLICATION],
  [HelloFeature.COLLECTIONS, Feat.COLLECTIONS],
  [HelloFeature.PRESERVE_TTL, Feat.PRESERVE_TTL],
  [HelloFeature.SNAPPY, Feat.SNAPPY],
  [HelloFeature.TRACING, Feat.TRACING],
  [HelloFeature.SUBDOC_REPLICA_READ, Feat.SUBDOC_REPLICA_READ],
  [HelloFeature.XATTR, Feat.XATTR],
  [HelloFeature.VATTR, Feat.VATTR],
  [HelloFeature.SUBDOC_CREATE_AS_DELETED, Feat.SUBDOC_CREATE_AS_DELETED],
  [HelloFeature.SUBDOC_DOCUMENT_MACRO_SUPPORT, Feat.SUBDOC_DOCUMENT_MACRO_SUPPORT],
  [HelloFeature.SUBDOC_REPLACE_BODY_WITH_XATTR, Feat.SUBDOC_REPLACE_BODY_WITH_XATTR],
  [HelloFeature.SUBDOC_ALLOWS_ACCESS_ON_MULTIPLE_XATTR_KEYS, Feat.SUBDOC_MULTIPLE_XATTR_KEYS],
]);
