// The asyncio flavour's own semantics: await, AbortSignal, async iteration with backpressure.
import { expect } from 'chai';
import { Bucket, CancelledError, N1QLError, NotFoundError, ValueResult } from '../../adapters/promise';
import { FakeEngine } from './helpers/fake-engine';

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('promise flavour (acouchbase semantics)', function () {
  let engine: FakeEngine;
  let bucket: Bucket;

  beforeEach(async function () {
    engine = new FakeEngine();
    bucket = new Bucket('couchbase://fake/default', { engine });
    await bucket.connect();
  });
  afterEach(async function () {
    await bucket.close();
  });

  it('await connect() resolves with the bucket; await on operations gives the result objects', async function () {
    expect(await bucket.connect()).to.equal(bucket);
    await bucket.upsert('foo', 'bar');
    const rv = await bucket.get('foo');
    expect(rv).to.be.instanceOf(ValueResult);
    expect(rv.value).to.equal('bar');
  });

  it('a failed operation rejects with the typed error', async function () {
    let caught: unknown;
    try {
      await bucket.get('missing');
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(NotFoundError);
  });

  it('an already-aborted signal rejects at once with CancelledError and sends nothing', async function () {
    const ac = new AbortController();
    ac.abort(new Error('user gave up'));
    let caught: any;
    try {
      await bucket.get('x', { signal: ac.signal });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(CancelledError);
    expect(caught.cause.message).to.equal('user gave up');
    expect(engine.calls).to.deep.equal([]);
  });

  it('aborting an operation in flight rejects it with CancelledError', async function () {
    engine = new FakeEngine({ kvDelayMs: 300 });
    const slow = new Bucket('couchbase://fake/default', { engine });
    await slow.connect();
    const ac = new AbortController();
    const p = slow.get('x', { signal: ac.signal });
    setTimeout(() => ac.abort(), 5);
    let caught: unknown;
    try {
      await p;
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(CancelledError);
    expect(engine.cancelledCalls).to.deep.equal([['get', 'x']], 'the engine was told to drop the operation');
    await slow.close();
  });

  it('the signal option is not passed on to the engine as a document option', async function () {
    const ac = new AbortController();
    await bucket.upsert('s', { a: 1 }, { signal: ac.signal, ttl: 0 } as never);
    expect(engine.callOptions[0]).to.not.have.property('signal');
    expect(engine.callOptions[0]).to.include({ ttl: 0 });
    expect((await bucket.get('s')).value).to.deep.equal({ a: 1 });
  });

  it('n1qlQuery is async-iterable row by row, with meta after the last row', async function () {
    const rows = bucket.n1qlQuery('ROWS 321');
    const seen: unknown[] = [];
    for await (const row of rows) {
      if (seen.length === 0) expect(rows.meta).to.equal(undefined);
      seen.push(row);
    }
    expect(seen).to.have.length(321);
    expect(seen[320]).to.deep.equal({ i: 320 });
    expect((rows.meta as { status: string }).status).to.equal('success');
  });

  it('a slow consumer pauses the engine stream, and catching up resumes it', async function () {
    const rows = bucket.n1qlQuery('ROWS 5000', { highWater: 300 });
    const it = rows[Symbol.asyncIterator]();
    await it.next();
    // The consumer is busy; the engine keeps producing until the high-water mark, then pauses.
    for (let waited = 0; !rows.isPaused && waited < 5000; waited += 10) await tick(10);
    const stream = engine.streams[0];
    expect(rows.isPaused).to.equal(true);
    expect(stream.paused).to.equal(true);
    const sentWhilePaused = stream.sent;
    await tick(20);
    expect(stream.sent).to.equal(sentWhilePaused, 'nothing more is read while paused');
    expect(rows.bufferedRows).to.be.at.most(300 + 100);
    let count = 1;
    for (;;) {
      const r = await it.next();
      if (r.done) break;
      count++;
    }
    expect(count).to.equal(5000);
    expect(stream.paused).to.equal(false);
  });

  it('breaking out of the loop cancels the request', async function () {
    let n = 0;
    for await (const _row of bucket.n1qlQuery('ROWS 100000')) {
      if (++n === 150) break;
    }
    expect(engine.streams[0].cancelled).to.equal(true);
    expect(engine.streams[0].sent).to.be.lessThan(100000);
  });

  it('aborting the signal during iteration rejects the loop with CancelledError and cancels the request', async function () {
    const ac = new AbortController();
    let n = 0;
    let caught: unknown;
    try {
      for await (const _row of bucket.n1qlQuery('ROWS 100000', { signal: ac.signal })) {
        if (++n === 50) ac.abort();
      }
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(CancelledError);
    expect(engine.streams[0].cancelled).to.equal(true);
  });

  it('a query error is thrown from the loop after the rows that came before it', async function () {
    let n = 0;
    let caught: unknown;
    try {
      for await (const _row of bucket.n1qlQuery('FAIL AFTER 120')) n++;
    } catch (err) {
      caught = err;
    }
    expect(n).to.equal(120);
    expect(caught).to.be.instanceOf(N1QLError);
  });

  it('query() iterates view rows; includeDocs attaches documents', async function () {
    await bucket.upsertMulti({ 'b:1': { name: 'Porter' }, 'b:2': { name: 'Ale' } });
    const out: Array<{ key: unknown; doc?: ValueResult }> = [];
    for await (const row of bucket.query('beer', 'by_name', { includeDocs: true })) out.push(row);
    expect(out.map((r) => r.key)).to.deep.equal(['Ale', 'Porter']);
    expect(out[1].doc!.value).to.deep.equal({ name: 'Porter' });
  });

  it('rows can be iterated only once', async function () {
    const rows = bucket.n1qlQuery('ROWS 3');
    await rows.all();
    expect(() => rows[Symbol.asyncIterator]()).to.throw(/already iterated/);
  });

  it('operations issued before connect() wait for the connection', async function () {
    engine = new FakeEngine({ connectDelayMs: 20 });
    const late = new Bucket('couchbase://fake/default', { engine });
    const p = late.upsert('early', 1);
    expect(late.connected).to.equal(false);
    expect((await p).cas).to.be.a('bigint');
    expect(late.connected).to.equal(true);
    await late.close();
  });
});
