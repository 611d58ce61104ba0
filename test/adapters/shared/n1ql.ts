// Python's couchbase.n1ql through each flavour: N1QLQuery's parameters and options, N1QLRequest's
// execute / get_single_result / row_factory / meta, consistency with MutationState, prepared
// (adhoc=False) statements and the query timeout rules.
import { expect } from 'chai';
import { AlreadyQueriedError, CONSISTENCY_REQUEST, MissingTokenError, MutationState, N1QLError, N1QLQuery } from '../../../lib/index';
import { expectReject, withHandle, type SharedContext } from './context';
import { drain, n1qlRows, settle } from './rows';

/** A statement that runs for a good while on any machine (a 1 ms timeout always stops it). */
const SLOW = 'SELECT COUNT(*) AS n FROM ARRAY_RANGE(0, 1000000) AS i UNNEST ARRAY_RANGE(0, 3) AS j WHERE i % 7 = 3';

export function n1qlCases(c: SharedContext): void {
  const { k } = c;

  it('N1QLQuery takes positional parameters after the statement and named ones as one object; rowFactory shapes each row; meta carries status and metrics', async function () {
    const h = c.h();
    const named = await n1qlRows(c, h.bucket, new N1QLQuery('SELECT $a AS a, $b AS b', { a: 1, b: 'two' }), { rowFactory: (r: any) => ({ ...r, shaped: true }) });
    expect(await drain(named)).to.deep.equal([{ a: 1, b: 'two', shaped: true }]);
    expect(named.meta.status).to.equal('success');
    expect(named.meta.metrics.resultCount).to.equal(1);
    expect(named.meta.requestID).to.be.a('string');
    const positional = await n1qlRows(c, h.bucket, new N1QLQuery('SELECT RAW [$1, $2]', 'x', 2));
    expect(await drain(positional)).to.deep.equal([['x', 2]]);
    // An object as $1 goes through positionalParams (one object alone is named parameters).
    const obj = await n1qlRows(c, h.bucket, new N1QLQuery('SELECT RAW $1.o').positionalParams([{ o: 9 }]));
    expect(await drain(obj)).to.deep.equal([9]);
    expect(() => new N1QLQuery('SELECT 1').profile = 'everything' as any).to.throw(TypeError, /off, phases, timings/);
  });

  it('execute() runs a statement for its effect; getSingleResult() gives the first row', async function () {
    const h = c.h();
    const id = k('n1ql-exec');
    const up = await n1qlRows(c, h.bucket, new N1QLQuery(`UPSERT INTO \`${c.bucketName()}\` (KEY, VALUE) VALUES ($id, {"n": 7})`, { id }));
    await settle(() => up.execute());
    expect((await h.call('get', id)).value).to.deep.equal({ n: 7 });
    const single = await n1qlRows(c, h.bucket, new N1QLQuery('SELECT RAW i FROM ARRAY_RANGE(5, 100) AS i'));
    expect(await settle(() => single.getSingleResult())).to.equal(5);
    const none = await n1qlRows(c, h.bucket, new N1QLQuery('SELECT RAW i FROM ARRAY_RANGE(0, 0) AS i'));
    expect(await settle(() => none.getSingleResult())).to.equal(undefined);
  });

  it('a failing statement raises N1QLError with the server\'s code; rows read to the end and iterated again are AlreadyQueriedError (the deferred flavour fires a list)', async function () {
    const h = c.h();
    const err = await expectReject(settle(async () => drain(await n1qlRows(c, h.bucket, new N1QLQuery('SELECT * FROM `no-such-bucket`')))));
    expect(err).to.be.instanceOf(N1QLError);
    expect(err.n1qlErrcode).to.equal(12003);
    const rows = await n1qlRows(c, h.bucket, new N1QLQuery('SELECT RAW i FROM ARRAY_RANGE(0, 3) AS i'));
    expect(await drain(rows)).to.deep.equal([0, 1, 2]);
    if (c.driver.name === 'deferred') {
      expect(await drain(rows)).to.deep.equal([0, 1, 2]);
    } else {
      expect(await expectReject(drain(rows))).to.be.instanceOf(AlreadyQueriedError);
    }
  });

  it('consistency: request_plus is sent; consistentWith(MutationState) sends the scan vectors of the mutations it holds', async function () {
    const bucket = c.bucketName();
    await withHandle(c, c.openOptions({ connstrSuffix: 'fetch_mutation_tokens=true' }), async (t) => {
      const id = k('at-plus');
      const w = await t.call('upsert', id, { n: 1 });
      const token = w.mutationToken;
      expect(token).to.include({ bucket });
      const state = new MutationState(w);
      const q = new N1QLQuery(`SELECT RAW d.n FROM \`${bucket}\` d USE KEYS $id`, { id });
      q.consistentWith(state);
      const body = JSON.parse(q.encoded);
      expect(body.scan_consistency).to.equal('at_plus');
      expect(body.scan_vectors).to.deep.equal({ [bucket]: { [String(token.vbucket)]: [Number(token.seqno), String(token.vbuuid)] } });
      expect(await drain(await n1qlRows(c, t.bucket, q))).to.deep.equal([1]);
      // A later mutation added to the same state counts too (kept by reference, as in Python).
      const w2 = await t.call('upsert', id, { n: 2 });
      state.addResults(w2);
      expect(JSON.parse(q.encoded).scan_vectors[bucket][String(token.vbucket)][0]).to.equal(Number(w2.mutationToken.seqno));
      // addAll reads every token the bucket tracked; encode/decode round-trip.
      const all = new MutationState();
      expect(all.addAll(t.bucket as any)).to.equal(true);
      expect(JSON.parse(all.encode())[bucket][String(token.vbucket)]).to.deep.equal([Number(w2.mutationToken.seqno), String(token.vbuuid)]);
      expect(MutationState.decode(all.encode()).encode()).to.equal(all.encode());
      // Python's rules: at_plus does not combine with request_plus, and an empty state is refused.
      const rp = new N1QLQuery('SELECT 1');
      rp.consistency = CONSISTENCY_REQUEST;
      expect(JSON.parse(rp.encoded).scan_consistency).to.equal('request_plus');
      expect(await drain(await n1qlRows(c, t.bucket, rp))).to.deep.equal([{ $1: 1 }]);
      expect(() => rp.consistentWith(state)).to.throw(TypeError);
      expect(() => new N1QLQuery('SELECT 1').consistentWith(new MutationState())).to.throw(TypeError, /empty/);
    });
    // Without fetch_mutation_tokens a result carries no token: MissingTokenError, or false when quiet.
    const plain = await c.h().call('upsert', k('no-token'), 1);
    expect(() => new MutationState(plain)).to.throw(MissingTokenError, /fetch_mutation_tokens/);
    expect(new MutationState().addResults(plain, { quiet: true })).to.equal(false);
  });

  it('adhoc: false prepares once and runs the prepared statement with new parameters; a timeout is the lower of the query\'s and the bucket\'s n1qlTimeout', async function () {
    const h = c.h();
    const q = new N1QLQuery('SELECT RAW $1 * 2', 2);
    q.adhoc = false;
    expect(await drain(await n1qlRows(c, h.bucket, q))).to.deep.equal([4]);
    q.positionalParams([21]);
    expect(await drain(await n1qlRows(c, h.bucket, q))).to.deep.equal([42]);
    const slow = new N1QLQuery(SLOW);
    slow.timeout = 0.001;
    expect(JSON.parse(slow.encoded).timeout).to.equal('1ms');
    const err = await expectReject(settle(async () => drain(await n1qlRows(c, h.bucket, slow))));
    expect(err).to.be.instanceOf(N1QLError);
    expect(err.n1qlErrcode).to.equal(1080);
    // The bucket's n1qlTimeout caps a query's longer one.
    const b = h.bucket as Record<string, unknown>;
    b.n1qlTimeout = 0.001;
    const capped = new N1QLQuery(SLOW);
    capped.timeout = 30;
    expect(await expectReject(settle(async () => drain(await n1qlRows(c, h.bucket, capped))))).to.be.instanceOf(N1QLError);
    b.n1qlTimeout = 75;
    expect(await drain(await n1qlRows(c, h.bucket, new N1QLQuery('SELECT RAW 1')))).to.deep.equal([1]);
  });
}
