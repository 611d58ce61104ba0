import { expect } from 'chai';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Engine } from '../../lib/engine/engine';
import { FakeCluster } from './helpers/fake-kv';
import { run, fails, connect, close } from './helpers/engine';
import { CouchbaseNetworkError, CouchbaseTransientError, ErrorCode, NetworkError, NotMyVbucketError, TimeoutError, CancelledError } from '../../lib/engine/errors';
import type { ValueResult, OperationResult } from '../../lib/engine/results';
import { Opcode } from '../../lib/protocol/opcodes';
import { Status } from '../../lib/protocol/status';
import { HelloFeature } from '../../lib/protocol/hello';
import type { Topology } from '../../lib/engine/topology';

const AUTH = { username: 'Administrator', password: 'password' };
const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('engine against a misbehaving peer', () => {
  let cluster: FakeCluster;
  let engine: Engine;
  afterEach(async () => {
    if (engine) await close(engine);
    if (cluster) await cluster.stop();
  });

  async function setup(opts: Parameters<typeof FakeCluster.start>[0] = {}, extra = ''): Promise<void> {
    cluster = await FakeCluster.start(opts);
    engine = new Engine(cluster.connectionString + extra, AUTH);
    await connect(engine);
  }

  /** From now on the server sits on GETs of `key`; release() stops that and answers the last one held. */
  function holdGets(key: string): { readonly arrived: boolean; release(): void } {
    let held: (() => void) | null = null;
    cluster.hook = (req, conn, node) => {
      if (req.opcode === Opcode.GET && req.key.toString() === key) {
        held = () => cluster.handle(req, conn, node);
        return true;
      }
      return false;
    };
    return {
      get arrived() {
        return held !== null;
      },
      release() {
        cluster.hook = null;
        held!();
      },
    };
  }

  it('times out a slow answer, drops the late reply and keeps the pipeline working', async () => {
    await setup();
    await run(engine, 'upsert', 'slow', { value: 'v1' });
    const hold = holdGets('slow');
    const t0 = Date.now();
    const err = await fails(run(engine, 'get', 'slow', { timeout: 0.15 }));
    expect(err).to.be.instanceOf(TimeoutError);
    expect(err.key).to.equal('slow');
    expect(Date.now() - t0).to.be.within(100, 1000);
    hold.release(); // the late reply arrives now and must be ignored
    const r = await run<ValueResult>(engine, 'get', 'slow');
    expect(r.value).to.equal('v1');
  });

  it('cancel() on a pending operation removes it: CancelledError at once, no timeout later, late reply dropped', async () => {
    await setup();
    await run(engine, 'upsert', 'held', { value: 'v1' });
    const hold = holdGets('held');
    const outcomes: Array<Error | null> = [];
    const handle = engine.kv('get', 'held', { timeout: 0.2 }, (err) => outcomes.push(err));
    await delay(30);
    expect(hold.arrived, 'the request reached the server').to.equal(true);
    handle.cancel();
    expect(outcomes).to.have.length(1);
    expect(outcomes[0]).to.be.instanceOf(CancelledError);
    expect((outcomes[0] as CancelledError).key).to.equal('held');
    handle.cancel(); // idempotent
    hold.release(); // the late reply finds nothing pending
    await delay(300); // past the operation's own timeout: it must not fire a second time
    expect(outcomes).to.have.length(1);
    const r = await run<ValueResult>(engine, 'get', 'held');
    expect(r.value).to.equal('v1');
  });

  it('dispatchKv() reports to a handler object: once, by kvDone, also for cancel and for errors found up front', async () => {
    await setup();
    await run(engine, 'upsert', 'h', { value: 'v' });
    const seen: Array<[string, unknown]> = [];
    const handler = {
      kvDone(err: Error | null, result: unknown) {
        expect(this).to.equal(handler);
        seen.push(err ? [err.constructor.name, (err as CancelledError).key] : ['ok', (result as ValueResult).value]);
      },
    };
    engine.dispatchKv('get', 'h', null, handler);
    engine.dispatchKv('get', '', null, handler); // fails up front: still asynchronously
    expect(seen, 'nothing is reported synchronously').to.deep.equal([]);
    await delay(30);
    expect(seen).to.deep.include.members([['ok', 'v'], ['ArgumentError', '']]);
    const hold = holdGets('h');
    seen.length = 0;
    const handle = engine.dispatchKv('get', 'h', { timeout: 0.2 }, handler);
    await delay(30);
    handle.cancel();
    expect(seen).to.deep.equal([['CancelledError', 'h']]);
    hold.release();
    await delay(300);
    expect(seen, 'neither the late reply nor the timeout reports again').to.have.length(1);
  });

  it('retries a read whose connection dropped, within its timeout', async () => {
    await setup();
    await run(engine, 'upsert', 'k', { value: 7 });
    let dropped = 0;
    cluster.hook = (req, conn) => {
      if (req.opcode === Opcode.GET && dropped === 0) {
        dropped++;
        conn.socket.destroy();
        return true;
      }
      return false;
    };
    const r = await run<ValueResult>(engine, 'get', 'k');
    expect(r.value).to.equal(7);
    expect(dropped).to.equal(1);
  });

  it('fails an in-flight mutation with NetworkError when its connection drops, then reconnects', async () => {
    await setup();
    let dropped = false;
    cluster.hook = (req, conn) => {
      if (req.opcode === Opcode.SET && !dropped) {
        dropped = true;
        conn.socket.destroy();
        return true;
      }
      return false;
    };
    const err = await fails(run(engine, 'upsert', 'm', { value: 1 }));
    expect(err).to.be.instanceOf(NetworkError);
    expect(err.message).to.match(/may or may not have been applied/);
    const ok = await run<OperationResult>(engine, 'upsert', 'm', { value: 2 });
    expect(ok.success).to.equal(true);
  });

  it('resets the connection on a malformed frame and recovers', async () => {
    await setup();
    let sent = false;
    cluster.hook = (req, conn) => {
      if (req.opcode === Opcode.SET && !sent) {
        sent = true;
        conn.socket.write(Buffer.alloc(24, 0x42)); // bad magic
        return true;
      }
      return false;
    };
    const err = await fails(run(engine, 'upsert', 'x', { value: 1 }));
    expect(err).to.be.instanceOf(NetworkError);
    expect(err.message).to.match(/malformed frame/);
    expect((await run<OperationResult>(engine, 'upsert', 'x', { value: 1 })).success).to.equal(true);
  });

  // libcouchbase reports a retried command that runs out of time with the error that made it
  // retry (lcb_retryq_origerr): Python's NotMyVbucketError, a transient network error.
  it('fails with NotMyVbucketError and a clear message when a NOT_MY_VBUCKET storm outlasts the timeout', async () => {
    await setup();
    let nmvb = 0;
    cluster.hook = (req, conn) => {
      if (req.opcode === Opcode.GET) {
        nmvb++;
        conn.reply(req, { status: Status.NOT_MY_VBUCKET }); // no config in the body
        return true;
      }
      return false;
    };
    const err = await fails(run(engine, 'get', 'storm', { timeout: 0.4 }));
    expect(err).to.be.instanceOf(NotMyVbucketError).and.instanceOf(CouchbaseNetworkError).and.instanceOf(CouchbaseTransientError);
    expect(err.rc).to.equal(ErrorCode.NOT_MY_VBUCKET);
    expect(err.message).to.match(/timed out while the cluster map kept changing/);
    // backed off: a handful of retries, not thousands
    expect(nmvb).to.be.within(2, 60);
  });

  it('follows the config in a NOT_MY_VBUCKET body to the new owner', async () => {
    await setup({ nodes: 2 });
    await run(engine, 'upsert', 'moving', { value: 'here' });
    const vb = cluster.vbOf('moving');
    const oldOwner = cluster.ownerOf('moving');
    // Move the vBucket to the other node without telling the client.
    cluster.vbMap[vb] = [1 - oldOwner];
    cluster.bumpRev();
    const r = await run<ValueResult>(engine, 'get', 'moving');
    expect(r.value).to.equal('here');
    expect(engine.topology!.rev).to.equal(cluster.rev);
    expect(cluster.nodes[1 - oldOwner].received).to.include(Opcode.GET);
  });

  it('routes keys to the node owning their vBucket', async () => {
    await setup({ nodes: 3, numVBuckets: 64 });
    for (let i = 0; i < 30; i++) await run(engine, 'upsert', `key-${i}`, { value: i });
    for (const n of cluster.nodes) expect(n.received.filter((o) => o === Opcode.SET).length).to.be.greaterThan(0);
    // no NOT_MY_VBUCKET was needed: every SET went to its owner first time
    const sets = cluster.nodes.reduce((a, n) => a + n.received.filter((o) => o === Opcode.SET).length, 0);
    expect(sets).to.equal(30);
  });

  it('moves a failed-over node’s keys to the new owner', async () => {
    await setup({ nodes: 3, numVBuckets: 64 }, '?config_poll_interval=0.05');
    const keys = Array.from({ length: 20 }, (_, i) => `fo-${i}`);
    for (const k of keys) await run(engine, 'upsert', k, { value: k });
    cluster.failover(1);
    for (const k of keys) {
      const r = await run<ValueResult>(engine, 'get', k, { timeout: 2 });
      expect(r.value).to.equal(k);
    }
    expect(engine.topology!.rev).to.equal(cluster.rev);
    expect(engine.topology!.servers.length).to.equal(3);
  });

  it('adopts configs the server pushes (DUPLEX + clustermap notifications)', async () => {
    const features = [HelloFeature.JSON, HelloFeature.XERROR, HelloFeature.DUPLEX, HelloFeature.CLUSTERMAP_CHANGE_NOTIFICATION, HelloFeature.MUTATION_SEQNO];
    await setup({ nodes: 2, features }, '?config_poll_interval=60');
    const seen: Topology[] = [];
    engine.on('config', (t) => seen.push(t));
    const conn = [...cluster.nodes[0].conns][0];
    expect(conn.pushEnabled).to.equal(true);
    cluster.bumpRev();
    conn.pushConfig(cluster.config());
    await delay(50);
    expect(seen.map((t) => t.rev)).to.deep.equal([cluster.rev]);
    // an older or equal revision is ignored
    conn.pushConfig(cluster.config());
    await delay(30);
    expect(seen).to.have.length(1);
  });

  it('polls for configs when none are pushed', async () => {
    await setup({}, '?config_poll_interval=0.03');
    cluster.bumpRev();
    await delay(200);
    expect(engine.topology!.rev).to.equal(cluster.rev);
  });

  it('times out a short-timeout operation before longer ones queued ahead of it', async () => {
    await setup();
    cluster.hook = (req) => req.opcode === Opcode.GET; // never answer
    const order: string[] = [];
    const long = fails(run(engine, 'get', 'long', { timeout: 0.6 })).then((e) => (order.push('long'), e));
    const short = fails(run(engine, 'get', 'short', { timeout: 0.1 })).then((e) => (order.push('short'), e));
    expect(await short).to.be.instanceOf(TimeoutError);
    expect(await long).to.be.instanceOf(TimeoutError);
    expect(order).to.deep.equal(['short', 'long']);
  });

  it('cancels operations waiting to retry when closed', async () => {
    await setup();
    cluster.hook = (req, conn) => {
      if (req.opcode !== Opcode.GET) return false;
      conn.reply(req, { status: Status.NOT_MY_VBUCKET });
      return true;
    };
    const p = fails(run(engine, 'get', 'retrying', { timeout: 5 }));
    await delay(50);
    await close(engine);
    expect(await p).to.be.instanceOf(CancelledError);
  });

  it('fails pending operations with CancelledError when closed', async () => {
    await setup();
    cluster.hook = (req) => req.opcode === Opcode.GET; // never answer
    const p = fails(run(engine, 'get', 'never', { timeout: 5 }));
    await delay(20);
    await close(engine);
    expect(await p).to.be.instanceOf(CancelledError);
  });
});

describe('engine bootstrap timeouts', () => {
  it('gives up after config_total_timeout when a node accepts but never answers', async () => {
    const sockets: import('node:net').Socket[] = [];
    const silent = (await import('node:net')).createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    const e = new Engine(`couchbase://127.0.0.1:${port}/default?bootstrap_on=cccp&config_total_timeout=0.3&config_node_timeout=5`, AUTH);
    const t0 = Date.now();
    const err = await fails(connect(e));
    expect(err).to.be.instanceOf(TimeoutError);
    expect(err.message).to.match(/config_total_timeout/);
    expect(Date.now() - t0).to.be.below(2000);
    await close(e);
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  });
});

describe('engine HTTP bootstrap', () => {
  let cluster: FakeCluster;
  let mgmt: http.Server;
  afterEach(async () => {
    await cluster.stop();
    await new Promise<void>((r) => mgmt.close(() => r()));
  });

  it('falls back to /pools/default/b/<bucket> when KV bootstrap is not possible', async () => {
    cluster = await FakeCluster.start({ cccp: false });
    const paths: string[] = [];
    mgmt = http.createServer((req, res) => {
      paths.push(req.url!);
      const auth = Buffer.from('Administrator:password').toString('base64');
      if (req.headers.authorization !== `Basic ${auth}`) {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(cluster.config().replace(/127\.0\.0\.1/g, '$HOST'));
    });
    await new Promise<void>((r) => mgmt.listen(0, '127.0.0.1', r));
    const port = (mgmt.address() as AddressInfo).port;
    const e = new Engine(`couchbase://127.0.0.1:${cluster.nodes[0].port}=mcd,127.0.0.1:${port}=http/default`, AUTH);
    await connect(e);
    expect(paths).to.deep.equal(['/pools/default/b/default']);
    await run(e, 'upsert', 'h', { value: 1 });
    expect((await run<ValueResult>(e, 'get', 'h')).value).to.equal(1);
    await close(e);
  });

  it('keeps refreshing the map over HTTP when the cluster has no CCCP', async () => {
    cluster = await FakeCluster.start({ cccp: false });
    mgmt = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(cluster.config()));
    await new Promise<void>((r) => mgmt.listen(0, '127.0.0.1', r));
    const port = (mgmt.address() as AddressInfo).port;
    const e = new Engine(`http://127.0.0.1:${port}/default?config_poll_interval=0.03`, AUTH);
    await connect(e);
    cluster.bumpRev();
    await delay(200);
    expect(e.topology!.rev).to.equal(cluster.rev);
    await close(e);
  });
});
