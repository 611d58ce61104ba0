// Prototype pollution through view code: whatever a map or reduce function does to its realm
// (replace built-ins, plant setters and getters, emit too much or too deep), nothing of the
// server's realm changes, the result path keeps working, and the view says what went wrong.
import { expect } from 'chai';
import { viewMapErrors } from '../../lib/server/views';
import { decodeMapOutput, InvalidSandboxOutput } from '../../lib/server/views/sandbox-output';
import { putDesign, query, startViewsServer, type ViewsServer } from './helpers';

/** Every own property (and its value or accessors) of the objects user code would like to reach. */
function snapshot(): Map<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  const roots: Record<string, object> = {
    'Object.prototype': Object.prototype,
    'Array.prototype': Array.prototype,
    'Function.prototype': Function.prototype,
    'String.prototype': String.prototype,
    'Error.prototype': Error.prototype,
    'Promise.prototype': Promise.prototype,
    JSON,
    Object,
    Array,
    globalThis,
  };
  for (const [name, obj] of Object.entries(roots)) {
    out.set(`${name} [[Prototype]]`, [Object.getPrototypeOf(obj), Object.isExtensible(obj)]);
    for (const key of Reflect.ownKeys(obj)) {
      const d = Object.getOwnPropertyDescriptor(obj, key)!;
      out.set(`${name}.${String(key)}`, [d.value, d.get, d.set, d.writable, d.configurable]);
    }
  }
  return out;
}

// One map function; each document's `kind` picks the attack. The realm stays polluted for the
// documents mapped after it, so the plain documents also show the runner survived (and the
// attacks avoid what earlier ones broke for user code, e.g. sparse arrays after 'setters').
const HOSTILE_MAP = `function (doc, meta) {
  var boom = function () { throw new Error('hijacked'); };
  switch (doc.kind) {
    case 'push':
      Array.prototype.push = boom;
      Array.prototype.concat = boom;
      String.prototype.slice = boom;
      break;
    case 'setters':
      for (var i = 0; i < 8; i++) Object.defineProperty(Object.prototype, String(i), { set: boom, get: boom, configurable: true });
      ['id', 'key', 'value', 'rows', 'length', 'meta'].forEach(function (k) { try { Object.defineProperty(Object.prototype, k, { set: boom, configurable: true }); } catch (e) {} });
      break;
    case 'json':
      JSON.stringify = function () { return ']]]'; };
      JSON.parse = function () { return [1, 2, 3]; };
      String = function () { return {}; };
      Error = function () { return 'not an error'; };
      break;
    case 'iterator':
      Array.prototype[Symbol.iterator] = boom;
      // (May be refused when an earlier document planted a 'value' accessor on Object.prototype.)
      try { Object.defineProperty(Array.prototype, Symbol.iterator, { get: boom }); } catch (e) {}
      break;
    case 'tojson':
      Object.prototype.toJSON = function () { return 'from toJSON'; };
      emit(doc.n, { a: 1 });
      delete Object.prototype.toJSON;
      break;
    case 'getter':
      emit(doc.n, { get boom() { throw new TypeError('getter that throws'); } });
      break;
    case 'opaque':
      throw { get name() { throw 1; }, get message() { throw 2; }, toString: boom };
    case 'huge-value':
      emit(meta.id, 'v'.repeat(2 * 1024 * 1024));
      break;
    case 'many-rows':
      for (var r = 0; r < 70000; r++) { try { emit(r, null); } catch (e) {} }
      break;
    case 'long-key':
      emit('k'.repeat(5000), null);
      break;
    case 'deep':
      var d = 0; for (var n = 0; n < 300; n++) d = [d];
      emit(doc.n, d);
      break;
    case 'very-deep':
      var vd = 0; for (var m = 0; m < 1000000; m++) vd = { x: vd };
      emit(doc.n, vd);
      break;
    case 'reenter':
      __runMaps();
      break;
    case 'escape':
      var tries = {
        thisCtor: function () { return this.constructor.constructor('return process')(); },
        metaCtor: function () { return meta.constructor.constructor('return process')(); },
        viaLeaked: function () { return Object.getPrototypeOf(Object.getPrototypeOf(Object.getPrototypeOf(leaked))).polluted = 'yes'; },
        leakedFn: function () { return leaked.constructor.constructor('Object.prototype.polluted = "yes"; Array.prototype.push = null')(); },
      };
      var got = { leaked: leaked === null ? 'null' : typeof leaked };
      Object.keys(tries).forEach(function (k) { try { tries[k](); got[k] = 'ran'; } catch (e) { got[k] = 'threw'; } });
      emit('escape', got);
      break;
  }
  if (typeof leaked === 'undefined') { leaked = null; import('node:fs').then(null, function (e) { leaked = e; }); }
  emit(doc.n, doc.kind);
}`;

/** The properties that differ between two snapshots (by identity). */
function changes(before: Map<string, unknown[]>, after: Map<string, unknown[]>): string[] {
  const out: string[] = [];
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(key);
    const b = after.get(key);
    if (!a || !b || a.length !== b.length || a.some((v, i) => !Object.is(v, b[i]))) out.push(key);
  }
  return out;
}

const KINDS = ['push', 'setters', 'json', 'iterator', 'tojson', 'getter', 'opaque', 'huge-value', 'many-rows', 'long-key', 'deep', 'very-deep', 'reenter', 'escape'];

describe('views: hostile map and reduce functions', function () {
  this.timeout(30000);
  let s: ViewsServer;
  afterEach(() => s?.close());

  it('change nothing of the server’s realm; the server serves, the plain documents are indexed and each refused one says why', async () => {
    const before = snapshot();
    s = await startViewsServer();
    // Plain documents first and last, so some are mapped after the realm was polluted.
    s.putDoc('plain-0', { n: 0, kind: 'plain' });
    KINDS.forEach((kind, i) => s.putDoc(`k${String(i).padStart(2, '0')}-${kind}`, { n: i + 1, kind }));
    for (let i = 1; i <= 5; i++) s.putDoc(`plain-${i}`, { n: 100 + i, kind: 'plain' });
    await putDesign(s, 'hostile', { v: { map: HOSTILE_MAP } });
    await putDesign(s, 'other', { v: { map: 'function (doc) { emit(doc.kind, null); }', reduce: '_count' } });

    const r = await query(s, 'hostile', 'v', { reduce: 'false' });
    expect(r.status).to.equal(200);
    expect(viewMapErrors(s.store, 'hostile').recent.filter((e) => /k0[0-4]|plain/.test(e.docId))).to.deep.equal([]);
    // Once the realm's JSON, String, Error and prototypes were replaced, emit and the runner
    // still produce exact rows; what `tojson` did shows only in this design document's own values.
    const rows = r.json.rows.map((row: any) => `${row.id}=${JSON.stringify(row.key)}:${JSON.stringify(row.value)}`);
    expect(rows).to.include.members([
      'plain-0=0:"plain"',
      'k00-push=1:"push"',
      'k01-setters=2:"setters"',
      'k02-json=3:"json"',
      'k03-iterator=4:"iterator"',
      'k04-tojson=5:"tojson"',
      'k04-tojson=5:"from toJSON"',
      'plain-5=105:"plain"',
    ]);
    // import() hands its rejection to a later turn: try the escapes again until it has.
    let escape: any;
    for (let i = 0; i < 50; i++) {
      s.putDoc(`escape-${i}`, { n: 1000 + i, kind: 'escape' });
      const e = await query(s, 'hostile', 'v', { reduce: 'false', key: 'escape' });
      escape = e.json.rows.find((row: any) => row.value.leaked !== 'null')?.value;
      if (escape) break;
    }
    expect(escape).to.deep.equal({ leaked: 'string', thisCtor: 'threw', metaCtor: 'threw', viaLeaked: 'threw', leakedFn: 'threw' });
    const refusedIds = ['k07-huge-value', 'k08-many-rows', 'k09-long-key', 'k10-deep', 'k05-getter', 'k06-opaque', 'k11-very-deep', 'k12-reenter'];
    for (const id of refusedIds) expect(r.json.rows.map((row: any) => row.id)).to.not.include(id);

    // Documents refused for what they emitted: Couchbase's reasons, in the response's errors.
    expect(r.json.errors.map((e: any) => e.reason).sort()).to.deep.equal([
      'Too many keys emitted for document "k08-many-rows" (maximum allowed is 65535)',
      'key emitted for document "k09-long-key" is too long (5002 bytes, maximum allowed is 4096)',
      'key or value emitted for document "k10-deep" is nested more than 256 levels deep',
      `value emitted for key "k07-huge-value", document "k07-huge-value", is too big (${2 * 1024 * 1024 + 2 + 16} bytes, maximum allowed is 1048576 per document)`,
    ]);
    // Exceptions are logged as Couchbase logs them (debug_info, viewMapErrors).
    const logged = Object.fromEntries(viewMapErrors(s.store, 'hostile').recent.map((e) => [e.docId, e.reason]));
    expect(logged).to.deep.include({
      'k05-getter': 'TypeError: getter that throws',
      'k06-opaque': 'unprintable exception',
      'k11-very-deep': 'RangeError: Maximum call stack size exceeded',
      'k12-reenter': 'Error: the view runner is not reentrant',
    });

    // The server's realm is exactly as it was, and the server still serves.
    expect(changes(before, snapshot())).to.deep.equal([]);
    expect(({} as any).polluted).to.equal(undefined);
    expect((await query(s, 'other', 'v', { group: 'true', key: 'plain' })).json.rows).to.deep.equal([{ key: 'plain', value: 6 }]);
    expect((await s.request('GET', '/')).status).to.equal(200);

    // Refusals clear when the document changes.
    s.putDoc('k08-many-rows', { n: 9, kind: 'plain' });
    const after = await query(s, 'hostile', 'v', { key: 9 });
    expect(after.json.rows).to.deep.equal([{ id: 'k08-many-rows', key: 9, value: 'plain' }]);
    expect(after.json.errors.map((e: any) => e.reason)).to.have.length(3);
  });

  it('a hostile custom reduce cannot bend the reduce path either', async () => {
    const before = snapshot();
    s = await startViewsServer();
    for (let i = 0; i < 6; i++) s.putDoc(`d${i}`, { n: i, g: i % 2 });
    await putDesign(s, 'r', {
      v: {
        map: 'function (doc) { emit(doc.g, doc.n); }',
        reduce: [
          'function (keys, values, rereduce) {',
          '  JSON.stringify = function () { return "]["; }; JSON.parse = function () { return null; };',
          '  Array.prototype.push = null; Object.defineProperty(Object.prototype, "0", { set: function () { throw 1; }, configurable: true });',
          '  if (values.length > 100) return new Array(70000).join("too large ");',
          '  return sum(values);',
          '}',
        ].join('\n'),
      },
    });
    const r = await query(s, 'r', 'v', { group: 'true' });
    expect(r.json).to.deep.equal({ rows: [{ key: 0, value: 6 }, { key: 1, value: 9 }] });
    for (let i = 6; i < 200; i++) s.putDoc(`d${i}`, { n: 1, g: 2 });
    const big = await query(s, 'r', 'v', { group: 'true' });
    expect(big.json.rows).to.deep.equal([{ key: 0, value: 6 }, { key: 1, value: 9 }]);
    expect(big.json.errors).to.deep.equal([{ from: 'local', reason: 'reduction too large' }]);
    expect(changes(before, snapshot())).to.deep.equal([]);
  });

  it('the host refuses sandbox output that is malformed, out of range or nested too deeply', () => {
    const bad = [
      'not json',
      '{"rows":1}',
      '[0]',
      '[3]',
      '[1,0,0]',
      '[1,1,0,"k","v"]',
      '[1,0,5,"k","v"]',
      '[1,0,-1,{"x":1},0]',
      '[1,0,-1,"reason",7]',
      '[1,0,0.5,"k","v"]',
      '[2,1,0,"k","v",0,0,"k","v"]',
      `[1,0,0,${'['.repeat(300)}${']'.repeat(300)},null]`,
    ];
    for (const text of bad) expect(() => decodeMapOutput(text, 2, 1), text.slice(0, 40)).to.throw(InvalidSandboxOutput);
    expect(decodeMapOutput('[2,0,0,"a",1,1,-2,"too big",0]', 2, 1)).to.deep.equal([
      { ok: true, rows: [['a', 1]] },
      { ok: false, view: 0, reason: 'too big', limit: true },
    ]);
  });
});
