// The KV opcode table: one entry per opcode the server implements (quiet variants share the
// loud handler). Anything not in the table gets UNKNOWN_COMMAND.
import { Opcode } from '../../../protocol/opcodes';
import { Status } from '../../../protocol/status';
import type { KvRequest } from '../reader';
import { StoreError, StoreStatus, DATATYPE_JSON, looksLikeJson, type Item } from '../../store';
import type { KvConnection } from '../connection';
import { Feat } from '../connection';
import { DEFAULT_MANIFEST } from '../../cluster-config';
import { SaslSession, SASL_MECHANISMS } from '../sasl-session';
import { subdocMultiLookup, subdocMultiMutation } from './subdoc';
import { errorMapJson } from '../error-map';

export interface KvCommand {
  run(c: KvConnection, req: KvRequest, quiet: boolean): void;
  quiet: boolean;
}

const EMPTY = Buffer.alloc(0);
/** What a plain GET reports as the CAS of a locked document (ep-engine hides the lock CAS). */
const LOCKED_CAS = 0xffffffffffffffffn;
const DATATYPE_SNAPPY = 0x02;

type Handler = (c: KvConnection, req: KvRequest, quiet: boolean) => void;

// ---- document reads ---------------------------------------------------------------------------

function getWith(withKey: boolean): Handler {
  return (c, req, quiet) => {
    const store = c.ownedStore(req);
    if (store === undefined) return;
    const id = c.docKey(req);
    if (id === undefined) return;
    const item = store.live(id);
    if (item === undefined) {
      if (!quiet) c.respondStatus(req, Status.KEY_ENOENT);
      return;
    }
    c.respondItem(req, item, store.isLocked(item) ? LOCKED_CAS : item.cas, withKey ? req.key : EMPTY);
  };
}

const getReplica: Handler = (c, req) => {
  const store = c.ownedStore(req, true);
  if (store === undefined) return;
  const id = c.docKey(req);
  if (id === undefined) return;
  const item = store.live(id);
  if (item === undefined) return c.respondStatus(req, Status.KEY_ENOENT);
  c.respondItem(req, item, item.cas, EMPTY);
};

const getAndTouch: Handler = (c, req, quiet) => {
  const store = c.ownedStore(req);
  if (store === undefined) return;
  if (req.extras.length !== 4) return c.respondStatus(req, Status.EINVAL);
  const id = c.docKey(req);
  if (id === undefined) return;
  let item: Item;
  try {
    item = store.touch(id, req.extras.readUInt32BE(0));
  } catch (err) {
    if (quiet && err instanceof StoreError && err.status === StoreStatus.KEY_ENOENT) return;
    throw err;
  }
  c.mutated = true;
  c.respondItem(req, item, item.cas, EMPTY);
};

const touch: Handler = (c, req) => {
  const store = c.ownedStore(req);
  if (store === undefined) return;
  if (req.extras.length !== 4) return c.respondStatus(req, Status.EINVAL);
  const id = c.docKey(req);
  if (id === undefined) return;
  const item = store.touch(id, req.extras.readUInt32BE(0));
  c.mutated = true;
  c.respondOk(req, item.cas);
};

const getLocked: Handler = (c, req) => {
  const store = c.ownedStore(req);
  if (store === undefined) return;
  if (req.extras.length !== 0 && req.extras.length !== 4) return c.respondStatus(req, Status.EINVAL);
  const id = c.docKey(req);
  if (id === undefined) return;
  const item = store.getLocked(id, req.extras.length === 4 ? req.extras.readUInt32BE(0) : 0);
  c.respondItem(req, item, item.cas, EMPTY);
};

const unlock: Handler = (c, req) => {
  const store = c.ownedStore(req);
  if (store === undefined) return;
  const id = c.docKey(req);
  if (id === undefined) return;
  store.unlock(id, req.cas);
  c.respondOk(req);
};

const getMeta: Handler = (c, req) => {
  const store = c.ownedStore(req);
  if (store === undefined) return;
  if (req.extras.length > 1) return c.respondStatus(req, Status.EINVAL);
  const id = c.docKey(req);
  if (id === undefined) return;
  const meta = store.meta(id);
  if (meta === undefined) return c.respondStatus(req, Status.KEY_ENOENT);
  const v2 = req.extras.length === 1 && req.extras[0] === 2;
  const extras = Buffer.alloc(v2 ? 21 : 20);
  extras.writeUInt32BE(meta.deleted ? 1 : 0, 0);
  extras.writeUInt32BE(meta.flags >>> 0, 4);
  extras.writeUInt32BE(meta.expiry >>> 0, 8);
  extras.writeBigUInt64BE(meta.seqno, 12);
  if (v2) extras[20] = c.has(Feat.JSON) ? meta.datatype : 0;
  c.respond(req, Status.SUCCESS, meta.cas, extras, EMPTY, EMPTY, 0);
};

// ---- document writes --------------------------------------------------------------------------

function storeWith(mode: 'upsert' | 'insert' | 'replace'): Handler {
  return (c, req, quiet) => {
    const store = c.ownedStore(req);
    if (store === undefined) return;
    if (req.extras.length !== 8) return c.respondStatus(req, Status.EINVAL);
    if (mode === 'insert' && req.cas !== 0n) return c.respondStatus(req, Status.EINVAL);
    if ((req.datatype & DATATYPE_SNAPPY) !== 0) return c.respondStatus(req, Status.EINVAL);
    const id = c.docKey(req);
    if (id === undefined) return;
    if (!c.checkValueSize(req)) return;
    const opts = c.frameOptions(req);
    if (opts === undefined) return;
    const value = req.copyValue();
    const datatype = (req.datatype & DATATYPE_JSON) !== 0 || looksLikeJson(value) ? DATATYPE_JSON : 0;
    const item = store.write(id, value, mode, {
      flags: req.extras.readUInt32BE(0),
      expiry: req.extras.readUInt32BE(4),
      cas: req.cas,
      datatype,
      preserveExpiry: opts.preserveTtl,
    });
    c.mutated = true;
    if (!quiet) c.respondMutation(req, item.cas, item.vbucket, item.seqno);
  };
}

const remove: Handler = (c, req, quiet) => {
  const store = c.ownedStore(req);
  if (store === undefined) return;
  if (req.extras.length !== 0 || req.value.length !== 0) return c.respondStatus(req, Status.EINVAL);
  const id = c.docKey(req);
  if (id === undefined) return;
  if (c.frameOptions(req) === undefined) return;
  const tomb = store.delete(id, req.cas);
  c.mutated = true;
  if (!quiet) c.respondMutation(req, tomb.cas, tomb.vbucket, tomb.seqno);
};

function counterWith(decrement: boolean): Handler {
  return (c, req, quiet) => {
    const store = c.ownedStore(req);
    if (store === undefined) return;
    if (req.extras.length !== 20) return c.respondStatus(req, Status.EINVAL);
    const id = c.docKey(req);
    if (id === undefined) return;
    if (c.frameOptions(req) === undefined) return;
    const x = req.extras;
    const { item, value } = store.counter(id, x.readBigUInt64BE(0), x.readBigUInt64BE(8), x.readUInt32BE(16), decrement, req.cas);
    c.mutated = true;
    if (quiet) return;
    const out = Buffer.allocUnsafe(8);
    out.writeBigUInt64BE(value, 0);
    c.respondMutation(req, item.cas, item.vbucket, item.seqno, out);
  };
}

function concatWith(where: 'append' | 'prepend'): Handler {
  return (c, req, quiet) => {
    const store = c.ownedStore(req);
    if (store === undefined) return;
    if (req.extras.length !== 0) return c.respondStatus(req, Status.EINVAL);
    const id = c.docKey(req);
    if (id === undefined) return;
    if (!c.checkValueSize(req)) return;
    if (c.frameOptions(req) === undefined) return;
    const item = store.concat(id, req.copyValue(), where, req.cas);
    c.mutated = true;
    if (!quiet) c.respondMutation(req, item.cas, item.vbucket, item.seqno);
  };
}

// ---- observe ----------------------------------------------------------------------------------

const observe: Handler = (c, req) => {
  const store = c.store;
  if (store === undefined) return c.respondStatus(req, c.user === undefined ? Status.EACCESS : Status.NO_BUCKET);
  const v = req.value;
  const parts: Buffer[] = [];
  let p = 0;
  while (p < v.length) {
    if (p + 4 > v.length) return c.respondStatus(req, Status.EINVAL);
    const vb = v.readUInt16BE(p);
    const len = v.readUInt16BE(p + 2);
    if (p + 4 + len > v.length) return c.respondStatus(req, Status.EINVAL);
    const rawKey = v.subarray(p + 4, p + 4 + len);
    p += 4 + len;
    const topo = c.node.topology;
    if (vb >= store.numVBuckets || (topo.active(vb) !== c.node.index && !topo.isReplica(vb, c.node.index))) {
      return c.respond(req, Status.NOT_MY_VBUCKET, 0n, EMPTY, EMPTY, c.node.bucketConfigJson(store.name), DATATYPE_JSON);
    }
    let idBytes = rawKey;
    if (c.has(Feat.COLLECTIONS)) {
      if (rawKey.length === 0 || rawKey[0] !== 0) return c.respondStatus(req, Status.UNKNOWN_COLLECTION);
      idBytes = rawKey.subarray(1);
    }
    const { state, cas } = store.observe(idBytes.toString('utf8'));
    const entry = Buffer.allocUnsafe(4 + len + 9);
    entry.writeUInt16BE(vb, 0);
    entry.writeUInt16BE(len, 2);
    rawKey.copy(entry, 4);
    entry[4 + len] = state;
    entry.writeBigUInt64BE(cas, 5 + len);
    parts.push(entry);
  }
  c.respond(req, Status.SUCCESS, 0n, EMPTY, EMPTY, Buffer.concat(parts), 0);
};

const observeSeqno: Handler = (c, req) => {
  const store = c.store;
  if (store === undefined) return c.respondStatus(req, c.user === undefined ? Status.EACCESS : Status.NO_BUCKET);
  if (req.value.length !== 8) return c.respondStatus(req, Status.EINVAL);
  const vb = req.vbucket;
  const topo = c.node.topology;
  if (vb >= store.numVBuckets || (topo.active(vb) !== c.node.index && !topo.isReplica(vb, c.node.index))) {
    return c.respond(req, Status.NOT_MY_VBUCKET, 0n, EMPTY, EMPTY, c.node.bucketConfigJson(store.name), DATATYPE_JSON);
  }
  const asked = req.value.readBigUInt64BE(0);
  const uuid = store.vbucketUuid(vb);
  const seqno = store.vbucketSeqno(vb);
  const failedOver = asked !== uuid;
  const out = Buffer.allocUnsafe(failedOver ? 43 : 27);
  out[0] = failedOver ? 1 : 0;
  out.writeUInt16BE(vb, 1);
  out.writeBigUInt64BE(uuid, 3);
  out.writeBigUInt64BE(seqno, 11); // persisted: one logical copy, logged before the ack
  out.writeBigUInt64BE(seqno, 19);
  if (failedOver) {
    out.writeBigUInt64BE(asked, 27);
    out.writeBigUInt64BE(seqno, 35);
  }
  c.respond(req, Status.SUCCESS, 0n, EMPTY, EMPTY, out, 0);
};

// ---- session ----------------------------------------------------------------------------------

const hello: Handler = (c, req) => c.hello(req);

const noop: Handler = (c, req) => c.respondOk(req);

const version: Handler = (c, req) => c.respond(req, Status.SUCCESS, 0n, EMPTY, EMPTY, Buffer.from(c.node.version), 0);

const quit: Handler = (c, req, quiet) => {
  if (!quiet) c.respondOk(req);
  c.quit();
};

const listMechs: Handler = (c, req) => c.respond(req, Status.SUCCESS, 0n, EMPTY, EMPTY, Buffer.from(SASL_MECHANISMS), 0);

const saslAuth: Handler = (c, req) => {
  const mech = req.key.toString('latin1');
  const session = new SaslSession(mech, (user) => c.node.lookupPassword(user));
  c.sasl = session;
  c.user = undefined;
  c.store = undefined;
  finishSasl(c, req, session.start(req.value));
};

const saslStep: Handler = (c, req) => {
  const session = c.sasl;
  if (session === undefined || session.mechanism !== req.key.toString('latin1')) {
    c.sasl = undefined;
    return c.respondStatus(req, Status.AUTH_ERROR);
  }
  finishSasl(c, req, session.step(req.value));
};

function finishSasl(c: KvConnection, req: KvRequest, r: { status: 'continue' | 'done' | 'failed'; value: Buffer; user?: string }): void {
  if (r.status === 'continue') return c.respond(req, Status.AUTH_CONTINUE, 0n, EMPTY, EMPTY, r.value, 0);
  c.sasl = undefined;
  if (r.status === 'failed') return c.respondStatus(req, Status.AUTH_ERROR);
  c.user = r.user;
  c.respond(req, Status.SUCCESS, 0n, EMPTY, EMPTY, r.value, 0);
}

const selectBucket: Handler = (c, req) => {
  const name = req.key.toString('utf8');
  if (c.user === undefined) return c.respondStatus(req, Status.EACCESS);
  const store = c.node.bucketFor(c.user, name);
  if (store === undefined) return c.respondStatus(req, Status.EACCESS);
  c.store = store;
  c.respondOk(req);
};

const getClusterConfig: Handler = (c, req) => {
  if (c.user === undefined) return c.respondStatus(req, Status.EACCESS);
  const json = c.store !== undefined ? c.node.bucketConfigJson(c.store.name) : c.node.globalConfigJson();
  c.pushedRev = Math.max(c.pushedRev, c.node.topology.rev);
  c.respondJson(req, json);
};

const getErrorMap: Handler = (c, req) => {
  if (req.value.length !== 2) return c.respondStatus(req, Status.EINVAL);
  const v = req.value.readUInt16BE(0);
  if (v === 0) return c.respondStatus(req, Status.EINVAL);
  c.respondJson(req, errorMapJson(v));
};

const getManifest: Handler = (c, req) => {
  if (c.store === undefined) return c.respondStatus(req, c.user === undefined ? Status.EACCESS : Status.NO_BUCKET);
  c.respondJson(req, Buffer.from(JSON.stringify(DEFAULT_MANIFEST)));
};

const getCollectionId: Handler = (c, req) => {
  if (c.store === undefined) return c.respondStatus(req, c.user === undefined ? Status.EACCESS : Status.NO_BUCKET);
  const path = (req.value.length !== 0 ? req.value : req.key).toString('utf8');
  const [scope = '', collection = ''] = path.split('.');
  const manifestUid = Buffer.from('{"manifest_uid":"0"}');
  if (scope !== '' && scope !== '_default') return c.respond(req, Status.UNKNOWN_SCOPE, 0n, EMPTY, EMPTY, manifestUid, DATATYPE_JSON);
  if (collection !== '' && collection !== '_default') {
    return c.respond(req, Status.UNKNOWN_COLLECTION, 0n, EMPTY, EMPTY, manifestUid, DATATYPE_JSON);
  }
  const extras = Buffer.alloc(12); // manifest uid 0, collection id 0
  c.respond(req, Status.SUCCESS, 0n, extras, EMPTY, EMPTY, 0);
};

const stat: Handler = (c, req) => {
  const [group = '', arg] = req.key.toString('utf8').split(' ');
  const stats = c.node.stats(group, arg, c.store);
  if (stats === undefined) return c.respondStatus(req, Status.KEY_ENOENT);
  for (const [name, value] of stats) {
    c.respond(req, Status.SUCCESS, 0n, EMPTY, Buffer.from(name), Buffer.from(value), 0);
  }
  c.respondOk(req);
};

const flush: Handler = (c, req) => {
  // Couchbase buckets refuse memcached FLUSH; flushing goes through the management API.
  c.respondStatus(req, Status.NOT_SUPPORTED);
};

const subdocLookup: Handler = (c, req) => {
  const store = c.ownedStore(req);
  if (store === undefined) return;
  const id = c.docKey(req);
  if (id === undefined) return;
  subdocMultiLookup(c, req, store, id);
};

const subdocMutation: Handler = (c, req) => {
  const store = c.ownedStore(req);
  if (store === undefined) return;
  const id = c.docKey(req);
  if (id === undefined) return;
  if (!c.checkValueSize(req)) return;
  const opts = c.frameOptions(req);
  if (opts === undefined) return;
  subdocMultiMutation(c, req, store, id, opts);
};

// ---- the table --------------------------------------------------------------------------------

const entries: Array<[number, Handler, boolean]> = [
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
  [Opcode.SUBDOC_MULTI_MUTATION, subdocMutation, false],
  [Opcode.GET_ERROR_MAP, getErrorMap, false],
];

/** Indexed by opcode. */
export const commandTable: ReadonlyArray<KvCommand | undefined> = (() => {
  const table = new Array<KvCommand | undefined>(256).fill(undefined);
  for (const [op, run, quiet] of entries) table[op] = { run, quiet };
  return table;
})();

