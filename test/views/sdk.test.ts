// The official Couchbase Node.js SDK (cxx client inside) querying views on the embedded cluster.
import { expect } from 'chai';
import * as http from 'node:http';
import * as couchbase from 'couchbase';
import { Cluster } from '../../lib/server';
import { beerSampleDesignDocs, beerSampleDocs } from '../../lib/server/samples/beer-sample';
import { createViewsService } from '../../lib/server/views';

function rawGet(port: number, path: string): Promise<any> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false, auth: 'Administrator:password' }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(parts).toString())));
      })
      .on('error', reject);
  });
}

describe('views: official couchbase SDK against the embedded cluster', function () {
  this.timeout(30000);
  let server: Cluster;
  let sdk: couchbase.Cluster;
  let bucket: couchbase.Bucket;
  const docs = [...beerSampleDocs({ scale: 0.1, seed: 9 })];
  const breweries = docs.filter((d) => (d.value as any).type === 'brewery');

  before(async () => {
    server = await Cluster.start({ nodes: 2, buckets: [{ name: 'beer-sample' }], viewsService: createViewsService, queryService: null });
    const store = server.bucket('beer-sample');
    for (const { id, value } of docs) store.write(id, Buffer.from(JSON.stringify(value)), 'upsert', { flags: 0x02000000 });
    sdk = await couchbase.connect(server.connectionString, {
      username: 'Administrator',
      password: 'password',
      timeouts: { kvTimeout: 5000, connectTimeout: 10000, viewTimeout: 10000, managementTimeout: 10000 },
    });
    bucket = sdk.bucket('beer-sample');
  });

  after(async () => {
    await sdk?.close();
    await server?.stop();
  });

  it('creates, lists and reads a design document through the SDK’s view index manager', async () => {
    const views = beerSampleDesignDocs.beer.views;
    const ddoc = new couchbase.DesignDocument('beer', {
      brewery_beers: new couchbase.DesignDocumentView({ map: views.brewery_beers.map }),
      by_location: new couchbase.DesignDocumentView({ map: views.by_location.map, reduce: views.by_location.reduce }),
    });
    await bucket.viewIndexes().upsertDesignDocument(ddoc, couchbase.DesignDocumentNamespace.Production);
    const got = await bucket.viewIndexes().getDesignDocument('beer', couchbase.DesignDocumentNamespace.Production);
    expect(Object.keys(got.views).sort()).to.deep.equal(['brewery_beers', 'by_location']);
    expect(got.views.by_location.reduce).to.equal('_count');
    const all = await bucket.viewIndexes().getAllDesignDocuments(couchbase.DesignDocumentNamespace.Production);
    expect(all.map((d) => d.name)).to.deep.equal(['beer']);
  });

  it('viewQuery returns the same rows as the raw CAPI endpoint, breweries followed by their beers', async () => {
    const res = await bucket.viewQuery('beer', 'brewery_beers', { limit: 20, scanConsistency: couchbase.ViewScanConsistency.RequestPlus });
    const raw = await rawGet(server.nodes[1].ports.capi!, '/beer-sample/_design/beer/_view/brewery_beers?limit=20&stale=false');
    expect(res.meta.totalRows).to.equal(docs.length);
    expect(res.rows.map((r) => ({ id: r.id, key: r.key, value: r.value }))).to.deep.equal(raw.rows);
    expect(res.rows[0].key).to.deep.equal([res.rows[0].id]);
    for (const row of res.rows) {
      const doc = docs.find((d) => d.id === row.id)!.value as any;
      expect(row.key).to.deep.equal(doc.type === 'brewery' ? [row.id] : [doc.brewery_id, row.id]);
    }
  });

  it('viewQuery passes key ranges, keys, descending order and skip', async () => {
    const first = breweries.map((b) => b.id).sort(new Intl.Collator('en').compare)[0];
    const range = await bucket.viewQuery('beer', 'brewery_beers', { range: { start: [first], end: [first, {}] as any }, order: couchbase.ViewOrdering.Ascending });
    const beersOfFirst = docs.filter((d) => (d.value as any).brewery_id === first).length;
    expect(range.rows).to.have.length(1 + beersOfFirst);
    const keyed = await bucket.viewQuery('beer', 'brewery_beers', { keys: [[breweries[3].id], [breweries[1].id]] as any });
    expect(keyed.rows.map((r) => r.id)).to.deep.equal([breweries[3].id, breweries[1].id]);
    const desc = await bucket.viewQuery('beer', 'brewery_beers', { order: couchbase.ViewOrdering.Descending, limit: 3, skip: 1 });
    const asc = await bucket.viewQuery('beer', 'brewery_beers', {});
    expect(desc.rows.map((r) => r.id)).to.deep.equal(asc.rows.slice(-4, -1).reverse().map((r) => r.id));
  });

  it('viewQuery reduces and groups', async () => {
    const total = await bucket.viewQuery('beer', 'by_location', {});
    expect(total.rows).to.have.length(1);
    expect(total.rows[0].value).to.equal(breweries.length);
    const byCountry = await bucket.viewQuery('beer', 'by_location', { groupLevel: 1 });
    const expected = new Map<string, number>();
    for (const b of breweries) expected.set((b.value as any).country, (expected.get((b.value as any).country) ?? 0) + 1);
    expect(Object.fromEntries(byCountry.rows.map((r) => [r.key[0], r.value]))).to.deep.equal(Object.fromEntries(expected));
  });

  it('sees a document written through the SDK with request_plus consistency', async () => {
    await bucket.defaultCollection().upsert('zz_new_brewery', { type: 'brewery', name: 'New', country: 'Nowhere' });
    const res = await bucket.viewQuery('beer', 'brewery_beers', { key: ['zz_new_brewery'] as any, scanConsistency: couchbase.ViewScanConsistency.RequestPlus });
    expect(res.rows.map((r) => r.id)).to.deep.equal(['zz_new_brewery']);
  });

  it('maps a missing view to DesignDocumentNotFoundError and a bad parameter to InvalidArgumentError', async () => {
    let err: unknown;
    try {
      await bucket.viewQuery('beer', 'no_such_view', {});
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(couchbase.DesignDocumentNotFoundError);
    err = undefined;
    try {
      await bucket.viewQuery('beer', 'brewery_beers', { group: true });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(couchbase.InvalidArgumentError);
  });
});
