// Generators of raw HTTP/1.1 requests for the cluster's HTTP services (management, query,
// views): real routes with hostile parameters and bodies, broken targets, lying headers.
// Requests are written as bytes on a socket, so nothing on the client side cleans them up.
import type { Rng } from './rng';

export type HttpService = 'mgmt' | 'query' | 'views';

export const BASIC = 'Basic ' + Buffer.from('Administrator:password').toString('base64');

const AUTHS = [
  BASIC,
  'Basic ' + Buffer.from('Administrator:wrong').toString('base64'),
  'Basic ' + Buffer.from('nobody').toString('base64'),
  'Basic !!!notbase64',
  'Bearer x',
  'Basic ' + 'A'.repeat(9000),
];

const NASTY_SEGMENTS = ['%ZZ', '%', '%00', '..', '.', '[', ']', '%2F', '__proto__', 'constructor', 'é', '%C0%AF', '%ED%A0%80', 'x'.repeat(3000), ''];

const MGMT_ROUTES = [
  '/', '/pools', '/pools/default', '/pools/default/nodeServices', '/pools/default/buckets', '/pools/nodes',
  '/pools/default/buckets/default', '/pools/default/b/default', '/pools/default/buckets/default/ddocs',
  '/pools/default/buckets/default/scopes', '/pools/default/buckets/default/stats', '/pools/default/buckets/nope',
  '/pools/default/buckets/default/controller/doFlush', '/settings/rbac/users', '/whoami', '/ui/', '/uilogin',
];

const STATEMENTS = [
  'SELECT 1', 'SELECT * FROM `default` LIMIT 3', 'SELECT d.* FROM `default` d WHERE d.n > $1',
  'SELECT RAW META().id FROM `default` WHERE name LIKE "%a%b%c%"', 'SELECT REGEXP_CONTAINS("aaaa", "(a+)+b")',
  'UPDATE `default` SET `__proto__`.polluted = 1 WHERE META().id = "doc-1"', 'SELECT {"__proto__": 1}.x',
  'SELECT $__proto__', 'PREPARE p1 FROM SELECT 1', 'EXECUTE p1', 'EXPLAIN SELECT * FROM `default`',
  'SELECT ARRAY_REPEAT("x", 10)', 'SELECT 1/0', 'CREATE INDEX ix_n ON `default`(n)', 'SELECT * FROM system:indexes',
  'INSERT INTO `default` (KEY, VALUE) VALUES ("fz", {"a":1})', 'DELETE FROM `default` WHERE META().id = "fz"',
  'SELECT COUNT(*) FROM `default` GROUP BY n', 'SELECT (((((((((((1)))))))))))', 'SELECT "',
];

/**
 * Statements that cost a backtracking regexp engine exponential time, or build huge values: LIKE
 * and REGEXP_* run on linear-time matchers and every statement under its `timeout`, so each must
 * end (with a result, an error or 1080) without holding up anything else.
 */
const HOSTILE_STATEMENTS = [
  `SELECT RAW "${'a'.repeat(60)}c" LIKE "${'%a'.repeat(50)}%b"`,
  `SELECT RAW REPEAT("a", 100000) LIKE "${'%a'.repeat(200)}b"`,
  `SELECT RAW "${'_'.repeat(5000)}" LIKE "${'%_'.repeat(2000)}"`,
  'SELECT RAW REGEXP_CONTAINS(REPEAT("a", 50000), "(a+)+b")',
  'SELECT RAW REGEXP_LIKE(REPEAT("a", 50000), "(a|aa)*c")',
  'SELECT RAW REGEXP_MATCHES(REPEAT("ab", 30000), "(a*b*)*x")',
  'SELECT RAW REGEXP_REPLACE(REPEAT("x", 100000), "(x+x+)+y", "z")',
  'SELECT RAW REGEXP_POSITION(REPEAT("a", 40000), "^(([a-z])+.)+[A-Z]([a-z])+$")',
  'SELECT RAW REGEXP_CONTAINS("a", "(")',
  'SELECT RAW REGEXP_CONTAINS("a", "(?<=a)b")',
  'SELECT RAW ARRAY_LENGTH(ARRAY_RANGE(0, 100000000))',
  'SELECT RAW ARRAY_LENGTH(ARRAY x FOR x IN ARRAY_RANGE(0, 50000000) END)',
  'SELECT RAW ARRAY_LENGTH(ARRAY_REPEAT(ARRAY_REPEAT("x", 10000), 10000))',
  'SELECT RAW LENGTH(REPEAT("x", 1000000000))',
  'SELECT RAW LENGTH(REPEAT(REPEAT("x", 100000), 100000))',
  'SELECT COUNT(*) FROM `default` a JOIN `default` b ON KEYS META(a).id JOIN `default` c ON KEYS META(b).id',
  'SELECT RAW ' + '('.repeat(5000) + '1' + ')'.repeat(5000),
  'SELECT RAW ' + '['.repeat(5000) + ']'.repeat(5000),
  'SELECT RAW ' + '{"a":'.repeat(3000) + '1' + '}'.repeat(3000),
  'SELECT RAW ' + '-'.repeat(20000) + '1',
  'SELECT RAW ' + 'NOT '.repeat(20000) + 'true',
];

const TOKENS = ['SELECT', 'FROM', 'WHERE', '(', ')', '[', ']', '{', '}', ',', '.', '*', '`default`', '"x"', '1', '$1', '$x', 'AND', 'OR', 'NOT', 'ANY', 'IN', 'SATISFIES', 'END', 'META()', 'LIKE', 'ARRAY', 'FOR', 'UNNEST', 'JOIN', 'ON', 'KEYS', 'GROUP', 'BY', 'ORDER', 'LIMIT', 'OFFSET', 'CASE', 'WHEN', 'THEN', 'ELSE', '||', '-', '+', '/', '%', '=', '!=', 'NULL', 'MISSING', 'VALUED'];

const VIEW_PARAMS: Array<[string, string[]]> = [
  ['limit', ['1', '-1', '0', 'x', '99999999999999999999']],
  ['skip', ['1', '-5', 'y']],
  ['startkey', ['"a"', '[1,2]', '{', 'null', '"\\ud800"', '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]']],
  ['endkey', ['"z"', '1e999', '']],
  ['key', ['1', '"x"', '{"__proto__":1}']],
  ['keys', ['[1,2]', '1', '[', '[' + '1,'.repeat(2000) + '1]']],
  ['group_level', ['1', '-1', 'x', '999']],
  ['group', ['true', 'x']],
  ['reduce', ['false', 'maybe']],
  ['stale', ['ok', 'false', 'update_after', 'later']],
  ['descending', ['true', '1']],
  ['inclusive_end', ['false', 'no']],
  ['on_error', ['continue', 'stop', 'x']],
  ['__proto__', ['1']],
];

/**
 * Map functions that attack the sandbox: loops, recursion, memory bombs, huge emits, prototype
 * writes, timers and the host's globals. The sandbox stops each within its limits; the design
 * document is marked failed and nothing else waits.
 */
const HOSTILE_MAP_FUNCTIONS = [
  'function (doc) { while (true) {} }',
  'function (doc) { for (;;) { emit(doc.n, doc); } }',
  'function (doc) { var a = []; for (;;) a.push(new Array(1000000).fill(doc)); }',
  'function (doc) { var s = "x"; for (;;) s += s; }',
  'function (doc) { (function r() { r(); })(); }',
  'function (doc) { emit(JSON.stringify(doc).repeat(1000000), 1); }',
  'function (doc) { var o = {}; for (var i = 0; i < 1e7; i++) o["k" + i] = i; emit(1, o); }',
  'function (doc) { Object.prototype.polluted = 1; Array.prototype.push = null; JSON.parse = null; emit(1, 1); }',
  'function (doc) { emit.constructor("return process")().exit(1); }',
  'function (doc) { this.constructor.constructor("while(true){}")(); }',
  'function (doc) { setTimeout(function () { while (true) {} }, 0); emit(1, 1); }',
  'function (doc) { new FinalizationRegistry(function () { while (true) {} }).register({}, 1); emit(1, 1); }',
  'function (doc) { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); }',
  'function (doc) { var x = []; x.length = 4294967295; emit(x, 1); }',
  'function (doc) { emit(' + '['.repeat(2000) + ']'.repeat(2000) + ', 1); }',
];

const MAP_FUNCTIONS = [
  'function (doc, meta) { emit(meta.id, null); }',
  'function (doc, meta) { emit(doc.n, doc); }',
  'function (doc) { emit([doc.a, doc.b], 1); }',
  'function (doc) { throw new Error("boom"); }',
  'function (doc) { emit(doc.__proto__, doc.constructor); }',
  'not javascript at all',
  'function (doc) { emit(',
  '',
];

const REDUCES = [
  undefined, '_count', '_sum', '_stats', '_approx_count_distinct', '_bogus', 'function (k, v, re) { return v.length; }', 'function (',
  'function (k, v, re) { while (true) {} }', 'function (k, v, re) { var a = []; for (;;) a.push(v); }', 'function (k, v, re) { return "x".repeat(1e9); }',
];

function json(r: Rng, value: unknown): string {
  const text = JSON.stringify(value);
  if (!r.chance(0.15)) return text;
  // a mutated body: cut, doubled, or with a byte changed
  const i = r.int(text.length + 1);
  return r.bool() ? text.slice(0, i) : text.slice(0, i) + r.pick(['"', '{', '}', ',', '\\', '\u0000']) + text.slice(i);
}

function nastyPath(r: Rng, route: string): string {
  if (!r.chance(0.25)) return route;
  const parts = route.split('/');
  parts[1 + r.int(Math.max(1, parts.length - 1))] = r.pick(NASTY_SEGMENTS);
  let out = parts.join('/');
  if (r.chance(0.2)) out = '/' + out;
  return out;
}

function statement(r: Rng): string {
  if (r.chance(0.15)) return r.pick(HOSTILE_STATEMENTS);
  if (r.chance(0.6)) return r.pick(STATEMENTS);
  const n = 1 + r.int(25);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(r.pick(TOKENS));
  return (r.chance(0.7) ? 'SELECT ' : '') + out.join(' ');
}

export interface HttpRequestSpec {
  method: string;
  target: string;
  headers: Array<[string, string]>;
  body: Buffer;
}

function queryRequest(r: Rng): HttpRequestSpec {
  const params: Record<string, unknown> = { statement: statement(r) };
  if (r.chance(0.3)) params.args = r.pick([[1], ['x'], {}, 'notarray', [null, { a: 1 }]]);
  if (r.chance(0.2)) params.$x = r.pick([1, 'y', null]);
  if (r.chance(0.1)) params['$__proto__'] = { polluted: 1 };
  if (r.chance(0.2)) params.timeout = r.pick(['1ms', '10s', '-1s', 'x', '1h', '0', 5, '100ms', '500ms', '2s']);
  if (r.chance(0.1)) params.scan_consistency = r.pick(['request_plus', 'not_bounded', 'at_plus', 'x']);
  if (r.chance(0.05)) params.encoded_plan = r.pick(['', '!!', Buffer.from('{"name":"p"}').toString('base64')]);
  if (r.chance(0.05)) params.prepared = r.pick(['p1', '"p1"', '']);
  if (r.chance(0.05)) params.profile = r.pick(['phases', 'timings', 'off', 'x']);
  if (r.chance(0.05)) params.query_context = r.pick(['default:default', 'x', '']);
  const form = r.chance(0.3);
  const body = form
    ? new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)])).toString()
    : json(r, params);
  const get = r.chance(0.1);
  return {
    method: get ? 'GET' : r.chance(0.95) ? 'POST' : r.pick(['PUT', 'DELETE', 'PATCH']),
    target: nastyPath(r, get ? '/query/service?statement=' + encodeURIComponent(String(params.statement)) : r.pick(['/query/service', '/query', '/admin/ping', '/admin/vitals', '/query/service/x'])),
    headers: [['content-type', form ? 'application/x-www-form-urlencoded' : r.pick(['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data'])]],
    body: get ? Buffer.alloc(0) : Buffer.from(body),
  };
}

function viewsRequest(r: Rng): HttpRequestSpec {
  const ddoc = r.pick(['fz', 'dev_fz', '__proto__', 'missing', '']);
  if (r.chance(0.25)) {
    // write or delete a design document
    const views: Record<string, unknown> = {};
    for (let i = r.int(3); i >= 0; i--) {
      const map = r.chance(0.3) ? r.pick(HOSTILE_MAP_FUNCTIONS) : r.pick(MAP_FUNCTIONS);
      views[r.pick(['v', 'w', '__proto__', 'by_n'])] = { map, ...(r.bool() ? { reduce: r.pick(REDUCES) } : {}) };
    }
    return {
      method: r.chance(0.85) ? 'PUT' : 'DELETE',
      target: nastyPath(r, `/default/_design/${ddoc}`),
      headers: [['content-type', 'application/json']],
      body: Buffer.from(json(r, r.chance(0.9) ? { views } : r.pick([[], 'x', { views: 'x' }, { views: { v: { map: 1 } } }]))),
    };
  }
  const q = new URLSearchParams();
  for (let i = r.int(5); i > 0; i--) {
    const [k, values] = r.pick(VIEW_PARAMS);
    q.append(k, r.pick(values));
  }
  const post = r.chance(0.2);
  return {
    method: post ? 'POST' : r.chance(0.95) ? 'GET' : r.pick(['HEAD', 'PUT']),
    target: nastyPath(r, `/default/_design/${ddoc}/_view/${r.pick(['v', 'w', 'by_n', 'missing'])}?${q}`),
    headers: [['content-type', 'application/json']],
    body: post ? Buffer.from(json(r, r.pick([{ keys: [1, 2] }, { keys: 'x' }, [], {}]))) : Buffer.alloc(0),
  };
}

function mgmtRequest(r: Rng): HttpRequestSpec {
  const route = r.pick(MGMT_ROUTES);
  const post = route.endsWith('doFlush') || route === '/uilogin' ? r.chance(0.8) : r.chance(0.1);
  return {
    method: post ? 'POST' : r.chance(0.95) ? 'GET' : r.pick(['PUT', 'DELETE', 'OPTIONS', 'BREW']),
    target: nastyPath(r, route + (r.chance(0.1) ? '?' + r.pick(['a=%ZZ', 'x=' + 'y'.repeat(5000), '&&&=', 'bucket_uuid=__proto__']) : '')),
    headers: [['content-type', 'application/x-www-form-urlencoded']],
    body: post ? Buffer.from(r.pick(['', 'user=Administrator&password=password', 'a=%ZZ', 'name=x&ramQuotaMB=-1', 'x'.repeat(r.int(20000))])) : Buffer.alloc(0),
  };
}

const GENERATORS: Record<HttpService, (r: Rng) => HttpRequestSpec> = { mgmt: mgmtRequest, query: queryRequest, views: viewsRequest };

/** One request for `service`, as the bytes to write (some with lying or broken framing). */
export function httpRequest(r: Rng, service: HttpService): Buffer {
  const spec = GENERATORS[service](r);
  const headers: Array<[string, string]> = [['host', '127.0.0.1'], ['connection', 'close'], ...spec.headers];
  if (r.chance(0.9)) headers.push(['authorization', r.chance(0.85) ? BASIC : r.pick(AUTHS)]);
  let body = spec.body;
  const framing = r.int(20);
  if (framing === 0) headers.push(['transfer-encoding', 'chunked']); // a body that is not chunked
  else if (framing === 1) headers.push(['content-length', String(body.length + 50)]); // promises more than it sends
  else if (framing === 2) headers.push(['content-length', '-1']);
  else if (framing === 3) {
    headers.push(['transfer-encoding', 'chunked']);
    body = Buffer.concat([Buffer.from(body.length.toString(16) + '\r\n'), body, Buffer.from('\r\n0\r\n\r\n')]);
  } else headers.push(['content-length', String(body.length)]);
  if (r.chance(0.03)) headers.push(['x-junk', 'z'.repeat(20000)]);
  const head = `${spec.method} ${spec.target} HTTP/1.1\r\n` + headers.map(([k, v]) => `${k}: ${v}`).join('\r\n') + '\r\n\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}
