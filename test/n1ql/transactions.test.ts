// SQL++ transactions over the query service's REST API, as the SQL++ reference (BEGIN
// TRANSACTION, COMMIT, ROLLBACK, SAVEPOINT, SET TRANSACTION) and the request parameters txid,
// tximplicit, txtimeout and txstmtnum describe them, with the 17xxx errors of the query service.
import { expect } from 'chai';
import { Cluster } from '../../lib/server';

describe('n1ql transactions (BEGIN WORK / COMMIT / ROLLBACK / SAVEPOINT, txid, tximplicit)', function () {
  this.timeout(20_000);
  let c: Cluster;
  before(async () => {
    c = await Cluster.start({ numVBuckets: 16, buckets: [{ name: 'b' }], users: [{ username: 'Administrator', password: 'password' }] });
    await q('CREATE PRIMARY INDEX ON b');
    await q('CREATE INDEX ix_v ON b(v)');
  });
  after(async () => c.stop());
  beforeEach(async () => {
    await q('DELETE FROM b');
    await q('INSERT INTO b VALUES ("a", {"v": 1}), VALUES ("z", {"v": 100})');
  });

  async function q(statement: string, extra: Record<string, unknown> = {}): Promise<any> {
    const res = await fetch(`http://127.0.0.1:${c.nodes[0].ports.n1ql}/query/service`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Basic ' + Buffer.from('Administrator:password').toString('base64') },
      body: JSON.stringify({ statement, ...extra }),
    });
    return res.json();
  }
  const ids = async (extra: Record<string, unknown> = {}): Promise<unknown> => (await q('SELECT RAW META().id FROM b ORDER BY META().id', extra)).results;
  const begin = async (extra: Record<string, unknown> = {}): Promise<string> => {
    const r = await q('BEGIN WORK', extra);
    expect(r.status).to.equal('success');
    expect(r.results).to.have.length(1);
    expect(r.results[0].txid).to.match(/^[0-9a-f-]{36}$/);
    return r.results[0].txid;
  };

  it('the transaction reads its own writes (key lookups, primary and secondary index scans); other requests see them only after COMMIT', async () => {
    const txid = await begin();
    expect((await q('INSERT INTO b VALUES ("t1", {"v": 2})', { txid })).status).to.equal('success');
    expect((await q('UPDATE b SET v = 50 WHERE META().id = "a"', { txid })).metrics.mutationCount).to.equal(1);
    expect((await q('DELETE FROM b USE KEYS "z"', { txid })).status).to.equal('success');
    expect(await ids({ txid })).to.deep.equal(['a', 't1']);
    expect((await q('SELECT RAW v FROM b WHERE v >= 2 ORDER BY v', { txid })).results).to.deep.equal([2, 50]);
    expect((await q('SELECT RAW v FROM b USE KEYS ["a", "t1", "z"]', { txid })).results).to.deep.equal([50, 2]);
    // Outside: nothing changed yet.
    expect(await ids()).to.deep.equal(['a', 'z']);
    expect((await q('SELECT RAW v FROM b WHERE v >= 2')).results).to.deep.equal([100]);
    expect((await q('COMMIT WORK', { txid })).status).to.equal('success');
    expect(await ids()).to.deep.equal(['a', 't1']);
    expect((await q('SELECT RAW v FROM b WHERE v >= 2 ORDER BY v')).results).to.deep.equal([2, 50]);
    // The transaction is over.
    expect((await q('SELECT 1', { txid })).errors[0].code).to.equal(17004);
  });

  it('ROLLBACK discards every write; ROLLBACK TO SAVEPOINT only those made after the savepoint', async () => {
    let txid = await begin();
    await q('INSERT INTO b VALUES ("t1", {"v": 2})', { txid });
    expect((await q('ROLLBACK', { txid })).status).to.equal('success');
    expect(await ids()).to.deep.equal(['a', 'z']);

    txid = await begin();
    await q('INSERT INTO b VALUES ("t1", {"v": 2})', { txid });
    expect((await q('SAVEPOINT s1', { txid })).status).to.equal('success');
    await q('INSERT INTO b VALUES ("t2", {"v": 3})', { txid });
    await q('DELETE FROM b WHERE META().id = "a"', { txid });
    expect(await ids({ txid })).to.deep.equal(['t1', 't2', 'z']);
    expect((await q('ROLLBACK TRANSACTION TO SAVEPOINT s1', { txid })).status).to.equal('success');
    expect(await ids({ txid })).to.deep.equal(['a', 't1', 'z']);
    expect((await q('ROLLBACK TO SAVEPOINT nope', { txid })).errors[0]).to.deep.equal({ code: 17009, msg: 'nope savepoint is not defined' });
    await q('COMMIT', { txid });
    expect(await ids()).to.deep.equal(['a', 't1', 'z']);
  });

  it('a document changed outside the transaction fails the COMMIT (17007) and nothing of the transaction is written', async () => {
    const txid = await begin();
    await q('UPDATE b SET v = 2 WHERE META().id = "a"', { txid });
    await q('INSERT INTO b VALUES ("t1", {"v": 3})', { txid });
    await q('UPDATE b SET v = 7 WHERE META().id = "a"');
    const r = await q('COMMIT', { txid });
    // As the query service reports it: the detail in the cause, which tells an SDK to retry the transaction.
    expect(r.errors[0]).to.deep.include({ code: 17007, msg: 'Commit Transaction statement error' });
    expect(r.errors[0].cause).to.deep.include({ retry: true, rollback: false, raise: 'failed' });
    expect((await q('SELECT RAW v FROM b USE KEYS "a"')).results).to.deep.equal([7]);
    expect(await ids()).to.deep.equal(['a', 'z']);
  });

  it('INSERT of a key the transaction already wrote is 17012 Duplicate Key; statements other than DML, SELECT, PREPARE and EXECUTE are 17002', async () => {
    const txid = await begin();
    await q('INSERT INTO b VALUES ("t1", {"v": 2})', { txid });
    const dup = await q('INSERT INTO b VALUES ("t1", {"v": 3})', { txid });
    expect(dup.errors[0].code).to.equal(17012);
    // The query service names the statement by its type, as its plans do.
    expect((await q('CREATE INDEX ix_w ON b(w)', { txid })).errors[0]).to.deep.equal({ code: 17002, msg: 'CREATE_INDEX statement is not supported within the transaction' });
    expect((await q('CREATE PRIMARY INDEX ON b', { txid })).errors[0].msg).to.equal('CREATE_PRIMARY_INDEX statement is not supported within the transaction');
    expect((await q('BEGIN WORK', { txid })).errors[0]).to.deep.equal({ code: 17002, msg: 'START_TRANSACTION statement is not supported within the transaction' });
    expect((await q('SET TRANSACTION ISOLATION LEVEL READ COMMITTED', { txid })).status).to.equal('success');
    expect((await q('PREPARE p_tx FROM SELECT RAW v FROM b USE KEYS "t1"', { txid })).status).to.equal('success');
    expect((await q('EXECUTE p_tx', { txid })).results).to.deep.equal([2]);
    await q('ROLLBACK', { txid });
  });

  it('a statement that fails is undone by itself (statement atomicity): the transaction goes on and COMMIT writes the rest', async () => {
    const txid = await begin();
    await q('INSERT INTO b VALUES ("t1", {"v": 2})', { txid });
    // "t2" is written before "a" fails the statement: the whole statement is undone, and counts no mutation.
    const failed = await q('INSERT INTO b VALUES ("t2", {"v": 3}), VALUES ("a", {"v": 4})', { txid });
    expect(failed.status).to.equal('errors');
    expect(failed.errors[0].code).to.equal(17012);
    expect(failed.metrics.mutationCount).to.equal(undefined);
    expect(await ids({ txid })).to.deep.equal(['a', 't1', 'z']);
    // The statements before and after the failed one count.
    expect((await q('UPDATE b SET v = 7 WHERE META().id = "a"', { txid })).metrics.mutationCount).to.equal(1);
    const bad = await q('INSERT INTO b (KEY k, VALUE {"v": 9}) SELECT k FROM ["t3", "a"] AS k', { txid });
    expect(bad.errors[0].code, JSON.stringify(bad)).to.equal(17012);
    expect(await ids({ txid })).to.deep.equal(['a', 't1', 'z']);
    expect((await q('SELECT RAW v FROM b USE KEYS "a"', { txid })).results).to.deep.equal([7]);
    expect((await q('COMMIT', { txid })).status).to.equal('success');
    expect(await ids()).to.deep.equal(['a', 't1', 'z']);
    expect((await q('SELECT RAW v FROM b USE KEYS "a"')).results).to.deep.equal([7]);
  });

  it('BEGIN WORK taking over mutations an SDK staged (txdata.mutations) checks each document carries that staging (17006 otherwise)', async () => {
    const txdata = {
      id: { txn: 't', atmpt: 'attempt-1' },
      atr: { bkt: 'b', scp: '_default', coll: '_default', id: '_txn:atr-0-#14' },
      mutations: [{ bkt: 'b', scp: '_default', coll: '_default', id: 'a', cas: '1', type: 'replace' }],
    };
    const r = await q('BEGIN WORK', { txdata });
    expect(r.errors[0]).to.deep.equal({ code: 17006, msg: 'Start Transaction statement error: document a does not carry the replace attempt attempt-1 staged' });
    expect((await q('BEGIN WORK', { txdata: { ...txdata, mutations: [{ ...txdata.mutations[0], bkt: 'nope' }] } })).errors[0].msg).to.equal('Start Transaction statement error: keyspace nope._default._default of the handed over transaction is not found');
    expect((await q('BEGIN WORK', { txdata: { ...txdata, atr: undefined } })).errors[0].msg).to.equal('Start Transaction statement error: txdata hands over mutations without their ATR (txdata.atr)');
  });

  it('COMMIT, ROLLBACK, SAVEPOINT and SET TRANSACTION outside a transaction are 17002; an unknown txid is 17004; a positive txstmtnum must grow (17005)', async () => {
    expect((await q('COMMIT')).errors[0]).to.deep.equal({ code: 17002, msg: 'COMMIT statement is not supported outside the transaction' });
    expect((await q('ROLLBACK')).errors[0].msg).to.equal('ROLLBACK statement is not supported outside the transaction');
    expect((await q('ROLLBACK TO SAVEPOINT s')).errors[0].msg).to.equal('ROLLBACK_SAVEPOINT statement is not supported outside the transaction');
    expect((await q('SAVEPOINT s')).errors[0].msg).to.equal('SAVEPOINT statement is not supported outside the transaction');
    expect((await q('SET TRANSACTION ISOLATION LEVEL READ COMMITTED')).errors[0].msg).to.equal('SET_TRANSACTION_ISOLATION statement is not supported outside the transaction');
    expect((await q('COMMIT', { tximplicit: true })).errors[0].code).to.equal(17002);
    expect((await q('EXPLAIN COMMIT')).status).to.equal('success');
    expect((await q('SELECT 1', { txid: '00000000-0000-0000-0000-000000000000' })).errors[0]).to.deep.equal({ code: 17004, msg: 'Transaction context error: transaction (00000000-0000-0000-0000-000000000000) is not present' });
    const txid = await begin();
    expect((await q('SELECT 1', { txid, txstmtnum: 2 })).status).to.equal('success');
    expect((await q('SELECT 1', { txid, txstmtnum: 2 })).errors[0]).to.deep.equal({ code: 17005, msg: 'Transaction statement is out of order (2, 2) ' });
    // Only a positive statement number is checked (and kept).
    expect((await q('SELECT 1', { txid, txstmtnum: 0 })).status).to.equal('success');
    expect((await q('SELECT 1', { txid, txstmtnum: 3 })).status).to.equal('success');
    await q('ROLLBACK', { txid });
  });

  it('the SDK key-value statements (EXECUTE __update / __delete) check the CAS the SDK saw: 17015 worded as the query service does', async () => {
    const txid = await begin();
    const cas: string = (await q('SELECT RAW TOSTRING(META().cas) FROM b USE KEYS "a"', { txid })).results[0];
    const ks = 'default:`b`.`_default`.`_default`';
    const r = await q('EXECUTE __update', { txid, args: [ks, 'a', { v: 2 }, {}], txdata: { kv: true, scas: '1' } });
    expect(r.errors[0]).to.deep.equal({ code: 17015, msg: `UPDATE cas (actual:1, expected:${cas}) mismatch for key: a` });
    expect((await q('EXECUTE __delete', { txid, args: [ks, 'a'], txdata: { kv: true, scas: '2' } })).errors[0].msg).to.equal(`DELETE cas (actual:2, expected:${cas}) mismatch for key: a`);
    const ok = await q('EXECUTE __update', { txid, args: [ks, 'a', { v: 2 }, {}], txdata: { kv: true, scas: cas } });
    expect(ok.status).to.equal('success');
    await q('ROLLBACK', { txid });
  });

  it('statements of one transaction sent at once run one after another (none refused), up to 16 waiting (17021 beyond)', async () => {
    const txid = await begin();
    const bumps = await Promise.all(Array.from({ length: 6 }, () => q('UPDATE b SET v = v + 1 WHERE META().id = "a"', { txid })));
    expect(bumps.map((r) => r.status)).to.deep.equal(Array(6).fill('success'));
    expect((await q('SELECT RAW v FROM b USE KEYS "a"', { txid })).results).to.deep.equal([7]);
    // A long statement holds the turn: 16 more wait for it, the 17th is refused.
    const slow = q('SELECT RAW COUNT(*) FROM ARRAY_RANGE(0, 2000) AS x UNNEST ARRAY_RANGE(0, 1000) AS y', { txid });
    await new Promise((r) => setTimeout(r, 20));
    const queued = await Promise.all(Array.from({ length: 17 }, () => q('SELECT RAW v FROM b USE KEYS "a"', { txid })));
    expect((await slow).results).to.deep.equal([2000000]);
    const codes = queued.map((r) => r.errors?.[0]?.code ?? r.results[0]);
    expect(codes.filter((c) => c === 7)).to.have.length(16);
    expect(codes.filter((c) => c === 17021)).to.have.length(1);
    expect(queued.find((r) => r.errors)?.errors[0]).to.deep.equal({ code: 17021, msg: 'Transaction queue is full' });
    // A statement queued behind the COMMIT finds the transaction released.
    const slow2 = q('SELECT RAW COUNT(*) FROM ARRAY_RANGE(0, 2000) AS x UNNEST ARRAY_RANGE(0, 1000) AS y', { txid });
    await new Promise((r) => setTimeout(r, 20));
    const commit = q('COMMIT', { txid });
    await new Promise((r) => setTimeout(r, 20));
    const late = q('SELECT 1', { txid });
    expect((await slow2).status).to.equal('success');
    expect((await commit).status).to.equal('success');
    expect((await late).errors[0]).to.deep.equal({ code: 17011, msg: 'Transaction is released' });
  });

  it('txtimeout: a transaction not committed in time is rolled back, its next statement gets 17010', async () => {
    const txid = await begin({ txtimeout: '200ms' });
    await q('INSERT INTO b VALUES ("t1", {"v": 2})', { txid });
    await new Promise((r) => setTimeout(r, 400));
    expect((await q('COMMIT', { txid })).errors[0]).to.deep.equal({ code: 17010, msg: 'Transaction timeout' });
    expect(await ids()).to.deep.equal(['a', 'z']);
    expect((await q('BEGIN WORK', { txtimeout: 'soon' })).errors[0].code).to.equal(1065);
    expect((await q('BEGIN WORK', { durability_level: 'always' })).errors[0].code).to.equal(1065);
  });

  it('tximplicit: one statement is its own transaction, committed when it succeeds, rolled back when any document fails', async () => {
    expect((await q('INSERT INTO b VALUES ("t1", {"v": 2})', { tximplicit: true })).status).to.equal('success');
    expect(await ids()).to.deep.equal(['a', 't1', 'z']);
    // The second key exists: without a transaction "t2" would be written, with tximplicit nothing is.
    const r = await q('INSERT INTO b VALUES ("t2", {"v": 3}), VALUES ("a", {"v": 4})', { tximplicit: true });
    expect(r.errors[0].code).to.equal(17012);
    expect(await ids()).to.deep.equal(['a', 't1', 'z']);
    expect((await q('CREATE INDEX ix_w ON b(w)', { tximplicit: true })).errors[0]).to.deep.equal({ code: 17002, msg: 'CREATE_INDEX statement is not supported in implicit transaction' });
  });
});
