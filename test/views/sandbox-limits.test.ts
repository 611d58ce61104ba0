// Design documents cannot crash or block the server: their functions run in a sandbox thread
// per design document, under a time limit and a memory limit, without the globals that would run
// code outside those limits. A design document whose functions break a limit fails on its own.
import { expect } from 'chai';
import http from 'node:http';
import { Cluster } from '../../lib/server';
import { Opcode, Status, vbucketOf } from '../../lib/protocol';
import { createViewsServiceWith, designDocStatus, designDocsListing, putDesignDoc, viewMapErrors, waitForIndexes } from '../../lib/server/views';
import { bucketViews } from '../../lib/server/views/bucket-views';
import { RawClient } from '../server/raw-client';
import { AUTH, putDesign, query, startViewsServer, type ViewsServer } from './helpers';

const SPIN = 'function (doc) { while (true) {} }';

/** Queries a view until `done(reply)` or the deadline; for values a sandbox sets asynchronously. */
async function poll(s: ViewsServer, ddoc: string, view: string, done: (json: any) => boolean, ms = 5000): Promise<any> {
  const deadline = Date.now() + ms;
  for (let i = 0; ; i++) {
    s.putDoc(`poke-${i}`, { poke: i });
    const r = await query(s, ddoc, view, { stale: 'false' });
    if (done(r.json) || Date.now() > deadline) return r.json;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('views: design documents cannot crash or block the server', function () {
  this.timeout(30000);
  let s: ViewsServer;
  afterEach(() => s?.close());

  it('a map that spins on every document fails its design document; the reason shows in errors, debug_info, the ddocs listing and designDocStatus', async () => {
    s = await startViewsServer({ options: { timeoutMs: 100, maxTimeouts: 2 } });
    for (let i = 0; i < 20; i++) s.putDoc(`d${i}`, { n: i });
    await putDesign(s, 'spin', { v: { map: SPIN } });
    await putDesign(s, 'fine', { v: { map: 'function (doc) { emit(doc.n, null); }' } });

    const r = await query(s, 'spin', 'v', { debug: 'true' });
    expect(r.status).to.equal(200);
    expect(r.json.rows).to.deep.equal([]);
    const reason = 'design document `_design/spin` failed: its map functions ran past the time limit of 100 ms on 2 documents';
    expect(r.json.errors).to.deep.equal([{ from: 'local', reason }]);
    expect(r.json.debug_info.local.failure).to.equal(reason);
    expect(viewMapErrors(s.store, 'spin').recent.map((e) => e.reason)).to.deep.equal(['timeout', 'timeout']);

    const status = designDocStatus(s.store, 'spin');
    expect(status).to.deep.include({ state: 'failed', reason });
    const row = designDocsListing(s.store).rows.find((x: any) => x.doc.meta.id === '_design/spin') as any;
    expect(row.failure.reason).to.equal(reason);
    expect(Date.parse(row.failure.since)).to.be.closeTo(Date.now(), 30000);
    const listing = await s.request('GET', '/pools/default/buckets/b/ddocs');
    expect(listing.json.rows.find((x: any) => x.doc.meta.id === '_design/spin').failure.reason).to.equal(reason);
    expect(listing.json.rows.find((x: any) => x.doc.meta.id === '_design/fine').failure).to.equal(undefined);

    // The failed design document stays stored; the others carry on.
    expect((await s.request('GET', '/b/_design/spin')).json).to.deep.equal({ views: { v: { map: SPIN } } });
    expect((await query(s, 'fine', 'v')).json.total_rows).to.equal(20);

    // A new revision with working functions replaces it.
    await putDesign(s, 'spin', { v: { map: 'function (doc) { emit(doc.n, 1); }' } });
    const fixed = await query(s, 'spin', 'v', { limit: 1 });
    expect(fixed.json).to.deep.equal({ total_rows: 20, rows: [{ id: 'd0', key: 0, value: 1 }] });
    expect(designDocStatus(s.store, 'spin')?.state).to.equal('ready');
  });

  it('a map past the memory limit fails its design document alone', async () => {
    s = await startViewsServer({ options: { memoryLimitMb: 32, timeoutMs: 10000 } });
    for (let i = 0; i < 5; i++) s.putDoc(`d${i}`, { n: i });
    await putDesign(s, 'hog', { v: { map: 'function (doc) { var keep = []; for (var i = 0; ; i++) keep[i] = "x".repeat(100000) + i; }' } });
    await putDesign(s, 'fine', { v: { map: 'function (doc) { emit(doc.n, null); }' } });
    const r = await query(s, 'hog', 'v');
    expect(r.status).to.equal(200);
    expect(r.json.errors).to.deep.equal([{ from: 'local', reason: 'design document `_design/hog` failed: its functions used more than the memory limit of 32 MB' }]);
    expect(designDocStatus(s.store, 'hog')?.state).to.equal('failed');
    expect((await query(s, 'fine', 'v')).json.total_rows).to.equal(5);
  });

  it('a custom reduce past the time limit reports a timeout for its group; past the memory limit it fails the design document', async () => {
    const views = {
      slow: { map: 'function (doc) { emit(doc.g, doc.n); }', reduce: 'function (k, v, re) { if (v.length > 2) { while (true) {} } return sum(v); }' },
      hog: { map: 'function (doc) { emit(doc.g, doc.n); }', reduce: 'function (k, v, re) { var keep = []; for (var i = 0; ; i++) keep[i] = "y".repeat(100000) + i; }' },
    };
    s = await startViewsServer({ options: { timeoutMs: 300 } });
    for (let i = 0; i < 5; i++) s.putDoc(`d${i}`, { n: i, g: i % 2 });
    await putDesign(s, 'r', { slow: views.slow });
    const slow = await query(s, 'r', 'slow', { group: 'true' });
    expect(slow.json.rows).to.deep.equal([{ key: 1, value: 4 }]);
    expect(slow.json.errors).to.deep.equal([{ from: 'local', reason: 'timeout' }]);
    await s.close();

    s = await startViewsServer({ options: { timeoutMs: 10000, memoryLimitMb: 32 } });
    for (let i = 0; i < 5; i++) s.putDoc(`d${i}`, { n: i, g: i % 2 });
    await putDesign(s, 'r', { hog: views.hog });
    const hog = await query(s, 'r', 'hog', { group: 'true' });
    expect(hog.json.rows).to.deep.equal([]);
    expect(hog.json.errors).to.deep.equal([{ from: 'local', reason: 'design document `_design/r` failed: its functions used more than the memory limit of 32 MB' }]);
    expect(designDocStatus(s.store, 'r')?.state).to.equal('failed');
  });

  it('has no timers, weak references, finalizers, Atomics, shared or off-heap memory (array buffers, WebAssembly, Intl), eval, Function, require, process or console', async () => {
    s = await startViewsServer({ options: { timeoutMs: 500 } });
    s.putDoc('x', {});
    const names = [
      'setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'clearTimeout', 'FinalizationRegistry', 'WeakRef', 'Atomics',
      'SharedArrayBuffer', 'ArrayBuffer', 'Uint8Array', 'Float64Array', 'DataView', 'WebAssembly', 'eval', 'require', 'process',
      'module', 'global', 'Buffer', 'console', 'fetch', 'structuredClone', 'MessageChannel', 'Intl',
    ];
    await putDesign(s, 'probe', {
      globals: { map: `function () { var out = {}; ${JSON.stringify(names)}.forEach(function (n) { out[n] = typeof globalThis[n]; }); emit('types', out); }` },
      codegen: {
        map: [
          'function (doc, meta) {',
          '  var tries = {',
          '    Function: function () { return Function("return this")(); },',
          '    viaMeta: function () { return meta.constructor.constructor("return 1")(); },',
          '    asyncFunction: function () { return Object.getPrototypeOf(async function () {}).constructor("return 1"); },',
          '    generator: function () { return Object.getPrototypeOf(function* () {}).constructor("yield 1"); },',
          '    errorConstructor: function () { try { null.x; } catch (e) { return e.constructor.constructor("return 1")(); } },',
          '  };',
          '  var out = {};',
          '  Object.keys(tries).forEach(function (k) { try { tries[k](); out[k] = "ran"; } catch (e) { out[k] = e.name; } });',
          '  emit("codegen", out);',
          '}',
        ].join('\n'),
      },
    });
    const types = (await query(s, 'probe', 'globals')).json.rows[0].value;
    expect(types).to.deep.equal(Object.fromEntries(names.map((n) => [n, 'undefined'])));
    const codegen = (await query(s, 'probe', 'codegen')).json.rows[0].value;
    expect(codegen).to.deep.equal({ Function: 'EvalError', viaMeta: 'EvalError', asyncFunction: 'EvalError', generator: 'EvalError', errorConstructor: 'EvalError' });
  });

  it('import() rejects with a plain string, never with an object of the thread that runs the sandbox', async () => {
    s = await startViewsServer();
    s.putDoc('a', {});
    await putDesign(s, 'imp', {
      v: {
        map: [
          'function (doc, meta) {',
          '  if (typeof leaked === "undefined") { leaked = null; import("node:fs").then(function (m) { leaked = m; }, function (e) { leaked = e; }); }',
          '  var escape;',
          '  try { escape = typeof leaked.constructor.constructor("return process")(); } catch (e) { escape = "threw " + e.name; }',
          '  emit(meta.id, [typeof leaked, String(leaked), escape]);',
          '}',
        ].join('\n'),
      },
    });
    const json = await poll(s, 'imp', 'v', (j) => j.rows.some((r: any) => r.value[0] !== 'object'));
    const seen = json.rows.find((r: any) => r.value[0] !== 'object').value;
    expect(seen).to.deep.equal(['string', 'import() is not available in design document functions', 'threw EvalError']);
  });

  it('a function that plants a setter for the timeout error’s code is stopped without taking the process down', async () => {
    s = await startViewsServer({ options: { timeoutMs: 100 } });
    for (let i = 0; i < 5; i++) s.putDoc(`d${i}`, { n: i, spin: i === 2 });
    await putDesign(s, 'trap', {
      v: {
        map: [
          'function (doc) {',
          '  var boom = function () { throw new Error("gotcha"); };',
          '  try { Object.defineProperty(Error.prototype, "code", { set: boom, configurable: true }); } catch (e) {}',
          '  try { Object.setPrototypeOf(Error.prototype, new Proxy({}, { set: boom, defineProperty: boom })); } catch (e) {}',
          '  try { Object.defineProperty(Object.prototype, "code", { set: boom, configurable: true }); } catch (e) {}',
          '  if (doc.spin) { while (true) {} }',
          '  emit(doc.n, null);',
          '}',
        ].join('\n'),
      },
    });
    const r = await query(s, 'trap', 'v');
    expect(r.json.rows.map((row: any) => row.key)).to.deep.equal([0, 1, 3, 4]);
    expect(viewMapErrors(s.store, 'trap').recent).to.deep.equal([{ docId: 'd2', view: 'v', reason: 'timeout' }]);
  });

  it('the REST API refuses a function that is not one, or whose definition runs past the time limit, without running it on the event loop', async () => {
    s = await startViewsServer({ options: { timeoutMs: 1000 } });
    const notFn = await s.request('PUT', '/b/_design/bad', { views: { v: { map: '"not " + "a function"' } } });
    expect(notFn.status).to.equal(400);
    expect(notFn.json).to.deep.equal({ error: 'invalid_design_document', reason: 'Syntax error in the map function of the view `v\': Invalid function: "not " + "a function"' });
    const started = Date.now();
    let maxGap = 0;
    let last = Date.now();
    const ticker = setInterval(() => {
      maxGap = Math.max(maxGap, Date.now() - last);
      last = Date.now();
    }, 5);
    const slow = await s.request('PUT', '/b/_design/bad', { views: { v: { map: '(function () { while (true) {} })() || function (doc) {}' } } });
    clearInterval(ticker);
    expect(slow.status).to.equal(400);
    expect(slow.json.reason).to.equal("Syntax error in the map function of the view `v': timeout");
    expect(Date.now() - started).to.be.at.least(1000);
    // Run on the event loop, the definition would have held it for the whole second.
    expect(maxGap).to.be.below(500);
    expect((await s.request('GET', '/b/_design/bad')).status).to.equal(404);
  });

  it('putDesignDoc stores a design document whose map is not a function as failed, with Couchbase’s reason', async () => {
    s = await startViewsServer();
    s.putDoc('a', { n: 1 });
    putDesignDoc(s.store, 'nf', { views: { v: { map: '42' } } });
    await waitForIndexes(s.store);
    const reason = "design document `_design/nf` failed: Syntax error in the map function of the view `v': Invalid function: 42";
    expect(designDocStatus(s.store, 'nf')).to.deep.include({ state: 'failed', reason });
    const r = await query(s, 'nf', 'v');
    expect(r.json).to.deep.equal({ total_rows: 0, rows: [], errors: [{ from: 'local', reason }] });
  });

  it('ends an idle sandbox thread and starts it again, functions compiled, on the next update', async () => {
    s = await startViewsServer({ options: { idleMs: 100 } });
    s.putDoc('a', { n: 1 });
    await putDesign(s, 'm', { v: { map: 'function (doc) { emit(doc.n, null); }', reduce: 'function (k, v) { return v.length; }' } });
    expect((await query(s, 'm', 'v')).json.rows).to.deep.equal([{ key: null, value: 1 }]);
    const sandbox = bucketViews(s.store).get('m')!.sandbox;
    expect(sandbox.running).to.equal(true);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(sandbox.running).to.equal(false);
    s.putDoc('b', { n: 2 });
    expect((await query(s, 'm', 'v', { reduce: 'false' })).json.rows.map((r: any) => r.key)).to.deep.equal([1, 2]);
    expect((await query(s, 'm', 'v')).json.rows).to.deep.equal([{ key: null, value: 2 }]);
    expect(sandbox.running).to.equal(true);
    expect(designDocStatus(s.store, 'm')?.state).to.equal('ready');
  });

  it('refuses limits that are not positive numbers, naming the option', () => {
    expect(() => createViewsServiceWith({ memoryLimitMb: 0 })).to.throw(TypeError, 'views option memoryLimitMb must be a positive number, got 0');
    expect(() => createViewsServiceWith({ timeoutMs: Number.NaN })).to.throw(TypeError, /timeoutMs/);
  });

  it('reports the rate of the last index build', async () => {
    s = await startViewsServer();
    for (let i = 0; i < 300; i++) s.putDoc(`d${i}`, { n: i });
    await putDesign(s, 'm', { v: { map: 'function (doc) { emit(doc.n, null); }' } });
    await waitForIndexes(s.store);
    const build = designDocStatus(s.store, 'm')?.build;
    expect(build?.docs).to.equal(300);
    expect(build?.docsPerSecond).to.be.greaterThan(0);
  });
});

function httpCall(port: number, method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path, agent: false, headers: { authorization: AUTH, ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('views: KV, N1QL and management keep answering while a map function spins', function () {
  this.timeout(60000);
  let cluster: Cluster;
  let kv: RawClient | undefined;
  afterEach(async () => {
    kv?.close();
    await cluster?.stop();
  });

  it('answers each of them within a fraction of the time limit a hostile map function spins for', async () => {
    const LIMIT_MS = 1500;
    cluster = await Cluster.start({ numVBuckets: 16, viewsService: createViewsServiceWith({ timeoutMs: LIMIT_MS, maxTimeouts: 2 }) });
    const store = cluster.bucket('default');
    for (let i = 0; i < 10; i++) store.write(`d${i}`, Buffer.from(JSON.stringify({ n: i })), 'upsert');
    const { kv: kvPort, n1ql, capi, mgmt } = cluster.nodes[0].ports;
    const put = await httpCall(capi!, 'PUT', '/default/_design/spin', JSON.stringify({ views: { v: { map: SPIN } } }));
    expect(put.status).to.equal(201);
    kv = await RawClient.connect(kvPort);
    await kv.login('Administrator', 'password', 'default');
    kv.numVBuckets = 16;

    const started = Date.now();
    const spinning = httpCall(capi!, 'GET', '/default/_design/spin/_view/v?stale=false');
    const latencies: Record<string, number[]> = { kv: [], n1ql: [], mgmt: [] };
    const timed = async (what: string, fn: () => Promise<void>) => {
      const t = Date.now();
      await fn();
      latencies[what].push(Date.now() - t);
    };
    while (Date.now() - started < 2 * LIMIT_MS) {
      await timed('kv', async () => {
        const p = await kv!.request({ opcode: Opcode.GET, key: 'd3', vbucket: vbucketOf('d3', 16) });
        expect(p.status).to.equal(Status.SUCCESS);
      });
      await timed('n1ql', async () => {
        const r = await httpCall(n1ql!, 'POST', '/query/service', 'statement=SELECT%201%20AS%20one');
        expect(JSON.parse(r.text).results).to.deep.equal([{ one: 1 }]);
      });
      await timed('mgmt', async () => {
        expect((await httpCall(mgmt, 'GET', '/pools/default')).status).to.equal(200);
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const view = await spinning;
    // The hostile query was still waiting while every other request was answered.
    expect(Date.now() - started).to.be.at.least(2 * LIMIT_MS);
    for (const [what, ms] of Object.entries(latencies)) {
      expect(ms.length, what).to.be.greaterThan(3);
      // On the event loop, the spinning map would hold every one of them for the whole limit.
      expect(Math.max(...ms), `${what} latencies ${ms.join(',')}`).to.be.below(LIMIT_MS * 0.6);
    }
    expect(JSON.parse(view.text).errors).to.deep.equal([
      { from: 'local', reason: `design document \`_design/spin\` failed: its map functions ran past the time limit of ${LIMIT_MS} ms on 2 documents` },
    ]);
  });
});
