import { expect } from 'chai';
import { Engine } from '../../lib/engine/engine';
import { DEFAULT_FEATURES, FakeCluster } from './helpers/fake-kv';
import { HelloFeature } from '../../lib/protocol/hello';
import { startFakeHttp, type FakeHttp } from './helpers/fake-http';
import { connect, close, run } from './helpers/engine';
import { N1QLQuery, CONSISTENCY_REQUEST } from '../../lib/engine/services/n1ql';
import { encodeViewQuery, ViewQuery } from '../../lib/engine/services/views';
import { N1QLError, NetworkError, CancelledError, ViewError, ArgumentError, TimeoutError, type CouchbaseError } from '../../lib/engine/errors';
import type { RowsHandler, StreamControl } from '../../lib/engine/services/stream';
import type { ValueResult } from '../../lib/engine/results';

const AUTH = { username: 'Administrator', password: 'password' };
const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Collected {
  batches: unknown[][];
  meta?: Record<string, unknown>;
  error?: CouchbaseError;
}

function collect(start: (h: RowsHandler) => StreamControl): Promise<Collected> & { control: StreamControl } {
  const out: Collected = { batches: [] };
  let control!: StreamControl;
  const p = new Promise<Collected>((resolve) => {
    control = start({
      onRows: (rows) => out.batches.push(rows),
      onDone: (meta) => {
        out.meta = meta;
        resolve(out);
      },
      onError: (err) => {
        out.error = err;
        resolve(out);
      },
    });
  }) as Promise<Collected> & { control: StreamControl };
  p.control = control;
  return p;
}

describe('engine N1QL and views streams (scripted HTTP peer)', () => {
  let cluster: FakeCluster;
  let svc: FakeHttp;
  let engine: Engine;
  let respond: (res: import('node:http').ServerResponse, body: string, url: string) => void;

  beforeEach(async () => {
    // DUPLEX + clustermap notifications on top of the default features: tests push maps (pushMap).
    cluster = await FakeCluster.start({ features: [...DEFAULT_FEATURES, HelloFeature.DUPLEX, HelloFeature.CLUSTERMAP_CHANGE_NOTIFICATION] });
    svc = await startFakeHttp((req, res, body) => respond(res, body, req.url!));
    cluster.extraServices[0] = { n1ql: svc.port, capi: svc.port };
    engine = new Engine(cluster.connectionString, AUTH);
    await connect(engine);
  });
  afterEach(async () => {
    await close(engine);
    await svc.close();
    await cluster.stop();
  });

  /** Pushes a cluster map to the engine (clustermap notifications) and waits until it adopted it. */
  function pushMap(text: string): Promise<void> {
    const adopted = new Promise<void>((resolve) => engine.once('config', () => resolve()));
    for (const n of cluster.nodes) for (const c of n.conns) if (c.pushEnabled) c.pushConfig(text);
    return adopted;
  }

  it('posts the query as JSON with its options and streams rows then meta', async () => {
    respond = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"requestID":"rq","signature":{"*":"*"},"results":[');
      res.write('{"a":1},{"a":2}');
      res.write(',{"a":3}],"status":"success","metrics":{"resultCount":3,"resultSize":1,"elapsedTime":"1ms","executionTime":"1ms"}}');
      res.end();
    };
    const q = new N1QLQuery('SELECT a FROM b WHERE x = $1 AND y = $y', 5);
    q.namedParams({ y: 'z' });
    q.consistency = CONSISTENCY_REQUEST;
    q.readonly = true;
    q.timeout = 3;
    q.clientContextId = 'ctx-1';
    const r = await collect((h) => engine.n1ql(q, h));
    expect(r.error).to.equal(undefined);
    expect(r.batches.flat()).to.deep.equal([{ a: 1 }, { a: 2 }, { a: 3 }]);
    expect(r.meta).to.include({ requestID: 'rq', status: 'success' });
    expect(r.meta!.signature).to.deep.equal({ '*': '*' });
    expect((r.meta!.metrics as Record<string, unknown>).resultCount).to.equal(3);
    const sent = svc.requests[0];
    expect(sent.method).to.equal('POST');
    expect(sent.url).to.equal('/query/service');
    expect(sent.headers['content-type']).to.equal('application/json');
    expect(sent.headers.authorization).to.equal('Basic ' + Buffer.from('Administrator:password').toString('base64'));
    expect(JSON.parse(sent.body)).to.deep.equal({
      statement: 'SELECT a FROM b WHERE x = $1 AND y = $y',
      args: [5],
      $y: 'z',
      timeout: '3000ms',
      scan_consistency: 'request_plus',
      readonly: true,
      client_context_id: 'ctx-1',
    });
  });

  it('reports N1QL errors with the server code and message, meta attached', async () => {
    respond = (res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ requestID: 'e', errors: [{ code: 3000, msg: 'syntax error - at FORM' }], status: 'fatal', metrics: { resultCount: 0 } }));
    };
    const r = await collect((h) => engine.n1ql('SELEC 1', h));
    expect(r.error).to.be.instanceOf(N1QLError);
    const e = r.error as N1QLError;
    expect(e.code).to.equal(3000);
    expect(e.msg).to.equal('syntax error - at FORM');
    expect(e.httpStatus).to.equal(400);
    expect(e.meta!.requestID).to.equal('e');
    expect(r.meta).to.equal(undefined);
  });

  it('reports a response cut off mid-row as NetworkError after the rows already delivered', async () => {
    respond = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"requestID":"x","results":[{"a":1},{"a":2},{"a":');
      setTimeout(() => res.socket!.destroy(), 20);
    };
    const r = await collect((h) => engine.n1ql('SELECT 1', h));
    expect(r.batches.flat()).to.deep.equal([{ a: 1 }, { a: 2 }]);
    expect(r.error).to.be.instanceOf(NetworkError);
    expect(r.error!.message).to.match(/cut off/);
  });

  it('reports a cleanly ended but incomplete body as NetworkError', async () => {
    respond = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"results":[{"a":1},{"b"');
    };
    const r = await collect((h) => engine.n1ql('SELECT 1', h));
    expect(r.error).to.be.instanceOf(NetworkError);
    expect(r.error!.message).to.match(/middle of row 2/);
  });

  it('pauses reading while paused and resumes', async () => {
    let finish!: () => void;
    respond = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"results":[{"n":1}');
      finish = () => res.end(',{"n":2}],"status":"success"}');
    };
    const out: unknown[] = [];
    let done = false;
    const control = engine.n1ql('SELECT n', {
      onRows: (rows) => out.push(...rows),
      onDone: () => (done = true),
      onError: (e) => {
        throw e;
      },
    });
    while (out.length === 0) await delay(5);
    control.pause();
    finish();
    await delay(60);
    expect(out).to.deep.equal([{ n: 1 }]);
    expect(done).to.equal(false);
    control.resume();
    while (!done) await delay(5);
    expect(out).to.deep.equal([{ n: 1 }, { n: 2 }]);
  });

  it('cancels a running query: the request is aborted and onError gets CancelledError once', async () => {
    respond = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"results":[{"n":1}');
    };
    const p = collect((h) => engine.n1ql('SELECT n', h));
    while (svc.requests.length === 0) await delay(5);
    await delay(20);
    p.control.cancel();
    p.control.cancel();
    const r = await p;
    expect(r.error).to.be.instanceOf(CancelledError);
    expect(p.control.done).to.equal(true);
  });

  it('times out a query that never answers', async () => {
    respond = () => {};
    const q = new N1QLQuery('SELECT 1');
    q.timeout = 0.1;
    const r = await collect((h) => engine.n1ql(q, h));
    expect(r.error).to.be.instanceOf(TimeoutError);
  });

  it('prepares once with adhoc=false and then executes the prepared name', async () => {
    cluster.bumpRev();
    const cfg = JSON.parse(cluster.config());
    cfg.clusterCapabilities = { n1ql: ['enhancedPreparedStatements'] };
    await pushMap(JSON.stringify(cfg));
    respond = (res, body) => {
      const b = JSON.parse(body);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ results: [{ ok: 1 }], status: 'success', ...(b.auto_execute ? { prepared: 'p-123' } : {}) }));
    };
    const q = new N1QLQuery('SELECT 1');
    q.adhoc = false;
    expect((await collect((h) => engine.n1ql(q, h))).batches.flat()).to.deep.equal([{ ok: 1 }]);
    expect((await collect((h) => engine.n1ql(q, h))).batches.flat()).to.deep.equal([{ ok: 1 }]);
    const bodies = svc.requests.map((r) => JSON.parse(r.body));
    expect(bodies[0]).to.include({ statement: 'PREPARE SELECT 1', auto_execute: true });
    expect(bodies[1]).to.include({ prepared: 'p-123' });
    expect(bodies[1].statement).to.equal(undefined);
  });

  it('prepares the legacy way (PREPARE row, then prepared + encoded_plan) without the capability', async () => {
    respond = (res, body) => {
      const b = JSON.parse(body);
      res.writeHead(200, { 'content-type': 'application/json' });
      if (typeof b.statement === 'string' && b.statement.startsWith('PREPARE ')) res.end(JSON.stringify({ results: [{ name: 'legacy-1', encoded_plan: 'PLAN' }], status: 'success' }));
      else res.end(JSON.stringify({ results: [{ v: b.prepared }], status: 'success' }));
    };
    const q = new N1QLQuery('SELECT 2');
    q.adhoc = false;
    const r = await collect((h) => engine.n1ql(q, h));
    expect(r.batches.flat()).to.deep.equal([{ v: 'legacy-1' }]);
    const bodies = svc.requests.map((x) => JSON.parse(x.body));
    expect(bodies[0].statement).to.equal('PREPARE SELECT 2');
    expect(bodies[1]).to.include({ prepared: 'legacy-1', encoded_plan: 'PLAN' });
  });

  it('re-prepares once when the server no longer knows the prepared statement', async () => {
    cluster.bumpRev();
    const cfg = JSON.parse(cluster.config());
    cfg.clusterCapabilities = { n1ql: ['enhancedPreparedStatements'] };
    await pushMap(JSON.stringify(cfg));
    let calls = 0;
    respond = (res, body) => {
      const b = JSON.parse(body);
      calls++;
      res.writeHead(b.prepared === 'old' ? 404 : 200, { 'content-type': 'application/json' });
      if (b.prepared === 'old') res.end(JSON.stringify({ errors: [{ code: 4050, msg: 'Unable to decode prepared statement' }], status: 'fatal' }));
      else res.end(JSON.stringify({ results: [1], status: 'success', prepared: calls < 2 ? 'old' : 'new' }));
    };
    const q = new N1QLQuery('SELECT 3');
    q.adhoc = false;
    await collect((h) => engine.n1ql(q, h)); // learns "old"
    const r = await collect((h) => engine.n1ql(q, h)); // "old" fails with 4050 -> PREPARE again
    expect(r.error).to.equal(undefined);
    expect(r.batches.flat()).to.deep.equal([1]);
    const bodies = svc.requests.map((x) => JSON.parse(x.body));
    expect(bodies.map((b) => b.prepared ?? b.statement)).to.deep.equal(['PREPARE SELECT 3', 'old', 'PREPARE SELECT 3']);
  });

  it('queries a view with encoded parameters and streams its rows', async () => {
    respond = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"total_rows":2,"rows":[{"id":"d1","key":["a",1],"value":null},{"id":"d2","key":["b",2],"value":3}]}');
    };
    const r = await collect((h) => engine.view('beer', 'by_name', { startkey: ['a'], endkey: ['b', {}], limit: 10, stale: false, inclusive_end: true, startkey_docid: 'd0' }, h));
    expect(r.batches.flat()).to.deep.equal([
      { id: 'd1', key: ['a', 1], value: null },
      { id: 'd2', key: ['b', 2], value: 3 },
    ]);
    expect(r.meta).to.deep.equal({ total_rows: 2 });
    const url = new URL(svc.requests[0].url, 'http://x');
    expect(url.pathname).to.equal('/default/_design/beer/_view/by_name');
    expect(url.searchParams.get('startkey')).to.equal('["a"]');
    expect(url.searchParams.get('endkey')).to.equal('["b",{}]');
    expect(url.searchParams.get('stale')).to.equal('false');
    expect(url.searchParams.get('startkey_docid')).to.equal('d0');
  });

  it('sends keys in a POST body and reads development views', async () => {
    respond = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"rows":[]}');
    };
    await collect((h) => engine.view('beer', 'v', { keys: ['x', 2], development: true }, h));
    expect(svc.requests[0].method).to.equal('POST');
    expect(svc.requests[0].url).to.equal('/default/_design/dev_beer/_view/v');
    expect(JSON.parse(svc.requests[0].body)).to.deep.equal({ keys: ['x', 2] });
  });

  it('fetches documents over KV for include_docs', async () => {
    await run(engine, 'upsert', 'd1', { value: { name: 'one' } });
    respond = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"total_rows":2,"rows":[{"id":"d1","key":1,"value":null},{"id":"gone","key":2,"value":null}]}');
    };
    const r = await collect((h) => engine.view('d', 'v', { include_docs: true }, h));
    const rows = r.batches.flat() as Array<{ id: string; doc: ValueResult }>;
    expect(rows[0].doc.value).to.deep.equal({ name: 'one' });
    expect(rows[1].doc.success).to.equal(false);
    expect(r.meta).to.deep.equal({ total_rows: 2 });
  });

  it('reports view errors with error and reason', async () => {
    respond = (res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not_found","reason":"missing_named_view"}');
    };
    const r = await collect((h) => engine.view('d', 'nope', {}, h));
    expect(r.error).to.be.instanceOf(ViewError);
    const e = r.error as ViewError;
    expect(e.httpStatus).to.equal(404);
    expect(e.error).to.equal('not_found');
    expect(e.reason).to.equal('missing_named_view');
  });
});

describe('engine stream argument errors', () => {
  it('reports bad view parameters through onError, asynchronously', async () => {
    const engine = new Engine('couchbase://127.0.0.1:1/default', AUTH);
    let returned = false;
    const err = await new Promise<{ e: CouchbaseError; early: boolean }>((resolve) => {
      engine.view('d', 'v', { limt: 3 } as never, { onRows() {}, onDone() {}, onError: (e) => resolve({ e, early: !returned }) });
      returned = true;
    });
    expect(err.early).to.equal(false);
    expect(err.e).to.be.instanceOf(ArgumentError);
    expect(err.e.message).to.match(/limt/);
    const q = await collect((h) => engine.n1ql('  ', h));
    expect(q.error).to.be.instanceOf(ArgumentError);
    await close(engine);
  });
});

describe('engine view query encoding', () => {
  it('JSON-encodes keys and ranges, and passes docids and flags as text', () => {
    const e = encodeViewQuery({ key: 'k', group_level: 2, reduce: true, skip: 3, descending: true, endkey_docid: 'z', on_error: 'stop', full_set: true, debug: false, connection_timeout: 500 });
    expect(e.query).to.equal('key=%22k%22&group_level=2&reduce=true&skip=3&descending=true&endkey_docid=z&on_error=stop&full_set=true&debug=false&connection_timeout=500');
    expect(encodeViewQuery({ stale: 'update_after', groupLevel: 1, includeDocs: true }).query).to.equal('stale=update_after&group_level=1');
  });

  it('keeps a ViewQuery object validated as options change', () => {
    const q = new ViewQuery('beer', 'by_name', { limit: 5 });
    q.update({ descending: true, limit: undefined });
    expect(q.options).to.deep.equal({ descending: true });
    expect(q.encoded).to.equal('descending=true');
    expect(() => q.update({ skip: -2 })).to.throw(ArgumentError);
    expect(q.options).to.deep.equal({ descending: true });
  });

  it('names a bad parameter', () => {
    expect(() => encodeViewQuery({ limt: 1 } as never)).to.throw(ArgumentError, /unknown view parameter "limt"/);
    expect(() => encodeViewQuery({ limit: -1 })).to.throw(ArgumentError, /limit/);
    expect(() => encodeViewQuery({ stale: 'sometimes' as never })).to.throw(ArgumentError, /stale/);
    expect(() => encodeViewQuery({ key: 1, keys: [1] })).to.throw(ArgumentError, /cannot be combined/);
    expect(() => encodeViewQuery({ startkey: 1, startKey: 2 })).to.throw(ArgumentError, /twice/);
  });
});
