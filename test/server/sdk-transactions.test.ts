// The official SDK's distributed transactions against the embedded cluster: they stage their
// writes in xattrs (CreateAsDeleted for inserts), record attempts in ATR documents with macro-
// stamped CASes, commit with ReviveDocument / ReplaceBodyWithXattr, and write with durability
// majority, so these tests exercise all of it end to end.
import { expect } from 'chai';
import * as couchbase from 'couchbase';
import { Cluster } from '../../lib/server';

describe('server interop: the official SDK’s distributed transactions', function () {
  this.timeout(60000);
  let server: Cluster;
  let sdk: couchbase.Cluster;
  let coll: couchbase.Collection;

  before(async () => {
    server = await Cluster.start({ nodes: 2, replicas: 1, queryService: null, viewsService: null });
    sdk = await couchbase.connect(server.connectionString, {
      username: 'Administrator',
      password: 'password',
      timeouts: { kvTimeout: 5000, kvDurableTimeout: 5000 },
      transactions: { durabilityLevel: couchbase.DurabilityLevel.Majority, timeout: 15000 },
    });
    coll = sdk.bucket('default').defaultCollection();
  });

  after(async () => {
    await sdk?.close();
    await server?.stop();
  });

  const store = () => server.bucket('default');
  /** The transaction metadata a document carries (undefined once it has been cleaned). */
  const txnXattr = (key: string): string | undefined => (store().get(key) ?? store().tombstone(key))?.xattrs?.get('txn');
  /** Attempts the ATR documents still list. */
  const atrAttempts = (): number => {
    let n = 0;
    for (const d of store().docs()) if (d.id.startsWith('_txn:atr-')) n += Object.keys(JSON.parse(d.xattrs?.get('attempts') ?? '{}')).length;
    return n;
  };

  it('commits get, replace, insert and remove together, and leaves no staged metadata behind', async () => {
    await coll.upsert('acct-a', { balance: 100 });
    await coll.upsert('acct-b', { balance: 0 });
    await coll.upsert('doomed', { bye: true });
    await sdk.transactions().run(async (ctx) => {
      const a = await ctx.get(coll, 'acct-a');
      const b = await ctx.get(coll, 'acct-b');
      await ctx.replace(a, { balance: a.content.balance - 30 });
      await ctx.replace(b, { balance: b.content.balance + 30 });
      await ctx.insert(coll, 'receipt', { amount: 30 });
      await ctx.remove(await ctx.get(coll, 'doomed'));
    });
    expect((await coll.get('acct-a')).content).to.deep.equal({ balance: 70 });
    expect((await coll.get('acct-b')).content).to.deep.equal({ balance: 30 });
    expect((await coll.get('receipt')).content).to.deep.equal({ amount: 30 });
    expect((await coll.exists('doomed')).exists).to.equal(false);
    for (const key of ['acct-a', 'acct-b', 'receipt', 'doomed']) expect(txnXattr(key), key).to.equal(undefined);
    expect(atrAttempts()).to.equal(0);
  });

  it('a lambda that throws rolls back: documents as they were, the staged insert gone, metadata cleaned', async () => {
    await coll.upsert('rb-a', { v: 1 });
    let err: unknown;
    try {
      await sdk.transactions().run(async (ctx) => {
        const a = await ctx.get(coll, 'rb-a');
        await ctx.replace(a, { v: 2 });
        await ctx.insert(coll, 'rb-new', { v: 1 });
        // Inside the transaction it reads its own writes.
        expect((await ctx.get(coll, 'rb-a')).content).to.deep.equal({ v: 2 });
        throw new Error('application says no');
      });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(couchbase.TransactionFailedError);
    expect((await coll.get('rb-a')).content).to.deep.equal({ v: 1 });
    expect((await coll.exists('rb-new')).exists).to.equal(false);
    expect(txnXattr('rb-a')).to.equal(undefined);
    expect(txnXattr('rb-new')).to.equal(undefined);
    expect(atrAttempts()).to.equal(0);
  });

  it('outside readers see the committed version while a transaction has staged a change', async () => {
    await coll.upsert('iso', { v: 'before' });
    let seenInside: unknown;
    await sdk.transactions().run(async (ctx) => {
      await ctx.replace(await ctx.get(coll, 'iso'), { v: 'after' });
      seenInside = (await coll.get('iso')).content;
      expect(txnXattr('iso')).to.be.a('string');
    });
    expect(seenInside).to.deep.equal({ v: 'before' });
    expect((await coll.get('iso')).content).to.deep.equal({ v: 'after' });
  });

  it('conflicting concurrent transactions on one document: every commit counts once, the losers fail whole, nothing stays staged', async () => {
    await coll.upsert('counter', { n: 0 });
    const bump = () =>
      sdk.transactions().run(async (ctx) => {
        const d = await ctx.get(coll, 'counter');
        await new Promise((r) => setTimeout(r, 50));
        await ctx.replace(d, { n: d.content.n + 1 });
      });
    const outcomes = await Promise.allSettled([bump(), bump(), bump()]);
    const committed = outcomes.filter((o) => o.status === 'fulfilled').length;
    expect(committed).to.be.at.least(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).to.be.instanceOf(couchbase.TransactionFailedError);
    // Serialised by CAS: a loser staged nothing that survives, a winner's increment is in exactly once.
    expect((await coll.get('counter')).content).to.deep.equal({ n: committed });
    expect(txnXattr('counter')).to.equal(undefined);
    expect(atrAttempts()).to.equal(0);
  });

  it('a transaction inserting a document that exists fails with DocumentExists inside and rolls back', async () => {
    await coll.upsert('exists', { v: 1 });
    let inner: unknown;
    await sdk.transactions().run(async (ctx) => {
      try {
        await ctx.insert(coll, 'exists', { v: 2 });
      } catch (e) {
        inner = e;
      }
    });
    expect(inner).to.be.instanceOf(couchbase.DocumentExistsError);
    expect((await coll.get('exists')).content).to.deep.equal({ v: 1 });
  });
});
