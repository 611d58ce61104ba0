// Range scans on the wire (kv_engine docs/range_scans/*.md and its testapp_range_scan cases):
// RANGE_SCAN_CREATE's JSON and errors, continues with their limits, statuses and encodings,
// cancel, snapshot requirements, sampling as kv_engine draws it, and the node's limits.
import { expect } from 'chai';
import { Cluster, ManualClock } from '../../lib/server';
import {
  HelloFeature,
  Opcode,
  Status,
  decodeGetMetaExtras,
  decodeScanDocuments,
  decodeScanKeys,
  encodeRangeScanContinueExtras,
  encodeRangeScanCreate,
  type Packet,
  type RangeScanCreateConfig,
  type RangeScanLimits,
} from '../../lib/protocol';
import { defaultSettings } from '../../lib/server/buckets-admin';
import { encodeXattrBlob } from '../../lib/server/xattrs';
import { RawClient } from './raw-client';

const USER = { username: 'alice', password: 'secret-pw' };
const JSON_DATATYPE = 1;
const FEATURES: number[] = [HelloFeature.JSON, HelloFeature.XERROR, HelloFeature.MUTATION_SEQNO];
const NO_LIMITS: RangeScanLimits = { itemLimit: 0, timeLimitMs: 0, byteLimit: 0 };

// kv_engine's testapp keys: the "user" ones are what a user-prefix scan finds.
const USER_KEYS = ['user-alan', 'useralan', 'user.claire', 'user::zoe', 'user:aaaaaaaa', 'users'];
const OTHER_KEYS = ['useq', 'uses', 'abcd', 'uuu', 'uuuu', 'xyz'];
const SEQUENTIAL = ['0', '1', '2', '3'];
const DOC_FLAGS = 0xaabbccdd;
const userPrefix = { start: 'user', end: Buffer.from('user\xff', 'latin1') };

/** A client of bucket `default` (one vBucket) with `features`, kept in `clients` to be closed. */
async function loggedIn(port: number, features: number[], clients: RawClient[], bucket = 'default'): Promise<RawClient> {
  const c = await RawClient.connect(port);
  c.numVBuckets = 1;
  clients.push(c);
  await c.hello(features);
  await c.login(USER.username, USER.password, bucket);
  return c;
}

interface Drained {
  keys: string[];
  frames: Packet[];
  continues: number;
}

describe('server KV: range scans', () => {
  let cluster: Cluster;
  let clock: ManualClock;
  let port: number;
  const clients: RawClient[] = [];

  const client = (features = FEATURES): Promise<RawClient> => loggedIn(port, features, clients);

  function create(c: RawClient, config: RangeScanCreateConfig | Buffer, opts: { vbucket?: number; datatype?: number } = {}): Promise<Packet> {
    const value = Buffer.isBuffer(config) ? config : encodeRangeScanCreate(config);
    return c.request({ opcode: Opcode.RANGE_SCAN_CREATE, vbucket: opts.vbucket ?? 0, datatype: opts.datatype ?? JSON_DATATYPE, value });
  }

  async function scanId(c: RawClient, config: RangeScanCreateConfig): Promise<Buffer> {
    const res = await create(c, config);
    expect(res.status, res.value.toString()).to.equal(Status.SUCCESS);
    expect(res.value.length).to.equal(16);
    return res.value;
  }

  /** Sends one continue; returns its responses up to the first that is not SUCCESS. */
  async function continueOnce(c: RawClient, id: Buffer, limits: RangeScanLimits = NO_LIMITS): Promise<Packet[]> {
    c.write(c.frame({ opcode: Opcode.RANGE_SCAN_CONTINUE, vbucket: 0, extras: encodeRangeScanContinueExtras(id, limits) }));
    const out: Packet[] = [];
    for (;;) {
      const [p] = await c.take(1);
      out.push(p);
      if (p.status !== Status.SUCCESS) return out;
    }
  }

  /** Continues until RANGE_SCAN_COMPLETE (any other final status fails the test). */
  async function drain(c: RawClient, id: Buffer, limits: RangeScanLimits = NO_LIMITS, keyOnly = true): Promise<Drained> {
    const result: Drained = { keys: [], frames: [], continues: 0 };
    for (;;) {
      const frames = await continueOnce(c, id, limits);
      result.continues++;
      for (const f of frames) {
        result.frames.push(f);
        if (f.value.length === 0) continue;
        expect(f.extras.readUInt32BE(0)).to.equal(keyOnly ? 0 : 1);
        result.keys.push(...(keyOnly ? decodeScanKeys(f.value).map((k) => k.toString()) : decodeScanDocuments(f.value).map((d) => d.key.toString())));
      }
      const last = frames[frames.length - 1].status;
      if (last === Status.RANGE_SCAN_COMPLETE) return result;
      expect(last, `continue ended with 0x${last.toString(16)}`).to.equal(Status.RANGE_SCAN_MORE);
    }
  }

  before(async () => {
    clock = new ManualClock(Date.UTC(2025, 5, 1));
    cluster = await Cluster.start({ users: [USER], numVBuckets: 1, clock, queryService: null, viewsService: null, kvLimits: { maxRangeScans: 4 } });
    port = cluster.nodes[0].ports.kv;
    const c = await client();
    for (const k of USER_KEYS) await c.set(k, JSON.stringify({ key: k }), { flags: DOC_FLAGS, datatype: JSON_DATATYPE });
    for (const k of [...OTHER_KEYS, ...SEQUENTIAL]) await c.set(k, k);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  after(async () => cluster.stop());

  describe('create', () => {
    it('answers a 16-byte scan id, different for each scan', async () => {
      const c = await client();
      const a = await scanId(c, { range: userPrefix, keyOnly: true });
      const b = await scanId(c, { range: userPrefix, keyOnly: true });
      expect(a.equals(b)).to.equal(false);
      for (const id of [a, b]) expect((await c.request({ opcode: Opcode.RANGE_SCAN_CANCEL, vbucket: 0, extras: id })).status).to.equal(Status.SUCCESS);
    });

    it('refuses a request without a value, with a value not sent as JSON, or not JSON (EINVAL)', async () => {
      const c = await client();
      expect((await c.request({ opcode: Opcode.RANGE_SCAN_CREATE, vbucket: 0 })).status).to.equal(Status.EINVAL);
      expect((await create(c, { range: userPrefix }, { datatype: 0 })).status).to.equal(Status.EINVAL);
      expect((await create(c, Buffer.from('...'))).status).to.equal(Status.EINVAL);
      expect((await c.request({ opcode: Opcode.RANGE_SCAN_CREATE, vbucket: 0, key: 'k', datatype: JSON_DATATYPE, value: '{}' })).status).to.equal(Status.EINVAL);
    });

    it('refuses malformed ranges with kv_engine context, and keys over 250 bytes', async () => {
      const c = await client();
      const cases: Array<[object, RegExp]> = [
        [{ range: { start: 'YQ==', excl_start: 'YQ==', end: 'Yg==' } }, /range included both start and excl_start/],
        [{ range: { start: 'YQ==' } }, /range did not include end or excl_end/],
        [{ range: { start: 'YQ==', end: 'Yg==' }, sampling: { samples: 2 } }, /range or a sampling/],
        [{ range: { start: '!!', end: 'Yg==' } }, /not base64/],
        [{ sampling: { seed: 1 } }, /"samples" is missing/],
        [{ name: 'n'.repeat(51) }, /longer than 50 bytes/],
        [{ collection: 'xyz' }, /hexadecimal/],
        [{ key_only: 'yes' }, /"key_only" must be true or false/],
      ];
      for (const [config, context] of cases) {
        const res = await create(c, Buffer.from(JSON.stringify(config)));
        expect(res.status, JSON.stringify(config)).to.equal(Status.EINVAL);
        expect(JSON.parse(res.value.toString()).error.context).to.match(context);
      }
      const long = Buffer.alloc(251, 'L').toString('base64');
      const ok = Buffer.alloc(250, 'L').toString('base64');
      const res = await create(c, Buffer.from(JSON.stringify({ range: { start: long, end: ok } })));
      expect(res.status).to.equal(Status.EINVAL);
      expect(JSON.parse(res.value.toString()).error.context).to.equal('invalid key size in range start:251, end:250');
      // both at the maximum is legal: the range is just empty
      const empty = await create(c, Buffer.from(JSON.stringify({ range: { start: ok, end: ok } })));
      expect(empty.status).to.equal(Status.KEY_ENOENT);
      expect(JSON.parse(empty.value.toString()).error.context).to.contain('no keys in range');
    });

    it('closes the connection on a vb_uuid that is not a number, as kv_engine does', async () => {
      const c = await client();
      await create(c, Buffer.from(JSON.stringify({ range: { start: 'dXNlcg==', end: 'dXNlcv8=' }, snapshot_requirements: { vb_uuid: '123abc', seqno: 1 } }))).catch(() => undefined);
      await c.waitClosed();
    });

    it('answers KEY_ENOENT for an empty range, NOT_MY_VBUCKET off the map, UNKNOWN_COLLECTION for a collection that does not exist', async () => {
      const c = await client();
      expect((await create(c, { range: { start: 'L', end: Buffer.from('M\xff', 'latin1') } })).status).to.equal(Status.KEY_ENOENT);
      expect((await create(c, { range: userPrefix }, { vbucket: 1 })).status).to.equal(Status.NOT_MY_VBUCKET);
      const unknown = await create(c, { range: userPrefix, collection: 0x88 });
      expect(unknown.status).to.equal(Status.UNKNOWN_COLLECTION);
      expect(JSON.parse(unknown.value.toString())).to.have.property('manifest_uid');
    });

    it('refuses a create past the node limit with EBUSY until a scan ends', async () => {
      const c = await client();
      const ids: Buffer[] = [];
      for (let i = 0; i < 4; i++) ids.push(await scanId(c, { range: userPrefix, keyOnly: true }));
      expect((await create(c, { range: userPrefix })).status).to.equal(Status.EBUSY);
      await drain(c, ids[0]);
      ids.push(await scanId(c, { range: userPrefix }));
      for (const id of ids.slice(1)) await c.request({ opcode: Opcode.RANGE_SCAN_CANCEL, vbucket: 0, extras: id });
    });
  });

  describe('continue', () => {
    it('returns the keys of the range in key order, only keys, and ends COMPLETE', async () => {
      const c = await client();
      const scan = await drain(c, await scanId(c, { range: userPrefix, keyOnly: true }));
      expect(scan.keys).to.deep.equal([...USER_KEYS].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
      expect(scan.continues).to.equal(1);
    });

    it('with an item limit answers MORE after each batch, and one more continue finds the end', async () => {
      const c = await client();
      const scan = await drain(c, await scanId(c, { range: userPrefix, keyOnly: true }), { itemLimit: 2, timeLimitMs: 0, byteLimit: 0 });
      expect(scan.keys).to.have.length(6);
      // testapp's ScanWithSmallBufferWithLimit: 6 keys, 2 per continue, 6/2 + 1 continues
      expect(scan.continues).to.equal(4);
      const last = scan.frames[scan.frames.length - 1];
      expect(last.status).to.equal(Status.RANGE_SCAN_COMPLETE);
      expect(last.value.length).to.equal(0);
    });

    it('with a byte limit stops once the keys and values read reach it, at least one item each time', async () => {
      const c = await client();
      const scan = await drain(c, await scanId(c, { range: userPrefix }), { itemLimit: 0, timeLimitMs: 0, byteLimit: 1 }, false);
      expect(scan.keys).to.have.length(6);
      expect(scan.continues).to.equal(7);
    });

    it('honours exclusive starts and ends', async () => {
      const c = await client();
      const a = await drain(c, await scanId(c, { keyOnly: true, range: { start: '0', end: '3', excludeStart: true } }));
      expect(a.keys).to.deep.equal(['1', '2', '3']);
      const b = await drain(c, await scanId(c, { keyOnly: true, range: { start: '0', end: '3', excludeEnd: true } }));
      expect(b.keys).to.deep.equal(['0', '1', '2']);
    });

    it('returns documents with the metadata GET_META reports and the value as stored', async () => {
      const c = await client();
      const id = await scanId(c, { range: userPrefix });
      const frames = await continueOnce(c, id);
      expect(frames[frames.length - 1].status).to.equal(Status.RANGE_SCAN_COMPLETE);
      const docs = frames.flatMap((f) => (f.value.length === 0 ? [] : decodeScanDocuments(f.value)));
      expect(docs.map((d) => d.key.toString())).to.have.members(USER_KEYS);
      for (const d of docs) {
        const meta = await c.request({ opcode: Opcode.GET_META, key: d.key, vbucket: 0, extras: Buffer.from([2]) });
        const m = decodeGetMetaExtras(meta.extras);
        expect(d.flags).to.equal(DOC_FLAGS);
        expect(d).to.include({ flags: m.flags, expiry: m.expiry, datatype: m.datatype });
        // The scan gives the change's seqno in the vBucket; GET_META's seqno is the revision.
        expect(d.seqno).to.equal(cluster.bucket('default').live(d.key.toString())!.seqno);
        expect(d.cas).to.equal(meta.cas);
        expect(JSON.parse(d.value.toString())).to.deep.equal({ key: d.key.toString() });
      }
    });

    it('sends the body of a document alone, never its xattrs', async () => {
      const c = await client();
      const xattrs = new Map([['txn', '{"id":1}'], ['_sync', '{"rev":2}']]);
      const value = Buffer.concat([encodeXattrBlob(xattrs), Buffer.from('{"body":true}')]);
      cluster.bucket('default').write('xattr-doc', value, 'upsert', { datatype: 0x05 });
      const frames = await continueOnce(c, await scanId(c, { range: { start: 'xattr-doc', end: 'xattr-doc' } }));
      const [doc] = decodeScanDocuments(frames[0].value);
      expect(doc.value.toString()).to.equal('{"body":true}');
      expect(doc.datatype).to.equal(JSON_DATATYPE);
    });

    it('reads the snapshot taken at create: later writes and deletes do not show', async () => {
      const c = await client();
      await c.set('snap-a', '"old"');
      const id = await scanId(c, { range: { start: 'snap-', end: 'snap-\xff' } });
      await c.set('snap-a', '"new"');
      await c.set('snap-b', '"added"');
      const del = await c.request({ opcode: Opcode.DELETE, key: 'snap-a', vbucket: 0 });
      expect(del.status).to.equal(Status.SUCCESS);
      const frames = await continueOnce(c, id);
      const docs = frames.flatMap((f) => (f.value.length === 0 ? [] : decodeScanDocuments(f.value)));
      expect(docs.map((d) => [d.key.toString(), d.value.toString()])).to.deep.equal([['snap-a', '"old"']]);
    });

    it('sends a long scan as several SUCCESS responses of about 8 KiB before the final one', async () => {
      const c = await client();
      for (let i = 0; i < 40; i++) await c.set(`bulk-${String(i).padStart(2, '0')}`, 'x'.repeat(1000));
      const id = await scanId(c, { range: { start: 'bulk-', end: 'bulk-\xff' } });
      const frames = await continueOnce(c, id);
      expect(frames.length).to.be.greaterThan(3);
      for (const f of frames.slice(0, -1)) {
        expect(f.status).to.equal(Status.SUCCESS);
        expect(f.value.length).to.be.at.least(8192).and.below(8192 + 1100);
      }
      expect(frames[frames.length - 1].status).to.equal(Status.RANGE_SCAN_COMPLETE);
      expect(frames.flatMap((f) => (f.value.length === 0 ? [] : decodeScanDocuments(f.value))).length).to.equal(40);
    });

    it('answers KEY_ENOENT for an unknown or finished scan, EINVAL for malformed extras', async () => {
      const c = await client();
      const unknown = await c.request({ opcode: Opcode.RANGE_SCAN_CONTINUE, vbucket: 0, extras: encodeRangeScanContinueExtras(Buffer.alloc(16, 7), NO_LIMITS) });
      expect(unknown.status).to.equal(Status.KEY_ENOENT);
      const id = await scanId(c, { range: userPrefix });
      await drain(c, id, NO_LIMITS, false);
      expect((await continueOnce(c, id))[0].status).to.equal(Status.KEY_ENOENT);
      expect((await c.request({ opcode: Opcode.RANGE_SCAN_CONTINUE, vbucket: 0, extras: Buffer.alloc(16) })).status).to.equal(Status.EINVAL);
    });
  });

  describe('cancel', () => {
    it('cancels once; a second cancel and a continue then answer KEY_ENOENT', async () => {
      const c = await client();
      const id = await scanId(c, { range: userPrefix });
      expect((await c.request({ opcode: Opcode.RANGE_SCAN_CANCEL, vbucket: 0, extras: id })).status).to.equal(Status.SUCCESS);
      expect((await c.request({ opcode: Opcode.RANGE_SCAN_CANCEL, vbucket: 0, extras: id })).status).to.equal(Status.KEY_ENOENT);
      expect((await continueOnce(c, id))[0].status).to.equal(Status.KEY_ENOENT);
    });

    it('ends a scan its creator never finished once range_scan_max_lifetime (60 s) has passed', async () => {
      const c = await client();
      const id = await scanId(c, { range: userPrefix });
      clock.advance(60_001);
      expect((await continueOnce(c, id))[0].status).to.equal(Status.KEY_ENOENT);
    });
  });

  describe('snapshot requirements', () => {
    async function vbState(c: RawClient): Promise<{ uuid: bigint; seqno: bigint }> {
      const res = await c.request({ opcode: Opcode.OBSERVE_SEQNO, vbucket: 0, value: Buffer.alloc(8) });
      return { uuid: res.value.readBigUInt64BE(3), seqno: res.value.readBigUInt64BE(19) };
    }

    it('scans when the vb_uuid matches and the seqno is there', async () => {
      const c = await client();
      const { uuid, seqno } = await vbState(c);
      const scan = await drain(c, await scanId(c, { keyOnly: true, range: userPrefix, snapshot: { vbUuid: uuid, seqno, seqnoExists: true } }));
      expect(scan.keys).to.have.length(6);
    });

    it('answers VBUUID_NOT_EQUAL for another vb_uuid', async () => {
      const c = await client();
      const { uuid, seqno } = await vbState(c);
      expect((await create(c, { range: userPrefix, snapshot: { vbUuid: uuid ^ 1n, seqno } })).status).to.equal(Status.VBUUID_NOT_EQUAL);
    });

    it('answers NOT_STORED when seqno_exists asks for a change the vBucket no longer holds', async () => {
      const c = await client();
      await c.set('overwritten', '1');
      const { uuid, seqno } = await vbState(c);
      await c.set('overwritten', '2');
      expect((await create(c, { range: userPrefix, snapshot: { vbUuid: uuid, seqno, seqnoExists: true } })).status).to.equal(Status.NOT_STORED);
      expect((await create(c, { keyOnly: true, range: userPrefix, snapshot: { vbUuid: uuid, seqno } })).status).to.equal(Status.SUCCESS);
    });

    it('answers ETMPFAIL at once for a seqno not reached yet without a timeout', async () => {
      const c = await client();
      const { uuid, seqno } = await vbState(c);
      expect((await create(c, { range: userPrefix, snapshot: { vbUuid: uuid, seqno: seqno + 1n } })).status).to.equal(Status.ETMPFAIL);
    });

    it('waits up to timeout_ms for the seqno, holding the requests after it, and scans once it arrives', async () => {
      const c = await client();
      const { uuid, seqno } = await vbState(c);
      c.write(c.frame({ opcode: Opcode.RANGE_SCAN_CREATE, vbucket: 0, datatype: JSON_DATATYPE, value: encodeRangeScanCreate({ keyOnly: true, range: { start: 'late', end: 'late' }, snapshot: { vbUuid: uuid, seqno: seqno + 1n, timeoutMs: 5000 } }) }));
      c.write(c.frame({ opcode: Opcode.NOOP }));
      await new Promise((r) => setTimeout(r, 50));
      const writer = await client();
      await writer.set('late', '1');
      const [created, noop] = await c.take(2);
      expect(created.status).to.equal(Status.SUCCESS);
      expect(noop.opcode).to.equal(Opcode.NOOP);
      expect((await drain(c, created.value)).keys).to.deep.equal(['late']);
    });

    it('answers ETMPFAIL when timeout_ms passes first', async () => {
      const c = await client();
      const { uuid, seqno } = await vbState(c);
      const started = Date.now();
      const res = await create(c, { range: userPrefix, snapshot: { vbUuid: uuid, seqno: seqno + 100n, timeoutMs: 100 } });
      expect(res.status).to.equal(Status.ETMPFAIL);
      expect(Date.now() - started).to.be.at.least(90);
    });
  });

  describe('sampling', () => {
    it('draws the same keys as kv_engine for a seed (std::mt19937 + bernoulli_distribution)', async () => {
      const c = await client();
      // 60 documents of a bucket of their own; 5 samples -> p = 5/60. libstdc++ with seed 0 keeps
      // the 8th and the 51st key in key order (bernoulli draws 000000010000...0000001000000000).
      cluster.createBucket(defaultSettings('sampled', 0));
      const s = await loggedIn(port, FEATURES, clients, 'sampled');
      const keys = Array.from({ length: 60 }, (_, i) => `k${String(i).padStart(2, '0')}`);
      for (const k of keys) await s.set(k, '{}');
      const scan = await drain(s, await scanId(s, { keyOnly: true, sampling: { samples: 5, seed: 0 } }));
      expect(scan.keys).to.deep.equal([keys[7], keys[50]]);
      const again = await drain(s, await scanId(s, { keyOnly: true, sampling: { samples: 5, seed: 0 } }));
      expect(again.keys).to.deep.equal(scan.keys);
      // as many samples as documents or more: the whole collection
      expect((await drain(s, await scanId(s, { keyOnly: true, sampling: { samples: 60 } }))).keys).to.have.length(60);
      cluster.deleteBucket('sampled');
    });

    it('answers KEY_ENOENT when the collection is empty', async () => {
      cluster.createBucket(defaultSettings('empty', 0));
      const s = await loggedIn(port, FEATURES, clients, 'empty');
      expect((await create(s, { sampling: { samples: 5 } })).status).to.equal(Status.KEY_ENOENT);
      cluster.deleteBucket('empty');
    });
  });
});

describe('server KV: range scan continues the peer reads slowly', function () {
  this.timeout(20000);
  let cluster: Cluster;
  let port: number;
  const clients: RawClient[] = [];
  const DOCS = 200;
  const BIG = Buffer.alloc(64 * 1024, 'v');

  const client = (features: number[] = [HelloFeature.JSON, HelloFeature.XERROR]): Promise<RawClient> => loggedIn(port, features, clients);

  async function wholeScan(c: RawClient): Promise<Buffer> {
    const res = await c.request({ opcode: Opcode.RANGE_SCAN_CREATE, vbucket: 0, datatype: JSON_DATATYPE, value: encodeRangeScanCreate({}) });
    expect(res.status).to.equal(Status.SUCCESS);
    return res.value;
  }

  /** Client `a` continues a whole scan without reading its answers; `b` is another client. */
  async function stalledContinue(): Promise<{ a: RawClient; b: RawClient; id: Buffer }> {
    const a = await client();
    const b = await client();
    const id = await wholeScan(a);
    a.socket.pause();
    a.write(a.frame({ opcode: Opcode.RANGE_SCAN_CONTINUE, vbucket: 0, extras: encodeRangeScanContinueExtras(id, NO_LIMITS) }));
    await new Promise((r) => setTimeout(r, 200));
    return { a, b, id };
  }

  /** Frames until the first that is not SUCCESS. */
  async function untilFinal(c: RawClient, timeoutMs = 10000): Promise<Packet[]> {
    const out: Packet[] = [];
    for (;;) {
      const [p] = await c.take(1, timeoutMs);
      out.push(p);
      if (p.status !== Status.SUCCESS) return out;
    }
  }

  before(async () => {
    // A small output allowance: a continue of 12.5 MiB waits for its reader many times over.
    cluster = await Cluster.start({ users: [USER], numVBuckets: 1, queryService: null, viewsService: null, kvLimits: { connectionOutputBytes: 64 * 1024 } });
    port = cluster.nodes[0].ports.kv;
    const store = cluster.bucket('default');
    for (let i = 0; i < DOCS; i++) store.write(`big-${String(i).padStart(3, '0')}`, BIG, 'upsert');
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  after(async () => cluster.stop());

  it('streams every document to a reader that pauses, then answers the requests queued behind it', async () => {
    const c = await client([HelloFeature.JSON, HelloFeature.TRACING]);
    const id = await wholeScan(c);
    c.socket.pause();
    c.write(Buffer.concat([c.frame({ opcode: Opcode.RANGE_SCAN_CONTINUE, vbucket: 0, extras: encodeRangeScanContinueExtras(id, NO_LIMITS) }), c.frame({ opcode: Opcode.NOOP })]));
    await new Promise((r) => setTimeout(r, 200));
    c.socket.resume();
    const frames = await untilFinal(c);
    expect(frames[frames.length - 1].status).to.equal(Status.RANGE_SCAN_COMPLETE);
    const docs = frames.flatMap((f) => (f.value.length === 0 ? [] : decodeScanDocuments(f.value)));
    expect(docs).to.have.length(DOCS);
    expect(docs.every((d) => d.value.equals(BIG))).to.equal(true);
    // every frame of the continue, written later than its request, still carries the duration
    expect(frames.every((f) => f.framingExtras.length === 3)).to.equal(true);
    const [noop] = await c.take(1);
    expect(noop.opcode).to.equal(Opcode.NOOP);
  });

  it('answers EBUSY to a continue of a scan still continuing, and ends that continue with RANGE_SCAN_CANCELLED on cancel', async () => {
    const { a, b, id } = await stalledContinue();
    const busy = await b.request({ opcode: Opcode.RANGE_SCAN_CONTINUE, vbucket: 0, extras: encodeRangeScanContinueExtras(id, NO_LIMITS) });
    expect(busy.status).to.equal(Status.EBUSY);
    expect((await b.request({ opcode: Opcode.RANGE_SCAN_CANCEL, vbucket: 0, extras: id })).status).to.equal(Status.SUCCESS);
    a.socket.resume();
    const frames = await untilFinal(a);
    const last = frames[frames.length - 1];
    expect(last.status).to.equal(Status.RANGE_SCAN_CANCELLED);
    expect(last.value.length).to.equal(0);
    expect(frames.flatMap((f) => (f.value.length === 0 ? [] : decodeScanDocuments(f.value))).length).to.be.below(DOCS);
  });

  it('cancels the scan when its connection closes in the middle of a continue', async () => {
    const { a, b, id } = await stalledContinue();
    a.close();
    await new Promise((r) => setTimeout(r, 100));
    const res = await b.request({ opcode: Opcode.RANGE_SCAN_CONTINUE, vbucket: 0, extras: encodeRangeScanContinueExtras(id, NO_LIMITS) });
    expect(res.status).to.equal(Status.KEY_ENOENT);
  });
});
