// Client -> server opcodes of the memcached binary protocol as Couchbase Server speaks it
// (kv_engine's protocol/connection/client_opcodes.h), and the server-initiated ones.

/** Opcodes of requests sent by a client (magic 0x80 / 0x08) and echoed in their responses. */
export const Opcode = {
  GET: 0x00,
  SET: 0x01,
  ADD: 0x02,
  REPLACE: 0x03,
  DELETE: 0x04,
  INCREMENT: 0x05,
  DECREMENT: 0x06,
  QUIT: 0x07,
  FLUSH: 0x08,
  GETQ: 0x09,
  NOOP: 0x0a,
  VERSION: 0x0b,
  GETK: 0x0c,
  GETKQ: 0x0d,
  APPEND: 0x0e,
  PREPEND: 0x0f,
  STAT: 0x10,
  SETQ: 0x11,
  ADDQ: 0x12,
  REPLACEQ: 0x13,
  DELETEQ: 0x14,
  INCREMENTQ: 0x15,
  DECREMENTQ: 0x16,
  QUITQ: 0x17,
  FLUSHQ: 0x18,
  APPENDQ: 0x19,
  PREPENDQ: 0x1a,
  VERBOSITY: 0x1b,
  TOUCH: 0x1c,
  GAT: 0x1d,
  GATQ: 0x1e,
  HELLO: 0x1f,
  SASL_LIST_MECHS: 0x20,
  SASL_AUTH: 0x21,
  SASL_STEP: 0x22,
  IOCTL_GET: 0x23,
  IOCTL_SET: 0x24,
  CONFIG_VALIDATE: 0x25,
  CONFIG_RELOAD: 0x26,
  AUDIT_PUT: 0x27,
  AUDIT_CONFIG_RELOAD: 0x28,
  SHUTDOWN: 0x29,
  GET_ALL_VB_SEQNOS: 0x48,
  GET_REPLICA: 0x83,
  SELECT_BUCKET: 0x89,
  OBSERVE_SEQNO: 0x91,
  OBSERVE: 0x92,
  EVICT_KEY: 0x93,
  GET_LOCKED: 0x94,
  UNLOCK_KEY: 0x95,
  GET_FAILOVER_LOG: 0x96,
  LAST_CLOSED_CHECKPOINT: 0x97,
  GET_META: 0xa0,
  GETQ_META: 0xa1,
  SET_WITH_META: 0xa2,
  SETQ_WITH_META: 0xa3,
  ADD_WITH_META: 0xa4,
  ADDQ_WITH_META: 0xa5,
  DEL_WITH_META: 0xa8,
  DELQ_WITH_META: 0xa9,
  GET_CLUSTER_CONFIG: 0xb5,
  GET_RANDOM_KEY: 0xb6,
  COLLECTIONS_SET_MANIFEST: 0xb9,
  GET_COLLECTIONS_MANIFEST: 0xba,
  GET_COLLECTION_ID: 0xbb,
  GET_SCOPE_ID: 0xbc,
  SUBDOC_GET: 0xc5,
  SUBDOC_EXISTS: 0xc6,
  SUBDOC_DICT_ADD: 0xc7,
  SUBDOC_DICT_UPSERT: 0xc8,
  SUBDOC_DELETE: 0xc9,
  SUBDOC_REPLACE: 0xca,
  SUBDOC_ARRAY_PUSH_LAST: 0xcb,
  SUBDOC_ARRAY_PUSH_FIRST: 0xcc,
  SUBDOC_ARRAY_INSERT: 0xcd,
  SUBDOC_ARRAY_ADD_UNIQUE: 0xce,
  SUBDOC_COUNTER: 0xcf,
  SUBDOC_MULTI_LOOKUP: 0xd0,
  SUBDOC_MULTI_MUTATION: 0xd1,
  SUBDOC_GET_COUNT: 0xd2,
  SUBDOC_REPLACE_BODY_WITH_XATTR: 0xd3,
  RANGE_SCAN_CREATE: 0xda,
  RANGE_SCAN_CONTINUE: 0xdb,
  RANGE_SCAN_CANCEL: 0xdc,
  GET_CMD_TIMER: 0xf3,
  GET_ERROR_MAP: 0xfe,
} as const;

export type OpcodeName = keyof typeof Opcode;
export type OpcodeValue = (typeof Opcode)[OpcodeName];

/** Opcodes of server-initiated requests (magic 0x82), answered by the client with magic 0x83. */
export const ServerOpcode = {
  CLUSTERMAP_CHANGE_NOTIFICATION: 0x01,
  AUTHENTICATE: 0x02,
  ACTIVE_EXTERNAL_USERS: 0x03,
  GET_AUTHORIZATION: 0x04,
} as const;

export type ServerOpcodeName = keyof typeof ServerOpcode;

function invert(table: Record<string, number>): string[] {
  const names: string[] = new Array(256);
  for (const [name, code] of Object.entries(table)) names[code] = name;
  return names;
}

const OPCODE_NAMES = invert(Opcode);
const SERVER_OPCODE_NAMES = invert(ServerOpcode);

/** The protocol name of a client opcode, or `UNKNOWN_0x..` for a code we do not know. */
export function opcodeName(op: number): string {
  return OPCODE_NAMES[op & 0xff] ?? `UNKNOWN_0x${(op & 0xff).toString(16).padStart(2, '0')}`;
}

/** The protocol name of a server-initiated opcode (magic 0x82/0x83). */
export function serverOpcodeName(op: number): string {
  return SERVER_OPCODE_NAMES[op & 0xff] ?? `UNKNOWN_0x${(op & 0xff).toString(16).padStart(2, '0')}`;
}

/** True for a client opcode this module knows (clients such as cxx assert on unknown ones). */
export function isKnownOpcode(op: number): boolean {
  return OPCODE_NAMES[op & 0xff] !== undefined;
}

/**
 * The quiet twin of each opcode that has one: quiet requests get no reply on success
 * (mutations) or on a miss (gets). Server and client both need the mapping.
 */
export const QUIET_OPCODES: ReadonlyMap<number, number> = new Map<number, number>([
  [Opcode.GET, Opcode.GETQ],
  [Opcode.GETK, Opcode.GETKQ],
  [Opcode.SET, Opcode.SETQ],
  [Opcode.ADD, Opcode.ADDQ],
  [Opcode.REPLACE, Opcode.REPLACEQ],
  [Opcode.DELETE, Opcode.DELETEQ],
  [Opcode.INCREMENT, Opcode.INCREMENTQ],
  [Opcode.DECREMENT, Opcode.DECREMENTQ],
  [Opcode.QUIT, Opcode.QUITQ],
  [Opcode.FLUSH, Opcode.FLUSHQ],
  [Opcode.APPEND, Opcode.APPENDQ],
  [Opcode.PREPEND, Opcode.PREPENDQ],
  [Opcode.GAT, Opcode.GATQ],
]);

const LOUD_OF_QUIET: number[] = new Array(256).fill(-1);
for (const [loud, quiet] of QUIET_OPCODES) LOUD_OF_QUIET[quiet] = loud;

/** True when `op` is a quiet variant (GETQ, SETQ, ...). */
export function isQuiet(op: number): boolean {
  return LOUD_OF_QUIET[op & 0xff] !== -1;
}

/** The ordinary opcode behind a quiet one (SETQ -> SET); any other opcode maps to itself. */
export function loudOpcode(op: number): number {
  const loud = LOUD_OF_QUIET[op & 0xff];
  return loud === -1 ? op : loud;
}
