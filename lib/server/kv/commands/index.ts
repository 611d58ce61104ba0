// The KV opcode table: one row per opcode the server implements (quiet variants share the loud
// handler). Anything not in the table gets UNKNOWN_COMMAND. kv/node.ts injects it into each
// connection; a new command is a handler in its group's module plus one row here.
import { Opcode } from '../../../protocol/opcodes';
import type { CommandHandler, CommandTable, KvCommand } from '../connection';
import { concatWith, getAndTouch, getLocked, getMeta, getReplica, getWith, remove, storeWith, touch, unlock } from './documents';
import { counterWith } from './counter';
import { observe, observeSeqno } from './observe';
import { getClusterConfig, getCollectionId, getErrorMap, getManifest, hello, listMechs, saslAuth, saslStep, selectBucket } from './session';
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

/** Indexed by opcode. */
export const commandTable: CommandTable = (() => {
  const table = new Array<KvCommand | undefined>(256).fill(undefined);
  for (const [op, run, quiet] of entries) table[op] = { run, quiet, needs: requiredKvPrivileges(op) };
  return table;
})();
