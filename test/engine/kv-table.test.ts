// The KV operation table's own promises: every row built by op() with the same keys in the same
// order (one object shape for the hot path's loads), name checks replaced by row fields, and the
// retry delays named by reason.
import { expect } from 'chai';
import { OPERATIONS } from '../../lib/engine/kv/operations';
import { RetryReason, retryDelay } from '../../lib/engine/kv/retry';
import { DEFAULT_OPTIONS } from '../../lib/engine/connstr';
import type { KvOp } from '../../lib/engine/kv/op';

describe('engine: the KV operation table', () => {
  it('gives every row the same keys in the same order, composite rows included (run set, build null)', () => {
    const rows = Object.values(OPERATIONS);
    const shape = Object.keys(rows[0]);
    for (const r of rows) expect(Object.keys(r), r.name).to.deep.equal(shape);
    for (const r of rows) {
      if (r.opcode === -1) expect([typeof r.run, r.build]).to.deep.equal(['function', null]);
      else expect([r.run, typeof r.build]).to.deep.equal([null, 'function']);
    }
  });

  it('says in fields what the engine used to decide by name', () => {
    const pick = (field: 'result' | 'quietMiss' | 'multiValue' | 'removes' | 'keyKind') =>
      Object.fromEntries(Object.values(OPERATIONS).filter((r) => r[field] !== OPERATIONS.upsert[field]).map((r) => [r.name, r[field]]));
    expect(pick('result')).to.include({ get: 'value', lock: 'value', counter: 'value', getReplica: 'value', observe: 'observe', stats: 'stats', lookupIn: 'subdoc', mutateIn: 'subdoc', mapSize: 'count', setContains: 'flag', setAdd: 'optional' });
    expect(pick('quietMiss')).to.deep.equal({ get: true, remove: true, getReplica: true, lookupIn: true, retrieveIn: true });
    expect(pick('removes')).to.deep.equal({ remove: true });
    expect(pick('keyKind')).to.deep.equal({ stats: 'statGroup' });
    // What a *Multi call's per-key value means, as Python reads it.
    expect(Object.fromEntries(Object.values(OPERATIONS).map((r) => [r.name, r.multiValue]))).to.include({
      upsert: 'document', append: 'fragment', unlock: 'cas', remove: 'cas', endure: 'cas', get: 'ttl', lock: 'ttl', touch: 'ttl', counter: 'delta', observe: 'options',
    });
  });

  it('retries after the delay its reason names; NOT_MY_VBUCKET backs off with the attempts, capped', () => {
    const op = (attempts: number) => ({ attempts }) as KvOp;
    const o = { ...DEFAULT_OPTIONS, retry_backoff: 0.1 };
    expect(retryDelay(op(1), RetryReason.NoMaster, o)).to.equal(50);
    expect(retryDelay(op(1), RetryReason.NodeUnknown, o)).to.equal(25);
    expect(retryDelay(op(1), RetryReason.SocketClosed, o)).to.equal(10);
    expect(retryDelay(op(1), RetryReason.NotMyVbucket, o)).to.equal(100);
    expect(retryDelay(op(3), RetryReason.NotMyVbucket, o)).to.equal(300);
    expect(retryDelay(op(9), RetryReason.NotMyVbucket, o)).to.equal(500);
    expect(retryDelay(op(40), RetryReason.NotMyVbucket, { ...o, retry_backoff: 0.01 })).to.equal(160);
  });
});
