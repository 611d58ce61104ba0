// Bucket properties, ping / diagnostics, flush and the BucketManager (design documents, N1QL
// indexes) through each flavour.
import { expect } from 'chai';
import { ArgumentError, COMPRESS_FORCE, COMPRESS_INOUT, COMPRESS_NONE, FMT_BYTES, FMT_JSON, FMT_UTF8, HTTPError, HttpResult, KeyExistsError, N1qlIndex, NotFoundError } from '../../../lib/index';
import { expectReject, withHandle, type SharedContext } from './context';

/** A flavour's call result as a promise (its method returns its async type, or a value). */
async function call(target: unknown, method: string, ...args: unknown[]): Promise<any> {
  return await (target as Record<string, (...a: unknown[]) => unknown>)[method](...args);
}

export function managementCases(c: SharedContext): void {
  const { k } = c;

  it('reports itself as Python\'s Bucket does: bucket, isSsl, serverNodes, configuredReplicaCount, closed', async function () {
    const h = c.h();
    await h.call('upsert', k('p'), 1);
    const b = h.bucket as Record<string, unknown>;
    expect(b.bucket).to.equal(c.bucketName());
    expect(b.isSsl).to.equal(false);
    expect(b.serverNodes).to.be.an('array').with.length(1);
    expect(String((b.serverNodes as string[])[0])).to.match(/^127\.0\.0\.1:\d+$/);
    expect(b.configuredReplicaCount).to.be.a('number');
    expect(b.closed).to.equal(false);
    expect(() => (b.bucket = 'other')).to.throw(TypeError);
    await withHandle(c, c.replicaOptions(), async (r) => {
      await r.call('upsert', k('p'), 1);
      const rb = r.bucket as Record<string, unknown>;
      expect(rb.configuredReplicaCount).to.equal(1);
      expect(rb.serverNodes).to.have.length(2);
    });
  });

  it('tracing_* and redaction: readable, settable (a bad value is ArgumentError), from the connection string too', async function () {
    const b = c.h().bucket as Record<string, unknown>;
    expect([b.tracingThresholdKv, b.tracingThresholdN1ql, b.tracingThresholdView, b.tracingThresholdFts, b.tracingThresholdAnalytics]).to.deep.equal([0.5, 1, 1, 1, 1]);
    expect([b.tracingThresholdQueueSize, b.tracingThresholdQueueFlushInterval, b.tracingOrphanedQueueSize, b.tracingOrphanedQueueFlushInterval, b.redaction]).to.deep.equal([128, 10, 128, 10, false]);
    b.tracingThresholdKv = 0.001;
    b.tracingThresholdQueueSize = 5;
    b.tracingOrphanedQueueFlushInterval = 2;
    b.redaction = true;
    expect([b.tracingThresholdKv, b.tracingThresholdQueueSize, b.tracingOrphanedQueueFlushInterval, b.redaction]).to.deep.equal([0.001, 5, 2, true]);
    expect(() => (b.tracingThresholdQueueSize = 2.5)).to.throw(ArgumentError);
    expect(() => (b.tracingThresholdN1ql = -1)).to.throw(ArgumentError);
    expect(() => (b.tracingThresholdQueueFlushInterval = 0)).to.throw(ArgumentError);
    // Operations keep working with the tracer on.
    await c.h().call('upsert', k('traced'), { t: 1 });
    expect((await c.h().call('get', k('traced'))).value).to.deep.equal({ t: 1 });
    await withHandle(c, c.openOptions({ connstrSuffix: 'tracing_threshold_n1ql=0.25&tracing_orphaned_queue_size=3&log_redaction=true' }), async (h) => {
      const o = h.bucket as Record<string, unknown>;
      expect([o.tracingThresholdN1ql, o.tracingOrphanedQueueSize, o.redaction]).to.deep.equal([0.25, 3, true]);
    });
  });

  it('takes settable properties: timeouts, quiet, defaultFormat, dataPassthrough, transcoder', async function () {
    const h = c.h();
    const b = h.bucket as Record<string, unknown>;
    expect(b.timeout).to.equal(2.5);
    b.timeout = 7;
    expect(b.timeout).to.equal(7);
    expect(() => (b.timeout = -1)).to.throw(ArgumentError);
    b.n1qlTimeout = 12;
    b.viewsTimeout = 13;
    expect([b.n1qlTimeout, b.viewsTimeout]).to.deep.equal([12, 13]);
    b.quiet = true;
    expect((await h.call('get', k('missing'))).success).to.equal(false);
    b.quiet = false;
    expect(await expectReject(h.call('get', k('missing')))).to.be.instanceOf(NotFoundError);
    expect(b.defaultFormat).to.equal(FMT_JSON);
    b.defaultFormat = FMT_UTF8;
    await h.call('upsert', k('s'), 'plain');
    expect((await h.call('get', k('s'))).flags).to.equal(0x04000004);
    expect(() => (b.defaultFormat = 0x1234)).to.throw(ArgumentError);
    b.defaultFormat = FMT_JSON;
    b.dataPassthrough = true;
    expect(Buffer.isBuffer((await h.call('get', k('s'))).value)).to.equal(true);
    b.dataPassthrough = false;
    expect((await h.call('get', k('s'))).value).to.equal('plain');
    // Python's transcoder interface: encodeValue(value, format) -> [bytes, flags], decodeValue(bytes, flags)
    b.transcoder = {
      encodeValue: (v: unknown) => [Buffer.from(`T:${JSON.stringify(v)}`), FMT_BYTES],
      decodeValue: (buf: Buffer) => JSON.parse(buf.toString().slice(2)),
    };
    await h.call('upsert', k('t'), { x: 1 });
    expect((await h.call('get', k('t'))).value).to.deep.equal({ x: 1 });
    b.dataPassthrough = true;
    expect((await h.call('get', k('t'))).value.toString()).to.equal('T:{"x":1}');
    b.dataPassthrough = false;
    b.transcoder = undefined;
    // Python's compression properties: COMPRESS_* modes (or the connection string's names), sizes.
    expect(b.compression).to.equal(COMPRESS_INOUT);
    expect([b.compressionMinSize, b.compressionMinRatio]).to.deep.equal([1024, 0.83]);
    b.compression = COMPRESS_FORCE;
    b.compressionMinSize = 16;
    b.compressionMinRatio = 0.5;
    expect([b.compression, b.compressionMinSize, b.compressionMinRatio]).to.deep.equal([COMPRESS_FORCE, 16, 0.5]);
    const big = { text: 'abc'.repeat(200) };
    await h.call('upsert', k('z'), big);
    expect((await h.call('get', k('z'))).value).to.deep.equal(big);
    b.compression = 'off';
    expect(b.compression).to.equal(COMPRESS_NONE);
    expect(() => (b.compression = 9)).to.throw(ArgumentError);
    expect(() => (b.compressionMinRatio = 2)).to.throw(ArgumentError);
    expect(b.connected).to.equal(true);
  });

  it('ping() reports each KV, query and views node; diagnostics() the KV connections', async function () {
    const h = c.h();
    await h.call('upsert', k('p'), 1);
    const b = h.bucket as Record<string, unknown>;
    const report = await call(b, 'ping');
    expect(report.version).to.equal(1);
    expect(report.services.kv).to.have.length(1);
    expect(report.services.kv[0]).to.include({ status: 'ok', scope: c.bucketName() });
    expect(report.services.kv[0].latency_us).to.be.a('number');
    expect(report.services.n1ql.map((e: { status: string }) => e.status)).to.deep.equal(['ok']);
    expect(report.services.views.map((e: { status: string }) => e.status)).to.deep.equal(['ok']);
    const diag = await call(b, 'diagnostics');
    expect(diag.kv).to.have.length(1);
    expect(diag.kv[0].status).to.equal('connected');
    expect(diag.kv[0].local).to.match(/:\d+$/);
    expect(diag.id).to.equal(report.id);
  });

  it('flush() empties the bucket', async function () {
    await withHandle(c, c.openOptions({ bucket: 'fl' }), async (h) => {
      await h.call('upsertMulti', { [k('f1')]: 1, [k('f2')]: 2 });
      const r = await call(h.bucket, 'flush');
      expect(r).to.be.instanceOf(HttpResult);
      expect(r.httpStatus).to.equal(200);
      expect(await expectReject(h.call('get', k('f1')))).to.be.instanceOf(NotFoundError);
    });
  });

  it('bucketManager(): designCreate (development by default), designGet, designPublish, designList, designDelete', async function () {
    const h = c.h();
    const m = (h.bucket as { bucketManager(): unknown }).bucketManager();
    const name = `dd_${k('x').replace(/[^a-z0-9]/gi, '_')}`;
    const ddoc = { views: { by_kind: { map: 'function (doc, meta) { if (doc.kind) emit(doc.kind, null); }' } } };
    const created = await call(m, 'designCreate', name, ddoc, { syncwait: 5 });
    expect(created).to.be.instanceOf(HttpResult);
    expect((await call(m, 'designGet', name)).value).to.deep.include({ views: ddoc.views });
    // not published yet: no production copy
    expect(await expectReject(call(m, 'designGet', name, { useDevmode: false }))).to.be.instanceOf(HTTPError);
    await call(m, 'designPublish', name, { syncwait: 5 });
    expect((await call(m, 'designGet', name, false)).value.views).to.deep.equal(ddoc.views);
    expect(await expectReject(call(m, 'designGet', name))).to.be.instanceOf(HTTPError);
    await h.call('upsert', k('d1'), { kind: name });
    const { rows } = await h.view(name, 'by_kind', { stale: false, key: name });
    expect(rows.map((r) => (r as { id: string }).id)).to.deep.equal([k('d1')]);
    const listed = (await call(m, 'designList')).value;
    expect(listed).to.have.property(`_design/${name}`);
    await call(m, 'designDelete', name, { useDevmode: false, syncwait: 5 });
    expect(await expectReject(call(m, 'designGet', name, false))).to.be.instanceOf(HTTPError);
    expect(await expectReject(call(m, 'designCreate', name, ddoc, { bogus: 1 }))).to.be.instanceOf(ArgumentError);
  });

  it('bucketManager(): N1QL indexes created (deferred), listed, built, watched and dropped', async function () {
    const h = c.h();
    const m = (h.bucket as { bucketManager(): unknown }).bucketManager();
    const ix = `ix_${c.driver.name}_${Date.now()}`;
    await call(m, 'n1qlIndexCreatePrimary', { ignoreExists: true });
    expect(await expectReject(call(m, 'n1qlIndexCreatePrimary'))).to.be.instanceOf(KeyExistsError);
    await call(m, 'n1qlIndexCreate', ix, { fields: ['name', '`kind`'], defer: true, condition: 'kind IS NOT MISSING' });
    await call(m, 'n1qlIndexCreate', ix, { fields: ['name'], ignoreExists: true });
    expect(await expectReject(call(m, 'n1qlIndexCreate', ix, { fields: ['name'] }))).to.be.instanceOf(KeyExistsError);
    expect(await expectReject(call(m, 'n1qlIndexCreate', 'nofields', {}))).to.be.instanceOf(ArgumentError);
    expect(await expectReject(call(m, 'n1qlIndexCreate', 'x', { fields: ['a'], deferred: true }))).to.be.instanceOf(ArgumentError);
    const listed: N1qlIndex[] = await call(m, 'n1qlIndexList');
    const mine = listed.find((i) => i.name === ix)!;
    expect(mine).to.be.instanceOf(N1qlIndex);
    expect(mine.state).to.equal('deferred');
    expect(mine.keyspace).to.equal(c.bucketName());
    expect(listed.some((i) => i.primary)).to.equal(true);
    const building: N1qlIndex[] = await call(m, 'n1qlIndexBuildDeferred');
    expect(building.map((i) => i.name)).to.include(ix);
    const online: N1qlIndex[] = await call(m, 'n1qlIndexWatch', [ix], { timeout: 10, interval: 0.1, watchPrimary: true });
    expect(online.map((i) => i.state)).to.deep.equal(['online', 'online']);
    expect(await expectReject(call(m, 'n1qlIndexWatch', ['no_such_index'], { timeout: 1, interval: 0.1 }))).to.be.instanceOf(NotFoundError);
    await call(m, 'n1qlIndexDrop', ix);
    expect(await expectReject(call(m, 'n1qlIndexDrop', ix))).to.be.instanceOf(NotFoundError);
    await call(m, 'n1qlIndexDrop', ix, { ignoreMissing: true });
    expect(((await call(m, 'listN1qlIndexes')) as N1qlIndex[]).some((i) => i.name === ix)).to.equal(false);
  });
}
