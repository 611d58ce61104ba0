// Python's couchbase.views.params.Query through each flavour: every parameter and its sugar
// (mapkey_range, dockey_range, mapkey_single, mapkey_multi, STRING_RANGE_END), the Query object
// wherever options go (passthrough, from_string, properties), on_error 'continue' as warnings,
// and row_processor.
import { expect } from 'chai';
import { ArgumentError, ONERROR_CONTINUE, Query, STALE_UPDATE_BEFORE, STRING_RANGE_END, ViewEngineError, ViewQuery } from '../../../lib/index';
import { putDesignDoc } from '../helpers/design-docs';
import { expectReject, withHandle, type SharedContext } from './context';
import { drain, settle, viewRows } from './rows';
import { Prefixing, sentAs } from '../helpers/prefixing-transcoder';

const DDOC = 'pyviews';

const DESIGN = {
  views: {
    by_name: { map: 'function (doc, meta) { if (doc.vt) emit([doc.vt, doc.name], doc.n); }', reduce: '_count' },
    by_tag: { map: 'function (doc, meta) { if (doc.vt) emit(doc.vt, null); }' },
    // A reduce that fails for the group of name "b": the server reports it inline, per group.
    picky: {
      map: 'function (doc, meta) { if (doc.vt) emit([doc.vt, doc.name], 1); }',
      reduce: 'function (keys, values, rereduce) { if (!rereduce && keys[0][0][1] === "b") throw "no b here"; return values.length; }',
    },
  },
};

interface ViewFixture {
  tag: string;
  ids: Record<string, string>;
  rows(options?: unknown, view?: string): Promise<any[]>;
  range(): unknown[];
}

export function viewCases(c: SharedContext): void {
  const { k } = c;

  /** Four documents a..d under a tag unique to the case, and a way to query them. */
  async function fixture(): Promise<ViewFixture> {
    const h = c.h();
    await putDesignDoc(c.ports().capi!, c.bucketName(), DDOC, DESIGN);
    const tag = k('views');
    const ids: Record<string, string> = {};
    let n = 0;
    for (const name of ['a', 'b', 'c', 'd']) {
      ids[name] = k(`v-${name}`);
      await h.call('upsert', ids[name], { vt: tag, name, n: ++n });
    }
    return {
      tag,
      ids,
      rows: async (options, view = 'by_name') => drain(await viewRows(c, h, DDOC, view, options)),
      range: () => [[tag], [tag, STRING_RANGE_END]],
    };
  }
  const names = (rows: any[]): string[] => rows.map((r) => (Array.isArray(r.key) ? r.key[1] : r.id));

  it('every Query parameter reaches the views service: mapkeyRange, descending, limit/skip, mapkeySingle/Multi, inclusiveEnd, dockeyRange, reduce/group_level, stale', async function () {
    const f = await fixture();
    const base = { stale: STALE_UPDATE_BEFORE, reduce: false };
    expect(names(await f.rows({ ...base, mapkeyRange: f.range() }))).to.deep.equal(['a', 'b', 'c', 'd']);
    expect(names(await f.rows({ ...base, mapkey_range: [[f.tag, STRING_RANGE_END], [f.tag]], descending: true }))).to.deep.equal(['d', 'c', 'b', 'a']);
    expect(names(await f.rows({ ...base, mapkeyRange: f.range(), limit: 2, skip: 1 }))).to.deep.equal(['b', 'c']);
    const single = await f.rows({ ...base, mapkeySingle: [f.tag, 'c'] });
    expect(single.map((r) => [r.id, r.value])).to.deep.equal([[f.ids.c, 3]]);
    expect(names(await f.rows({ ...base, mapkey_multi: [[f.tag, 'd'], [f.tag, 'a']] }))).to.deep.equal(['d', 'a']);
    expect(names(await f.rows({ ...base, startkey: [f.tag], endkey: [f.tag, 'c'], inclusive_end: false }))).to.deep.equal(['a', 'b']);
    const byDoc = await f.rows({ stale: false, key: f.tag, dockeyRange: [f.ids.b, f.ids.c] }, 'by_tag');
    expect(byDoc.map((r) => r.id)).to.deep.equal([f.ids.b, f.ids.c]);
    const reduced = await f.rows({ stale: false, mapkeyRange: f.range(), group_level: 1 });
    expect(reduced).to.deep.equal([{ key: [f.tag], value: 4 }]);
    expect(await f.rows({ stale: false, mapkeyRange: f.range() })).to.deep.equal([{ key: null, value: 4 }]);
    const h = c.h();
    expect(await expectReject(settle(async () => drain(await viewRows(c, h, DDOC, 'by_name', { limit: -1 }))))).to.be.instanceOf(ArgumentError);
    expect(await expectReject(settle(async () => drain(await viewRows(c, h, DDOC, 'by_name', { mapkeyRange: [1, 2, 3] }))))).to.be.instanceOf(ArgumentError);
    expect(await expectReject(settle(async () => drain(await viewRows(c, h, DDOC, 'by_name', { startkey: 1, mapkeyRange: [1] }))))).to.be.instanceOf(ArgumentError);
  });

  it('a Query (ViewQuery) goes wherever options go: as the options, as `query` under more options, from a string, with passthrough; its parameters are properties', async function () {
    const f = await fixture();
    const q = new Query({ stale: false, reduce: false });
    q.mapkeyRange = f.range();
    (q as any).limit = 3;
    expect((q as any).limit).to.equal(3);
    expect(q.encoded).to.match(/(^|&)limit=3(&|$)/);
    expect(names(await f.rows(q))).to.deep.equal(['a', 'b', 'c']);
    expect(names(await f.rows({ query: q, skip: 2 }))).to.deep.equal(['c', 'd']);
    // update(copy=true) leaves the original alone
    const copy = q.update({ descending: true, mapkeyRange: [[f.tag, STRING_RANGE_END], [f.tag]] }, true);
    expect(names(await f.rows(copy))).to.deep.equal(['d', 'c', 'b']);
    expect((q as any).descending).to.equal(undefined);
    const fromString = ViewQuery.fromString('stale=false&reduce=false&limit=1');
    fromString.mapkeyRange = f.range();
    expect(names(await f.rows(fromString))).to.deep.equal(['a']);
    // passthrough: values go as given (already JSON here)
    const raw = new Query({ passthrough: true, stale: 'false', reduce: 'false', startkey: JSON.stringify([f.tag, 'b']), endkey: JSON.stringify([f.tag, 'b']) } as any);
    expect(names(await f.rows(raw))).to.deep.equal(['b']);
    expect(() => new Query({ no_such_param: 1 } as any)).to.throw(ArgumentError, /no_such_param/);
    expect(new Query({ unrecognizedOk: true, no_such_param: 1 } as any).encoded).to.equal('no_such_param=1');
  });

  it('on_error: the server\'s errors raise ViewEngineError by default; with onError \'continue\' the rows stand and the errors are warnings', async function () {
    const f = await fixture();
    const options = { stale: false, mapkeyRange: f.range(), group: true };
    const err = await expectReject(f.rows(options, 'picky'));
    expect(err).to.be.instanceOf(ViewEngineError);
    expect(String(err.reason)).to.match(/no b here/);
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    try {
      const rows = await f.rows({ ...options, onError: ONERROR_CONTINUE }, 'picky');
      expect(rows.map((r) => r.key[1])).to.deep.equal(['a', 'c', 'd']);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((w) => w.name)).to.include('ViewWarning');
    expect(warnings.find((w) => w.name === 'ViewWarning')!.message).to.match(/no b here/);
  });

  it('rowProcessor: a function per row, or an object whose handleRows(rows, bucket, includeDocs) gives the rows', async function () {
    const f = await fixture();
    const h = c.h();
    const base = { stale: false, reduce: false, mapkeyRange: f.range() };
    expect(await f.rows({ ...base, rowProcessor: (r: any) => `${r.key[1]}=${r.value}` })).to.deep.equal(['a=1', 'b=2', 'c=3', 'd=4']);
    const seen: Array<[unknown, boolean]> = [];
    const processor = {
      *handleRows(rows: any[], bucket: unknown, includeDocs: boolean) {
        seen.push([bucket, includeDocs]);
        for (const r of rows) yield r.doc.value.n * 10;
      },
    };
    expect(await f.rows({ ...base, includeDocs: true, row_processor: processor })).to.deep.equal([10, 20, 30, 40]);
    expect(seen.length).to.be.greaterThan(0);
    expect(seen[0]).to.deep.equal([h.bucket, true]);
    expect(await expectReject(f.rows({ ...base, rowProcessor: 42 }))).to.be.instanceOf(ArgumentError);
  });

  it('a transcoder\'s decodeKey gives rows their document ids as the caller named them; included documents are fetched with the ids as sent', async function () {
    await putDesignDoc(c.ports().capi!, c.bucketName(), DDOC, DESIGN);
    const tag = k('tviews');
    await withHandle(c, c.openOptions({ bucketOptions: { transcoder: Prefixing } }), async (t) => {
      await t.call('upsert', k('tv-a'), { vt: tag, name: 'a', n: 1 });
      const rows = drain(await viewRows(c, t, DDOC, 'by_tag', { stale: false, key: tag, includeDocs: true }));
      const got = (await rows) as any[];
      expect(got.map((r) => r.id)).to.deep.equal([k('tv-a')]);
      expect([got[0].doc.key, got[0].doc.value]).to.deep.equal([k('tv-a'), { vt: tag, name: 'a', n: 1 }]);
      // Through the bucket without the transcoder: the id as sent.
      const raw = (await drain(await viewRows(c, c.h(), DDOC, 'by_tag', { stale: false, key: tag }))) as any[];
      expect(raw.map((r) => r.id)).to.deep.equal([sentAs(k('tv-a'))]);
    });
  });
}
