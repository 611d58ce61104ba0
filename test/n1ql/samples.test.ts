// Sample buckets as Couchbase Server ships them: beer-sample with its primary index `beer_primary`,
// so a query works right after `deferbase serve --sample beer-sample`, as on a real server.
import { expect } from 'chai';
import { startEmbeddedCluster, type EmbeddedCluster } from '../../adapters/common/embedded';

async function query(cluster: EmbeddedCluster, statement: string): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${cluster.cluster.nodes[0].ports.n1ql}/query/service`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Basic ' + Buffer.from('Administrator:password').toString('base64') },
    body: JSON.stringify({ statement }),
  });
  return res.json();
}

describe('n1ql sample buckets', function () {
  this.timeout(60000);
  let cluster: EmbeddedCluster;
  before(async () => {
    cluster = await startEmbeddedCluster({ samples: ['beer-sample'], numVBuckets: 64 });
  });
  after(() => cluster?.stop());

  it('beer-sample comes with beer_primary, so a query runs without creating an index', async () => {
    const r = await query(cluster, 'SELECT COUNT(*) AS n FROM `beer-sample` WHERE type = "brewery"');
    expect(r.status).to.equal('success');
    expect(r.results[0].n).to.be.above(0);
    const ix = await query(cluster, 'SELECT RAW [name, is_primary] FROM system:indexes WHERE keyspace_id = "beer-sample"');
    expect(ix.results).to.deep.equal([['beer_primary', true]]);
    const plan = await query(cluster, 'EXPLAIN SELECT name FROM `beer-sample` WHERE type = "beer" LIMIT 1');
    expect(JSON.stringify(plan.results[0].plan)).to.contain('"index":"beer_primary"');
  });
});
