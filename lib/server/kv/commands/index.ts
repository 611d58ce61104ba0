// The KV opcode table: one row per opcode the server implements (quiet variants share the loud
// handler). Anything not in the table gets UNKNOWN_COMMAND. kv/node.ts injects it into each
// connection; a new command is a handler in its group's module plus one row here.
import { Opcode } from '../../../protocol/opcodes';
import type { CommandHandler, CommandTable, KvCommand } from '../connection';
import { concatWith, getAndTouch, getLocked, getMeta, getReplica, getWith, remove, storeWith, touch, unlock } from './documents';
import { counterWith } from './counter';
import { observe, observeSeqno } from './observe';
import { getClusterConfig, getCollectionId, getErrorMap, getManifest, getScopeId, hello, listMechs, saslAuth, saslStep, selectBucket } from './session';
import { flush, noop, quit, stat, version } from './admin';
import { subdocLookup, subdocMutation, subdocSinglePath } from './subdoc';
import { rangeScanCancel, rangeScanContinue, rangeScanCreate } from './range-scan';
import { requiredKvPrivileges } from '../../rbac/kv-privileges';

/** [opcode, handler, quiet] */
const entries: Array<[number, CommandHandler, boolean]> = [
  [Opcode.GET, getWith(false), false],
  [Opcode.GETQ, getWith(false), true],
  [Opcode.GETK, getWith(true), false],
  [Opcode.GETKQ, getWith(true), true],
  [Opcode.SET, storeWith('upsert'), false],
  [Opcode.SETQ, storeWith('upsert'), true],
  [Opcode.ADD, storeWith('insert'), false],
  [Opcode.ADDQ, storeWith('insert'), true],
  [Opcode.REPLACE, storeWith('replace'), false],
  [Opcode.REPLACEQ, storeWith('replace'), true],
  [Opcode.DELETE, remove, false],
  [Opcode.DELETEQ, remove, true],
  [Opcode.INCREMENT, counterWith(false), false],
  [Opcode.INCREMENTQ, counterWith(false), true],
  [Opcode.DECREMENT, counterWith(true), false],
  [Opcode.DECREMENTQ, counterWith(true), true],
  [Opcode.APPEND, concatWith('append'), false],
  [Opcode.APPENDQ, concatWith('append'), true],
  [Opcode.PREPEND, concatWith('prepend'), false],
  [Opcode.PREPENDQ, concatWith('prepend'), true],
  [Opcode.QUIT, quit, false],
  [Opcode.QUITQ, quit, true],
  [Opcode.FLUSH, flush, false],
  [Opcode.FLUSHQ, flush, true],
  [Opcode.NOOP, noop, false],
  [Opcode.VERSION, version, false],
  [Opcode.STAT, stat, false],
  [Opcode.TOUCH, touch, false],
  [Opcode.GAT, getAndTouch, false],
  [Opcode.GATQ, getAndTouch, true],
  [Opcode.HELLO, hello, false],
  [Opcode.SASL_LIST_MECHS, listMechs, false],
  [Opcode.SASL_AUTH, saslAuth, false],
  [Opcode.SASL_STEP, saslStep, false],
  [Opcode.GET_REPLICA, getReplica, false],
  [Opcode.SELECT_BUCKET, selectBucket, false],
  [Opcode.OBSERVE_SEQNO, observeSeqno, false],
  [Opcode.OBSERVE, observe, false],
  [Opcode.GET_LOCKED, getLocked, false],
  [Opcode.UNLOCK_KEY, unlock, false],
  [Opcode.GET_META, getMeta, false],
  [Opcode.GET_CLUSTER_CONFIG, getClusterConfig, false],
  [Opcode.GET_COLLECTIONS_MANIFEST, getManifest, false],
  [Opcode.GET_COLLECTION_ID, getCollectionId, false],
  [Opcode.GET_SCOPE_ID, getScopeId, false],
  [Opcode.SUBDOC_MULTI_LOOKUP, subdocLookup, false],
  [Opcode.SUBDOC_GET, subdocSinglePath, false],
  [Opcode.SUBDOC_EXISTS, subdocSinglePath, false],
  [Opcode.SUBDOC_GET_COUNT, subdocSinglePath, false],
  [Opcode.SUBDOC_DICT_ADD, subdocSinglePath, false],
  [Opcode.SUBDOC_DICT_UPSERT, subdocSinglePath, false],
  [Opcode.SUBDOC_DELETE, subdocSinglePath, false],
  [Opcode.SUBDOC_REPLACE, subdocSinglePath, false],
  [Opcode.SUBDOC_ARRAY_PUSH_LAST, subdocSinglePath, false],
  [Opcode.SUBDOC_ARRAY_PUSH_FIRST, subdocSinglePath, false],
  [Opcode.SUBDOC_ARRAY_INSERT, subdocSinglePath, false],
  [Opcode.SUBDOC_ARRAY_ADD_UNIQUE, subdocSinglePath, false],
  [Opcode.SUBDOC_COUNTER, subdocSinglePath, false],
  [Opcode.SUBDOC_MULTI_MUTATION, subdocMutation, false],
  [Opcode.GET_ERROR_MAP, getErrorMap, false],
  [Opcode.RANGE_SCAN_CREATE, rangeScanCreate, false],
  [Opcode.RANGE_SCAN_CONTINUE, rangeScanContinue, false],
  [Opcode.RANGE_SCAN_CANCEL, rangeScanCancel, false],
];

/**
 * Where an opcode names the collection it works in once COLLECTIONS is negotiated (KvCommand's
 * `collection`): the key-bearing opcodes in the key's prefix, OBSERVE in each key of its body,
 * the range scans in their handler.
 */
const COLLECTION_IN: ReadonlyArray<readonly [readonly number[], 'key' | 'body']> = [
  [
    [
      Opcode.GET, Opcode.GETQ, Opcode.GETK, Opcode.GETKQ, Opcode.SET, Opcode.SETQ, Opcode.ADD, Opcode.ADDQ, Opcode.REPLACE, Opcode.REPLACEQ,
      Opcode.DELETE, Opcode.DELETEQ, Opcode.INCREMENT, Opcode.INCREMENTQ, Opcode.DECREMENT, Opcode.DECREMENTQ, Opcode.APPEND, Opcode.APPENDQ,
      Opcode.PREPEND, Opcode.PREPENDQ, Opcode.TOUCH, Opcode.GAT, Opcode.GATQ, Opcode.GET_REPLICA, Opcode.GET_LOCKED, Opcode.UNLOCK_KEY,
      Opcode.GET_META, Opcode.SUBDOC_MULTI_LOOKUP, Opcode.SUBDOC_MULTI_MUTATION, Opcode.SUBDOC_GET, Opcode.SUBDOC_EXISTS,
      Opcode.SUBDOC_GET_COUNT, Opcode.SUBDOC_DICT_ADD, Opcode.SUBDOC_DICT_UPSERT, Opcode.SUBDOC_DELETE, Opcode.SUBDOC_REPLACE,
      Opcode.SUBDOC_ARRAY_PUSH_LAST, Opcode.SUBDOC_ARRAY_PUSH_FIRST, Opcode.SUBDOC_ARRAY_INSERT, Opcode.SUBDOC_ARRAY_ADD_UNIQUE, Opcode.SUBDOC_COUNTER,
    ],
    'key',
  ],
  [[Opcode.OBSERVE], 'body'],
  // A create names its collection in its JSON; a continue or cancel works in its scan's.
  [[Opcode.RANGE_SCAN_CREATE, Opcode.RANGE_SCAN_CONTINUE, Opcode.RANGE_SCAN_CANCEL], 'body'],
];

/** Indexed by opcode. */
export const commandTable: CommandTable = (() => {
  const table = new Array<KvCommand | undefined>(256).fill(undefined);
  for (const [op, run, quiet] of entries) table[op] = { run, quiet, needs: requiredKvPrivileges(op) };
  for (const [ops, where] of COLLECTION_IN) for (const op of ops) if (table[op] !== undefined) table[op] = { ...table[op]!, collection: where };
  return table;
})();
