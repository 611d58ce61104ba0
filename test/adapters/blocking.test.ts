// The blocking flavour's own semantics: synchronous calls through a worker thread, streamed
// iteration with flow control, worker lifecycle, and the embedded cluster in the same process.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import {
  Bucket,
  ChannelError,
  ConnectError,
  N1QLError,
  N1QLQuery,
  NotFoundError,
  ValueResult,
  connectEmbedded,
  startEmbedded,
} from '../../adapters/blocking';
import { FAKE_ENGINE_MODULE } from './helpers/flavours';
import { threadId } from 'node:worker_threads';
import { ArgumentError, ObjectDestroyedError } from '../../lib/index';
import { startEmbedded as startEmbeddedOnThisThread } from '../../adapters/promise';

const sleepSync = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

function open(extra: Record<string, unknown> = {}): Bucket {
  return new Bucket('couchbase://fake/default', { engineModule: FAKE_ENGINE_MODULE, ...extra });
}

describe('blocking flavour (gcouchbase semantics)', function () {
  describe('against the engine test double', function () {
    let bucket: Bucket;
    beforeEach(function () {
      bucket = open({ streamLimits: { batchRows: 100, highWater: 500, lowWater: 100 } });
    });
    afterEach(function () {
      bucket.close();
    });

    it('calls return result objects synchronously', function () {
      bucket.upsert('foo', 'bar');
      const rv = bucket.get('foo');
      expect(rv).to.be.instanceOf(ValueResult);
      expect(rv.value).to.equal('bar');
    });

    it('errors are the same typed classes, thrown with the caller\'s stack', function () {
      let caught: any;
      function lookUpMissingDocument(): void {
        bucket.get('missing');
      }
      try {
        lookUpMissingDocument();
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(NotFoundError);
      expect(caught.key).to.equal('missing');
      expect(caught.stack).to.match(/^NotFoundError: /);
      expect(caught.stack).to.include('lookUpMissingDocument');
      expect(caught.stack).to.include('blocking.test.js');
      expect(caught.stack).to.not.include('worker-main');
    });

    it('engine time is recorded per KV call only between timeEngine() and timeEngine(false)', function () {
      bucket.upsert('t', 1);
      bucket.get('t');
      expect(bucket.engineTime().calls, 'off by default').to.equal(0);
      bucket.timeEngine();
      bucket.get('t');
      bucket.upsert('t', 2);
      const on = bucket.engineTime();
      expect(on.calls).to.equal(2);
      expect(on.samples).to.have.length(2);
      for (const ns of on.samples) expect(ns).to.be.greaterThan(0);
      bucket.timeEngine(false);
      bucket.get('t');
      expect(bucket.engineTime().calls).to.equal(0);
    });

    it('a value larger than the shared response area still round-trips', function () {
      const big = 'x'.repeat(3 * 1024 * 1024);
      bucket.upsert('big', big);
      expect(bucket.get('big').value).to.equal(big);
    });

    it('for...of over n1qlQuery yields every row, with meta after the last', function () {
      const rows = bucket.n1qlQuery('ROWS 20000');
      let n = 0;
      let last: unknown;
      for (const row of rows) {
        n++;
        last = row;
      }
      expect(n).to.equal(20000);
      expect(last).to.deep.equal({ i: 19999 });
      expect((rows.meta as { status: string }).status).to.equal('success');
    });

    it('while the caller does not pull, the worker pauses the engine at the high-water mark', function () {
      const rows = bucket.n1qlQuery('ROWS 100000');
      const it = rows[Symbol.iterator]();
      it.next();
      // The caller is busy; the worker keeps reading until its buffer is full, then pauses.
      const id = (rows as unknown as { id: number }).id;
      let state = bucket.invoke('streamState', [id]) as { queued: number; paused: boolean };
      for (let waited = 0; !state.paused && waited < 5000; waited += 25) {
        sleepSync(25);
        state = bucket.invoke('streamState', [id]) as { queued: number; paused: boolean };
      }
      sleepSync(50); // paused means paused: nothing more arrives
      const again = bucket.invoke('streamState', [id]) as { queued: number; paused: boolean };
      expect(again.queued).to.equal(state.queued);
      expect(state.paused).to.equal(true);
      // The first pull may have taken its batch after the buffer had already filled.
      expect(state.queued).to.be.at.least(400).and.at.most(600);
      let n = 1;
      while (!it.next().done) n++;
      expect(n).to.equal(100000);
    });

    it('breaking out of the loop cancels the query in the worker', function () {
      const rows = bucket.n1qlQuery('ROWS 100000');
      let n = 0;
      for (const _row of rows) if (++n === 250) break;
      const id = (rows as unknown as { id: number }).id;
      expect(bucket.invoke('streamState', [id])).to.equal(null);
      expect(bucket.get.bind(bucket, 'nothing')).to.throw(NotFoundError); // the bucket is still usable
    });

    it('a query error is thrown from the loop after the rows before it', function () {
      let n = 0;
      expect(() => {
        for (const _row of bucket.n1qlQuery('FAIL AFTER 300')) n++;
      }).to.throw(N1QLError);
      expect(n).to.equal(300);
    });

    it('view rows with includeDocs carry their documents across the thread boundary', function () {
      bucket.upsertMulti({ 'b:1': { name: 'Stout' }, 'b:2': { name: 'Bock' } });
      const rows = [...bucket.query('beer', 'by_name', { includeDocs: true })];
      expect(rows.map((r) => r.key)).to.deep.equal(['Bock', 'Stout']);
      expect(rows[0].doc).to.be.instanceOf(ValueResult);
      expect(rows[0].doc!.value).to.deep.equal({ name: 'Bock' });
    });

    it('rows can be iterated only once', function () {
      const rows = bucket.n1qlQuery('ROWS 3');
      expect([...rows]).to.have.length(3);
      expect(() => [...rows]).to.throw(/already iterated/);
    });
  });

  describe('worker lifecycle', function () {
    it('close() ends the worker thread', async function () {
      const b = open();
      b.upsert('a', 1);
      const exited = new Promise<number>((resolve) => b.workerThread.once('exit', resolve));
      b.close();
      expect(await exited).to.equal(0);
      expect(() => b.get('a')).to.throw(/closed/);
    });

    it('a connection failure is thrown from the constructor as the typed error, and the worker ends', async function () {
      let caught: unknown;
      try {
        open({ fake: { connectError: 'connection refused' } });
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(ConnectError);
      expect((caught as Error).message).to.equal('connection refused');
    });

    it('a worker that cannot load its engine fails the constructor instead of hanging', function () {
      const t0 = Date.now();
      expect(() => new Bucket('couchbase://x', { engineModule: path.join(__dirname, 'no-such-module.js') })).to.throw(
        ChannelError,
        /failed to start: Error: Cannot find module/,
      );
      expect(Date.now() - t0).to.be.lessThan(5000);
    });

    it('no wake-up is lost when either side is parked: every call answers well inside the 250 ms re-check', function () {
      // Each side notifies only when the other is parked. Make both park: answers take 2 ms
      // (past the caller's 50 us spin) and the caller pauses 1 ms between calls (past the
      // worker's 20 us spin). A lost notify would cost the caller its 250 ms re-check, or
      // leave the worker asleep for good.
      this.timeout(30_000);
      const b = open({ fake: { kvDelayMs: 2 }, seed: { k: 'v' }, spinMicros: 50, workerSpinMicros: 20 });
      try {
        let slowest = 0;
        for (let i = 0; i < 150; i++) {
          if (i % 3 !== 0) sleepSync(1);
          const t0 = performance.now();
          expect(b.get('k').value).to.equal('v');
          slowest = Math.max(slowest, performance.now() - t0);
        }
        expect(slowest).to.be.lessThan(200);
      } finally {
        b.close();
      }
    });

    it('a process that never calls close() still exits', function () {
      this.timeout(30_000);
      const script = `
        const { Bucket } = require(${JSON.stringify(path.resolve(__dirname, '../../adapters/blocking'))});
        const b = new Bucket('couchbase://fake', { engineModule: ${JSON.stringify(FAKE_ENGINE_MODULE)} });
        b.upsert('k', 1);
        process.stdout.write('value=' + b.get('k').value);
      `;
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
      expect(r.signal, 'killed by the timeout: the process did not exit').to.equal(null);
      expect(r.status).to.equal(0);
      expect(r.stdout).to.equal('value=1');
    });
  });

  describe('with an embedded cluster started in the same process', function () {
    it('startEmbedded runs the cluster in its own thread, so a blocked caller cannot stall it', function () {
      this.timeout(60_000);
      const { cluster, bucket } = connectEmbedded({ buckets: [{ name: 'default' }] });
      try {
        // The bucket's engine is served on the cluster's thread, never on the caller's.
        expect(bucket.workerThread.threadId).to.equal(cluster.workerThread.threadId);
        expect(bucket.workerThread.threadId).to.not.equal(threadId);
        bucket.upsert('same-process', { ok: true });
        expect(bucket.get('same-process').value).to.deep.equal({ ok: true });
        expect(() => bucket.get('absent')).to.throw(NotFoundError);
        if (cluster.nodes[0].ports.n1ql !== undefined) {
          const rows = [...bucket.n1qlQuery<number>(new N1QLQuery('SELECT RAW i FROM ARRAY_RANGE(0, 3000) AS i'))];
          expect(rows).to.have.length(3000);
          expect(rows[2999]).to.equal(2999);
        }
      } finally {
        bucket.close();
        cluster.stop();
      }
    });

    it("engineThread: 'own' gives the bucket a worker of its own; both kinds see the same data", function () {
      this.timeout(60_000);
      const { cluster, bucket } = connectEmbedded({ buckets: [{ name: 'default' }] });
      const own = cluster.openBucket('default', { engineThread: 'own' });
      try {
        expect(own.workerThread.threadId).to.not.equal(cluster.workerThread.threadId);
        bucket.upsert('both', { from: 'hosted' });
        expect(own.get('both').value).to.deep.equal({ from: 'hosted' });
        own.upsert('both', { from: 'own' });
        expect(bucket.get('both').value).to.deep.equal({ from: 'own' });
      } finally {
        own.close();
        bucket.close();
        cluster.stop();
      }
    });

    it("closing a bucket on the cluster's thread leaves the cluster serving, and other buckets on it working", async function () {
      this.timeout(60_000);
      const cluster = startEmbedded({ buckets: [{ name: 'default' }] });
      try {
        const first = cluster.openBucket('default');
        const second = cluster.openBucket('default');
        first.upsert('k', 1);
        first.close();
        expect(() => first.get('k')).to.throw(ObjectDestroyedError);
        expect(second.get('k').value).to.equal(1);
        second.close();
        // Opening and closing again on the same thread works, and nothing is left behind.
        for (let i = 0; i < 3; i++) {
          const b = cluster.openBucket('default');
          expect(b.get('k').value).to.equal(1);
          b.close();
        }
        expect(cluster.workerThread.threadId).to.be.a('number');
      } finally {
        cluster.stop();
      }
    });

    it("stopping the cluster closes the buckets served on its thread: calls fail at once with ObjectDestroyedError", async function () {
      this.timeout(60_000);
      const cluster = startEmbedded({ buckets: [{ name: 'default' }] });
      const bucket = cluster.openBucket('default');
      bucket.upsert('k', 1);
      const exited = new Promise<number>((resolve) => cluster.workerThread.once('exit', resolve));
      cluster.stop();
      expect(await exited).to.equal(0);
      const t0 = Date.now();
      expect(() => bucket.get('k')).to.throw(ObjectDestroyedError, /embedded cluster this bucket ran on was stopped/);
      expect(Date.now() - t0).to.be.lessThan(1000);
      bucket.close();
    });

    it("a bucket whose engine cannot start on the cluster's thread fails its constructor, and the cluster keeps serving", function () {
      this.timeout(60_000);
      const cluster = startEmbedded({ buckets: [{ name: 'default' }] });
      try {
        expect(() => cluster.openBucket('default', { engineModule: path.join(__dirname, 'no-such-module.js') })).to.throw(
          ChannelError,
          /failed to start: Error: Cannot find module/,
        );
        expect(() => cluster.openBucket('nosuchbucket', { config_total_timeout: 2 })).to.throw(/nosuchbucket/);
        const ok = cluster.openBucket('default');
        ok.upsert('still', 'serving');
        expect(ok.get('still').value).to.equal('serving');
        ok.close();
      } finally {
        cluster.stop();
      }
    });

    it('a blocking Bucket refuses an embedded cluster that runs on its own thread, instead of stalling it', async function () {
      this.timeout(30_000);
      const onThisThread = await startEmbeddedOnThisThread();
      try {
        expect(() => new Bucket(`${onThisThread.connectionString}/default`, { username: 'Administrator', password: 'password' })).to.throw(
          ArgumentError,
          /running on this thread/,
        );
      } finally {
        await onThisThread.stop();
      }
    });

    it('stop() ends the cluster thread, and a bucket on it then fails to connect', async function () {
      this.timeout(60_000);
      const cluster = startEmbedded();
      const connstr = cluster.bucketConnstr('default');
      const exited = new Promise<number>((resolve) => cluster.workerThread.once('exit', resolve));
      cluster.stop();
      expect(await exited).to.equal(0);
      expect(() => new Bucket(connstr, { username: 'Administrator', password: 'password', config_total_timeout: 1 })).to.throw();
    });
  });
});
