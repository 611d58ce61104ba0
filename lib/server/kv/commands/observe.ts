// OBSERVE (per-key persistence/replication state) and OBSERVE_SEQNO (per-vBucket seqnos): what
// clients poll for persistTo / replicateTo.
import { Status } from '../../../protocol/status';
import { decodeObserveSeqnoRequest, encodeObserveResponse, encodeObserveSeqnoResponse, readObserveRequest, type ObserveResult } from '../../../protocol/extras';
import type { CommandHandler as Handler } from '../connection';
import { Feat } from '../features';
import { DATATYPE_JSON } from '../../store';
import { decodeLeb128 } from '../../../protocol/leb128';

const EMPTY = Buffer.alloc(0);

export const observe: Handler = (c, req) => {
  const store = c.store;
  if (store === undefined) return c.respondStatus(req, c.user === undefined ? Status.EACCESS : Status.NO_BUCKET);
  // Memcached buckets keep no seqnos, replicas nor disk copies to observe.
  if (store.nodeLocator === 'ketama') return c.respondStatus(req, Status.NOT_SUPPORTED);
  const results: ObserveResult[] = [];
  const topo = c.node.topology;
  // Entries in order; the first this node cannot answer for ends the request.
  const end = readObserveRequest(req.value, (vbucket, key) => {
    if (vbucket >= store.numVBuckets || (topo.active(vbucket) !== c.node.index && !topo.isReplica(vbucket, c.node.index))) {
      c.respond(req, Status.NOT_MY_VBUCKET, 0n, EMPTY, EMPTY, c.node.bucketConfigJson(store.name), DATATYPE_JSON);
      return false;
    }
    let id = key;
    let coll = store.dropped ? undefined : store;
    if (c.has(Feat.COLLECTIONS)) {
      // Each key names its collection; the privileges are those the user holds there.
      let prefix: { value: number; length: number };
      try {
        prefix = decodeLeb128(key);
      } catch {
        c.respondStatus(req, Status.EINVAL);
        return false;
      }
      if (prefix.length === key.length) {
        c.respondStatus(req, Status.EINVAL);
        return false;
      }
      coll = c.usableCollection(req, store, prefix.value);
      if (coll === undefined) return false;
      id = key.subarray(prefix.length);
    }
    if (coll === undefined) {
      c.respondUnknownCollection(req);
      return false;
    }
    const { state, cas } = coll.observe(id.toString('utf8'));
    results.push({ vbucket, key, state, cas });
    return true;
  });
  if (end === 'truncated') return c.respondStatus(req, Status.EINVAL);
  if (end === 'complete') c.respond(req, Status.SUCCESS, 0n, EMPTY, EMPTY, encodeObserveResponse(results), 0);
};

export const observeSeqno: Handler = (c, req) => {
  const store = c.store;
  if (store === undefined) return c.respondStatus(req, c.user === undefined ? Status.EACCESS : Status.NO_BUCKET);
  // Memcached buckets keep no seqnos, replicas nor disk copies to observe.
  if (store.nodeLocator === 'ketama') return c.respondStatus(req, Status.NOT_SUPPORTED);
  if (req.value.length !== 8) return c.respondStatus(req, Status.EINVAL);
  const vb = req.vbucket;
  const topo = c.node.topology;
  if (vb >= store.numVBuckets || (topo.active(vb) !== c.node.index && !topo.isReplica(vb, c.node.index))) {
    return c.respond(req, Status.NOT_MY_VBUCKET, 0n, EMPTY, EMPTY, c.node.bucketConfigJson(store.name), DATATYPE_JSON);
  }
  const asked = decodeObserveSeqnoRequest(req.value);
  const uuid = store.vbucketUuid(vb);
  const seqno = store.vbucketSeqno(vb);
  const failedOver = asked !== uuid;
  const out = encodeObserveSeqnoResponse({
    format: failedOver ? 1 : 0,
    vbucket: vb,
    vbuuid: uuid,
    // Persisted: one logical copy, logged before the ack.
    persistedSeqno: seqno,
    currentSeqno: seqno,
    oldVbuuid: failedOver ? asked : undefined,
    lastSeqno: failedOver ? seqno : undefined,
  });
  c.respond(req, Status.SUCCESS, 0n, EMPTY, EMPTY, out, 0);
};
