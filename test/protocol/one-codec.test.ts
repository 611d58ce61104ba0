// The engine and the embedded server encode and decode extras and bodies through lib/protocol's
// functions (the ones with byte-for-byte tests): a spy on each sees the traffic of a real session.
import { expect } from 'chai';
import sinon from 'sinon';
import * as extras from '../../lib/protocol/extras';
import * as subdoc from '../../lib/protocol/subdoc';
import { Cluster } from '../../lib/server';
import { Engine } from '../../lib/engine/engine';
import { connect, close, run } from '../engine/helpers/engine';
import { RawClient } from '../server/raw-client';
import { HelloFeature } from '../../lib/protocol/hello';
import { Opcode } from '../../lib/protocol/opcodes';

describe('protocol: one codec for the engine and the server', () => {
  let cluster: Cluster;
  let engine: Engine;
  const spies = new Map<string, sinon.SinonSpy>();
  const calls = (name: string): number => spies.get(name)!.callCount;

  before(async () => {
    cluster = await Cluster.start({ replicas: 1, nodes: 2, services: { n1ql: null, capi: null } });
    engine = new Engine(`${cluster.connectionString}/default?fetch_mutation_tokens=true`, { username: 'Administrator', password: 'password' });
    await connect(engine);
  });
  after(async () => {
    await close(engine);
    await cluster.stop();
  });
  beforeEach(() => {
    for (const name of [
      'writeMutationExtras', 'readMutationFlags', 'readMutationExpiry', 'writeFlagsExtras', 'readFlagsExtras',
      'writeCounterExtras', 'decodeCounterExtras', 'writeExpiryExtras', 'decodeExpiryExtras', 'writeMutationToken',
      'decodeMutationToken', 'readObserveRequest', 'encodeObserveResponse', 'readObserveResponse',
      'encodeObserveSeqnoRequest', 'decodeObserveSeqnoRequest', 'encodeObserveSeqnoResponse', 'readObserveSeqno',
    ] as const) {
      spies.set(name, sinon.spy(extras, name));
    }
    for (const name of ['readLookupSpec', 'readMutationSpec', 'lookupResultParts', 'encodeMutationResults'] as const) spies.set(name, sinon.spy(subdoc, name));
  });
  afterEach(() => {
    sinon.restore();
    spies.clear();
  });

  it('stores, reads, counters and touches: the engine writes and reads, the server reads and writes', async () => {
    await run(engine, 'upsert', 'codec-1', { value: { a: 1 }, ttl: 100 });
    expect([calls('writeMutationExtras'), calls('readMutationFlags'), calls('readMutationExpiry'), calls('writeMutationToken'), calls('decodeMutationToken')]).to.deep.equal([1, 1, 1, 1, 1]);
    await run(engine, 'get', 'codec-1');
    expect([calls('writeFlagsExtras'), calls('readFlagsExtras')]).to.deep.equal([1, 1]);
    await run(engine, 'counter', 'codec-n', { delta: 2, initial: 5 });
    expect([calls('writeCounterExtras'), calls('decodeCounterExtras')]).to.deep.equal([1, 1]);
    await run(engine, 'touch', 'codec-1', { ttl: 50 });
    expect([calls('writeExpiryExtras'), calls('decodeExpiryExtras')]).to.deep.equal([1, 1]);
  });

  it('durability polls OBSERVE_SEQNO with a token, and endure OBSERVE without one', async () => {
    await run(engine, 'upsert', 'codec-2', { value: 1, replicateTo: 1 });
    expect(calls('encodeObserveSeqnoRequest')).to.be.at.least(1);
    expect(calls('decodeObserveSeqnoRequest')).to.be.at.least(1);
    expect(calls('encodeObserveSeqnoResponse')).to.be.at.least(1);
    expect(calls('readObserveSeqno')).to.be.at.least(1);
    await run(engine, 'endure', 'codec-2', { persistTo: 1 });
    expect(calls('readObserveRequest')).to.be.at.least(1);
    expect(calls('encodeObserveResponse')).to.be.at.least(1);
    expect(calls('readObserveResponse')).to.be.at.least(1);
  });

  it('the server reads sub-document specs and writes their results through lib/protocol/subdoc', async () => {
    const vb = cluster.bucket('default').vbucketOf('codec-sd');
    const c = await RawClient.connect(cluster.nodes[cluster.topology.active(vb)].ports.kv);
    try {
      await c.hello([HelloFeature.XERROR, HelloFeature.JSON]);
      await c.login('Administrator', 'password', 'default');
      await c.request({ opcode: Opcode.SET, key: 'codec-sd', extras: Buffer.alloc(8), value: '{"a":{"b":1}}', vbucket: vb });
      await c.request({ opcode: Opcode.SUBDOC_MULTI_LOOKUP, key: 'codec-sd', value: subdoc.encodeLookupSpecs([{ opcode: Opcode.SUBDOC_GET, path: 'a.b' }]), vbucket: vb });
      expect([calls('readLookupSpec'), calls('lookupResultParts')]).to.deep.equal([1, 1]);
      await c.request({
        opcode: Opcode.SUBDOC_MULTI_MUTATION,
        key: 'codec-sd',
        value: subdoc.encodeMutationSpecs([{ opcode: Opcode.SUBDOC_COUNTER, path: 'a.b', value: '2' }]),
        vbucket: vb,
      });
      expect([calls('readMutationSpec'), calls('encodeMutationResults')]).to.deep.equal([1, 1]);
    } finally {
      c.close();
    }
  });
});
