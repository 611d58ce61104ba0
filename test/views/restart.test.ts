// Restarts with design documents that fail: the cluster always comes up, keeps every design
// document, lists the failed ones with their reason, and builds indexes in the background.
import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Cluster } from '../../lib/server';
import { createViewsServiceWith, designDocStatus, putDesignDoc } from '../../lib/server/views';
import { VIEWS_METADATA } from '../../lib/server/views/bucket-views';
import { AUTH } from './helpers';

function get(port: number, urlPath: string): Promise<{ status: number; json: any; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: urlPath, agent: false, headers: { authorization: AUTH } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text), ms: Date.now() - started }));
      })
      .on('error', reject);
  });
}

function put(port: number, urlPath: string, body: unknown): Promise<number> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: 'PUT', path: urlPath, agent: false, headers: { authorization: AUTH, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const GOOD = { views: { by_n: { map: 'function (doc) { if (doc.n !== undefined) emit(doc.n, null); }' } } };
const BROKEN = { views: { v: { map: 'function (doc) { emit(doc.n }' } } };

describe('views: restarts with design documents that fail', function () {
  this.timeout(60000);
  let dir: string;
  const running: Cluster[] = [];
  const start = async (viewsOptions = { timeoutMs: 200, maxTimeouts: 2 }): Promise<Cluster> => {
    const c = await Cluster.start({ dataDir: dir, numVBuckets: 16, queryService: null, viewsService: createViewsServiceWith(viewsOptions) });
    running.push(c);
    return c;
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-views-restart-'));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('comes up with a stored design document that no longer validates, one whose map is not a function and one that spins; all are kept, the failed ones listed with their reason', async () => {
    const a = await start();
    const store = a.bucket('default');
    for (let i = 0; i < 10; i++) store.write(`d${i}`, Buffer.from(JSON.stringify({ n: i })), 'upsert');
    const capi = a.nodes[0].ports.capi!;
    expect(await put(capi, '/default/_design/good', GOOD)).to.equal(201);
    expect(await put(capi, '/default/_design/spin', { views: { v: { map: 'function (doc) { while (true) {} }' } } })).to.equal(201);
    putDesignDoc(store, 'notfn', { views: { v: { map: '42' } } });
    // A design document kept by an earlier version that the current validation refuses.
    const saved = store.metadata.get(VIEWS_METADATA) as { designDocs: Record<string, unknown> };
    saved.designDocs.broken = { rev: '1-0000abcd', json: BROKEN };
    store.metadata.set(VIEWS_METADATA, saved);
    await a.stop();

    const b = await start();
    const port = b.nodes[0].ports.capi!;
    const mgmt = b.nodes[0].ports.mgmt;
    const good = await get(port, '/default/_design/good/_view/by_n?stale=false&limit=2');
    expect(good.json).to.deep.equal({ total_rows: 10, rows: [{ id: 'd0', key: 0, value: null }, { id: 'd1', key: 1, value: null }] });
    expect((await get(port, '/default/_design/broken')).json).to.deep.equal(BROKEN);
    const broken = await get(port, '/default/_design/broken/_view/v');
    expect(broken.status).to.equal(200);
    expect(broken.json.errors).to.deep.equal([
      { from: 'local', reason: "design document `_design/broken` failed: Syntax error in the map function of the view `v': SyntaxError: missing ) after argument list" },
    ]);
    const spin = await get(port, '/default/_design/spin/_view/v?stale=false');
    expect(spin.json.errors[0].reason).to.equal('design document `_design/spin` failed: its map functions ran past the time limit of 200 ms on 2 documents');

    const listing = await get(mgmt, '/pools/default/buckets/default/ddocs');
    const failures = Object.fromEntries(listing.json.rows.map((r: any) => [r.doc.meta.id, r.failure?.reason ?? null]));
    expect(failures).to.deep.equal({
      '_design/broken': "design document `_design/broken` failed: Syntax error in the map function of the view `v': SyntaxError: missing ) after argument list",
      '_design/good': null,
      '_design/notfn': "design document `_design/notfn` failed: Syntax error in the map function of the view `v': Invalid function: 42",
      '_design/spin': 'design document `_design/spin` failed: its map functions ran past the time limit of 200 ms on 2 documents',
    });
    expect(listing.json.rows.find((r: any) => r.doc.meta.id === '_design/broken').doc.meta.rev).to.equal('1-0000abcd');

    // Still stored: a second restart brings every one of them back.
    await b.stop();
    const c = await start();
    const again = await get(c.nodes[0].ports.mgmt, '/pools/default/buckets/default/ddocs');
    expect(again.json.rows.map((r: any) => r.doc.meta.id).sort()).to.deep.equal(['_design/broken', '_design/good', '_design/notfn', '_design/spin']);
  });

  it('builds restored indexes in the background: the cluster answers while they build, and a query waits for its index', async () => {
    const a = await start();
    const store = a.bucket('default');
    for (let i = 0; i < 400; i++) store.write(`d${i}`, Buffer.from(JSON.stringify({ n: i })), 'upsert');
    // About 5 ms a document: a build of ~2 s, in one batch of the sandbox.
    const slow = { views: { v: { map: 'function (doc) { var t = Date.now(); while (Date.now() - t < 5) {} emit(doc.n, null); }' } } };
    expect(await put(a.nodes[0].ports.capi!, '/default/_design/slow', slow)).to.equal(201);
    await a.stop();

    const started = Date.now();
    const b = await start({ timeoutMs: 20000, maxTimeouts: 2 });
    expect(Date.now() - started).to.be.below(1500);
    expect(designDocStatus(b.bucket('default'), 'slow')?.state).to.equal('building');
    const mgmt = await get(b.nodes[0].ports.mgmt, '/pools/default');
    expect(mgmt.status).to.equal(200);
    // A build on the event loop would hold this answer for most of its two seconds.
    expect(mgmt.ms).to.be.below(1000);
    const view = await get(b.nodes[0].ports.capi!, '/default/_design/slow/_view/v?stale=ok&limit=1');
    expect(view.json).to.deep.equal({ total_rows: 400, rows: [{ id: 'd0', key: 0, value: null }] });
    expect(designDocStatus(b.bucket('default'), 'slow')?.state).to.equal('ready');
  });
});
