// Numbers in sub-document operations as kv_engine has them: it edits the document's text, so numbers
// no spec touches keep their digits (integers beyond 2^53, `1.50`, `1e3`), and SUBDOC_COUNTER does
// int64 arithmetic on the integer the text spells: a delta outside int64 or zero is
// SUBDOC_DELTA_EINVAL, a current value outside int64 SUBDOC_NUM_ERANGE, anything but an integer
// there PATH_MISMATCH, and a result outside int64 SUBDOC_VALUE_CANTINSERT (nothing changes).
import { expect } from 'chai';
import * as couchbase from 'couchbase';
import { Cluster } from '../../lib/server';
import { HelloFeature, Opcode, Status, decodeLookupResults, encodeLookupSpecs, encodeMutationSpecs, type Packet } from '../../lib/protocol';
import { RawClient } from './raw-client';

const INT64_MAX = '9223372036854775807';
const INT64_MIN = '-9223372036854775808';

describe('server KV: sub-document numbers and int64 counters', function () {
  this.timeout(30_000);
  let cluster: Cluster;
  let c: RawClient;

  before(async () => {
    cluster = await Cluster.start({ users: [{ username: 'Administrator', password: 'password' }, { username: 'app', password: 'app-password' }], queryService: null, viewsService: null });
    c = await RawClient.connect(cluster.nodes[0].ports.kv);
    await c.hello([HelloFeature.JSON, HelloFeature.XERROR]);
    await c.login('Administrator', 'password', 'default');
  });
  after(async () => {
    c.close();
    await cluster.stop();
  });

  const stored = (key: string): string => cluster.bucket('default').get(key)!.value.toString();
  const counter = (key: string, path: string, delta: string): Promise<Packet> =>
    c.request({ opcode: Opcode.SUBDOC_MULTI_MUTATION, key, vbucket: c.vb(key), value: encodeMutationSpecs([{ opcode: Opcode.SUBDOC_COUNTER, path, value: delta }]) });
  /** The status of the one spec of a multi-mutation, and its value. */
  const result = (p: Packet): { status: number; value: string } =>
    p.status === Status.SUBDOC_MULTI_PATH_FAILURE ? { status: p.value.readUInt16BE(1), value: '' } : { status: p.status, value: p.value.length > 7 ? p.value.subarray(7).toString() : '' };

  it('a mutation elsewhere keeps every number\'s digits as written; a lookup gives them as written', async () => {
    const doc = '{"big":9007199254740993,"huge":123456789012345678901234567890,"f":1.50,"e":1e3,"n":1}';
    await c.set('digits', doc);
    const m = await c.request({ opcode: Opcode.SUBDOC_MULTI_MUTATION, key: 'digits', vbucket: c.vb('digits'), value: encodeMutationSpecs([{ opcode: Opcode.SUBDOC_DICT_UPSERT, path: 'n', value: '2' }]) });
    expect(m.status).to.equal(Status.SUCCESS);
    expect(stored('digits')).to.equal(doc.replace('"n":1', '"n":2'));
    const l = await c.request({ opcode: Opcode.SUBDOC_MULTI_LOOKUP, key: 'digits', vbucket: c.vb('digits'), value: encodeLookupSpecs([{ opcode: Opcode.SUBDOC_GET, path: 'big' }, { opcode: Opcode.SUBDOC_GET, path: 'huge' }]) });
    expect(decodeLookupResults(l.value).map((r) => r.value.toString())).to.deep.equal(['9007199254740993', '123456789012345678901234567890']);
  });

  it('counts exactly between 2^53 and 2^63, on a big current value and with a big delta', async () => {
    await c.set('ctr', '{"a":9007199254740993,"b":1}');
    expect(result(await counter('ctr', 'a', '1'))).to.deep.equal({ status: Status.SUCCESS, value: '9007199254740994' });
    expect(result(await counter('ctr', 'b', '4611686018427387904'))).to.deep.equal({ status: Status.SUCCESS, value: '4611686018427387905' });
    expect(result(await counter('ctr', 'b', '4611686018427387902'))).to.deep.equal({ status: Status.SUCCESS, value: INT64_MAX });
    expect(stored('ctr')).to.equal(`{"a":9007199254740994,"b":${INT64_MAX}}`);
    expect(result(await counter('ctr', 'c', INT64_MIN))).to.deep.equal({ status: Status.SUCCESS, value: INT64_MIN });
  });

  it('a result outside int64 is VALUE_CANTINSERT and changes nothing (no wrap)', async () => {
    await c.set('over', `{"max":${INT64_MAX},"min":${INT64_MIN}}`);
    expect(result(await counter('over', 'max', '1')).status).to.equal(Status.SUBDOC_VALUE_CANTINSERT);
    expect(result(await counter('over', 'min', '-1')).status).to.equal(Status.SUBDOC_VALUE_CANTINSERT);
    expect(stored('over')).to.equal(`{"max":${INT64_MAX},"min":${INT64_MIN}}`);
  });

  it('a delta of zero, not an integer or outside int64 is DELTA_EINVAL', async () => {
    await c.set('delta', '{"a":1}');
    for (const delta of ['0', '1.5', 'x', '9223372036854775808', '-9223372036854775809']) {
      expect(result(await counter('delta', 'a', delta)).status, delta).to.equal(Status.SUBDOC_DELTA_EINVAL);
    }
  });

  it('a current value outside int64 is NUM_ERANGE; a fraction, an exponent or a string is PATH_MISMATCH', async () => {
    await c.set('cur', '{"big":9223372036854775808,"neg":-9223372036854775809,"f":1.5,"g":2.0,"e":1e3,"s":"1"}');
    expect(result(await counter('cur', 'big', '-1')).status).to.equal(Status.SUBDOC_NUM_ERANGE);
    expect(result(await counter('cur', 'neg', '1')).status).to.equal(Status.SUBDOC_NUM_ERANGE);
    for (const path of ['f', 'g', 'e', 's']) expect(result(await counter('cur', path, '1')).status, path).to.equal(Status.SUBDOC_PATH_MISMATCH);
  });

  it('ARRAY_ADD_UNIQUE on an array holding a container is PATH_MISMATCH (the C++ SDK\'s suite); a number kept as text compares by its text', async () => {
    await c.set('uniq', '{"a":[1,{}],"b":[9007199254740993]}');
    const add = (path: string, value: string): Promise<Packet> =>
      c.request({ opcode: Opcode.SUBDOC_MULTI_MUTATION, key: 'uniq', vbucket: c.vb('uniq'), value: encodeMutationSpecs([{ opcode: Opcode.SUBDOC_ARRAY_ADD_UNIQUE, path, value }]) });
    expect(result(await add('a', 'null')).status).to.equal(Status.SUBDOC_PATH_MISMATCH);
    expect(result(await add('b', '9007199254740993')).status).to.equal(Status.SUBDOC_PATH_EEXISTS);
    expect(result(await add('b', '9007199254740992')).status).to.equal(Status.SUCCESS);
    expect(stored('uniq')).to.equal('{"a":[1,{}],"b":[9007199254740993,9007199254740992]}');
  });

  it('through the official SDK: increment on a big integer, and the overflow and range errors', async () => {
    const sdk = await couchbase.connect(cluster.connectionString, { username: 'app', password: 'app-password', timeouts: { kvTimeout: 5000, connectTimeout: 10000 } });
    try {
      const coll = sdk.bucket('default').defaultCollection();
      await c.set('sdk-ctr', `{"a":9007199254740993,"max":${INT64_MAX},"huge":9223372036854775808}`);
      const res = await coll.mutateIn('sdk-ctr', [couchbase.MutateInSpec.increment('a', 2)]);
      expect(res.content[0].value).to.equal(9007199254740995);
      expect(stored('sdk-ctr')).to.contain('"a":9007199254740995');
      const err = async (spec: couchbase.MutateInSpec): Promise<unknown> => coll.mutateIn('sdk-ctr', [spec]).then(() => undefined, (e: unknown) => e);
      expect(await err(couchbase.MutateInSpec.increment('max', 1))).to.be.instanceOf(couchbase.ValueInvalidError);
      expect(await err(couchbase.MutateInSpec.increment('huge', 1))).to.be.instanceOf(couchbase.NumberTooBigError);
      expect(await err(couchbase.MutateInSpec.increment('a', 0))).to.be.instanceOf(couchbase.DeltaInvalidError);
    } finally {
      await sdk.close();
    }
  });
});
