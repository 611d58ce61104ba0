// The official SDK's transactions running SQL++ (ctx.query): from its first query the SDK runs
// the transaction through the query service (BEGIN WORK with txdata, then every statement with
// the txid, its key-value operations as EXECUTE __get / __insert / __update / __delete, and COMMIT
// or ROLLBACK, taking over what the SDK staged through KV before that first query), so this
// exercises that protocol end to end with couchbase 4.7.
import { expect } from 'chai';
import * as couchbase from 'couchbase';
import { Cluster } from '../../lib/server';

describe('n1ql: ctx.query() inside the official SDK’s transactions', function () {
  this.timeout(60000);
  let server: Cluster;
  let sdk: couchbase.Cluster;
  let coll: couchbase.Collection;

  before(async () => {
    server = await Cluster.start({ nodes: 1 });
    sdk = await couchbase.connect(server.connectionString, { username: 'Administrator', password: 'password', transactions: { timeout: 10000 } });
    coll = sdk.bucket('default').defaultCollection();
    await sdk.query('CREATE PRIMARY INDEX ON `default`');
  });
  after(async () => {
    await sdk?.close();
    await server?.stop();
  });

  it('commits query inserts, selects and updates mixed with ctx.get / replace / insert; nothing is visible outside before the commit', async () => {
    await coll.upsert('a', { v: 1 });
    let outside: unknown;
    await sdk.transactions().run(async (ctx) => {
      await ctx.query('INSERT INTO `default` VALUES ("q1", {"v": 5})');
      expect((await ctx.query('SELECT RAW META().id FROM `default` WHERE META().id IN ["a", "q1"] ORDER BY META().id')).rows).to.deep.equal(['a', 'q1']);
      const a = await ctx.get(coll, 'a');
      expect(a.content).to.deep.equal({ v: 1 });
      await ctx.replace(a, { v: 2 });
      expect((await ctx.get(coll, 'q1')).content).to.deep.equal({ v: 5 });
      await ctx.insert(coll, 'k2', { v: 9 });
      await ctx.query('UPDATE `default` SET v = v * 10 WHERE META().id IN ["k2", "a"]');
      expect((await ctx.query('SELECT RAW v FROM `default` USE KEYS ["a", "k2"]')).rows).to.deep.equal([20, 90]);
      outside = [(await coll.get('a')).content, (await coll.exists('q1')).exists];
    });
    expect(outside).to.deep.equal([{ v: 1 }, false]);
    expect((await coll.get('a')).content).to.deep.equal({ v: 20 });
    expect((await coll.get('q1')).content).to.deep.equal({ v: 5 });
    expect((await coll.get('k2')).content).to.deep.equal({ v: 90 });
  });

  it('rolls back query and key-value writes together when the lambda throws', async () => {
    await coll.upsert('r', { v: 1 });
    const err = await sdk
      .transactions()
      .run(async (ctx) => {
        await ctx.query('DELETE FROM `default` WHERE META().id = "r"');
        await ctx.insert(coll, 'r2', { v: 1 });
        throw new Error('changed my mind');
      })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(couchbase.TransactionFailedError);
    expect((await coll.get('r')).content).to.deep.equal({ v: 1 });
    expect((await coll.exists('r2')).exists).to.equal(false);
  });

  const store = () => server.bucket('default');
  /** The document's staging metadata, live or deleted (undefined: none). */
  const txnXattr = (key: string): string | undefined => (store().get(key) ?? store().tombstone(key))?.xattrs?.get('txn');
  /** Every attempt the ATR documents still list. */
  const atrAttempts = (): string[] => {
    const ids: string[] = [];
    for (const d of store().docs()) if (d.id.startsWith('_txn:atr-')) ids.push(...Object.keys(JSON.parse(d.xattrs?.get('attempts') ?? '{}')));
    return ids;
  };

  it('takes over what ctx.insert / replace / remove staged through KV before the first ctx.query(): the statements see it, COMMIT makes it the documents', async () => {
    await coll.upsert('h-rep', { v: 1 });
    await coll.upsert('h-rem', { v: 1 });
    // The ATR entry's states as the attempt goes: PENDING (the SDK), then COMMITTED and removed (the query service).
    const states: string[] = [];
    const stop = store().onMutation((e) => {
      if (e.kind !== 'set' || !e.doc.id.startsWith('_txn:atr-')) return;
      for (const entry of Object.values(JSON.parse(e.doc.xattrs?.get('attempts') ?? '{}')) as Array<{ st: string; tsc?: string; ins?: unknown[] }>) {
        states.push(entry.st);
        if (entry.st === 'COMMITTED') {
          expect(entry.tsc).to.match(/^0x[0-9a-f]{16}$/);
          expect(entry.ins).to.deep.equal([{ id: 'h-ins', bkt: 'default', scp: '_default', col: '_default' }]);
        }
      }
      if (Object.keys(JSON.parse(e.doc.xattrs?.get('attempts') ?? '{}')).length === 0) states.push('removed');
    });
    let inside: unknown;
    let outside: unknown;
    try {
      await sdk.transactions().run(async (ctx) => {
        await ctx.insert(coll, 'h-ins', { v: 2 });
        await ctx.replace(await ctx.get(coll, 'h-rep'), { v: 10 });
        await ctx.remove(await ctx.get(coll, 'h-rem'));
        expect(txnXattr('h-ins')).to.be.a('string');
        inside = (await ctx.query('SELECT RAW [META().id, v] FROM `default` WHERE META().id LIKE "h-%" ORDER BY META().id')).rows;
        await ctx.query('UPDATE `default` SET v = v + 1 WHERE META().id = "h-ins"');
        expect((await ctx.get(coll, 'h-ins')).content).to.deep.equal({ v: 3 });
        await ctx.replace(await ctx.get(coll, 'h-rep'), { v: 11 });
        outside = [(await coll.exists('h-ins')).exists, (await coll.get('h-rep')).content, (await coll.exists('h-rem')).exists];
      });
    } finally {
      stop();
    }
    expect(inside).to.deep.equal([
      ['h-ins', 2],
      ['h-rep', 10],
    ]);
    expect(outside).to.deep.equal([false, { v: 1 }, true]);
    expect((await coll.get('h-ins')).content).to.deep.equal({ v: 3 });
    expect((await coll.get('h-rep')).content).to.deep.equal({ v: 11 });
    expect((await coll.exists('h-rem')).exists).to.equal(false);
    for (const key of ['h-ins', 'h-rep', 'h-rem']) expect(txnXattr(key), key).to.equal(undefined);
    expect(states).to.deep.equal(['PENDING', 'COMMITTED', 'removed']);
    expect(atrAttempts()).to.deep.equal([]);
  });

  it('hands over writes staged in a named collection, and commits them there', async () => {
    await sdk.query('CREATE SCOPE `default`.shop');
    await sdk.query('CREATE COLLECTION `default`.shop.items');
    await sdk.query('CREATE PRIMARY INDEX ON `default`.shop.items');
    const items = sdk.bucket('default').scope('shop').collection('items');
    await items.upsert('i-rep', { n: 1 });
    let inside: unknown;
    await sdk.transactions().run(async (ctx) => {
      await ctx.insert(items, 'i-ins', { n: 2 });
      await ctx.replace(await ctx.get(items, 'i-rep'), { n: 3 });
      inside = (await ctx.query('SELECT RAW [META().id, n] FROM `default`.shop.items ORDER BY META().id')).rows;
    });
    expect(inside).to.deep.equal([
      ['i-ins', 2],
      ['i-rep', 3],
    ]);
    expect((await items.get('i-ins')).content).to.deep.equal({ n: 2 });
    expect((await items.get('i-rep')).content).to.deep.equal({ n: 3 });
    const shop = store().collectionNamed('shop', 'items')!;
    for (const key of ['i-ins', 'i-rep']) expect((shop.get(key) ?? shop.tombstone(key))?.xattrs?.get('txn'), key).to.equal(undefined);
    expect(atrAttempts()).to.deep.equal([]);
  });

  it('a lambda that fails after the hand-over rolls the KV-staged writes back: documents as before, no staging or ATR entry left', async () => {
    await coll.upsert('hr-rep', { v: 1 });
    await coll.upsert('hr-rem', { v: 1 });
    const err = await sdk
      .transactions()
      .run(async (ctx) => {
        await ctx.insert(coll, 'hr-ins', { v: 2 });
        await ctx.replace(await ctx.get(coll, 'hr-rep'), { v: 10 });
        await ctx.remove(await ctx.get(coll, 'hr-rem'));
        expect((await ctx.query('SELECT RAW META().id FROM `default` WHERE META().id LIKE "hr-%" ORDER BY META().id')).rows).to.deep.equal(['hr-ins', 'hr-rep']);
        throw new Error('changed my mind');
      })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(couchbase.TransactionFailedError);
    expect((await coll.exists('hr-ins')).exists).to.equal(false);
    expect((await coll.get('hr-rep')).content).to.deep.equal({ v: 1 });
    expect((await coll.get('hr-rem')).content).to.deep.equal({ v: 1 });
    for (const key of ['hr-ins', 'hr-rep', 'hr-rem']) expect(txnXattr(key), key).to.equal(undefined);
    expect(atrAttempts()).to.deep.equal([]);
  });

  it('a handed-over transaction that expires is rolled back by the query service: KV staging and ATR entry gone', async () => {
    await coll.upsert('he-rep', { v: 1 });
    const err = await sdk
      .transactions()
      .run(
        async (ctx) => {
          await ctx.insert(coll, 'he-ins', { v: 2 });
          await ctx.replace(await ctx.get(coll, 'he-rep'), { v: 10 });
          await ctx.query('SELECT 1');
          await new Promise((r) => setTimeout(r, 1500));
          await ctx.query('SELECT 2');
        },
        { timeout: 1000 },
      )
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(couchbase.TransactionExpiredError);
    expect((await coll.exists('he-ins')).exists).to.equal(false);
    expect((await coll.get('he-rep')).content).to.deep.equal({ v: 1 });
    for (const key of ['he-ins', 'he-rep']) expect(txnXattr(key), key).to.equal(undefined);
    expect(atrAttempts()).to.deep.equal([]);
  });

  it('a ctx.query() that fails is undone by itself: the lambda may catch it and go on, and the commit keeps the rest', async () => {
    await coll.upsert('sf-a', { v: 1 });
    let caught: unknown;
    await sdk.transactions().run(async (ctx) => {
      await ctx.query('INSERT INTO `default` VALUES ("sf-1", {"v": 1})');
      // The first document is written before the second one fails the statement: both go.
      caught = await ctx.query('INSERT INTO `default` VALUES ("sf-2", {"v": 2}), VALUES ("sf-a", {"v": 2})').catch((e: unknown) => e);
      expect((await ctx.query('SELECT RAW META().id FROM `default` WHERE META().id LIKE "sf-%" ORDER BY META().id')).rows).to.deep.equal(['sf-1', 'sf-a']);
    });
    expect(caught).to.be.instanceOf(couchbase.DocumentExistsError);
    expect((await coll.get('sf-1')).content).to.deep.equal({ v: 1 });
    expect((await coll.exists('sf-2')).exists).to.equal(false);
    expect((await coll.get('sf-a')).content).to.deep.equal({ v: 1 });
  });

  it('a document changed outside the transaction fails its COMMIT; the SDK retries the lambda, and the retry commits over the new value', async () => {
    await coll.upsert('cf', { v: 1 });
    let attempts = 0;
    await sdk.transactions().run(async (ctx) => {
      attempts++;
      await ctx.query('UPDATE `default` SET v = v + 1 WHERE META().id = "cf"');
      if (attempts === 1) await coll.upsert('cf', { v: 100 });
    });
    expect(attempts).to.equal(2);
    expect((await coll.get('cf')).content).to.deep.equal({ v: 101 });
  });

  it('a ctx.insert of an existing key fails inside the transaction with DocumentExists', async () => {
    await coll.upsert('dup', { v: 1 });
    let inner: unknown;
    await sdk
      .transactions()
      .run(async (ctx) => {
        await ctx.query('SELECT 1');
        try {
          await ctx.insert(coll, 'dup', { v: 2 });
        } catch (e) {
          inner = e;
          throw e;
        }
      })
      .catch(() => undefined);
    expect(inner).to.be.instanceOf(couchbase.DocumentExistsError);
    expect((await coll.get('dup')).content).to.deep.equal({ v: 1 });
  });
});
