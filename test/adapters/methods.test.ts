// The flavours' KV methods and their types follow from the engine's operation table: a row is
// a method, a row with hasMulti also a `${name}Multi` method, and each method's arguments and
// result type come from the row's shape, positional option and result kind.
import { expect } from 'chai';
import { OPERATIONS } from '../../lib/engine/kv/operations';
import { KV_METHODS, KV_METHOD_NAMES, type KvOptions, type MultiKeys } from '../../adapters/common/methods';
import type { KvArgs, KvResults } from '../../adapters/common/api';
import type { MultiResult, ObserveResult, OperationResult, StatsResult, ValueResult } from '../../lib/engine/results';
import { Bucket as DeferredBucket } from '../../adapters/deferred';
import { Bucket as PromiseBucket } from '../../adapters/promise';
import { Bucket as BlockingBucket } from '../../adapters/blocking';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_v?: T): void {}

describe('adapters: the KV methods derived from the engine table', () => {
  it('has one method per operation and a *Multi method per row that has one, in table order', () => {
    const rows = Object.values(OPERATIONS);
    expect(KV_METHOD_NAMES).to.deep.equal([...rows.map((r) => r.name), ...rows.filter((r) => r.hasMulti).map((r) => `${r.name}Multi`)]);
    expect(KV_METHODS.touch).to.deep.equal({ name: 'touch', op: 'touch', shape: 'key', positional: 'ttl' });
    expect(KV_METHODS.upsert).to.deep.equal({ name: 'upsert', op: 'upsert', shape: 'keyValue', positional: undefined });
    expect(KV_METHODS.stats.shape).to.equal('stats');
    expect(KV_METHODS.unlockMulti).to.deep.equal({ name: 'unlockMulti', op: 'unlock', shape: 'multi', positional: undefined });
    expect(KV_METHOD_NAMES).to.not.include.members(['observeMulti', 'statsMulti']);
  });

  it('every flavour has every method, named after it', () => {
    for (const proto of [DeferredBucket.prototype, PromiseBucket.prototype, BlockingBucket.prototype]) {
      for (const name of KV_METHOD_NAMES) {
        const fn = (proto as unknown as Record<string, unknown>)[name] as { name: string };
        expect(typeof fn, name).to.equal('function');
        expect(fn.name).to.equal(name);
      }
    }
  });

  it('types each method from its row (checked when the tests compile)', () => {
    assertType<Equal<KvArgs['upsert'], [key: string, value: unknown, options?: KvOptions]>>();
    assertType<Equal<KvArgs['get'], [key: string, options?: KvOptions]>>();
    assertType<Equal<KvArgs['touch'], [key: string, options?: KvOptions | number]>>();
    assertType<Equal<KvArgs['counter'], [key: string, options?: KvOptions | number]>>();
    assertType<Equal<KvArgs['unlock'], [key: string, options: KvOptions | bigint]>>();
    assertType<Equal<KvArgs['stats'], [keys?: string | string[] | KvOptions, options?: KvOptions]>>();
    assertType<Equal<KvArgs['getMulti'], [keys: MultiKeys, options?: KvOptions]>>();
    assertType<Equal<KvResults['get'], ValueResult>>();
    assertType<Equal<KvResults['remove'], OperationResult>>();
    assertType<Equal<KvResults['observe'], ObserveResult>>();
    assertType<Equal<KvResults['stats'], StatsResult>>();
    assertType<Equal<KvResults['counterMulti'], MultiResult<ValueResult>>>();
    assertType<Equal<KvResults['endureMulti'], MultiResult<OperationResult>>>();
    expect(Object.keys(KV_METHODS)).to.have.length(28);
  });
});
