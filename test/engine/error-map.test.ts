import { expect } from 'chai';
import { Engine } from '../../lib/engine/engine';
import { FakeCluster } from './helpers/fake-kv';
import { run, fails, connect, close } from './helpers/engine';
import { CouchbaseError, ErrorCode, InternalError, LockedError, QuotaLimitedError, RateLimitedError, TemporaryFailError, TimeoutError } from '../../lib/engine/errors';
import type { OperationResult, ValueResult } from '../../lib/engine/results';
import { Opcode } from '../../lib/protocol/opcodes';
import { Status } from '../../lib/protocol/status';
import type { ErrorMap } from '../../lib/protocol/errormap';
import { retryDelayMs } from '../../lib/engine/kv/error-map';

const AUTH = { username: 'Administrator', password: 'password' };

// Statuses this engine has no table row for, named and described as kv_engine's error map does.
const MAP: ErrorMap = {
  version: 2,
  revision: 7,
  errors: {
    '7': { name: 'NOT_MY_VBUCKET', desc: 'Server does not know about this vBucket', attrs: ['fetch-config', 'retry-now'] },
    '9': { name: 'LOCKED', desc: 'Requested resource is locked', attrs: ['item-locked', 'item-only', 'retry-now'] },
    '1f': { name: 'AUTH_STALE', desc: 'Reauthentication required', attrs: ['conn-state-invalidated', 'auth'] },
    '30': { name: 'RateLimitedNetworkIngress', desc: 'The tenant exceeded network ingress limit', attrs: ['rate-limit'] },
    '35': { name: 'BucketSizeLimitExceeded', desc: 'The bucket exceeded its size limit', attrs: ['system-constraint'] },
    '84': { name: 'EINTERNAL', desc: 'Internal error', attrs: ['internal', 'conn-state-invalidated'] },
    '86': { name: 'ETMPFAIL', desc: 'Temporary failure', attrs: ['temp', 'retry-now'] },
    'f0': { name: 'SomethingNew', desc: 'A status from a newer server', attrs: ['item-locked'] },
    'f1': { name: 'SlowDown', desc: 'Back off', attrs: ['temp', 'retry-later'], retry: { strategy: 'constant', interval: 20, after: 0, 'max-duration': 120 } },
    'f2': { name: 'StaleMap', desc: 'Fetch a newer map', attrs: ['fetch-config'] },
    'f3': { name: 'Mystery', desc: 'Nobody knows', attrs: ['item-only'] },
  },
};

describe('engine: the KV error map decides', () => {
  let cluster: FakeCluster;
  let engine: Engine;
  afterEach(async () => {
    if (engine) await close(engine);
    if (cluster) await cluster.stop();
  });

  /** A cluster serving MAP, answering `status` to the first `times` requests of `opcode` for `key`. */
  async function setup(answers: (key: string, attempt: number) => number | null, extra = '', map: ErrorMap | null = MAP): Promise<{ attempts: () => number }> {
    cluster = await FakeCluster.start();
    let attempts = 0;
    cluster.hook = (req, conn) => {
      if (req.opcode === Opcode.GET_ERROR_MAP && map) {
        conn.reply(req, { value: JSON.stringify(map) });
        return true;
      }
      if (req.opcode !== Opcode.GET && req.opcode !== Opcode.SET) return false;
      const status = answers(req.key.toString(), ++attempts);
      if (status === null) return false;
      conn.reply(req, { status });
      return true;
    };
    engine = new Engine(cluster.connectionString + extra, AUTH);
    await connect(engine);
    return { attempts: () => attempts };
  }

  it('gives a status without a table row the class its attributes name, with the map\'s name and description', async () => {
    await setup((key) => ({ rl: 0x30, quota: 0x35, lock: 0xf0, odd: 0xf3 })[key] ?? null);
    const rl = await fails(run(engine, 'get', 'rl'));
    expect(rl).to.be.instanceOf(RateLimitedError).and.instanceOf(TemporaryFailError);
    expect(rl.message).to.match(/RateLimitedNetworkIngress: The tenant exceeded network ingress limit \(key "rl"\) \[status 0x30\]/);
    expect(rl.status).to.equal(0x30);
    expect(await fails(run(engine, 'get', 'quota'))).to.be.instanceOf(QuotaLimitedError);
    expect(await fails(run(engine, 'get', 'lock'))).to.be.instanceOf(LockedError);
    const odd = await fails(run(engine, 'get', 'odd'));
    expect(odd.constructor).to.equal(CouchbaseError);
    expect(odd.rc).to.equal(ErrorCode.UNKNOWN_MEMCACHED_ERROR);
    expect(odd.message).to.match(/Mystery: Nobody knows/);
  });

  it('retries ETMPFAIL with backoff until the server takes the operation', async () => {
    const { attempts } = await setup((key, n) => (key === 'busy' && n <= 4 ? Status.ETMPFAIL : null));
    const r = await run<OperationResult>(engine, 'upsert', 'busy', { value: { v: 1 } });
    expect(r.cas).to.be.a('bigint');
    expect(attempts()).to.equal(5);
    expect((await run<ValueResult>(engine, 'get', 'busy')).value).to.deep.equal({ v: 1 });
  });

  it('retries ETMPFAIL until the operation times out, then fails with TemporaryFailError as libcouchbase 2.x does, saying it timed out', async () => {
    const { attempts } = await setup((key) => (key === 'stuck' ? Status.ETMPFAIL : null));
    const t0 = Date.now();
    const err = await fails(run(engine, 'get', 'stuck', { timeout: 0.3 }));
    expect(err).to.be.instanceOf(TemporaryFailError).and.not.instanceOf(TimeoutError);
    expect(err.rc).to.equal(ErrorCode.ETMPFAIL);
    expect(err.status).to.equal(Status.ETMPFAIL);
    expect(err.key).to.equal('stuck');
    expect(err.message).to.match(/timed out after retrying for 0\.\d+s while the server kept answering ETMPFAIL \(0x86\)/);
    expect(Date.now() - t0).to.be.within(250, 1500);
    expect(attempts()).to.be.within(3, 20);
  });

  it('retries EBUSY even when the server sends no error map, and never a locked document', async () => {
    const { attempts } = await setup((key, n) => (key === 'eb' && n <= 2 ? Status.EBUSY : key === 'locked' ? Status.LOCKED : null), '?enable_errmap=false', null);
    await run(engine, 'upsert', 'eb', { value: 1 });
    expect(attempts()).to.equal(3);
    const err = await fails(run(engine, 'get', 'locked'));
    expect(err).to.be.instanceOf(LockedError);
    expect(attempts()).to.equal(4);
  });

  it('follows the retry spec of a version 2 entry and reports the status once its max-duration is spent', async () => {
    const { attempts } = await setup((key) => (key === 'slow' ? 0xf1 : null));
    const t0 = Date.now();
    const err = await fails(run(engine, 'get', 'slow', { timeout: 2 }));
    const took = Date.now() - t0;
    expect(err).to.be.instanceOf(TemporaryFailError);
    expect(err.message).to.match(/SlowDown/);
    expect(took).to.be.within(100, 1000);
    // Every 20 ms for 120 ms.
    expect(attempts()).to.be.within(4, 8);
  });

  it('asks for a newer map on fetch-config', async () => {
    await setup((key) => (key === 'moved' ? 0xf2 : null));
    const before = cluster.nodes[0].received.filter((o) => o === Opcode.GET_CLUSTER_CONFIG).length;
    await fails(run(engine, 'get', 'moved'));
    await new Promise((r) => setTimeout(r, 50));
    expect(cluster.nodes[0].received.filter((o) => o === Opcode.GET_CLUSTER_CONFIG).length).to.be.greaterThan(before);
  });

  it('reconnects on AUTH_STALE and runs the operation on the new connection', async () => {
    await setup((key, n) => (key === 'stale' && n === 1 ? Status.AUTH_STALE : null));
    const authsBefore = cluster.nodes[0].received.filter((o) => o === Opcode.SASL_AUTH).length;
    await run(engine, 'upsert', 'stale', { value: 'x' });
    expect(cluster.nodes[0].received.filter((o) => o === Opcode.SASL_AUTH).length).to.equal(authsBefore + 1);
  });

  it('reconnects on conn-state-invalidated and reports the status when nothing says retry', async () => {
    await setup((key) => (key === 'broken' ? Status.EINTERNAL : null));
    const authsBefore = cluster.nodes[0].received.filter((o) => o === Opcode.SASL_AUTH).length;
    expect(await fails(run(engine, 'get', 'broken'))).to.be.instanceOf(InternalError);
    await run(engine, 'upsert', 'fine', { value: 1 });
    expect(cluster.nodes[0].received.filter((o) => o === Opcode.SASL_AUTH).length).to.equal(authsBefore + 1);
  });
});

describe('engine: error map retry delays', () => {
  it('computes constant, linear and exponential intervals, capped by ceil, after the first wait', () => {
    const exp = { strategy: 'exponential' as const, interval: 10, after: 0, 'max-duration': 5000, ceil: 500 };
    expect([1, 2, 3, 4, 7].map((n) => retryDelayMs(exp, n))).to.deep.equal([10, 20, 40, 80, 500]);
    const lin = { strategy: 'linear' as const, interval: 100, after: 100, 'max-duration': 10000, ceil: 1000 };
    expect([1, 2, 3, 20].map((n) => retryDelayMs(lin, n))).to.deep.equal([100, 100, 200, 1000]);
    const con = { strategy: 'constant' as const, interval: 20, after: 0, 'max-duration': 120 };
    expect([1, 5].map((n) => retryDelayMs(con, n))).to.deep.equal([20, 20]);
    expect([1, 2, 3, 6, 9].map((n) => retryDelayMs(undefined, n))).to.deep.equal([1, 10, 50, 1000, 1000]);
  });
});
