// The Twisted flavour's own semantics: Deferred chaining, cancellation, connect Deferreds,
// handler classes for streamed queries, inlineCallbacks.
import { expect } from 'chai';
import { CancelledError as DeferCancelledError, Deferred, Failure, inlineCallbacks } from '../../lib/defer';
import { Bucket, N1QLRequest, ViewRequest, NotFoundError, N1QLError, ConnectError, ObjectDestroyedError, ValueResult } from '../../adapters/deferred';
import { FakeEngine } from './helpers/fake-engine';

function settle<T>(d: Deferred<T>): Promise<{ ok: boolean; value: unknown }> {
  return new Promise((resolve) => {
    d.addCallbacks(
      (value) => resolve({ ok: true, value }),
      (failure: Failure) => resolve({ ok: false, value: failure }),
    );
  });
}

class RowsHandler extends N1QLRequest {
  readonly deferred = new Deferred<number>();
  readonly batches: unknown[][] = [];
  count = 0;
  constructor(...args: ConstructorParameters<typeof N1QLRequest>) {
    super(...args);
  }
  onRows(rows: unknown[]): void {
    this.batches.push(rows);
    this.count += rows.length;
  }
  onDone(): void {
    this.deferred.callback(this.count);
  }
  onError(err: Error): void {
    this.deferred.errback(err);
  }
}

describe('deferred flavour (txcouchbase semantics)', function () {
  let engine: FakeEngine;
  let bucket: Bucket;

  beforeEach(function () {
    engine = new FakeEngine();
    bucket = new Bucket('couchbase://fake/default', { engine });
  });
  afterEach(async function () {
    await bucket.close();
  });

  it('connects as soon as it is built; connect() and onConnect fire with the bucket', async function () {
    const a = await settle(bucket.connect());
    expect(a).to.deep.equal({ ok: true, value: bucket });
    expect(bucket.connected).to.equal(true);
    const b = await settle(bucket.onConnect);
    expect(b.value).to.equal(bucket);
  });

  it('each connect() call gets its own Deferred, so callbacks on one do not change another', async function () {
    const d1 = bucket.connect().addCallback(() => 'changed');
    const d2 = bucket.connect();
    expect(d1).to.not.equal(d2);
    expect((await settle(d1)).value).to.equal('changed');
    expect((await settle(d2)).value).to.equal(bucket);
  });

  it('a connection failure fails connect() and every operation that was waiting for it', async function () {
    const bad = new Bucket('couchbase://fake/default', { engine: new FakeEngine({ connectError: 'refused' }) });
    const op = settle(bad.get('x'));
    const c = await settle(bad.connect());
    expect(c.ok).to.equal(false);
    expect((c.value as Failure).value).to.be.instanceOf(ConnectError);
    const r = await op;
    expect((r.value as Failure).check(ConnectError)).to.equal(ConnectError);
    await bad.close();
  });

  it('operations return Deferreds whose callbacks chain: a callback result feeds the next callback', async function () {
    await bucket.upsert('id', { some: ['value'] });
    const d = bucket
      .get('id')
      .addCallback((rv: ValueResult) => rv.value)
      .addCallback((v: unknown) => (v as { some: string[] }).some.length);
    expect((await settle(d)).value).to.equal(1);
  });

  it('a failed operation calls the errback with a Failure wrapping the typed error', async function () {
    const d = bucket.get('nope');
    const r = await settle(d);
    expect(r.ok).to.equal(false);
    const f = r.value as Failure;
    expect(f).to.be.instanceOf(Failure);
    expect(f.check(NotFoundError)).to.equal(NotFoundError);
    expect(f.value).to.be.instanceOf(NotFoundError);
  });

  it('an errback can recover, turning the chain back to the callback path', async function () {
    const d = bucket
      .get('nope')
      .addErrback((f: Failure) => {
        f.trap(NotFoundError);
        return 'default';
      })
      .addCallback((v: unknown) => String(v).toUpperCase());
    expect((await settle(d)).value).to.equal('DEFAULT');
  });

  it('cancelling an operation still waiting for the connection removes it and fails it with CancelledError', async function () {
    engine = new FakeEngine({ connectDelayMs: 30 });
    const slow = new Bucket('couchbase://fake/default', { engine });
    const d = slow.upsert('c', 1);
    d.cancel();
    const r = await settle(d);
    expect((r.value as Failure).check(DeferCancelledError)).to.equal(DeferCancelledError);
    await settle(slow.connect());
    await new Promise((res) => setTimeout(res, 10));
    expect(engine.calls).to.deep.equal([], 'the cancelled operation never reached the engine');
    expect(engine.docs.has('c')).to.equal(false);
    await slow.close();
  });

  for (const handlers of [true, false]) {
    const contract = handlers ? 'reports to handler objects (dispatchKv)' : 'takes callbacks only';
    it(`cancelling an operation in flight removes it from the engine and fails it with CancelledError (engine ${contract})`, async function () {
      engine = new FakeEngine({ kvDelayMs: 150, handlers });
      const slow = new Bucket('couchbase://fake/default', { engine });
      await slow.connect();
      let calledBack = 0;
      const op = slow.get('x');
      const d = op.addBoth((r: unknown) => {
        calledBack++;
        return r;
      });
      expect(engine.calls).to.deep.equal([['get', 'x']], 'the operation is in flight');
      // An engine with dispatchKv reports to the operation's Deferred itself: no closure per call.
      expect(engine.handlers.length).to.equal(handlers ? 1 : 0);
      if (handlers) expect(engine.handlers[0]).to.equal(op);
      d.cancel();
      const r = await settle(d);
      // The engine reports its own CancelledError on cancel; the Deferred fails with Twisted's.
      expect((r.value as Failure).check(DeferCancelledError)).to.equal(DeferCancelledError);
      expect(engine.cancelledCalls).to.deep.equal([['get', 'x']], 'the engine was told to drop the operation');
      await new Promise((res) => setTimeout(res, 200)); // past the engine's answer time: nothing more
      expect(calledBack).to.equal(1);
      await slow.close();
    });
  }

  it('an operation issued from a getter on another call\'s options still goes to its own key', async function () {
    await settle(bucket.connect());
    let inner: Deferred<unknown> | undefined;
    const options = {
      get ttl() {
        // Runs while the outer upsert's options are being read.
        inner = bucket.upsert('inner', 'i');
        return 0;
      },
    };
    const outer = bucket.upsert('outer', 'o', options as never);
    await settle(outer);
    await settle(inner!);
    expect(engine.calls).to.deep.equal([
      ['upsert', 'inner'],
      ['upsert', 'outer'],
    ]);
    expect(engine.docs.get('outer')!.value).to.equal('o');
    expect(engine.docs.get('inner')!.value).to.equal('i');
  });

  it('inlineCallbacks code reads top to bottom, as the txcouchbase examples do', async function () {
    const flow = inlineCallbacks(function* (b: Bucket) {
      yield b.upsert('ic', { n: 1 });
      const rv: ValueResult = yield b.get('ic');
      try {
        yield b.get('ic-missing');
      } catch (err) {
        return [rv.value, (err as Error).constructor.name];
      }
      return 'unreachable';
    });
    expect((await settle(flow(bucket))).value).to.deep.equal([{ n: 1 }, 'NotFoundError']);
  });

  it('n1qlQueryAll fires with every row and the meta', async function () {
    const r = await settle(bucket.n1qlQueryAll('ROWS 230'));
    const rows = r.value as unknown[] & { meta: { status: string } };
    expect(rows).to.have.length(230);
    expect(rows[229]).to.deep.equal({ i: 229 });
    expect(rows.meta.status).to.equal('success');
  });

  it('cancelling a n1qlQueryAll Deferred aborts the request', async function () {
    const d = bucket.n1qlQueryAll('HANG');
    await new Promise((res) => setTimeout(res, 5));
    d.cancel();
    const r = await settle(d);
    expect((r.value as Failure).check(DeferCancelledError)).to.equal(DeferCancelledError);
    expect(engine.streams[0].cancelled).to.equal(true);
  });

  it('n1qlQueryEx builds the handler class with the query, starts it, and its own Deferred fires from onDone', async function () {
    const handler = bucket.n1qlQueryEx(RowsHandler, 'ROWS 350');
    expect(handler).to.be.instanceOf(RowsHandler);
    expect(handler.query).to.equal('ROWS 350');
    const r = await settle(handler.deferred);
    expect(r.value).to.equal(350);
    expect(handler.batches.length).to.be.greaterThan(1, 'rows arrive in batches as they stream');
    expect((handler.meta as { status: string }).status).to.equal('success');
  });

  it('handler constructors get txcouchbase\'s arguments: (query, bucket, ...extra) and (bucket, ddoc, view, options)', async function () {
    const seen: unknown[][] = [];
    class Recording extends N1QLRequest {
      constructor(...args: ConstructorParameters<typeof N1QLRequest>) {
        super(...args);
        seen.push(args);
      }
      onRows(): void {}
      onDone(): void {}
      onError(): void {}
    }
    const h = bucket.n1qlQueryEx(Recording, 'ROWS 1', 'extra');
    expect(seen[0]).to.deep.equal(['ROWS 1', bucket, 'extra']);
    expect(h.parent).to.equal(bucket);
    class RecordingView extends ViewRequest {
      constructor(...args: ConstructorParameters<typeof ViewRequest>) {
        super(...args);
        seen.push(args);
      }
      onRows(): void {}
      onDone(): void {}
      onError(): void {}
    }
    bucket.queryEx(RecordingView, 'beer', 'by_name', { limit: 1 });
    expect(seen[1]).to.deep.equal([bucket, 'beer', 'by_name', { limit: 1 }]);
  });

  it('a query error reaches the handler\'s onError after the rows before it', async function () {
    const handler = bucket.n1qlQueryEx(RowsHandler, 'FAIL AFTER 150');
    const r = await settle(handler.deferred);
    expect(handler.count).to.equal(150);
    expect((r.value as Failure).check(N1QLError)).to.equal(N1QLError);
  });

  it('an exception thrown in onRows cancels the request and goes to onError', async function () {
    class Throwing extends RowsHandler {
      override onRows(): void {
        throw new RangeError('bad row');
      }
    }
    const h = bucket.n1qlQueryEx(Throwing, 'ROWS 1000');
    const r = await settle(h.deferred);
    expect((r.value as Failure).value).to.be.instanceOf(RangeError);
    expect(engine.streams[0].cancelled).to.equal(true);
  });

  it('queryEx runs a ViewRequest subclass; includeDocs gives each row its document', async function () {
    await bucket.upsertMulti({ 'b:1': { name: 'Zed' }, 'b:2': { name: 'Abbey' } });
    class ViewRows extends ViewRequest {
      readonly deferred = new Deferred<unknown[]>();
      rows: unknown[] = [];
      onRows(rows: unknown[]): void {
        this.rows.push(...rows);
      }
      onDone(): void {
        this.deferred.callback(this.rows);
      }
      onError(err: Error): void {
        this.deferred.errback(err);
      }
    }
    const h = bucket.queryEx(ViewRows, 'beer', 'by_name', { includeDocs: true });
    const rows = (await settle(h.deferred)).value as Array<{ key: string; doc: ValueResult }>;
    expect(rows.map((r) => r.key)).to.deep.equal(['Abbey', 'Zed']);
    expect(rows[0].doc.value).to.deep.equal({ name: 'Abbey' });
  });

  it('queryAll fires with the view rows', async function () {
    await bucket.upsert('b:9', { name: 'Nine' });
    const rows = (await settle(bucket.queryAll('beer', 'by_name', { limit: 5 }))).value as unknown[];
    expect(rows).to.deep.equal([{ id: 'b:9', key: 'Nine', value: null }]);
  });

  it('after close(), operations fail with ObjectDestroyedError', async function () {
    await bucket.close();
    const r = await settle(bucket.get('x'));
    expect((r.value as Failure).value).to.be.instanceOf(ObjectDestroyedError);
  });
});
