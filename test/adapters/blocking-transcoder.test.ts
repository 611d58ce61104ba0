// A blocking Bucket's own transcoder: it runs in the calling thread (code cannot cross to the
// worker), and behaves as it does in the other flavours, errors included.
import { expect } from 'chai';
import { startEmbedded, type EmbeddedClusterThread, type Bucket } from '../../adapters/blocking';
import { FMT_JSON, MultiResult, NotFoundError, ValueFormatError, ValueResult, type TranscoderLike } from '../../lib/index';
import { putDesignDoc } from './helpers/design-docs';

/** JSON with a marker field: a plain reader sees the marker, and untagged documents do not decode. */
const tagged: TranscoderLike = {
  encode(key, value) {
    if ((value as { poison?: boolean }).poison) throw new ValueFormatError(`refusing to encode "${key}"`, { key });
    return { value: Buffer.from(JSON.stringify({ ...(value as object), _t: 'tagged' })), flags: FMT_JSON, datatype: 1 };
  },
  decode(key, bytes) {
    const doc = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    if (doc._t !== 'tagged') throw new ValueFormatError(`"${key}" is not tagged`, { key });
    delete doc._t;
    return doc;
  },
};

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail, it succeeded');
}

describe('blocking flavour with its own transcoder', function () {
  this.timeout(60_000);
  let cluster: EmbeddedClusterThread;
  let custom: Bucket;
  let plain: Bucket;
  before(async function () {
    cluster = startEmbedded({ buckets: [{ name: 'default' }] });
    const capi = cluster.nodes[0].ports.capi;
    if (capi !== undefined) {
      await putDesignDoc(capi, 'default', 'beer', { views: { by_name: { map: 'function (doc, meta) { if (doc.name) emit(doc.name, null); }' } } });
    }
    custom = cluster.openBucket('default', { transcoder: tagged });
    plain = cluster.openBucket('default');
  });
  after(function () {
    custom?.close();
    plain?.close();
    cluster?.stop();
  });

  it('encodes in the caller: what it stores is what the transcoder made, and it reads it back', function () {
    custom.upsert('t:1', { a: 1 });
    expect(plain.get('t:1').value).to.deep.equal({ a: 1, _t: 'tagged' });
    const r = custom.get('t:1');
    expect(r).to.be.instanceOf(ValueResult);
    expect(r.value).to.deep.equal({ a: 1 });
  });

  it('a value the transcoder refuses fails that call with its error, and only that key of a *Multi', function () {
    expect(() => custom.upsert('t:poison', { poison: true })).to.throw(ValueFormatError, 'refusing to encode "t:poison"');
    // The refused key fails the call; the others are stored, as every key's result in the error says.
    const err = caught(() => custom.upsertMulti({ 't:ok': { b: 2 }, 't:bad': { poison: true } })) as ValueFormatError;
    expect(err).to.be.instanceOf(ValueFormatError);
    expect(err.message).to.equal('refusing to encode "t:bad"');
    const m = err.allResults as MultiResult;
    expect(m).to.be.instanceOf(MultiResult);
    expect(m.get('t:ok')!.success).to.equal(true);
    expect(m.get('t:bad')!.error).to.equal(err);
    expect(() => plain.get('t:bad')).to.throw(NotFoundError);
    expect(plain.get('t:ok').value).to.deep.equal({ b: 2, _t: 'tagged' });
  });

  it('a document the transcoder cannot read fails a get, and only its entry of a getMulti', function () {
    plain.upsert('t:untagged', { c: 3 });
    custom.upsert('t:tagged', { c: 4 });
    expect(() => custom.get('t:untagged')).to.throw(ValueFormatError, '"t:untagged" is not tagged');
    const err = caught(() => custom.getMulti(['t:tagged', 't:untagged'])) as ValueFormatError;
    expect(err).to.be.instanceOf(ValueFormatError);
    const m = err.allResults as MultiResult;
    expect((m.get('t:tagged') as ValueResult).value).to.deep.equal({ c: 4 });
    const bad = m.get('t:untagged') as ValueResult;
    expect(bad.success).to.equal(false);
    expect(bad.value).to.equal(undefined);
    expect(bad.error).to.equal(err);
  });

  it('view rows with includeDocs carry documents decoded by it, or failed entries for those it cannot read', function () {
    if (cluster.nodes[0].ports.capi === undefined) this.skip();
    custom.upsert('v:1', { name: 'Abbey' });
    plain.upsert('v:2', { name: 'Bock' });
    const rows = custom.queryAll<string, null>('beer', 'by_name', { includeDocs: true, stale: false, startkey: 'Abbey', endkey: 'Bock' });
    expect(rows.map((r) => r.key)).to.deep.equal(['Abbey', 'Bock']);
    expect((rows[0].doc as ValueResult).value).to.deep.equal({ name: 'Abbey' });
    expect((rows[1].doc as ValueResult).error).to.be.instanceOf(ValueFormatError);
  });

  it('data structures with create: true insert the empty document through it, as Python inserts it through the bucket transcoder', function () {
    custom.mapAdd('ds:map', 'k', 1, { create: true });
    // The empty map went through the transcoder (tagged), the entry was added by sub-document.
    expect(plain.get('ds:map').value).to.deep.equal({ _t: 'tagged', k: 1 });
    expect(custom.get('ds:map').value).to.deep.equal({ k: 1 });
    expect(custom.mapGet('ds:map', 'k').value).to.equal(1);

    // A transcoder that encodes lists as they are: the queue starts as its [] and works as a queue.
    const seen: unknown[] = [];
    const listing: TranscoderLike = {
      encode(key, value) {
        seen.push(value);
        return { value: Buffer.from(JSON.stringify(value)), flags: FMT_JSON, datatype: 1 };
      },
      decode(key, bytes) {
        return JSON.parse(bytes.toString('utf8'));
      },
    };
    const lists = cluster.openBucket('default', { transcoder: listing });
    try {
      lists.queuePush('ds:queue', 'a', { create: true });
      lists.queuePush('ds:queue', 'b', { create: true });
      // The caller encodes the empty list before it knows whether the key exists (once per call).
      expect(seen).to.deep.equal([[], []]);
      expect(lists.queuePop('ds:queue').value).to.equal('a');
      expect(lists.queueSize('ds:queue')).to.equal(1);
      // Without create, a missing key is still NotFoundError.
      expect(caught(() => lists.listAppend('ds:none', 1))).to.be.instanceOf(NotFoundError);
    } finally {
      lists.close();
    }
  });
});
