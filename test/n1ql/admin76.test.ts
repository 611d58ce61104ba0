// Issue 22 part B, statements about the cluster rather than the data: CREATE INDEX ... PARTITION
// BY HASH and ALTER INDEX (SQL++ reference: CREATE INDEX, ALTER INDEX), GRANT / REVOKE on the
// RBAC store the REST API uses (GRANT, REVOKE), and the system catalogs of nodes, requests,
// prepared statements and users (Get System Information, Monitor Queries). Expected results and
// messages are the documentation's and, where it is silent, the query and index services'.
import { expect } from 'chai';
import { Cluster } from '../../lib/server';
import { Engine } from './harness';

const basic = (user: string, password: string): string => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
const ADMIN = basic('Administrator', 'password');

async function query(c: Cluster, statement: string, auth = ADMIN, extra: Record<string, unknown> = {}): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${c.nodes[0].ports.n1ql}/query/service`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: auth },
    body: JSON.stringify({ statement, ...extra }),
  });
  return res.json();
}

describe('n1ql 7.6 index layout: PARTITION BY HASH and ALTER INDEX', () => {
  const e = new Engine(['p']);
  e.load('p', { a: { type: 'airport', country: 'France', city: 'Nice' }, b: { type: 'airport', country: 'UK', city: 'Leeds' } });

  it('CREATE INDEX ... PARTITION BY HASH is accepted, used by queries and shown in system:indexes as HASH(keys)', () => {
    e.rows('CREATE INDEX ix_country ON p(country, city) PARTITION BY HASH(country) WITH {"num_partition": 4}');
    e.rows('CREATE INDEX ix_two ON p(city) PARTITION BY HASH(META().id, city)');
    const rows = e.rows('SELECT name, `partition`, index_key FROM system:indexes WHERE keyspace_id = "p" ORDER BY name');
    expect(rows).to.deep.equal([
      { name: 'ix_country', partition: 'HASH(`country`)', index_key: ['`country`', '`city`'] },
      { name: 'ix_two', partition: 'HASH((meta().`id`),`city`)', index_key: ['`city`'] },
    ]);
    expect(e.rows('SELECT RAW city FROM p WHERE country = "UK"')).to.deep.equal(['Leeds']);
    const plan = e.rows('EXPLAIN SELECT city FROM p WHERE country = "UK"')[0] as any;
    expect(JSON.stringify(plan)).to.contain('"index":"ix_country"');
  });

  it('num_partition must be a positive integer, and replicas need more index nodes than one', () => {
    expect(e.run('CREATE INDEX bad ON p(city) PARTITION BY HASH(city) WITH {"num_partition": 0}').errors[0].code).to.equal(5000);
    expect(e.run('CREATE INDEX rep ON p(city) WITH {"num_replica": 1}').errors[0]).to.deep.equal({
      code: 5000,
      msg: 'GSI CreateIndex() - cause: Fails to create index.  There are not enough indexer nodes to create index with replica count of 1. Some indexer nodes may be marked as excluded.',
    });
  });

  it('ALTER INDEX: both syntaxes, the index service errors of a single node, and an unknown index', () => {
    const err = (s: string) => e.run(s).errors[0];
    expect(err('ALTER INDEX ix_country ON p WITH {"action": "move", "nodes": ["127.0.0.1:8091"]}')).to.deep.equal({ code: 5000, msg: 'GSI AlterIndex() - cause: No Index Movement Required for Specified Destination List' });
    expect(err('ALTER INDEX p.ix_country WITH {"action": "move"}')).to.deep.equal({ code: 5000, msg: 'GSI AlterIndex() - cause: Missing Node Information For Move Index' });
    expect(err('ALTER INDEX ix_country ON p WITH {"action": "move", "nodes": ["10.0.0.9:8091"]}')).to.deep.equal({
      code: 5000,
      msg: 'GSI AlterIndex() - cause: Unable to find Index service for destination 10.0.0.9:8091 or destination is not part of the cluster',
    });
    expect(err('ALTER INDEX ix_country ON p WITH {"action": "replica_count", "num_replica": 1}').msg).to.contain('There are not enough indexer nodes to create index with replica count of 1');
    expect(err('ALTER INDEX ix_country ON p WITH {"action": "drop_replica", "replicaId": 1}')).to.deep.equal({ code: 5000, msg: 'GSI AlterIndex() - cause: Fail to alter index: Fail to drop replica' });
    expect(err('ALTER INDEX ix_country ON p USING GSI WITH {"action": "grow"}')).to.deep.equal({ code: 5000, msg: 'GSI AlterIndex() - cause: Unsupported action value' });
    expect(err('ALTER INDEX nope ON p WITH {"action": "move", "nodes": ["127.0.0.1:8091"]}')).to.deep.equal({ code: 12004, msg: 'Index Not Found - cause: GSI index nope not found.' });
  });
});

describe('n1ql 7.6 on a cluster: GRANT / REVOKE, ALTER INDEX across nodes, and the system catalogs', function () {
  this.timeout(20_000);
  let c: Cluster;
  before(async () => {
    c = await Cluster.start({
      nodes: 2,
      numVBuckets: 16,
      buckets: [{ name: 'travel' }],
      users: [
        { username: 'Administrator', password: 'password' },
        { username: 'ann', password: 'ann-pass', roles: ['query_select[travel]'] },
        { username: 'bob', password: 'bob-pass', roles: ['data_reader[travel]'] },
        { username: 'cat', password: 'cat-pass', roles: ['query_select[travel]'] },
      ],
    });
  });
  after(async () => c.stop());

  const restRoles = async (user: string): Promise<unknown> => {
    const res = await fetch(`http://127.0.0.1:${c.nodes[0].ports.mgmt}/settings/rbac/users/local/${user}`, { headers: { authorization: ADMIN } });
    return ((await res.json()) as { roles: Array<{ role: string; bucket_name?: string }> }).roles.map((r) => (r.bucket_name ? `${r.role}[${r.bucket_name}]` : r.role)).sort();
  };

  it('GRANT adds roles the REST API then shows (with and without a keyspace); a role already held is warning 5260', async () => {
    expect((await query(c, 'GRANT query_insert, query_update ON travel TO ann')).status).to.equal('success');
    expect((await query(c, 'GRANT replication_admin TO ann, bob')).status).to.equal('success');
    expect(await restRoles('ann')).to.deep.equal(['query_insert[travel]', 'query_select[travel]', 'query_update[travel]', 'replication_admin']);
    expect(await restRoles('bob')).to.deep.equal(['data_reader[travel]', 'replication_admin']);
    // The grant takes effect: ann may now insert.
    expect((await query(c, 'INSERT INTO travel VALUES ("k1", {"a": 1})', basic('ann', 'ann-pass'))).status).to.equal('success');
    const again = await query(c, 'GRANT query_select ON travel TO ann');
    expect(again.status).to.equal('success');
    expect(again.warnings).to.deep.equal([{ code: 5260, msg: 'User ann already has role query_select(travel).' }]);
  });

  it('REVOKE takes roles away (warning 5270 for one never held); the user loses the privilege at once', async () => {
    const r = await query(c, 'REVOKE query_insert, query_delete ON travel FROM ann');
    expect(r.status).to.equal('success');
    expect(r.warnings).to.deep.equal([{ code: 5270, msg: 'User ann did not have role query_delete(travel).' }]);
    expect(await restRoles('ann')).to.deep.equal(['query_select[travel]', 'query_update[travel]', 'replication_admin']);
    expect((await query(c, 'INSERT INTO travel VALUES ("k2", {"a": 2})', basic('ann', 'ann-pass'))).errors[0].code).to.equal(13014);
  });

  it('errors: unknown role (5250), a role that needs a keyspace (5220) or takes none (5230), unknown keyspace (5242) or user (5210), and a caller without security admin (13014)', async () => {
    const first = async (s: string, auth = ADMIN) => (await query(c, s, auth)).errors[0];
    expect(await first('GRANT query_everything ON travel TO ann')).to.deep.equal({ code: 5250, msg: 'Role query_everything is not valid.' });
    expect(await first('GRANT query_select TO ann')).to.deep.equal({ code: 5220, msg: 'Role query_select requires a keyspace.' });
    expect(await first('GRANT replication_admin ON travel TO ann')).to.deep.equal({ code: 5230, msg: 'Role replication_admin does not take a keyspace.' });
    expect(await first('GRANT query_select ON nosuch TO ann')).to.deep.equal({ code: 5242, msg: 'Bucket nosuch is not valid.' });
    expect(await first('GRANT query_select ON travel TO nobody')).to.deep.equal({ code: 5210, msg: 'Unable to find user nobody.' });
    expect((await first('GRANT query_select ON travel TO bob', basic('ann', 'ann-pass'))).code).to.equal(13014);
    // Nothing was changed by the statements that failed.
    expect(await restRoles('bob')).to.deep.equal(['data_reader[travel]', 'replication_admin']);
  });

  it('system:user_info lists users as the REST API does; my_user_info is the caller; applicable_roles pairs grantees and roles', async () => {
    const all = (await query(c, 'SELECT RAW id FROM system:user_info ORDER BY id')).results;
    expect(all).to.deep.equal(['ann', 'bob', 'cat']);
    const mine = (await query(c, 'SELECT id, domain, roles FROM system:my_user_info', basic('bob', 'bob-pass'))).results;
    expect(mine).to.have.length(1);
    expect(mine[0].id).to.equal('bob');
    expect(mine[0].domain).to.equal('local');
    expect(mine[0].roles.map((r: any) => r.role).sort()).to.deep.equal(['data_reader', 'replication_admin']);
    const roles = (await query(c, 'SELECT grantee, `role`, bucket_name FROM system:applicable_roles WHERE grantee = "bob" ORDER BY `role`')).results;
    expect(roles).to.deep.equal([
      { grantee: 'bob', role: 'data_reader', bucket_name: 'travel' },
      { grantee: 'bob', role: 'replication_admin' },
    ]);
    expect((await query(c, 'SELECT * FROM system:user_info', basic('cat', 'cat-pass'))).errors[0].code).to.equal(13014);
  });

  it('system:nodes lists every node with its ports and services; ALTER INDEX moves an index to another index node', async () => {
    const nodes = (await query(c, 'SELECT name, ports.n1ql AS n1ql, services FROM system:nodes ORDER BY name')).results;
    expect(nodes).to.have.length(2);
    expect(nodes.map((n: any) => n.n1ql).sort()).to.deep.equal(c.nodes.map((n) => n.ports.n1ql).sort());
    for (const n of nodes) expect(n.services).to.include.members(['kv', 'n1ql', 'index']);
    expect((await query(c, 'CREATE INDEX ix_a ON travel(a)')).status).to.equal('success');
    const other = `127.0.0.1:${c.nodes[1].ports.mgmt}`;
    expect((await query(c, `ALTER INDEX ix_a ON travel WITH {"action": "move", "nodes": ["${other}"]}`)).status).to.equal('success');
    expect((await query(c, `ALTER INDEX ix_a ON travel WITH {"action": "move", "nodes": ["${other}"]}`)).errors[0].msg).to.equal('GSI AlterIndex() - cause: No Index Movement Required for Specified Destination List');
    // Two index nodes: one replica fits, two do not.
    expect((await query(c, 'ALTER INDEX ix_a ON travel WITH {"action": "replica_count", "num_replica": 1}')).status).to.equal('success');
    expect((await query(c, 'ALTER INDEX ix_a ON travel WITH {"action": "drop_replica", "replicaId": 1}')).status).to.equal('success');
    expect((await query(c, 'ALTER INDEX ix_a ON travel WITH {"action": "replica_count", "num_replica": 2}')).errors[0].code).to.equal(5000);
  });

  it('system:active_requests shows the running request; completed_requests keeps those over completed-threshold; DELETE forgets them', async () => {
    const active = (await query(c, 'SELECT r.* FROM system:active_requests r', ADMIN, { client_context_id: 'me-now' })).results;
    const self = active.find((r: any) => r.clientContextID === 'me-now');
    expect(self).to.include({ state: 'running', statement: 'SELECT r.* FROM system:active_requests r', users: 'Administrator', scanConsistency: 'unbounded' });
    expect(self.requestId).to.be.a('string');
    expect(self.requestTime).to.match(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC$/);
    // The default threshold (1000 ms) keeps no quick request; 0 keeps every one.
    await query(c, 'SELECT 1', ADMIN, { client_context_id: 'quick' });
    expect((await query(c, 'SELECT RAW clientContextID FROM system:completed_requests WHERE clientContextID = "quick"')).results).to.deep.equal([]);
    const settings = await fetch(`http://127.0.0.1:${c.nodes[0].ports.n1ql}/admin/settings`, { method: 'POST', headers: { authorization: ADMIN }, body: JSON.stringify({ 'completed-threshold': 0 }) });
    expect(((await settings.json()) as any)['completed-threshold']).to.equal(0);
    await query(c, 'SELECT 2', ADMIN, { client_context_id: 'logged' });
    const done = (await query(c, 'SELECT state, resultCount, statement FROM system:completed_requests WHERE clientContextID = "logged"')).results;
    expect(done).to.deep.equal([{ state: 'completed', resultCount: 1, statement: 'SELECT 2' }]);
    const del = await query(c, 'DELETE FROM system:completed_requests WHERE clientContextID = "logged"');
    expect(del.status).to.equal('success');
    expect(del.metrics.mutationCount).to.equal(1);
    expect((await query(c, 'SELECT RAW 1 FROM system:completed_requests WHERE clientContextID = "logged"')).results).to.deep.equal([]);
    // A user without the system catalog privilege sees only their own requests.
    await query(c, 'SELECT 3', basic('cat', 'cat-pass'));
    const seen = (await query(c, 'SELECT users, statement FROM system:completed_requests', basic('cat', 'cat-pass'))).results;
    expect(seen).to.deep.equal([{ users: 'cat', statement: 'SELECT 3' }]);
    expect((await query(c, 'SELECT RAW COUNT(*) FROM system:completed_requests WHERE users != "cat"')).results[0]).to.be.above(0);
  });

  it('system:prepareds lists prepared statements with their uses', async () => {
    await query(c, 'CREATE PRIMARY INDEX ON travel');
    expect((await query(c, 'PREPARE p_count FROM SELECT COUNT(*) FROM travel')).status).to.equal('success');
    await query(c, 'EXECUTE p_count');
    await query(c, 'EXECUTE p_count');
    const rows = (await query(c, 'SELECT name, statement, uses, node FROM system:prepareds WHERE name = "p_count"')).results;
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ name: 'p_count', uses: 2 });
    expect(rows[0].statement).to.contain('SELECT COUNT(*) FROM travel');
  });
});
