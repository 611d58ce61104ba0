// OBSERVE (per-key persistence/replication state) and OBSERVE_SEQNO (per-vBucket seqnos): what
// clients poll for persistTo / replicateTo.
import { Status } from '../../../protocol/status';
import type { CommandHandler as Handler } from '../connection';
import { Feat } from '../features';
import { DATATYPE_JSON } from '../../store';

const EMPTY = Buffer.alloc(0);

export const observe: Handler = (c, req) => {
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

export const observeSeqno: Handler = (c, req) => {
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
