import { expect } from 'chai';
import { Engine } from '../../lib/engine/engine';
import type { OpName } from '../../lib/engine/kv/operations';
import { FakeCluster } from './helpers/fake-kv';
import { run, fails, connect, close } from './helpers/engine';
import {
  AuthError,
  BucketNotFoundError,
  CouchbaseError,
  KeyExistsError,
  NotFoundError,
  NotStoredError,
  DeltaBadvalError,
  LockedError,
  ValueFormatError,
  ArgumentError,
  TemporaryFailError,
  ObjectDestroyedError,
} from '../../lib/engine/errors';
import { OperationResult, ValueResult, MultiResult, ObserveResult, StatsResult } from '../../lib/engine/results';
import { FMT_BYTES, FMT_UTF8 } from '../../lib/engine/transcoder';
import { Opcode } from '../../lib/protocol/opcodes';
import { HelloFeature } from '../../lib/protocol/hello';

describe('engine KV against a scripted peer', () => {
  let cluster: FakeCluster;
  let engine: Engine;
  beforeEach(async () => {
    cluster = await FakeCluster.start({ nodes: 1 });
    engine = new Engine(cluster.connectionString, { username: 'Administrator', password: 'password' });
    await connect(engine);
  });
  afterEach(async () => {
    await close(engine);
    await cluster.stop();
  });

  it('bootstraps with HELLO, SCRAM-SHA512 and the bucket config', async () => {
    const received = cluster.nodes[0].received;
    expect(received.slice(0, 3)).to.deep.equal([Opcode.HELLO, Opcode.SASL_LIST_MECHS, Opcode.SASL_AUTH]);
    expect(received).to.include(Opcode.SASL_STEP);
    expect(received).to.include(Opcode.SELECT_BUCKET);
    expect(received).to.include(Opcode.GET_CLUSTER_CONFIG);
    expect(engine.topology!.numVBuckets).to.equal(16);
  });

  it('stores and reads back JSON, strings and bytes', async () => {
    const up = await run<OperationResult>(engine, 'upsert', 'doc', { value: { a: 1 } });
    expect(up).to.be.instanceOf(OperationResult);
    expect(up.success).to.equal(true);
    expect(up.cas).to.be.a('bigint').and.not.equal(0n);
    const got = await run<ValueResult>(engine, 'get', 'doc');
    expect(got).to.be.instanceOf(ValueResult);
    expect(got.value).to.deep.equal({ a: 1 });
    expect(got.cas).to.equal(up.cas);
    expect(got.flags).to.equal(0x02000000);
    await run(engine, 'upsert', 's', { value: 'text', format: FMT_UTF8 });
    expect((await run<ValueResult>(engine, 'get', 's')).value).to.equal('text');
    await run(engine, 'upsert', 'b', { value: Buffer.from([0, 1, 2]), format: FMT_BYTES });
    expect((await run<ValueResult>(engine, 'get', 'b')).value).to.deep.equal(Buffer.from([0, 1, 2]));
  });

  it('maps missing and existing documents to NotFoundError / KeyExistsError', async () => {
    const e1 = await fails(run(engine, 'get', 'nope'));
    expect(e1).to.be.instanceOf(NotFoundError);
    expect(e1.key).to.equal('nope');
    await run(engine, 'insert', 'x', { value: 1 });
    expect(await fails(run(engine, 'insert', 'x', { value: 2 }))).to.be.instanceOf(KeyExistsError);
    expect(await fails(run(engine, 'replace', 'y', { value: 2 }))).to.be.instanceOf(NotFoundError);
    expect(await fails(run(engine, 'remove', 'y'))).to.be.instanceOf(NotFoundError);
  });

  it('returns a failed result instead of an error for a missing key with quiet', async () => {
    const r = await run<ValueResult>(engine, 'get', 'absent', { quiet: true });
    expect(r.success).to.equal(false);
    expect(r.value).to.equal(undefined);
    const rm = await run<OperationResult>(engine, 'remove', 'absent', { quiet: true });
    expect(rm.success).to.equal(false);
  });

  it('checks CAS on replace and remove', async () => {
    const a = await run<OperationResult>(engine, 'upsert', 'c', { value: 1 });
    await run(engine, 'upsert', 'c', { value: 2 });
    expect(await fails(run(engine, 'replace', 'c', { value: 3, cas: a.cas }))).to.be.instanceOf(KeyExistsError);
    const cur = await run<ValueResult>(engine, 'get', 'c');
    await run(engine, 'replace', 'c', { value: 3, cas: cur.cas });
    expect((await run<ValueResult>(engine, 'get', 'c')).value).to.equal(3);
    expect(await fails(run(engine, 'remove', 'c', { cas: a.cas }))).to.be.instanceOf(KeyExistsError);
  });

  it('appends and prepends strings, and refuses a missing document with NotStoredError', async () => {
    await run(engine, 'upsert', 'log', { value: 'b', format: FMT_UTF8 });
    await run(engine, 'append', 'log', { value: 'c' });
    await run(engine, 'prepend', 'log', { value: 'a' });
    expect((await run<ValueResult>(engine, 'get', 'log')).value).to.equal('abc');
    expect(await fails(run(engine, 'append', 'none', { value: 'x' }))).to.be.instanceOf(NotStoredError);
  });

  it('counts with delta, initial and refuses non-numbers', async () => {
    expect(await fails(run(engine, 'counter', 'n'))).to.be.instanceOf(NotFoundError);
    expect((await run<ValueResult>(engine, 'counter', 'n', { initial: 10 })).value).to.equal(10);
    expect((await run<ValueResult>(engine, 'counter', 'n', { delta: 5 })).value).to.equal(15);
    expect((await run<ValueResult>(engine, 'counter', 'n', { delta: -20 })).value).to.equal(0);
    await run(engine, 'upsert', 'word', { value: 'abc', format: FMT_UTF8 });
    expect(await fails(run(engine, 'counter', 'word', { delta: 1 }))).to.be.instanceOf(DeltaBadvalError);
  });

  it('locks and unlocks, reporting LockedError with the server context while locked', async () => {
    await run(engine, 'upsert', 'l', { value: 1 });
    const locked = await run<ValueResult>(engine, 'lock', 'l', { ttl: 5 });
    expect(locked.value).to.equal(1);
    const err = await fails(run(engine, 'upsert', 'l', { value: 2 }));
    expect(err).to.be.instanceOf(LockedError).and.instanceOf(TemporaryFailError);
    expect(err.context).to.equal('Requested resource is locked');
    expect(err.ref).to.equal('ref-1');
    await run(engine, 'unlock', 'l', { cas: locked.cas });
    await run(engine, 'upsert', 'l', { value: 2 });
    expect(await fails(run(engine, 'unlock', 'l'))).to.be.instanceOf(ArgumentError);
  });

  it('touches and get-and-touches (GAT when get has a ttl)', async () => {
    await run(engine, 'upsert', 't', { value: 'v', format: FMT_UTF8 });
    await run(engine, 'touch', 't', { ttl: 100 });
    const before = cluster.nodes[0].received.length;
    expect((await run<ValueResult>(engine, 'get', 't', { ttl: 50 })).value).to.equal('v');
    expect(cluster.nodes[0].received.slice(before)).to.deep.equal([Opcode.GAT]);
  });

  it('rejects values that cannot be encoded before sending anything', async () => {
    const before = cluster.nodes[0].received.length;
    const circular: Record<string, unknown> = {};
    circular.me = circular;
    expect(await fails(run(engine, 'upsert', 'bad', { value: circular }))).to.be.instanceOf(ValueFormatError);
    expect(await fails(run(engine, 'upsert', 'bad', { value: 12, format: FMT_UTF8 }))).to.be.instanceOf(ValueFormatError);
    expect(await fails(run(engine, 'upsert', 'bad', {}))).to.be.instanceOf(ValueFormatError);
    expect(await fails(run(engine, 'upsert', '', { value: 1 }))).to.be.instanceOf(ArgumentError);
    expect(await fails(run(engine, 'upsert', 'k'.repeat(251), { value: 1 }))).to.be.instanceOf(ArgumentError);
    expect(await fails(run(engine, 'upsert', 'x', { value: 1, ttl: -1 }))).to.be.instanceOf(ArgumentError);
    expect(await fails(run(engine, 'bogus' as OpName, 'x'))).to.be.instanceOf(ArgumentError);
    expect(cluster.nodes[0].received.length).to.equal(before);
  });

  it('runs a batch whose first failing key fails it, with every key\'s result in the error (Python\'s *_multi)', async () => {
    await run(engine, 'upsert', 'm1', { value: 1 });
    await run(engine, 'upsert', 'm2', { value: 2 });
    const err = await new Promise<CouchbaseError>((resolve, reject) => engine.kvMulti('get', ['m1', 'm2', 'missing'], {}, (e, r) => (e ? resolve(e) : reject(new Error(`expected a failure, got ${String(r)}`)))));
    expect(err).to.be.instanceOf(NotFoundError);
    expect(err.key).to.equal('missing');
    const multi = err.allResults as MultiResult;
    expect([...multi.keys()]).to.deep.equal(['m1', 'm2', 'missing']);
    expect(multi.allOk).to.equal(false);
    expect((multi.get('m1') as ValueResult).value).to.equal(1);
    expect((multi.get('m2') as ValueResult).value).to.equal(2);
    const miss = multi.get('missing')!;
    expect(miss.success).to.equal(false);
    expect(miss.error).to.equal(err);
    expect([...multi.failures().keys()]).to.deep.equal(['missing']);
    const [ok, failed] = err.splitResults();
    expect([...ok.keys()]).to.deep.equal(['m1', 'm2']);
    expect([...failed.keys()]).to.deep.equal(['missing']);
    const quiet = await new Promise<MultiResult>((resolve, reject) => engine.kvMulti('get', ['m1', 'missing'], { quiet: true }, (e, r) => (e ? reject(e) : resolve(r!))));
    expect(quiet.get('missing')!.success).to.equal(false);
    expect(quiet.get('missing')!.error).to.equal(undefined);
    const stored = await new Promise<MultiResult>((resolve) => engine.kvMulti('upsert', { a: 1, b: { x: 2 } }, {}, (_e, r) => resolve(r!)));
    expect(stored.allOk).to.equal(true);
    expect((await run<ValueResult>(engine, 'get', 'b')).value).to.deep.equal({ x: 2 });
  });

  it('observes the master copy', async () => {
    const up = await run<OperationResult>(engine, 'upsert', 'o', { value: 1 });
    const r = await run<ObserveResult>(engine, 'observe', 'o');
    expect(r.value).to.have.length(1);
    expect(r.value[0].fromMaster).to.equal(true);
    expect(r.value[0].cas).to.equal(up.cas);
  });

  it('waits for persistTo via OBSERVE_SEQNO and refuses impossible durability', async () => {
    const r = await run<OperationResult>(engine, 'upsert', 'd', { value: 1, persistTo: 1 });
    expect(r.success).to.equal(true);
    expect(cluster.nodes[0].received).to.include(Opcode.OBSERVE_SEQNO);
    const e = await fails(run(engine, 'upsert', 'd', { value: 1, replicateTo: 1 }));
    expect(e.message).to.match(/more copies than the bucket has/);
    await run(engine, 'endure', 'd', { persistTo: 1 });
  });

  it('collects stats from every node', async () => {
    await run(engine, 'upsert', 's1', { value: 1 });
    const r = await run<StatsResult>(engine, 'stats', '');
    const id = `127.0.0.1:${cluster.nodes[0].port}`;
    // Integer stats are numbers, as Python converts them.
    expect(r.value.curr_items[id]).to.equal(1);
  });

  it('exposes mutation tokens when fetch_mutation_tokens is on', async () => {
    const e2 = new Engine(cluster.connectionString + '?fetch_mutation_tokens=true', { username: 'Administrator', password: 'password' });
    try {
      const r = await run<OperationResult>(e2, 'upsert', 'tok', { value: 1 });
      expect(r.mutationToken).to.include({ bucket: 'default', vbuuid: cluster.vbuuid });
      expect(r.mutationToken!.seqno > 0n).to.equal(true);
    } finally {
      await close(e2);
    }
  });

  it('fails operations after close with ObjectDestroyedError', async () => {
    await close(engine);
    expect(await fails(run(engine, 'get', 'x'))).to.be.instanceOf(ObjectDestroyedError);
  });
});

describe('engine bootstrap failures', () => {
  let cluster: FakeCluster;
  afterEach(async () => cluster && (await cluster.stop()));

  it('reports wrong credentials as AuthError', async () => {
    cluster = await FakeCluster.start();
    const e = new Engine(cluster.connectionString, { username: 'Administrator', password: 'wrong' });
    const err = await fails(connect(e));
    expect(err).to.be.instanceOf(AuthError);
    await close(e);
  });

  it('reports an unknown bucket as BucketNotFoundError', async () => {
    cluster = await FakeCluster.start();
    const e = new Engine(cluster.connectionString.replace('/default', '/nosuch'), { username: 'Administrator', password: 'password' });
    expect(await fails(connect(e))).to.be.instanceOf(BucketNotFoundError);
    await close(e);
  });

  it('sends datatype JSON only to servers that acknowledged HELLO JSON', async () => {
    cluster = await FakeCluster.start({ features: [HelloFeature.XERROR] });
    const datatypes: number[] = [];
    cluster.hook = (req) => {
      if (req.opcode === Opcode.SET) datatypes.push(req.datatype);
      return false;
    };
    const e = new Engine(cluster.connectionString, { username: 'Administrator', password: 'password' });
    await run(e, 'upsert', 'j', { value: { a: 1 } });
    expect(datatypes).to.deep.equal([0]);
    await close(e);
    const c2 = await FakeCluster.start();
    const seen: number[] = [];
    c2.hook = (req) => {
      if (req.opcode === Opcode.SET) seen.push(req.datatype);
      return false;
    };
    const e2 = new Engine(c2.connectionString, { username: 'Administrator', password: 'password' });
    await run(e2, 'upsert', 'j', { value: { a: 1 } });
    expect(seen).to.deep.equal([1]);
    await close(e2);
    await c2.stop();
  });

  it('falls back to the next SCRAM mechanism the server lists', async () => {
    cluster = await FakeCluster.start({ mechs: ['SCRAM-SHA1'] });
    const e = new Engine(cluster.connectionString, { username: 'Administrator', password: 'password' });
    await connect(e);
    await run(e, 'upsert', 'k', { value: 1 });
    await close(e);
  });

  it('uses PLAIN over plain TCP only when sasl_mech_force asks for it', async () => {
    cluster = await FakeCluster.start({ mechs: ['PLAIN'] });
    const refused = new Engine(cluster.connectionString, { username: 'Administrator', password: 'password' });
    const err = await fails(connect(refused));
    expect(err).to.be.instanceOf(AuthError);
    expect(err.message).to.match(/sasl_mech_force/);
    await close(refused);
    const forced = new Engine(cluster.connectionString + '?sasl_mech_force=PLAIN', { username: 'Administrator', password: 'password' });
    await connect(forced);
    await close(forced);
  });

  it('tries the next host when the first refuses connections', async () => {
    cluster = await FakeCluster.start();
    const dead = await FakeCluster.start();
    const deadPort = dead.nodes[0].port;
    await dead.stop();
    const e = new Engine(`couchbase://127.0.0.1:${deadPort},127.0.0.1:${cluster.nodes[0].port}/default?bootstrap_on=cccp`, { username: 'Administrator', password: 'password' });
    await connect(e);
    await run(e, 'upsert', 'k', { value: 1 });
    await close(e);
  });

  it('queues operations issued before connect and runs them once connected', async () => {
    cluster = await FakeCluster.start();
    const e = new Engine(cluster.connectionString, { username: 'Administrator', password: 'password' });
    const r = await run<OperationResult>(e, 'upsert', 'early', { value: 1 });
    expect(r.success).to.equal(true);
    expect(e.connected).to.equal(true);
    await close(e);
  });
});
