// The rest of Python's Bucket through each flavour: stats (groups, keystats), endure's defaults,
// interval and check_removed, observe_multi, the durability() context, pipeline(), the
// destructor event, and Python 2.x's format flags on documents going both ways.
import { expect } from 'chai';
import { Deferred } from '../../../lib/defer';
import {
  ArgumentError,
  CouchbaseError,
  ErrorCode,
  FMT_AUTO,
  FMT_BYTES,
  FMT_JSON,
  FMT_PICKLE,
  FMT_UTF8,
  MultiResult,
  NotFoundError,
  ObserveResult,
  OperationResult,
  PipelineError,
  StatsResult,
  TimeoutError,
  ValueFormatError,
  setJsonConverters,
  AES256HMACSHA256Provider,
  InMemoryKeyStore,
  CryptoSignatureError,
  CryptoProviderNotFoundError,
  Transcoder,
  lcbVersion,
  SD,
  Item,
  ItemSequence,
} from '../../../lib/index';
import * as deferredModule from '../../../adapters/deferred';
import * as promiseModule from '../../../adapters/promise';
import * as blockingModule from '../../../adapters/blocking';
import { expectReject, withHandle, type SharedContext } from './context';
import { settle } from './rows';
import { Prefixing, sentAs } from '../helpers/prefixing-transcoder';

type Any = Record<string, (...a: unknown[]) => any>;

/** A transcoder that writes the bytes and flags it is given, as another SDK would have written them. */
const RAW_WRITER = {
  encodeValue: (v: { bytes: Buffer; flags: number }) => [v.bytes, v.flags] as [Buffer, number],
  decodeValue: (b: Buffer) => b,
};

export function bucketCases(c: SharedContext): void {
  const { k } = c;

  it('stats(): every group of every node by default, a list of groups, numbers as numbers; keystats asks each document\'s node about it', async function () {
    const h = c.h();
    const w = await h.call('upsert', k('st'), { s: 1 });
    const general = await h.call('stats');
    expect(general).to.be.instanceOf(StatsResult);
    const nodes = Object.keys(general.value.curr_items);
    expect(nodes).to.have.length(1);
    expect(general.value.curr_items[nodes[0]]).to.be.a('number').and.to.be.greaterThan(0);
    expect(general.value.version[nodes[0]]).to.be.a('string');
    const two = await h.call('stats', ['memory', 'vbucket-seqno']);
    expect(two.value.mem_used[nodes[0]]).to.be.a('number');
    expect(Object.keys(two.value).some((s) => /^vb_\d+:high_seqno$/.test(s))).to.equal(true);
    const keyed = await h.call('stats', [k('st')], { keystats: true });
    expect(keyed.value.key_flags[nodes[0]]).to.equal(FMT_JSON);
    expect(BigInt(keyed.value.key_cas[nodes[0]])).to.equal(w.cas);
    expect(keyed.value.key_vb_state[nodes[0]]).to.equal('active');
    expect(await expectReject(h.call('stats', [k('no-such-doc')], { keystats: true }))).to.be.instanceOf(NotFoundError);
  });

  it('endure(): every copy by default, polled every interval; checkRemoved waits for the removal; observeMulti reports each key\'s copies', async function () {
    await withHandle(c, c.replicaOptions(), async (r) => {
      const key = k('endure');
      const w = await r.call('upsert', key, { e: 1 });
      // No requirement given: persisted on both copies and replicated to the one replica.
      const e = await r.call('endure', key, { cas: w.cas, interval: 0.005 });
      expect(e).to.be.instanceOf(OperationResult);
      // A requirement above the bucket's copies is refused before polling.
      expect(await expectReject(r.call('endure', key, { replicateTo: 2 }))).to.be.instanceOf(ArgumentError);
      // A live document never satisfies checkRemoved.
      const live = await expectReject(r.call('endure', key, { checkRemoved: true, persistTo: 1, replicateTo: 0, timeout: 0.3 }));
      expect(live).to.be.instanceOf(TimeoutError);
      await r.call('remove', key);
      await r.call('endure', key, { checkRemoved: true });
      await r.call('upsert', k('obs2'), 2);
      const obs = await r.call('observeMulti', [k('obs2'), key]);
      expect(obs).to.be.instanceOf(MultiResult);
      const o2 = obs.get(k('obs2'));
      expect(o2).to.be.instanceOf(ObserveResult);
      expect(o2.value.filter((i: { fromMaster: boolean }) => i.fromMaster)).to.have.length(1);
      expect(o2.value).to.have.length(2);
      const masterOnly = await r.call('observe', k('obs2'), { masterOnly: true });
      expect(masterOnly.value).to.have.length(1);
    });
  });

  it('durability(options, fn): mutations started inside take its persistTo/replicateTo (both -1, every copy, by default); outside they do not', async function () {
    await withHandle(c, c.replicaOptions(), async (r) => {
      const b = r.bucket as Any;
      const key = k('dctx');
      // Every copy of a bucket with one replica: persisted twice, replicated once.
      const inside = await settle(() => b.durability({}, () => b.upsert(key, { in: true })));
      expect(inside).to.be.instanceOf(OperationResult);
      // More copies than there are: the mutation inside fails before it is sent.
      const err = await expectReject(settle(() => b.durability({ replicateTo: 2 }, () => b.upsert(key, { in: 2 }))));
      expect(err).to.be.instanceOf(ArgumentError);
      expect(err.rc).to.equal(ErrorCode.DURABILITY_ETOOMANY);
      expect((await r.call('get', key)).value).to.deep.equal({ in: true });
      // Sub-document and data-structure mutations take it too.
      const ds = await expectReject(settle(() => b.durability({ replicateTo: 2 }, () => b.mapAdd(k('dctx-map'), 'f', 1, { create: true }))));
      expect(ds.rc).to.equal(ErrorCode.DURABILITY_ETOOMANY);
      // The context is gone once fn returned.
      await r.call('upsert', key, { out: true });
      expect(() => b.durability({ persistTo: 9 }, () => undefined)).to.throw(ArgumentError);
      expect(() => b.durability({ persist_to: 1 }, () => undefined)).to.throw(ArgumentError, /persistTo/);
    });
  });

  it('pipeline(): the blocking flavour batches the calls made in run() and returns their results; async flavours refuse it (PipelineError), as Python\'s async handles do', async function () {
    const h = c.h();
    const b = h.bucket as Any;
    if (c.driver.name !== 'blocking') {
      expect(() => b.pipeline()).to.throw(PipelineError);
      return;
    }
    const p = b.pipeline();
    const inside: unknown[] = [];
    const results = p.run(() => {
      inside.push(b.upsert(k('p1'), { n: 1 }));
      inside.push(b.counter(k('p2'), { initial: 5 }));
      inside.push(b.get(k('p1')));
      inside.push(b.upsertMulti({ [k('p3')]: 3, [k('p4')]: 4 }));
    });
    expect(inside).to.deep.equal([undefined, undefined, undefined, undefined]);
    expect(results).to.have.length(4);
    expect(results[0]).to.be.instanceOf(OperationResult);
    expect(Number(results[1].value)).to.equal(5);
    expect(results[2].value).to.deep.equal({ n: 1 });
    expect(results[3]).to.be.instanceOf(MultiResult);
    expect(p.results).to.equal(results);
    // An operation that fails inside is raised when the pipeline ends; every result is kept.
    const failing = b.pipeline();
    expect(() => failing.run(() => {
      b.get(k('missing-in-pipeline'));
      b.upsert(k('p5'), 5);
    })).to.throw(NotFoundError);
    expect(failing.results[0]).to.be.instanceOf(NotFoundError);
    expect(failing.results[1]).to.be.instanceOf(OperationResult);
    expect(() => b.pipeline().run(() => b.n1qlQuery('SELECT 1'))).to.throw(PipelineError);
    expect(() => {
      const outer = b.pipeline();
      outer.run(() => b.pipeline().run(() => undefined));
    }).to.throw(PipelineError);
  });

  it('close() releases the bucket: txcouchbase\'s registerDeferred(\'_dtor\', d) fires then; the other flavours\' close() settles then', async function () {
    await withHandle(c, c.openOptions(), async (t) => {
      const b = t.bucket as Any;
      await t.call('upsert', k('dtor'), 1);
      if (c.driver.name === 'deferred') {
        const dtor = new Deferred<unknown>();
        b.registerDeferred('_dtor', dtor);
        const connect = new Deferred<unknown>();
        b.registerDeferred('connect', connect);
        expect(await connect).to.equal(b);
        expect(dtor.called).to.equal(false);
        await b.close();
        expect(await dtor).to.equal(b);
        expect(() => b.registerDeferred('nope', new Deferred())).to.throw(ArgumentError);
      } else {
        await settle(() => b.close());
      }
      expect(b.closed).to.equal(true);
      expect(await expectReject(t.call('get', k('dtor')))).to.be.instanceOf(CouchbaseError);
    });
  });

  it('formats: documents with Python 2.x\'s flags (common or legacy alone) read back as their type; ours carry Python\'s flags; FMT_PICKLE is refused, noFormat reads it raw', async function () {
    const h = c.h();
    await withHandle(c, c.openOptions({ bucketOptions: { transcoder: RAW_WRITER } }), async (py) => {
      const cases: Array<[string, Buffer, number, unknown]> = [
        ['json-common', Buffer.from('{"a":1}'), 0x02000000, { a: 1 }],
        ['json-legacy', Buffer.from('[1,2]'), 0x00, [1, 2]],
        ['utf8-common', Buffer.from('héllo'), 0x04000004, 'héllo'],
        ['utf8-legacy', Buffer.from('text'), 0x04, 'text'],
        ['bytes-common', Buffer.from([1, 2, 3]), 0x03000002, Buffer.from([1, 2, 3])],
        ['bytes-legacy', Buffer.from([9]), 0x02, Buffer.from([9])],
      ];
      for (const [name, bytes, flags, want] of cases) {
        await py.call('upsert', k(name), { bytes, flags });
        const got = await h.call('get', k(name));
        expect(got.value, name).to.deep.equal(want);
        expect(got.flags, name).to.equal(flags);
      }
      // A pickled document (Python's FMT_PICKLE) cannot be decoded here; noFormat gives its bytes.
      const pickled = Buffer.from([0x80, 0x02, 0x4b, 0x2a, 0x2e]);
      await py.call('upsert', k('pickle'), { bytes: pickled, flags: FMT_PICKLE });
      const perr = await expectReject(h.call('get', k('pickle')));
      expect(perr).to.be.instanceOf(ValueFormatError);
      expect(perr.message).to.match(/pickle/);
      expect((await h.call('get', k('pickle'), { noFormat: true })).value).to.deep.equal(pickled);
      // The other way: what this client writes carries exactly Python's flags.
      for (const [fmt, value, flags] of [[FMT_JSON, { j: 1 }, 0x02000000], [FMT_UTF8, 'u', 0x04000004], [FMT_BYTES, Buffer.from('b'), 0x03000002], [FMT_AUTO, 'auto', 0x04000004]] as const) {
        await h.call('upsert', k(`ours-${flags}`), value, { format: fmt });
        expect((await py.call('get', k(`ours-${flags}`))).flags).to.equal(flags);
      }
    });
    expect(await expectReject(h.call('upsert', k('pk'), { a: 1 }, { format: FMT_PICKLE }))).to.be.instanceOf(ValueFormatError);
  });

  it('Python\'s other names: rget / rgetMulti, the 1.x set / add / delete (and *Multi) kept as deprecated, and Bucket.design* calling the BucketManager\'s', async function () {
    const h = c.h();
    const b = h.bucket as Any;
    expect((await h.call('set', k('al'), { a: 1 })).cas).to.be.a('bigint');
    expect(await expectReject(h.call('add', k('al'), 2))).to.be.instanceOf(CouchbaseError);
    await h.call('addMulti', { [k('al2')]: 2 });
    await h.call('setMulti', { [k('al2')]: 3 });
    expect((await h.call('get', k('al2'))).value).to.equal(3);
    await h.call('delete', k('al'));
    await h.call('deleteMulti', [k('al2')]);
    expect(await expectReject(h.call('get', k('al')))).to.be.instanceOf(NotFoundError);
    expect(b.set.name).to.equal('set');
    await withHandle(c, c.replicaOptions(), async (r) => {
      await r.call('upsert', k('rg'), { r: 1 });
      await r.call('endure', k('rg'), { persistTo: 1, replicateTo: 1 });
      expect((await r.call('rget', k('rg'))).value).to.deep.equal({ r: 1 });
      expect((await r.call('rget', k('rg'), { replicaIndex: 0 })).value).to.deep.equal({ r: 1 });
      expect((await r.call('rgetMulti', [k('rg')])).get(k('rg')).value).to.deep.equal({ r: 1 });
    });
    const ddoc = { views: { v: { map: 'function (doc) { emit(doc.a, null); }' } } };
    await settle(() => b.designCreate('deprecated_dd', ddoc, { useDevmode: false }));
    expect(Object.keys((await settle<any>(() => b.designGet('deprecated_dd', false))).value.views)).to.deep.equal(['v']);
    await settle(() => b.designDelete('deprecated_dd', { useDevmode: false }));
    expect(await expectReject(settle(() => b.bucketManager().designGet('deprecated_dd', false)))).to.be.instanceOf(CouchbaseError);
  });

  it('setJsonConverters(encode, decode) changes how FMT_JSON documents are written and read, in every flavour', async function () {
    const h = c.h();
    const [enc, dec] = setJsonConverters((v) => JSON.stringify({ wrapped: v }), (t) => (JSON.parse(t) as { wrapped: unknown }).wrapped);
    try {
      await h.call('upsert', k('conv'), [1, 2]);
      expect((await h.call('get', k('conv'))).value).to.deep.equal([1, 2]);
      expect((await h.call('get', k('conv'), { noFormat: true })).value.toString()).to.equal('{"wrapped":[1,2]}');
    } finally {
      setJsonConverters(enc, dec);
    }
    expect((await h.call('get', k('conv'))).value).to.deep.equal({ wrapped: [1, 2] });
  });
  it('field-level encryption: registerCryptoProvider, encryptFields / decryptFields (the legacy __crypt_ format) around a stored document', async function () {
    const b = c.h().bucket as Any;
    const store = new InMemoryKeyStore();
    store.setKey('mypublickey', '!mysecretkey#9^5usdk39d&dlf)03sL');
    store.setKey('myhmackey', 'myauthpassword');
    const spec = [{ name: 'card', alg: 'AES-256-HMAC-SHA256' }];
    expect(() => b.encryptFields({ card: '4111' }, spec)).to.throw(CryptoProviderNotFoundError);
    b.registerCryptoProvider('AES-256-HMAC-SHA256', new AES256HMACSHA256Provider({ keyStore: store, keyId: 'mypublickey', hmacKeyId: 'myhmackey' }));
    const enc = b.encryptFields({ name: 'Ada', card: { number: '4111', cvc: 123 } }, spec, '__crypt_');
    expect(enc).to.not.have.property('card');
    expect(enc.__crypt_card).to.include.keys('alg', 'kid', 'iv', 'ciphertext', 'sig');
    await settle(() => b.upsert(k('fle'), enc));
    const stored = (await settle(() => b.get(k('fle')))).value;
    expect(stored).to.deep.equal(enc);
    expect(b.decryptFields(stored, spec, '__crypt_')).to.deep.equal({ name: 'Ada', card: { number: '4111', cvc: 123 } });
    stored.__crypt_card.ciphertext = Buffer.from('tampered').toString('base64');
    expect(() => b.decryptFields(stored, spec, '__crypt_')).to.throw(CryptoSignatureError);
    b.unregisterCryptoProvider('AES-256-HMAC-SHA256');
    expect(() => b.decryptFields(enc, spec)).to.throw(CryptoProviderNotFoundError);
  });
  it('Transcoder: Python\'s class, subclassed (camelCase or snake_case overrides, super for the rest), on single and multi KV calls', async function () {
    class Shouting extends Transcoder {
      override encodeValue(value: unknown, format: number): [Buffer, number] {
        if (typeof value === 'string') return [Buffer.from(value.toUpperCase()), FMT_UTF8];
        return super.encodeValue(value, format);
      }
      // Python's spelling: found as well as the camelCase one.
      override decode_value(value: Buffer, flags: number): unknown {
        const v = super.decode_value(value, flags);
        return typeof v === 'string' ? `<${v}>` : v;
      }
    }
    const base = new Transcoder();
    expect(base.encodeKey('ké')).to.deep.equal(Buffer.from('ké'));
    expect(base.decode_key(Buffer.from('ké'))).to.equal('ké');
    expect(base.encode_value({ a: 1 }, FMT_JSON)).to.deep.equal([Buffer.from('{"a":1}'), FMT_JSON]);
    expect(base.decodeValue(Buffer.from('x'), FMT_UTF8)).to.equal('x');
    await withHandle(c, c.openOptions({ bucketOptions: { transcoder: Shouting } }), async (h) => {
      await h.call('upsert', k('tc'), 'quiet words');
      const r = await h.call('get', k('tc'));
      expect([r.value, r.flags]).to.deep.equal(['<QUIET WORDS>', FMT_UTF8]);
      await h.call('upsertMulti', { [k('m1')]: 'a', [k('m2')]: { json: true } });
      const m = await h.call('getMulti', [k('m1'), k('m2')]);
      expect([m.get(k('m1')).value, m.get(k('m2')).value]).to.deep.equal(['<A>', { json: true }]);
    });
    const mod = { deferred: deferredModule, promise: promiseModule, blocking: blockingModule }[c.driver.name] as unknown as { lcbVersion: typeof lcbVersion };
    const [text, num] = mod.lcbVersion();
    expect(num).to.equal(0x020a00);
    expect(text).to.match(/^2\.10\.0 \(deferbase \d+\.\d+\.\d+/);
  });
  it('Transcoder key methods: encodeKey on every key a call names (single, multi, sub-document, data structures, lock), decodeKey on the keys of results and errors', async function () {
    const plain = c.h();
    await withHandle(c, c.openOptions({ bucketOptions: { transcoder: Prefixing } }), async (h) => {
      const up = await h.call('upsert', k('one'), { n: 1 });
      expect(up.key).to.equal(k('one'));
      expect((await plain.call('get', sentAs(k('one')))).value).to.deep.equal({ n: 1 });
      expect(await expectReject(plain.call('get', k('one')))).to.be.instanceOf(NotFoundError);
      const got = await h.call('get', k('one'));
      expect([got.key, got.value]).to.deep.equal([k('one'), { n: 1 }]);

      await h.call('upsertMulti', { [k('m1')]: 1, [k('m2')]: 2 });
      const m = await h.call('getMulti', [k('m1'), k('m2')]);
      expect([...m.keys()]).to.deep.equal([k('m1'), k('m2')]);
      expect([m.get(k('m1')).key, m.get(k('m2')).value]).to.deep.equal([k('m1'), 2]);
      expect((await plain.call('get', sentAs(k('m2')))).value).to.equal(2);
      const missing = await expectReject(h.call('getMulti', [k('m1'), k('gone')]));
      expect(missing).to.be.instanceOf(NotFoundError);
      expect([...missing.allResults.keys()]).to.deep.equal([k('m1'), k('gone')]);

      await h.call('mutateIn', k('one'), SD.upsert('sub', 'x'));
      const sd = await h.call('lookupIn', k('one'), SD.get('sub'));
      expect([sd.key, sd.get(0)[1]]).to.deep.equal([k('one'), 'x']);
      expect((await plain.call('get', sentAs(k('one')))).value).to.deep.equal({ n: 1, sub: 'x' });

      await h.call('upsert', k('map'), {});
      await h.call('mapAdd', k('map'), 'f', 7);
      expect((await h.call('mapGet', k('map'), 'f')).value).to.equal(7);
      expect((await plain.call('get', sentAs(k('map')))).value).to.deep.equal({ f: 7 });

      const locked = await h.call('lock', k('one'), { ttl: 5 });
      expect(locked.key).to.equal(k('one'));
      await h.call('unlock', k('one'), { cas: locked.cas });

      const notFound = await expectReject(h.call('get', k('gone')));
      expect(notFound).to.be.instanceOf(NotFoundError);
      expect(notFound.key).to.equal(k('gone'));
      expect(await expectReject(h.call('get', k('bad')))).to.be.instanceOf(ValueFormatError);
      // Back to the default transcoder: keys go as given again.
      (h.bucket as Record<string, unknown>).transcoder = null;
      expect(await expectReject(h.call('get', k('one')))).to.be.instanceOf(NotFoundError);
    });
  });

  it('Transcoder key methods on replica reads, observe/endure, counters, ItemCollections and (blocking) pipelines', async function () {
    await withHandle(c, { ...c.replicaOptions(), bucketOptions: { ...c.replicaOptions().bucketOptions, transcoder: new Prefixing() } }, async (r) => {
      await r.call('upsert', k('rep'), { r: 1 });
      const e = await r.call('endure', k('rep'), { persistTo: 1, replicateTo: 1 });
      expect(e.key).to.equal(k('rep'));
      const o = await r.call('observe', k('rep'));
      expect([o.key, o.value.length]).to.deep.equal([k('rep'), 2]);
      const rg = await r.call('getReplica', k('rep'));
      expect([rg.key, rg.value]).to.deep.equal([k('rep'), { r: 1 }]);
      const rgm = await r.call('rgetMulti', [k('rep')]);
      expect([...rgm.keys()]).to.deep.equal([k('rep')]);
      const om = await r.call('observeMulti', [k('rep')]);
      expect([...om.keys()]).to.deep.equal([k('rep')]);
    });
    await withHandle(c, c.openOptions({ bucketOptions: { transcoder: Prefixing } }), async (h) => {
      const plain = c.h();
      const n = await h.call('counter', k('n'), { initial: 3 });
      expect([n.key, Number(n.value)]).to.deep.equal([k('n'), 3]);
      expect(Number((await plain.call('get', sentAs(k('n')))).value)).to.equal(3);
      const a = new Item(k('i1'), { v: 1 });
      const stored = await h.call('upsertMulti', new ItemSequence([a]));
      expect(stored.get(k('i1'))).to.equal(a);
      expect(a.key).to.equal(k('i1'));
      expect(a.cas).to.not.equal(0n);
      expect((await plain.call('get', sentAs(k('i1')))).value).to.deep.equal({ v: 1 });
      // Keys that fail to encode fail the call before anything is sent; the items keep their keys.
      const bad = new Item(k('bad'), 1);
      expect(await expectReject(h.call('upsertMulti', new ItemSequence([a, bad])))).to.be.instanceOf(ValueFormatError);
      expect([a.key, bad.key]).to.deep.equal([k('i1'), k('bad')]);
      if (c.driver.name !== 'blocking') return;
      const b = h.bucket as Any;
      const results = b.pipeline().run(() => {
        b.upsert(k('p1'), 1);
        b.getMulti([k('p1'), k('i1')]);
      });
      expect(results[0].key).to.equal(k('p1'));
      expect([...results[1].keys()]).to.deep.equal([k('p1'), k('i1')]);
      expect((await plain.call('get', sentAs(k('p1')))).value).to.equal(1);
    });
  });
}
