// JavaScript user-defined functions cannot crash, block or escape the server: they run on
// sandbox threads with a heap limit, in hardened realms, under a per-call time limit the host
// enforces from outside. A hostile function fails only its own statement (10109), and KV and the
// query service keep answering while it spins. Creating, dropping and running functions needs
// Couchbase's function roles (13014 otherwise).
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cluster, createQueryServiceWith } from '../../lib/server';
import { Opcode, Status, vbucketOf } from '../../lib/protocol';
import { RawClient } from '../server/raw-client';

const LIMIT_MS = 1000;
const MEMORY_MB = 32;
const PASSWORD = 'function-pass';

const basic = (user: string, password = PASSWORD): string => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');

async function query(cluster: Cluster, statement: string, auth = basic('Administrator', 'password')): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${cluster.nodes[0].ports.n1ql}/query/service`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: auth },
    body: JSON.stringify({ statement }),
  });
  return res.json();
}

async function create(cluster: Cluster, name: string, code: string, params = ''): Promise<void> {
  const r = await query(cluster, `CREATE OR REPLACE FUNCTION ${name}(${params}) LANGUAGE JAVASCRIPT AS ${JSON.stringify(code)}`);
  expect(r.status, JSON.stringify(r.errors)).to.equal('success');
}

/** A one-node cluster whose query service runs JavaScript functions with `timeoutMs`, and a KV client on it. */
async function startCluster(timeoutMs: number): Promise<{ cluster: Cluster; kv: RawClient }> {
  const cluster = await Cluster.start({
    numVBuckets: 16,
    services: { n1ql: createQueryServiceWith({ javascriptTimeoutMs: timeoutMs, javascriptMemoryLimitMb: MEMORY_MB, javascriptThreads: 1 }) },
  });
  cluster.bucket('default').write('d3', Buffer.from('{"n":3}'), 'upsert');
  const kv = await RawClient.connect(cluster.nodes[0].ports.kv);
  await kv.login('Administrator', 'password', 'default');
  kv.numVBuckets = 16;
  return { cluster, kv };
}

/** Every own property of the objects a function would like to change in the server's realm. */
function snapshot(): Map<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  const roots: Record<string, object> = { 'Object.prototype': Object.prototype, 'Array.prototype': Array.prototype, 'Function.prototype': Function.prototype, JSON, Reflect, globalThis };
  for (const [name, obj] of Object.entries(roots)) {
    for (const key of Reflect.ownKeys(obj)) {
      const d = Object.getOwnPropertyDescriptor(obj, key)!;
      out.set(`${name}.${String(key)}`, [d.value, d.get, d.set]);
    }
  }
  return out;
}

describe('n1ql JavaScript functions: sandboxed, limited, and never in the way', function () {
  this.timeout(60000);
  let cluster: Cluster;
  let kv: RawClient | undefined;

  before(async () => {
    ({ cluster, kv } = await startCluster(LIMIT_MS));
  });

  after(async () => {
    kv?.close();
    await cluster?.stop();
  });

  it('runs a function of the CREATE FUNCTION reference, in an expression and through EXECUTE FUNCTION', async () => {
    await create(cluster, 'add100', 'function add100(param1) { return param1 + 100; }', 'num');
    expect((await query(cluster, 'EXECUTE FUNCTION add100(100)')).results).to.deep.equal([200]);
    expect((await query(cluster, 'SELECT RAW add100(n) FROM [1, 2, 3] AS n')).results).to.deep.equal([101, 102, 103]);
  });

  it('stops a function that spins at its limit (10109) while KV and other queries keep answering', async () => {
    await create(cluster, 'spin', 'function spin() { while (true) {} }');
    const started = Date.now();
    const spinning = query(cluster, 'EXECUTE FUNCTION spin()');
    const latencies: Record<string, number[]> = { kv: [], n1ql: [] };
    const timed = async (what: string, fn: () => Promise<void>): Promise<void> => {
      const t = Date.now();
      await fn();
      latencies[what].push(Date.now() - t);
    };
    while (Date.now() - started < LIMIT_MS * 0.9) {
      await timed('kv', async () => {
        const p = await kv!.request({ opcode: Opcode.GET, key: 'd3', vbucket: vbucketOf('d3', 16) });
        expect(p.status).to.equal(Status.SUCCESS);
      });
      await timed('n1ql', async () => {
        expect((await query(cluster, 'SELECT 1 AS one')).results).to.deep.equal([{ one: 1 }]);
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const r = await spinning;
    expect(Date.now() - started).to.be.at.least(LIMIT_MS);
    for (const [what, ms] of Object.entries(latencies)) {
      expect(ms.length, what).to.be.greaterThan(3);
      // On the event loop, the spinning function would hold every one of them for the whole limit.
      expect(Math.max(...ms), `${what} latencies ${ms.join(',')}`).to.be.below(LIMIT_MS * 0.5);
    }
    expect(r.status).to.equal('fatal');
    expect(r.errors).to.deep.equal([
      {
        code: 10109,
        msg: `Error executing function spin : (javascript) the function ran past its time limit of ${LIMIT_MS} ms - cause: the function ran past its time limit of ${LIMIT_MS} ms`,
      },
    ]);
    // The thread was replaced or kept: the next function answers.
    expect((await query(cluster, 'EXECUTE FUNCTION add100(1)')).results).to.deep.equal([101]);
  });

  it('stops a spinning function called per row of a SELECT, failing that statement only', async () => {
    const r = await query(cluster, 'SELECT spin() AS s FROM [1, 2] AS x');
    expect(r.errors[0].code).to.equal(10109);
    expect((await query(cluster, 'SELECT RAW add100(2)')).results).to.deep.equal([102]);
  });

  it('cannot trap the time limit with promise jobs or a setter for the timeout error', async () => {
    await create(cluster, 'later', 'function later() { Promise.resolve().then(function loop() { while (true) {} }); return 1; }');
    expect((await query(cluster, 'EXECUTE FUNCTION later()')).errors[0].code).to.equal(10109);
    await create(
      cluster,
      'setter',
      "function setter() { try { Object.defineProperty(Error.prototype, 'code', { set: function () { throw 1; } }); } catch (e) {} while (true) {} }",
    );
    expect((await query(cluster, 'EXECUTE FUNCTION setter()')).errors[0].code).to.equal(10109);
    expect((await query(cluster, 'EXECUTE FUNCTION add100(3)')).results).to.deep.equal([103]);
  });

  it('has no timers, import(), eval, Function from strings, WeakRef, FinalizationRegistry, process or require', async () => {
    await create(
      cluster,
      'globals',
      `function globals() {
        return [typeof setTimeout, typeof setImmediate, typeof queueMicrotask, typeof WeakRef, typeof FinalizationRegistry, typeof eval,
                typeof SharedArrayBuffer, typeof WebAssembly, typeof Atomics, typeof process, typeof require, typeof globalThis.console];
      }`,
    );
    expect((await query(cluster, 'EXECUTE FUNCTION globals()')).results).to.deep.equal([
      ['undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined'],
    ]);
    await create(
      cluster,
      'ctor',
      `function ctor() {
        var out = [];
        var tries = [
          function () { return (function () {}).constructor('return process')(); },
          function () { return this.constructor.constructor('return this')(); },
          function () { return Object.getPrototypeOf(async function () {}).constructor('return 1')(); },
          function () { return [].constructor.constructor('return globalThis')(); },
        ];
        for (var i = 0; i < tries.length; i++) {
          try { out.push('escaped: ' + typeof tries[i].call({})); } catch (e) { out.push(e.name); }
        }
        // Locked: the assignment is ignored, so stack traces stay strings that reach no frame.
        try { Error.prepareStackTrace = function (e, frames) { return frames; }; } catch (e) {}
        out.push(typeof Error.prepareStackTrace + ':' + typeof new Error('x').stack);
        return out;
      }`,
    );
    expect((await query(cluster, 'EXECUTE FUNCTION ctor()')).results).to.deep.equal([['EvalError', 'EvalError', 'EvalError', 'EvalError', 'undefined:string']]);
    // import() is refused with a plain string (never an object of the thread's realm); its
    // rejection lands in a realm variable a later call reads (promise jobs of the realm run after
    // one of its calls).
    await create(
      cluster,
      'imp',
      `var seen;
      function imp() {
        if (seen !== undefined) return seen;
        import('node:fs').then(function (m) { seen = 'loaded ' + typeof m; }, function (e) { seen = typeof e + ': ' + e; });
        return 'asked';
      }`,
    );
    expect((await query(cluster, 'EXECUTE FUNCTION imp()')).results).to.deep.equal(['asked']);
    let seen: unknown = 'asked';
    for (let i = 0; i < 20 && seen === 'asked'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      seen = (await query(cluster, 'EXECUTE FUNCTION imp()')).results[0];
    }
    expect(seen).to.equal('string: import() is not available in N1QL functions');
  });

  it('keeps prototype tampering inside the function realm: the server and other functions see nothing of it', async () => {
    const before = snapshot();
    await create(
      cluster,
      'tamper',
      `function tamper(x) {
        Object.prototype.polluted = 'yes';
        Array.prototype.push = function () { throw new Error('hijacked'); };
        JSON.stringify = function () { return '"forged"'; };
        JSON.parse = function () { return ['forged']; };
        Reflect.apply = function () { return 'forged'; };
        Object.defineProperty(Object.prototype, 'x', { get: function () { throw new Error('getter'); }, configurable: true });
        return { got: x, polluted: ({}).polluted };
      }`,
      'x',
    );
    expect((await query(cluster, 'EXECUTE FUNCTION tamper(7)')).results).to.deep.equal([{ got: 7, polluted: 'yes' }]);
    // The same realm again: its runner captured JSON and Reflect before the function's code ran.
    expect((await query(cluster, 'EXECUTE FUNCTION tamper(8)')).results).to.deep.equal([{ got: 8, polluted: 'yes' }]);
    expect((await query(cluster, 'SELECT RAW add100(5)')).results).to.deep.equal([105]);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    const after = snapshot();
    expect([...after.keys()]).to.deep.equal([...before.keys()]);
    for (const [key, was] of before) expect(after.get(key)!.every((v, i) => Object.is(v, was[i])), key).to.equal(true);
  });

  it('reports what a function throws as 10109, and a missing function name in its code', async () => {
    await create(cluster, 'boom', "function boom() { throw new RangeError('no way'); }");
    expect((await query(cluster, 'EXECUTE FUNCTION boom()')).errors).to.deep.equal([
      { code: 10109, msg: 'Error executing function boom : (javascript) RangeError: no way - cause: RangeError: no way' },
    ]);
    await create(cluster, 'named', 'function other() { return 1; }');
    expect((await query(cluster, 'EXECUTE FUNCTION named()')).errors[0].msg).to.equal(
      'Error executing function named : (javascript) function named is not defined in its code - cause: function named is not defined in its code',
    );
  });
});

describe('n1ql user-defined functions: privileges (13014)', function () {
  this.timeout(30000);
  let cluster: Cluster;

  before(async () => {
    cluster = await Cluster.start({
      numVBuckets: 16,
      users: [
        { username: 'Administrator', password: 'password' },
        { username: 'data', password: PASSWORD, roles: ['data_reader[default]', 'data_writer[default]', 'query_select[default]'] },
        { username: 'gmanage', password: PASSWORD, roles: ['query_manage_global_functions', 'query_execute_global_functions'] },
        { username: 'gexec', password: PASSWORD, roles: ['query_execute_global_functions'] },
        { username: 'gjs', password: PASSWORD, roles: ['query_manage_global_external_functions', 'query_execute_global_external_functions'] },
        { username: 'smanage', password: PASSWORD, roles: ['query_manage_functions[default:_default]', 'query_execute_functions[default:_default]'] },
      ],
    });
    expect((await query(cluster, 'CREATE FUNCTION g() { 1 }')).status).to.equal('success');
    expect((await query(cluster, 'CREATE FUNCTION default._default.s() { 2 }')).status).to.equal('success');
    expect((await query(cluster, 'CREATE FUNCTION js() LANGUAGE JAVASCRIPT AS "function js() { return 3; }"')).status).to.equal('success');
  });

  after(async () => {
    await cluster?.stop();
  });

  const denied = async (user: string, statement: string, role: string): Promise<void> => {
    const r = await query(cluster, statement, basic(user));
    expect(r.errors, `${user}: ${statement}`).to.be.an('array');
    expect(r.errors[0].code, `${user}: ${statement}`).to.equal(13014);
    expect(r.errors[0].msg).to.match(new RegExp(`^User does not have credentials to .*\\. Add role ${role} to allow the statement to run\\.$`));
  };
  const allowed = async (user: string, statement: string): Promise<any> => {
    const r = await query(cluster, statement, basic(user));
    expect(r.errors, `${user}: ${statement}`).to.equal(undefined);
    return r.results;
  };

  it('refuses a data-only user every function statement and call', async () => {
    await denied('data', 'CREATE FUNCTION f() { 1 }', 'query_manage_global_functions');
    await denied('data', 'CREATE FUNCTION default._default.f() { 1 }', 'query_manage_functions on default:default._default');
    await denied('data', 'CREATE FUNCTION f() LANGUAGE JAVASCRIPT AS "function f() { return 1; }"', 'query_manage_global_external_functions');
    await denied('data', 'DROP FUNCTION g', 'query_manage_global_functions');
    await denied('data', 'EXECUTE FUNCTION g()', 'query_execute_global_functions');
    await denied('data', 'SELECT RAW g()', 'query_execute_global_functions');
    await denied('data', 'SELECT RAW default._default.s()', 'query_execute_functions on default:default._default');
    await denied('data', 'EXECUTE FUNCTION js()', 'query_execute_global_external_functions');
  });

  it('grants each role what Couchbase grants it, and nothing more', async () => {
    await allowed('gmanage', 'CREATE FUNCTION mine() { 10 }');
    expect(await allowed('gmanage', 'SELECT RAW mine()')).to.deep.equal([10]);
    await denied('gmanage', 'CREATE FUNCTION jsmine() LANGUAGE JAVASCRIPT AS "function jsmine() { return 1; }"', 'query_manage_global_external_functions');
    await denied('gmanage', 'EXECUTE FUNCTION js()', 'query_execute_global_external_functions');
    await denied('gmanage', 'SELECT RAW default._default.s()', 'query_execute_functions on default:default._default');
    await allowed('gmanage', 'DROP FUNCTION mine');

    expect(await allowed('gexec', 'EXECUTE FUNCTION g()')).to.deep.equal([1]);
    await denied('gexec', 'CREATE FUNCTION h() { 1 }', 'query_manage_global_functions');

    await allowed('gjs', 'CREATE FUNCTION js2() LANGUAGE JAVASCRIPT AS "function js2() { return 4; }"');
    expect(await allowed('gjs', 'EXECUTE FUNCTION js2()')).to.deep.equal([4]);
    await denied('gjs', 'EXECUTE FUNCTION g()', 'query_execute_global_functions');

    await allowed('smanage', 'CREATE FUNCTION default._default.t() { 5 }');
    expect(await allowed('smanage', 'SELECT RAW default._default.t()')).to.deep.equal([5]);
    await denied('smanage', 'CREATE FUNCTION u() { 1 }', 'query_manage_global_functions');
  });
});

describe('n1ql JavaScript functions across a restart with dataDir', function () {
  this.timeout(30000);
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-jsudf-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps global and scoped JavaScript functions, and runs them after the restart', async () => {
    const a = await Cluster.start({ dataDir: dir, numVBuckets: 16 });
    try {
      expect((await query(a, 'CREATE FUNCTION twice(x) LANGUAGE JAVASCRIPT AS "function twice(x) { return 2 * x; }"')).status).to.equal('success');
      expect((await query(a, 'CREATE FUNCTION default._default.greet(n) LANGUAGE JAVASCRIPT AS "function greet(n) { return \'hi \' + n; }"')).status).to.equal('success');
    } finally {
      await a.stop();
    }
    const b = await Cluster.start({ dataDir: dir, numVBuckets: 16 });
    try {
      expect((await query(b, 'SELECT RAW [twice(21), default._default.greet("bob")]')).results).to.deep.equal([[42, 'hi bob']]);
    } finally {
      await b.stop();
    }
  });
});

// Its own cluster, with a time limit far from the test's time: on a loaded machine a 1 s limit
// can end the function before its heap is seen past the memory limit (the outcome this checks).
describe('n1ql JavaScript functions: the memory limit', function () {
  this.timeout(60000);
  let cluster: Cluster;
  let kv: RawClient | undefined;

  before(async () => {
    ({ cluster, kv } = await startCluster(30_000));
  });

  after(async () => {
    kv?.close();
    await cluster?.stop();
  });

  it('ends a function that allocates past its thread heap (10109) and starts a new thread for the next call', async () => {
    await create(cluster, 'add100', 'function add100(param1) { return param1 + 100; }', 'num');
    await create(cluster, 'hog', 'function hog() { var a = []; while (true) a.push(new Array(100000).fill(a.length)); }');
    const started = Date.now();
    const r = await query(cluster, 'EXECUTE FUNCTION hog()');
    expect(r.errors[0].code).to.equal(10109);
    expect(r.errors[0].msg).to.equal('Error executing function hog : (javascript) the function used more than the memory limit of 32 MB - cause: the function used more than the memory limit of 32 MB');
    expect(Date.now() - started).to.be.below(15000);
    const p = await kv!.request({ opcode: Opcode.GET, key: 'd3', vbucket: vbucketOf('d3', 16) });
    expect(p.status).to.equal(Status.SUCCESS);
    expect((await query(cluster, 'EXECUTE FUNCTION add100(4)')).results).to.deep.equal([104]);
  });
});
