import { expect } from 'chai';
import { viewMapErrors } from '../../lib/server/views';
import { putDesign, query, startViewsServer, type ViewsServer } from './helpers';

describe('views: map functions', () => {
  let s: ViewsServer;
  beforeEach(async () => {
    s = await startViewsServer({ options: { timeoutMs: 200 } });
  });
  afterEach(() => s.close());

  it('passes meta with id, rev, type, flags and expiration', async () => {
    s.store.write('m1', Buffer.from('{"a":1}'), 'upsert', { flags: 0x02000000 });
    await putDesign(s, 'm', { meta: { map: 'function (doc, meta) { emit(meta.id, meta); }' } });
    const r = await query(s, 'm', 'meta');
    const meta = r.json.rows[0].value;
    expect(meta).to.include({ id: 'm1', type: 'json', flags: 0x02000000, expiration: 0 });
    expect(meta.rev).to.match(/^\d+-[0-9a-f]{32}$/);
  });

  it('hands a non-JSON document to the map as base64 with meta.type "base64"', async () => {
    s.store.write('bin', Buffer.from([0, 1, 2, 250]), 'upsert');
    await putDesign(s, 'm', { b: { map: 'function (doc, meta) { emit(meta.type, [doc, decodeBase64(doc)]); }' } });
    const r = await query(s, 'm', 'b');
    expect(r.json.rows).to.deep.equal([{ id: 'bin', key: 'base64', value: ['AAEC+g==', [0, 1, 2, 250]] }]);
  });

  it('maps the body of a document with extended attributes, never the xattrs', async () => {
    const pair = Buffer.from('_sync\0{"rev":1}\0');
    const pairLen = Buffer.alloc(4);
    pairLen.writeUInt32BE(pair.length);
    const total = Buffer.alloc(4);
    total.writeUInt32BE(pair.length + 4);
    const body = Buffer.from('{"name":"with xattrs"}');
    s.store.write('x1', Buffer.concat([total, pairLen, pair, body]), 'upsert', { datatype: 0x01 | 0x04 });
    await putDesign(s, 'm', { v: { map: 'function (doc, meta) { emit(doc.name, meta.type); }' } });
    const r = await query(s, 'm', 'v', { include_docs: 'true' });
    expect(r.json.rows).to.have.length(1);
    expect(r.json.rows[0]).to.deep.include({ key: 'with xattrs', value: 'json' });
    expect(r.json.rows[0].doc.json).to.deep.equal({ name: 'with xattrs' });
  });

  it('offers Couchbase’s helpers: dateToArray, sum, isArray, toJSON', async () => {
    s.putDoc('h', { when: '2013-04-05T06:07:08Z', xs: [1, 2, 3.5] });
    await putDesign(s, 'm', {
      h: { map: 'function (doc) { emit(dateToArray(doc.when), [sum(doc.xs), isArray(doc.xs), isArray(doc), toJSON({a: [1]})]); }' },
    });
    const r = await query(s, 'm', 'h');
    expect(r.json.rows[0].key).to.deep.equal([2013, 4, 5, 6, 7, 8]);
    expect(r.json.rows[0].value).to.deep.equal([6.5, true, false, '{"a":[1]}']);
  });

  it('stores emitted keys and values as JSON (undefined becomes null, dates become strings)', async () => {
    s.putDoc('j', { x: 1 });
    await putDesign(s, 'm', {
      j: { map: 'function (doc) { emit(undefined); emit(new Date(0), { f: function () {}, n: NaN }); emit(["a", undefined]); }' },
    });
    const r = await query(s, 'm', 'j');
    expect(r.json.rows.map((row: any) => [row.key, row.value])).to.deep.equal([
      [null, null],
      ['1970-01-01T00:00:00.000Z', { n: null }],
      [['a', null], null],
    ]);
  });

  it('lets one document emit many rows and skips documents that emit nothing', async () => {
    s.putDoc('t1', { tags: ['x', 'y', 'x'] });
    s.putDoc('t2', {});
    await putDesign(s, 'm', { tags: { map: 'function (doc) { (doc.tags || []).forEach(function (t) { emit(t, null); }); }' } });
    const r = await query(s, 'm', 'tags');
    expect(r.json.total_rows).to.equal(3);
    expect(r.json.rows.map((row: any) => `${row.key}:${row.id}`)).to.deep.equal(['x:t1', 'x:t1', 'y:t1']);
  });

  it('skips a document the map throws on, keeps the others and records the error', async () => {
    for (let i = 0; i < 5; i++) s.putDoc(`d${i}`, { n: i });
    await putDesign(s, 'm', {
      first: { map: 'function (doc) { emit(doc.n, null); }' },
      picky: { map: 'function (doc, meta) { if (doc.n === 3) throw new TypeError("three is bad"); emit(doc.n, null); }' },
    });
    const r = await query(s, 'm', 'picky', { debug: 'true' });
    expect(r.json.rows.map((row: any) => row.key)).to.deep.equal([0, 1, 2, 4]);
    // As in Couchbase, a failing document is skipped for every view of its design document.
    expect((await query(s, 'm', 'first')).json.total_rows).to.equal(4);
    expect(r.json.debug_info.local.map_errors).to.deep.equal([{ id: 'd3', view: 'picky', reason: 'TypeError: three is bad' }]);
    expect(viewMapErrors(s.store, 'm')).to.deep.equal({ count: 1, recent: [{ docId: 'd3', view: 'picky', reason: 'TypeError: three is bad' }] });
  });

  it('stops a map that runs too long, skips that document and indexes the rest', async function () {
    this.timeout(10000);
    for (let i = 0; i < 50; i++) s.putDoc(`d${i}`, { n: i, slow: i === 17 });
    await putDesign(s, 'm', { v: { map: 'function (doc) { if (doc.slow) { while (true) {} } emit(doc.n, null); }' } });
    const r = await query(s, 'm', 'v');
    expect(r.json.total_rows).to.equal(49);
    expect(viewMapErrors(s.store, 'm').recent).to.deep.equal([{ docId: 'd17', view: 'v', reason: 'timeout' }]);
  });

  it('gives map functions no access to the process, require or host objects', async () => {
    s.putDoc('x', {});
    await putDesign(s, 'm', {
      probe: {
        map: [
          'function (doc, meta) {',
          '  var r = {};',
          '  r.process = typeof process; r.require = typeof require; r.global = typeof global;',
          '  try { r.escape = typeof this.constructor.constructor("return process")(); } catch (e) { r.escape = "threw"; }',
          '  try { r.viaMeta = typeof meta.constructor.constructor("return process")(); } catch (e) { r.viaMeta = "threw"; }',
          '  emit("probe", r);',
          '}',
        ].join('\n'),
      },
    });
    const r = await query(s, 'm', 'probe');
    expect(r.json.rows[0].value).to.deep.equal({ process: 'undefined', require: 'undefined', global: 'undefined', escape: 'threw', viaMeta: 'threw' });
  });

  it('refuses to be tampered with: user code cannot redefine emit or the runner', async () => {
    s.putDoc('a', { n: 1 });
    s.putDoc('b', { n: 2 });
    await putDesign(s, 'm', {
      v: { map: 'function (doc) { try { emit = function () {}; } catch (e) {} try { Object.defineProperty(this, "__input", { get: function () { return "[]"; } }); } catch (e) {} emit(doc.n, null); }' },
    });
    const r = await query(s, 'm', 'v');
    expect(r.json.rows.map((row: any) => row.key)).to.deep.equal([1, 2]);
  });
});
