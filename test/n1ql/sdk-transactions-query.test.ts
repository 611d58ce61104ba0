// The official SDK's transactions running SQL++ (ctx.query): from its first query the SDK runs
// the transaction through the query service (BEGIN WORK with txdata, then every statement with
// the txid, its key-value operations as EXECUTE __get / __insert / __update / __delete, and COMMIT
// or ROLLBACK), so this exercises that protocol end to end with couchbase 4.7.
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
