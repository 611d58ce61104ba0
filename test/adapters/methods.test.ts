// The flavours' KV methods and their types follow from the engine's operation table: a row is
// a method, a row with hasMulti also a `${name}Multi` method, and each method's arguments and
// result type come from the row's shape, positional option and result kind.
import { expect } from 'chai';
import { OPERATIONS } from '../../lib/engine/kv/operations';
import { KV_ALIASES, KV_METHODS, KV_METHOD_NAMES, type KvOptions, type MultiKeys } from '../../adapters/common/methods';
import { FakeEngine } from './helpers/fake-engine';
import type { KvArgs, KvResults } from '../../adapters/common/api';
import type { MultiResult, ObserveResult, OperationResult, StatsResult, SubdocResult, ValueResult } from '../../lib/engine/results';
import type { SubdocSpec } from '../../lib/engine/subdoc';
import { Bucket as DeferredBucket } from '../../adapters/deferred';
import { Bucket as PromiseBucket } from '../../adapters/promise';
import { Bucket as BlockingBucket } from '../../adapters/blocking';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_v?: T): void {}

describe('adapters: the KV methods derived from the engine table', () => {
  it('has one method per operation and a *Multi method per row that has one, in table order', () => {
    const rows = Object.values(OPERATIONS);
    expect(KV_METHOD_NAMES).to.deep.equal([...rows.map((r) => r.name), ...rows.filter((r) => r.hasMulti).map((r) => `${r.name}Multi`)]);
    expect(KV_METHODS.touch).to.deep.equal({ name: 'touch', op: 'touch', shape: 'key', positional: 'ttl', args: [], rest: undefined, durable: false });
    expect(KV_METHODS.upsert).to.deep.equal({ name: 'upsert', op: 'upsert', shape: 'keyValue', positional: undefined, args: ['value'], rest: undefined, durable: true });
    expect(KV_METHODS.stats.shape).to.equal('stats');
    expect(KV_METHODS.unlockMulti).to.deep.equal({ name: 'unlockMulti', op: 'unlock', shape: 'multi', positional: undefined, args: [], rest: undefined, durable: false });
    expect(KV_METHODS.mapAdd).to.deep.equal({ name: 'mapAdd', op: 'mapAdd', shape: 'args', positional: undefined, args: ['mapkey', 'value'], rest: undefined, durable: true });
    expect(KV_METHODS.mapGet.durable).to.equal(false);
    expect(KV_METHODS.lookupIn).to.deep.equal({ name: 'lookupIn', op: 'lookupIn', shape: 'args', positional: undefined, args: [], rest: 'specs', durable: false });
    expect(KV_METHOD_NAMES).to.include('observeMulti');
    expect(KV_METHOD_NAMES).to.not.include.members(['statsMulti', 'lookupInMulti', 'mapAddMulti']);
  });

  it('answers to Python\'s other names: rget, and the 1.x set/add/delete (+Multi), which warn once (DeprecationWarning)', async () => {
    for (const proto of [DeferredBucket.prototype, PromiseBucket.prototype, BlockingBucket.prototype]) {
      for (const [alias, target] of Object.entries(KV_ALIASES)) {
        const fn = (proto as unknown as Record<string, { name: string }>)[alias];
        expect(fn.name, alias).to.equal(alias);
        expect(KV_METHOD_NAMES).to.include(target);
      }
    }
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    const b = new PromiseBucket('couchbase://fake/default', { engine: new FakeEngine() });
    try {
      await b.set('k', 1);
      await b.set('k', 2);
      expect((await b.get('k')).value).to.equal(2);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
      await b.close();
    }
    const mine = warnings.filter((w) => /Bucket\.set is deprecated/.test(w.message));
    expect(mine).to.have.length(1);
    expect(mine[0].name).to.equal('DeprecationWarning');
    expect(mine[0].message).to.match(/use Bucket\.upsert/);
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
    assertType<Equal<KvArgs['mapAdd'], [key: string, string, unknown, options?: KvOptions]>>();
    assertType<Equal<KvArgs['listGet'], [key: string, number, options?: KvOptions]>>();
    assertType<Equal<KvArgs['lookupIn'], [key: string, ...specsAndOptions: Array<SubdocSpec | readonly SubdocSpec[] | KvOptions>]>>();
    assertType<Equal<KvResults['lookupIn'], SubdocResult>>();
    assertType<Equal<KvResults['mapSize'], number>>();
    assertType<Equal<KvResults['setContains'], boolean>>();
    assertType<Equal<KvResults['setAdd'], OperationResult | undefined>>();
    assertType<Equal<KvResults['observeMulti'], MultiResult<ObserveResult>>>();
    // one method per row, and a *Multi for each of the 14 rows that have one (Python's *_multi)
    expect(Object.keys(KV_METHODS)).to.have.length(Object.keys(OPERATIONS).length + 14);
  });
});
