// Document commands: reads (GET family, GET_REPLICA, GAT, TOUCH, GET_LOCKED, UNLOCK, GET_META)
// and writes (SET/ADD/REPLACE, DELETE, APPEND/PREPEND). Quiet variants share the loud handler.
import { Status } from '../../../protocol/status';
import { decodeExpiryExtras, decodeGetMetaRequestExtras, decodeLockExtras, encodeGetMetaExtras, readMutationExpiry, readMutationFlags } from '../../../protocol/extras';
import type { CommandHandler as Handler, KvConnection } from '../connection';
import type { KvRequest } from '../reader';
import { DATATYPE_SNAPPY, inflateSnappy, snappyInflatedLength } from '../../../protocol/snappy';
import { Feat } from '../features';
import { StoreError, StoreStatus, DATATYPE_JSON, DATATYPE_XATTR, MAX_VALUE_BYTES, looksLikeJson, type Item } from '../../store';
import { decodeXattrBlob, encodeXattrBlob, isValidXattrKey, isVirtualXattr } from '../../xattrs';
import { isJsonText } from '../../json-syntax';

const EMPTY = Buffer.alloc(0);

/**
 * Where the body starts after a value's xattr blob, or -1 when the blob is not one kv_engine takes
 * (cb::xattr::validate): malformed, a key that is not a valid X-Key (or a virtual one, or the
 * same key twice), a value that is not JSON.
 */
function validXattrBlob(value: Buffer): number {
  let blob;
  try {
    blob = decodeXattrBlob(value);
  } catch {
    return -1;
  }
  if (blob.xattrs !== undefined) {
    for (const [key, text] of blob.xattrs) {
      if (!isValidXattrKey(key) || isVirtualXattr(key) || !isJsonText(Buffer.from(text))) return -1;
    }
    // A key given twice: the map kept one pair, so its blob is shorter than the one sent.
    if (encodeXattrBlob(blob.xattrs).length !== blob.bodyAt) return -1;
  }
  return blob.bodyAt;
}
/** What a plain GET reports as the CAS of a locked document (ep-engine hides the lock CAS). */
const LOCKED_CAS = 0xffffffffffffffffn;

/**
 * The document a write carries, inflated when it came Snappy-compressed (answers and returns
 * undefined when it may not: SNAPPY not negotiated, a corrupt block, or too big inflated).
 */
function documentOf(c: KvConnection, req: KvRequest): { value: Buffer; packed: Buffer | undefined } | undefined {
  if ((req.datatype & DATATYPE_SNAPPY) === 0) {
    if (!c.checkValueSize(req)) return undefined;
    return { value: req.copyValue(), packed: undefined };
  }
  if (!c.has(Feat.SNAPPY)) {
    c.respondStatus(req, Status.EINVAL);
    return undefined;
  }
  const inflated = snappyInflatedLength(req.value);
  if (inflated < 0 || inflated > MAX_VALUE_BYTES) {
    c.respondStatus(req, inflated < 0 ? Status.EINVAL : Status.E2BIG);
    return undefined;
  }
  try {
    return { value: inflateSnappy(req.value), packed: req.copyValue() };
  } catch {
    c.respondStatus(req, Status.EINVAL);
    return undefined;
  }
}

// ---- document reads ---------------------------------------------------------------------------

export function getWith(withKey: boolean): Handler {
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

export const getReplica: Handler = (c, req) => {
  const store = c.ownedStore(req, true);
  if (store === undefined) return;
  const id = c.docKey(req);
  if (id === undefined) return;
  const item = store.live(id);
  if (item === undefined) return c.respondStatus(req, Status.KEY_ENOENT);
  // A replica has the last mutation's CAS: a lock (and its CAS) lives on the active only.
  c.respondItem(req, item, item.replicaCas, EMPTY);
};

export const getAndTouch: Handler = (c, req, quiet) => {
  const store = c.ownedStore(req);
  if (store === undefined) return;
  if (req.extras.length !== 4) return c.respondStatus(req, Status.EINVAL);
  const id = c.docKey(req);
  if (id === undefined) return;
  let item: Item;
  try {
    item = store.touch(id, decodeExpiryExtras(req.extras));
  } catch (err) {
    if (quiet && err instanceof StoreError && err.status === StoreStatus.KEY_ENOENT) return;
    throw err;
  }
  c.mutated = true;
  c.respondItem(req, item, item.cas, EMPTY);
};

export const touch: Handler = (c, req) => {
  const store = c.ownedStore(req);
  if (store === undefined) return;
  if (req.extras.length !== 4) return c.respondStatus(req, Status.EINVAL);
  const id = c.docKey(req);
  if (id === undefined) return;
  const item = store.touch(id, decodeExpiryExtras(req.extras));
  c.mutated = true;
  c.respondOk(req, item.cas);
};

export const getLocked: Handler = (c, req) => {
  const store = c.ownedStore(req);
  if (store === undefined) return;
  if (req.extras.length !== 0 && req.extras.length !== 4) return c.respondStatus(req, Status.EINVAL);
  const id = c.docKey(req);
  if (id === undefined) return;
  const item = store.getLocked(id, decodeLockExtras(req.extras));
  c.respondItem(req, item, item.cas, EMPTY);
};

export const unlock: Handler = (c, req) => {
  const store = c.ownedStore(req);
  if (store === undefined) return;
  const id = c.docKey(req);
  if (id === undefined) return;
  store.unlock(id, req.cas);
  c.respondOk(req);
};

export const getMeta: Handler = (c, req) => {
  const store = c.ownedStore(req);
  if (store === undefined) return;
  if (req.extras.length > 1) return c.respondStatus(req, Status.EINVAL);
  const id = c.docKey(req);
  if (id === undefined) return;
  const meta = store.meta(id);
  if (meta === undefined) return c.respondStatus(req, Status.KEY_ENOENT);
  // Version 2 (asked for with one extras byte) adds the datatype: the bits the client negotiated.
  const v2 = decodeGetMetaRequestExtras(req.extras) === 2;
  const shown = (c.has(Feat.JSON) ? DATATYPE_JSON : 0) | (c.has(Feat.XATTR) ? DATATYPE_XATTR : 0);
  const extras = encodeGetMetaExtras({
    deleted: meta.deleted,
    flags: meta.flags,
    expiry: meta.expiry,
    seqno: meta.rev,
    datatype: v2 ? meta.datatype & shown : undefined,
  });
  c.respond(req, Status.SUCCESS, meta.cas, extras, EMPTY, EMPTY, 0);
};

// ---- document writes --------------------------------------------------------------------------

export function storeWith(mode: 'upsert' | 'insert' | 'replace'): Handler {
  return (c, req, quiet) => {
    const store = c.ownedStore(req);
    if (store === undefined) return;
    if (req.extras.length !== 8) return c.respondStatus(req, Status.EINVAL);
    if (mode === 'insert' && req.cas !== 0n) return c.respondStatus(req, Status.EINVAL);
    const id = c.docKey(req);
    if (id === undefined) return;
    const opts = c.frameOptions(req);
    if (opts === undefined) return;
    const doc = documentOf(c, req);
    if (doc === undefined) return;
    const value = doc.value;
    let datatype: number;
    if ((req.datatype & DATATYPE_XATTR) === 0) datatype = (req.datatype & DATATYPE_JSON) !== 0 || looksLikeJson(value) ? DATATYPE_JSON : 0;
    else {
      // The value starts with the document's xattrs (kv_engine's blob): the client must have
      // negotiated XATTR, and the blob must hold valid keys with JSON values.
      if (!c.has(Feat.XATTR)) return c.respondStatus(req, Status.EINVAL);
      const bodyAt = validXattrBlob(value);
      if (bodyAt < 0) return c.respondStatus(req, Status.XATTR_EINVAL);
      datatype = DATATYPE_XATTR | (looksLikeJson(value.subarray(bodyAt)) ? DATATYPE_JSON : 0);
    }
    const item = store.write(id, value, mode, {
      flags: readMutationFlags(req.extras),
      expiry: readMutationExpiry(req.extras),
      cas: req.cas,
      datatype,
      preserveExpiry: opts.preserveTtl,
      snappy: doc.packed,
    });
    c.mutated = true;
    if (!quiet) c.respondMutation(req, item.cas, item.vbucket, item.seqno);
  };
}

export const remove: Handler = (c, req, quiet) => {
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

export function concatWith(where: 'append' | 'prepend'): Handler {
  return (c, req, quiet) => {
    const store = c.ownedStore(req);
    if (store === undefined) return;
    if (req.extras.length !== 0) return c.respondStatus(req, Status.EINVAL);
    const id = c.docKey(req);
    if (id === undefined) return;
    if (c.frameOptions(req) === undefined) return;
    const doc = documentOf(c, req);
    if (doc === undefined) return;
    const item = store.concat(id, doc.value, where, req.cas);
    c.mutated = true;
    if (!quiet) c.respondMutation(req, item.cas, item.vbucket, item.seqno);
  };
}
