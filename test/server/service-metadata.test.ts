import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import sinon from 'sinon';
import { Cluster } from '../../lib/server';

const AUTH = 'Basic ' + Buffer.from('Administrator:password').toString('base64');

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
}

function call(port: number, method: string, urlPath: string, body?: unknown, form = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : form ? new URLSearchParams(body as Record<string, string>).toString() : JSON.stringify(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: urlPath,
        agent: false,
        headers: {
          authorization: AUTH,
          ...(payload === undefined ? {} : { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Runs a N1QL statement on node 0; returns the result rows, or throws with the errors. */
async function n1ql(cluster: Cluster, statement: string): Promise<any[]> {
  const r = await call(cluster.nodes[0].ports.n1ql!, 'POST', '/query/service', { statement }, true);
  if (r.body.status !== 'success') throw Object.assign(new Error(JSON.stringify(r.body.errors)), { errors: r.body.errors });
  return r.body.results;
}

function scansOf(plan: unknown): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const walk = (x: any): void => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') {
      if (typeof x['#operator'] === 'string' && /Scan/.test(x['#operator'])) out.push([x['#operator'], x.index]);
      Object.values(x).forEach(walk);
    }
  };
  walk(plan);
  return out;
}

const DDOC = { views: { by_city: { map: 'function (doc, meta) { if (doc.city) emit(doc.city, doc.name); }' } } };

function seed(cluster: Cluster): void {
  const store = cluster.bucket('default');
  const people = [
    ['p1', 'Ann', 'Paris', 31],
    ['p2', 'Bob', 'Lyon', 45],
    ['p3', 'Cid', 'Paris', 27],
    ['p4', 'Dee', 'Nice', 52],
  ] as const;
  for (const [id, name, city, age] of people) store.write(id, Buffer.from(JSON.stringify({ name, city, age })), 'upsert');
}

async function viewRows(cluster: Cluster, query = 'stale=false'): Promise<Reply> {
  return call(cluster.nodes[0].ports.capi!, 'GET', `/default/_design/people/_view/by_city?${query}`);
}

describe('service metadata (design documents, index definitions) across restarts', function () {
  this.timeout(20000);
  let dir: string;
  const running: Cluster[] = [];
  const start = async (onDisk = true): Promise<Cluster> => {
    const c = await Cluster.start({ dataDir: onDisk ? dir : undefined, numVBuckets: 16 });
    running.push(c);
    return c;
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-meta-'));
  });
  afterEach(async () => {
    sinon.restore();
    await Promise.all(running.splice(0).map((c) => c.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a design document, a secondary and a primary index work after a restart without being created again', async () => {
    const a = await start();
    seed(a);
    expect((await call(a.nodes[0].ports.capi!, 'PUT', '/default/_design/people', DDOC)).status).to.equal(201);
    const rev = (await call(a.nodes[0].ports.capi!, 'GET', '/default/_design/people')).headers['x-couchbase-meta'];
    await n1ql(a, 'CREATE INDEX ix_city ON default(city) WHERE age > 0');
    await n1ql(a, 'CREATE PRIMARY INDEX ON default');
    const ids = (await n1ql(a, 'SELECT RAW id FROM system:indexes ORDER BY name')) as string[];
    await a.stop();

    const b = await start();
    // Written while stopped is not the point; documents come back from the log, definitions from the metadata.
    const view = await viewRows(b);
    expect(view.status).to.equal(200);
    expect(view.body.rows.map((r: any) => [r.key, r.id, r.value])).to.deep.equal([
      ['Lyon', 'p2', 'Bob'],
      ['Nice', 'p4', 'Dee'],
      ['Paris', 'p1', 'Ann'],
      ['Paris', 'p3', 'Cid'],
    ]);
    expect((await call(b.nodes[0].ports.capi!, 'GET', '/default/_design/people')).headers['x-couchbase-meta']).to.equal(rev);

    const [explained] = await n1ql(b, 'EXPLAIN SELECT RAW name FROM default WHERE city = "Paris" AND age > 0');
    expect(scansOf(explained.plan)).to.deep.equal([['IndexScan3', 'ix_city']]);
    expect(await n1ql(b, 'SELECT RAW name FROM default WHERE city = "Paris" AND age > 0 ORDER BY name')).to.deep.equal(['Ann', 'Cid']);
    const [primaryPlan] = await n1ql(b, 'EXPLAIN SELECT RAW META().id FROM default');
    expect(scansOf(primaryPlan.plan)).to.deep.equal([['PrimaryScan3', '#primary']]);
    expect(await n1ql(b, 'SELECT RAW META().id FROM default')).to.deep.equal(['p1', 'p2', 'p3', 'p4']);
    expect(await n1ql(b, 'SELECT RAW id FROM system:indexes ORDER BY name')).to.deep.equal(ids);

    // The restored indexes keep following mutations.
    b.bucket('default').write('p5', Buffer.from('{"name":"Eve","city":"Paris","age":19}'), 'upsert');
    expect(await n1ql(b, 'SELECT RAW name FROM default WHERE city = "Paris" AND age > 0 ORDER BY name')).to.deep.equal(['Ann', 'Cid', 'Eve']);
    expect((await viewRows(b, 'stale=false&key="Paris"')).body.rows.map((r: any) => r.id)).to.deep.equal(['p1', 'p3', 'p5']);
  });

  it('a deferred index stays deferred until BUILD INDEX, and built after that, across restarts', async () => {
    const a = await start();
    seed(a);
    await n1ql(a, 'CREATE INDEX ix_age ON default(age DESC, (distinct (array c for c in [city] end))) WITH {"defer_build": true}');
    await a.stop();

    const b = await start();
    expect(await n1ql(b, 'SELECT name, state, index_key FROM system:indexes')).to.deep.equal([
      { name: 'ix_age', state: 'deferred', index_key: ['`age` DESC', '(distinct (array `c` for `c` in [`city`] end))'] },
    ]);
    await n1ql(b, 'BUILD INDEX ON default(ix_age)');
    await b.stop();

    const c = await start();
    expect(await n1ql(c, 'SELECT RAW state FROM system:indexes')).to.deep.equal(['online']);
    const [explained] = await n1ql(c, 'EXPLAIN SELECT RAW name FROM default WHERE age > 40');
    expect(scansOf(explained.plan)).to.deep.equal([['IndexScan3', 'ix_age']]);
    expect(await n1ql(c, 'SELECT RAW name FROM default WHERE age > 40 ORDER BY name')).to.deep.equal(['Bob', 'Dee']);
  });

  it('DROP INDEX and DELETE of a design document are remembered too', async () => {
    const a = await start();
    seed(a);
    await call(a.nodes[0].ports.capi!, 'PUT', '/default/_design/people', DDOC);
    await n1ql(a, 'CREATE INDEX ix_city ON default(city)');
    await n1ql(a, 'CREATE INDEX ix_name ON default(name)');
    await n1ql(a, 'DROP INDEX ix_city ON default');
    expect((await call(a.nodes[0].ports.capi!, 'DELETE', '/default/_design/people')).status).to.equal(200);
    await a.stop();

    const b = await start();
    expect(await n1ql(b, 'SELECT RAW name FROM system:indexes')).to.deep.equal(['ix_name']);
    const gone = await call(b.nodes[0].ports.capi!, 'GET', '/default/_design/people');
    expect([gone.status, gone.body]).to.deep.equal([404, { error: 'not_found', reason: 'deleted' }]);
    // The name can be used again, with a newer revision than before the delete.
    expect((await call(b.nodes[0].ports.capi!, 'PUT', '/default/_design/people', DDOC)).status).to.equal(201);
    const meta = JSON.parse(String((await call(b.nodes[0].ports.capi!, 'GET', '/default/_design/people')).headers['x-couchbase-meta']));
    expect(parseInt(meta.rev, 10)).to.equal(3);
  });

  it('when the definition cannot be written, CREATE INDEX fails and nothing is created', async () => {
    const a = await start();
    seed(a);
    sinon.stub(fs, 'renameSync').throws(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
    const err = await n1ql(a, 'CREATE INDEX ix_city ON default(city)').catch((e: { errors: unknown }) => e);
    expect(JSON.stringify((err as { errors: unknown }).errors)).to.match(/ENOSPC/);
    const put = await call(a.nodes[0].ports.capi!, 'PUT', '/default/_design/people', DDOC);
    expect(put.status).to.equal(500);
    sinon.restore();
    expect(await n1ql(a, 'SELECT RAW name FROM system:indexes')).to.deep.equal([]);
    expect((await call(a.nodes[0].ports.capi!, 'GET', '/default/_design/people')).status).to.equal(404);
    await n1ql(a, 'CREATE INDEX ix_city ON default(city)');
    await a.stop();
    const b = await start();
    expect(await n1ql(b, 'SELECT RAW name FROM system:indexes')).to.deep.equal(['ix_city']);
  });

  it('without a dataDir the definitions live in memory and nothing is written to disk', async () => {
    const opens = sinon.spy(fs, 'openSync');
    const writes = sinon.spy(fs, 'writeFileSync');
    const a = await start(false);
    seed(a);
    await call(a.nodes[0].ports.capi!, 'PUT', '/default/_design/people', DDOC);
    await n1ql(a, 'CREATE INDEX ix_city ON default(city)');
    await n1ql(a, 'CREATE PRIMARY INDEX ON default');
    expect((await viewRows(a)).body.rows).to.have.length(4);
    expect(await n1ql(a, 'SELECT RAW name FROM system:indexes ORDER BY name')).to.deep.equal(['#primary', 'ix_city']);
    expect(opens.called, 'fs.openSync called').to.equal(false);
    expect(writes.called, 'fs.writeFileSync called').to.equal(false);
    expect(fs.readdirSync(dir)).to.deep.equal([]);
    // Kept in the bucket's metadata all the same (a fresh cluster starts empty, as its documents do).
    expect(a.bucket('default').metadata.get('n1ql.indexes')).to.have.length(2);
    const b = await start(false);
    expect(await n1ql(b, 'SELECT RAW name FROM system:indexes')).to.deep.equal([]);
  });

  it('bucket metadata hands out copies and refuses values that are not JSON', async () => {
    const a = await start();
    const meta = a.bucket('default').metadata;
    const value = { list: [1, 2] };
    meta.set('x', value);
    value.list.push(3);
    (meta.get('x') as typeof value).list.push(4);
    expect(meta.get('x')).to.deep.equal({ list: [1, 2] });
    expect(() => meta.set('f', () => 1)).to.throw(TypeError);
    meta.set('x', undefined);
    expect(meta.get('x')).to.equal(undefined);
    meta.set('y', 'kept');
    await a.stop();
    const b = await start();
    expect([b.bucket('default').metadata.get('x'), b.bucket('default').metadata.get('y')]).to.deep.equal([undefined, 'kept']);
  });
});
