import { expect } from 'chai';
import { DocumentStore } from '../../lib/server/store';
import type { BucketStore } from '../../lib/server/service-types';
import { parse } from '../../lib/server/n1ql/parser';
import { runStatement } from '../../lib/server/n1ql/statement';
import { PreparedCache } from '../../lib/server/n1ql/prepared';

describe('n1ql pipeline laziness', () => {
  function setup(n: number): { store: DocumentStore; fetched: () => number; run: (q: string) => Iterator<unknown> } {
    const store = new DocumentStore({ name: 'b', numVBuckets: 16 });
    for (let i = 0; i < n; i++) store.write(`k${String(i).padStart(5, '0')}`, Buffer.from(JSON.stringify({ i, even: i % 2 === 0 })), 'upsert', { datatype: 1 });
    let gets = 0;
    // Same store, with get() counted: every document the engine fetches goes through it.
    const counting = new Proxy(store, {
      get(target, prop, recv) {
        if (prop === 'get') return (id: string) => (gets++, target.get(id));
        const v = Reflect.get(target, prop, recv);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }) as BucketStore;
    const env = { bucket: (name: string) => (name === 'b' ? counting : undefined), buckets: () => [counting], canAccess: () => true, denied: () => undefined, functionDenied: () => undefined, sequenceDenied: () => undefined };
    const run = (q: string): Iterator<unknown> =>
      runStatement(parse(q), { env, ctx: { now: 0, positional: [], named: {}, checkDeadline: () => undefined }, readonly: false, prepareds: new PreparedCache(), user: 'admin' }).rows[Symbol.iterator]();
    run('CREATE PRIMARY INDEX ON b');
    return { store, fetched: () => gets, run };
  }

  it('LIMIT stops the scan: only the documents needed are fetched', () => {
    const { fetched, run } = setup(2000);
    const it = run('SELECT RAW i FROM b WHERE even LIMIT 3');
    const out: unknown[] = [];
    for (let r = it.next(); !r.done; r = it.next()) out.push(r.value);
    expect(out).to.deep.equal([0, 2, 4]);
    expect(fetched()).to.equal(5);
  });

  it('rows are produced one at a time as the consumer pulls them', () => {
    const { fetched, run } = setup(2000);
    const it = run('SELECT RAW i FROM b');
    expect(fetched()).to.equal(0);
    expect(it.next().value).to.equal(0);
    expect(fetched()).to.equal(1);
    expect(it.next().value).to.equal(1);
    expect(fetched()).to.equal(2);
  });

  it('ORDER BY ... LIMIT reads everything once but keeps only the top rows', () => {
    const { fetched, run } = setup(2000);
    const it = run('SELECT RAW i FROM b ORDER BY i DESC LIMIT 2');
    const out: unknown[] = [];
    for (let r = it.next(); !r.done; r = it.next()) out.push(r.value);
    expect(out).to.deep.equal([1999, 1998]);
    expect(fetched()).to.equal(2000);
  });
});
