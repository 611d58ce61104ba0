const couchbase = require('couchbase');
const { Cluster } = require('./dist/lib/server');
(async () => {
  const server = await Cluster.start({ nodes: 3, replicas: 1, users: [{ username: 'app', password: 'app-password' }], queryService: null, viewsService: null });
  const sdk = await couchbase.connect(server.connectionString, { username: 'app', password: 'app-password' });
  const c = sdk.bucket('default').defaultCollection();
  await c.upsert('a', {x:1, arr:[1,2]});
  const any = await c.lookupInAnyReplica('a', [couchbase.LookupInSpec.get('x'), couchbase.LookupInSpec.count('arr'), couchbase.LookupInSpec.exists('nope')]);
  console.log('any', any.isReplica, any.content.map(x => [x.value, x.error && x.error.constructor.name]));
  const all = await c.lookupInAllReplicas('a', [couchbase.LookupInSpec.get('x')]);
  console.log('all', all.map(r => [r.isReplica, r.content[0].value]));
  try { await c.lookupInAnyReplica('missing', [couchbase.LookupInSpec.get('x')]); } catch (e) { console.log('missing', e.constructor.name); }
  await sdk.close(); await server.stop();
})().catch(e => { console.error(e); process.exit(1); });
