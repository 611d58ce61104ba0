const couchbase = require('/work/wt/xattr/node_modules/couchbase');
const { Cluster } = require('/work/wt/xattr/dist/lib/server');
(async () => {
  const server = await Cluster.start({ nodes: 2, replicas: 1, queryService: null, viewsService: null });
  const sdk = await couchbase.connect(server.connectionString, { username: 'Administrator', password: 'password', transactions: { durabilityLevel: couchbase.DurabilityLevel.None, timeout: 15000 } });
  const coll = sdk.bucket('default').defaultCollection();
  await coll.upsert('counter', { n: 0 });
  const bump = () => sdk.transactions().run(async (ctx) => {
    const d = await ctx.get(coll, 'counter');
    await new Promise((r) => setTimeout(r, 50));
    await ctx.replace(d, { n: d.content.n + 1 });
  });
  try { await Promise.all([bump(), bump()]); } catch (e) { console.log('ERR', e.message, e.cause && e.cause.message); }
  console.log((await coll.get('counter')).content);
  await sdk.close(); await server.stop();
})();
