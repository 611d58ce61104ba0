// getReplica: GET_REPLICA to one replica, or to every replica at once taking the first answer
// ('any'); the losers are cancelled.
import { Magic, HEADER_LENGTH, writeHeader, type Packet } from '../../../protocol/packet';
import { Opcode } from '../../../protocol/opcodes';
import { CancelledError, ErrorCode, NotFoundError, type CouchbaseError } from '../../errors';
import { KvOp } from '../op';
import type { KvHost } from '../host';
import { op, valueResult, type CompositeRun, type KvHandler, type KvOptions } from '../spec';

/** The one-replica read each copy gets. */
const REPLICA_GET = op({
  name: 'getReplica',
  opcode: Opcode.GET_REPLICA,
  retrySafe: true,
  value: 'none',
  result: 'value',
  hasMulti: false,
  positional: null,
  options: [],
  build: valueResult,
});

/** Receives nothing: a replica read reports to its parent. */
const TO_PARENT: KvHandler = { kvDone() {} };

function replicaOp(host: KvHost, key: string, copy: number, opts: KvOptions, parent: NonNullable<KvOp['parent']>): KvOp {
  const k = host.collectionKey(key, opts);
  const frame = Buffer.allocUnsafe(HEADER_LENGTH + k.bytes.length);
  writeHeader(frame, 0, Magic.REQUEST, Opcode.GET_REPLICA, k.bytes.length, 0, 0, 0, k.bytes.length, 0, 0n);
  k.bytes.copy(frame, HEADER_LENGTH);
  const o = new KvOp(host, REPLICA_GET, key, opts, frame, TO_PARENT);
  o.cid = k.cid;
  o.prefixed = k.prefixed;
  o.copy = copy;
  o.parent = parent;
  return o;
}

export const getReplica: CompositeRun<KvHost> = (host, key, opts, cb) => {
  const topo = host.topology!;
  const copies: number[] = [];
  // Python's replica_index; `replica` is 'any', true (get(key, { replica: true })) or an index too.
  const which = opts.replicaIndex ?? opts.replica;
  if (typeof which === 'number') copies.push(which + 1);
  else for (let i = 1; i <= topo.numReplicas; i++) copies.push(i);
  const vb = topo.vbucketOf(key);
  const live = copies.filter((c) => topo.serverOf(vb, c) >= 0);
  if (live.length === 0) {
    return cb(new NotFoundError(`no replica of key "${key}" is configured (numReplicas=${topo.numReplicas})`, { key, rc: ErrorCode.NO_MATCHING_SERVER }), null);
  }
  let remaining = live.length;
  let settled = false;
  let lastErr: CouchbaseError | null = null;
  const ops: KvOp[] = [];
  const parent = (done: KvOp, err: CouchbaseError | null, p: Packet | null): void => {
    remaining--;
    if (settled) return;
    if (err === null) {
      settled = true;
      for (const o of ops) if (o !== done) host.finish(o, new CancelledError('another replica answered'), null);
      try {
        const ctx = host.buildCtx;
        ctx.vbucket = done.vbucket;
        return cb(null, REPLICA_GET.build!(key, p!, opts, ctx));
      } catch (e) {
        return cb(e as CouchbaseError, null);
      }
    }
    if (!lastErr || !(err instanceof NotFoundError)) lastErr = err;
    if (remaining === 0) {
      settled = true;
      cb(lastErr, null);
    }
  };
  for (const c of live) ops.push(replicaOp(host, key, c, opts, parent));
  for (const o of ops) host.launch(o, opts.timeout);
};
