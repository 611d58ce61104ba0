// RBAC on the KV port, as kv_engine does it: ns_server turns a user's roles into memcached
// privileges per bucket (Read, Insert, Upsert, Delete, MetaRead, ...), and each opcode requires
// some of them (kv_engine's mcbp_privileges table). Here the privileges a connection's user holds
// in its selected bucket are computed once, as a bit mask, when it selects the bucket (and again
// when users, groups or buckets change); each request then costs one AND with its opcode's mask.
import { Opcode } from '../../protocol/opcodes';
import { bucketPermission, clusterPermission, collectionPermission, type Permission } from './permission';
import { isSystemCollection } from '../collections/manifest';

/** Memcached privileges, one bit each. */
export const KvPrivilege = {
  Read: 1 << 0,
  Insert: 1 << 1,
  Upsert: 1 << 2,
  Delete: 1 << 3,
  /** Not a memcached privilege: held with Insert or Upsert (ADD accepts either). */
  InsertOrUpsert: 1 << 4,
  MetaRead: 1 << 5,
  MetaWrite: 1 << 6,
  XattrRead: 1 << 7,
  XattrWrite: 1 << 8,
  SystemXattrRead: 1 << 9,
  SystemXattrWrite: 1 << 10,
  SimpleStats: 1 << 11,
  DcpProducer: 1 << 12,
  DcpConsumer: 1 << 13,
  DcpStream: 1 << 14,
  BucketManagement: 1 << 15,
  /** Reading a system collection (`_system._query`, ...), beside Read: `data.docs!sread`. */
  SystemCollectionLookup: 1 << 16,
  /** Changing a system collection, beside Insert, Upsert or Delete: `data.docs!swrite`. */
  SystemCollectionMutation: 1 << 17,
} as const;

const P = KvPrivilege;

/** Where each privilege comes from (ns_server's memcached_permissions), on one collection of a bucket. */
const SOURCES: ReadonlyArray<readonly [number, (b: string, s: string, c: string) => Permission]> = [
  [P.Read, (b, s, c) => collectionPermission(b, s, c, ['data', 'docs'], 'read')],
  [P.Insert, (b, s, c) => collectionPermission(b, s, c, ['data', 'docs'], 'insert')],
  [P.Upsert, (b, s, c) => collectionPermission(b, s, c, ['data', 'docs'], 'upsert')],
  [P.Delete, (b, s, c) => collectionPermission(b, s, c, ['data', 'docs'], 'delete')],
  [P.MetaRead, (b, s, c) => collectionPermission(b, s, c, ['data', 'meta'], 'read')],
  [P.MetaWrite, (b, s, c) => collectionPermission(b, s, c, ['data', 'meta'], 'write')],
  [P.XattrRead, (b, s, c) => collectionPermission(b, s, c, ['data', 'xattr'], 'read')],
  [P.XattrWrite, (b, s, c) => collectionPermission(b, s, c, ['data', 'xattr'], 'write')],
  [P.SystemXattrRead, (b, s, c) => collectionPermission(b, s, c, ['data', 'sxattr'], 'read')],
  [P.SystemXattrWrite, (b, s, c) => collectionPermission(b, s, c, ['data', 'sxattr'], 'write')],
  [P.SimpleStats, (b, s, c) => collectionPermission(b, s, c, ['stats'], 'read')],
  [P.DcpStream, (b, s, c) => collectionPermission(b, s, c, ['data', 'dcpstream'], 'read')],
  [P.DcpProducer, (b) => bucketPermission(b, ['data', 'dcp'], 'read')],
  [P.DcpConsumer, (b) => bucketPermission(b, ['data', 'dcp'], 'write')],
];

/** Cluster-wide privileges that some bucket opcodes need. */
const GLOBAL_SOURCES: ReadonlyArray<readonly [number, Permission]> = [[P.BucketManagement, clusterPermission(['buckets'], 'create')]];

export const DEFAULT_SCOPE = '_default';
export const DEFAULT_COLLECTION = '_default';

/**
 * The memcached privileges `user` holds on one collection of `bucket` (0: none, and it may not
 * select the bucket). This is the one place KV asks RBAC: until scopes and collections exist the
 * front end asks it for the default collection; the collections work asks it per collection.
 */
export function kvPrivileges(user: { allows(p: Permission): boolean }, bucket: string, scope = DEFAULT_SCOPE, collection = DEFAULT_COLLECTION): number {
  let bits = 0;
  for (const [bit, source] of SOURCES) if (user.allows(source(bucket, scope, collection))) bits |= bit;
  if (bits !== 0 && isSystemCollection(scope, collection)) {
    // kv_engine: a system collection exists only for those who may read or change it as such, and
    // its documents are read and written with those privileges beside the usual ones.
    const lookup = user.allows(collectionPermission(bucket, scope, collection, ['data', 'docs'], 'sread'));
    const mutation = user.allows(collectionPermission(bucket, scope, collection, ['data', 'docs'], 'swrite'));
    if (!lookup && !mutation) return 0;
    if (lookup) bits |= P.SystemCollectionLookup;
    else bits &= ~P.Read;
    if (mutation) bits |= P.SystemCollectionMutation;
    else bits &= ~(P.Insert | P.Upsert | P.Delete);
  }
  if (bits === 0) return 0;
  if ((bits & (P.Insert | P.Upsert)) !== 0) bits |= P.InsertOrUpsert;
  for (const [bit, permission] of GLOBAL_SOURCES) if (user.allows(permission)) bits |= bit;
  return bits;
}

/** Every privilege bit: what a connection holds while it has no bucket (the handlers answer for themselves then). */
export const ALL_KV_PRIVILEGES = Object.values(KvPrivilege).reduce((a, b) => a | b, 0);

/** The privileges each opcode requires (kv_engine's table, for the opcodes this server runs); quiet twins alike. */
const REQUIRED: ReadonlyArray<readonly [readonly number[], number]> = [
  [[Opcode.GET, Opcode.GETQ, Opcode.GETK, Opcode.GETKQ, Opcode.GET_REPLICA, Opcode.GET_LOCKED, Opcode.UNLOCK_KEY, Opcode.GET_RANDOM_KEY], P.Read],
  [[Opcode.SET, Opcode.SETQ, Opcode.REPLACE, Opcode.REPLACEQ, Opcode.APPEND, Opcode.APPENDQ, Opcode.PREPEND, Opcode.PREPENDQ, Opcode.TOUCH], P.Upsert],
  [[Opcode.ADD, Opcode.ADDQ], P.InsertOrUpsert],
  [[Opcode.DELETE, Opcode.DELETEQ], P.Delete],
  [[Opcode.INCREMENT, Opcode.INCREMENTQ, Opcode.DECREMENT, Opcode.DECREMENTQ, Opcode.GAT, Opcode.GATQ, Opcode.SUBDOC_MULTI_MUTATION, Opcode.SUBDOC_COUNTER], P.Read | P.Upsert],
  [[Opcode.SUBDOC_MULTI_LOOKUP, Opcode.SUBDOC_GET, Opcode.SUBDOC_EXISTS, Opcode.SUBDOC_GET_COUNT], P.Read],
  [[Opcode.SUBDOC_DICT_ADD, Opcode.SUBDOC_DICT_UPSERT, Opcode.SUBDOC_DELETE, Opcode.SUBDOC_REPLACE, Opcode.SUBDOC_ARRAY_PUSH_LAST, Opcode.SUBDOC_ARRAY_PUSH_FIRST, Opcode.SUBDOC_ARRAY_INSERT, Opcode.SUBDOC_ARRAY_ADD_UNIQUE], P.Upsert],
  [[Opcode.RANGE_SCAN_CREATE, Opcode.RANGE_SCAN_CONTINUE, Opcode.RANGE_SCAN_CANCEL], P.Read],
  [[Opcode.GET_META, Opcode.GETQ_META, Opcode.OBSERVE, Opcode.OBSERVE_SEQNO, Opcode.GET_ALL_VB_SEQNOS, Opcode.LAST_CLOSED_CHECKPOINT], P.MetaRead],
  [[Opcode.SET_WITH_META, Opcode.SETQ_WITH_META, Opcode.ADD_WITH_META, Opcode.ADDQ_WITH_META, Opcode.DEL_WITH_META, Opcode.DELQ_WITH_META], P.MetaWrite],
  [[Opcode.GET_FAILOVER_LOG], P.Read],
  [[Opcode.STAT], P.SimpleStats],
  [[Opcode.FLUSH, Opcode.FLUSHQ], P.BucketManagement],
];

const BY_OPCODE: readonly number[] = (() => {
  const table = new Array<number>(256).fill(0);
  for (const [ops, bits] of REQUIRED) for (const op of ops) table[op] = bits;
  return table;
})();

/** The privileges `opcode` requires in the selected bucket (0: none). */
export function requiredKvPrivileges(opcode: number): number {
  return BY_OPCODE[opcode & 0xff];
}
