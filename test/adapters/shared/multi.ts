// Python's *_multi semantics through each flavour: per-key values read as Python reads them, the
// first failing key failing the call with every key's result, quiet per call / bucket / string.
import { expect } from 'chai';
import {
  ArgumentError,
  FMT_UTF8,
  Item,
  ItemOptionDict,
  ItemSequence,
  KeyExistsError,
  MultiResult,
  NotFoundError,
  OperationResult,
  SD,
  TemporaryFailError,
  TimeoutError,
  ValueResult,
  splitResults,
} from '../../../lib/index';
import { expectReject, withHandle, type SharedContext } from './context';

export function multiCases(c: SharedContext): void {
  const { k } = c;

  it('removeMulti({key: cas}) honours each CAS: a stale one fails that key and removes nothing of it', async function () {
    const h = c.h();
    const a = await h.call('upsert', k('ra'), 1);
    const b = await h.call('upsert', k('rb'), 1);
    await h.call('upsert', k('rb'), 2); // b's CAS moves on
    const err = await expectReject(h.call('removeMulti', { [k('ra')]: a.cas, [k('rb')]: b.cas }));
    expect(err).to.be.instanceOf(KeyExistsError);
    expect(err.key).to.equal(k('rb'));
    expect(err.allResults.get(k('ra')).success).to.equal(true);
    expect((await h.call('get', k('rb'))).value).to.equal(2, 'the document with the stale CAS is still there');
    expect(await expectReject(h.call('get', k('ra')))).to.be.instanceOf(NotFoundError);
    // a MultiResult's results carry their CAS as well
    const fresh = await h.call('getMulti', [k('rb')]);
    const ok = await h.call('removeMulti', fresh);
    expect(ok.get(k('rb')).success).to.equal(true);
  });

  it('counterMulti({key: delta}) uses each key\'s delta', async function () {
    const h = c.h();
    await h.call('counterMulti', [k('c1'), k('c2')], { initial: 100 });
    const r = await h.call('counterMulti', { [k('c1')]: 5, [k('c2')]: -10 });
    expect(r.get(k('c1')).value).to.equal(105);
    expect(r.get(k('c2')).value).to.equal(90);
    const perKey = await h.call('counterMulti', { [k('c1')]: { delta: 2 }, [k('c3')]: { delta: 1, initial: 7 } });
    expect(perKey.get(k('c1')).value).to.equal(107);
    expect(perKey.get(k('c3')).value).to.equal(7);
  });

  it('touchMulti({key: ttl}) and getMulti({key: ttl}) set each key\'s expiry', async function () {
    const h = c.h();
    await h.call('upsertMulti', { [k('t1')]: 1, [k('t2')]: 2 });
    const now = Math.floor(Date.now() / 1000);
    await h.call('touchMulti', { [k('t1')]: 1000, [k('t2')]: 2000 });
    const exp = async (key: string): Promise<number> => (await h.call('lookupIn', key, SD.get('$document.exptime', { xattr: true }))).at(0);
    expect(await exp(k('t1'))).to.be.within(now + 990, now + 1010);
    expect(await exp(k('t2'))).to.be.within(now + 1990, now + 2010);
    await h.call('getMulti', { [k('t1')]: 3000 });
    expect(await exp(k('t1'))).to.be.within(now + 2990, now + 3010);
  });

  it('lockMulti({key: ttl}) locks each key; unlockMulti takes its MultiResult or {key: cas}', async function () {
    const h = c.h();
    await h.call('upsertMulti', { [k('l1')]: 1, [k('l2')]: 2 });
    const locked = await h.call('lockMulti', { [k('l1')]: 10, [k('l2')]: 10 });
    expect(await expectReject(h.call('upsert', k('l1'), 9))).to.be.instanceOf(TemporaryFailError);
    await h.call('unlockMulti', new MultiResult([[k('l1'), locked.get(k('l1'))]]));
    await h.call('unlockMulti', { [k('l2')]: locked.get(k('l2')).cas });
    await h.call('upsertMulti', { [k('l1')]: 3, [k('l2')]: 4 });
    const bad = await expectReject(h.call('unlockMulti', { [k('l1')]: 'not a cas' }));
    expect(bad).to.be.instanceOf(ArgumentError);
  });

  it('endureMulti reads the CAS from a MultiResult or {key: cas}: a stale CAS never endures', async function () {
    const h = c.h();
    const stored = await h.call('upsertMulti', { [k('e1')]: 1, [k('e2')]: 2 });
    const ok = await h.call('endureMulti', stored, { persistTo: 1, replicateTo: 0 });
    expect(ok.get(k('e1')).success).to.equal(true);
    await h.call('upsert', k('e2'), 3);
    const err = await expectReject(h.call('endureMulti', { [k('e2')]: stored.get(k('e2')).cas }, { persistTo: 1, replicateTo: 0, timeout: 0.3 }));
    expect(err).to.be.instanceOf(TimeoutError);
    expect(err.key).to.equal(k('e2'));
  });

  it('a *Multi call fails with the first failing key\'s error, every result in allResults; splitResults gives [ok, failed]', async function () {
    const h = c.h();
    await h.call('upsert', k('x2'), 'old');
    const err = await expectReject(h.call('insertMulti', { [k('x1')]: 1, [k('x2')]: 2, [k('x3')]: 3 }));
    expect(err).to.be.instanceOf(KeyExistsError);
    expect([...err.allResults.keys()]).to.deep.equal([k('x1'), k('x2'), k('x3')]);
    const [ok, failed] = splitResults(err);
    expect([...ok.keys()]).to.deep.equal([k('x1'), k('x3')]);
    expect((failed.get(k('x2')) as { error?: unknown }).error).to.equal(err);
    expect(err.splitResults()[0].size).to.equal(2);
    expect((await h.call('get', k('x3'))).value).to.equal(3, 'the keys that succeeded were stored');
  });

  it('quiet turns a missing key into a result with success false: per call, per bucket, or quiet=1 in the string', async function () {
    const h = c.h();
    await h.call('upsert', k('q1'), 1);
    const r = await h.call('getMulti', [k('q1'), k('qx')], { quiet: true });
    expect(r.get(k('qx')).success).to.equal(false);
    expect((await h.call('get', k('qx'), { quiet: true })).success).to.equal(false);
    expect((await h.call('remove', k('qx'), { quiet: true })).success).to.equal(false);
    // quiet hides only a missing key
    const stale = (await h.call('get', k('q1'))).cas - 1n;
    expect(await expectReject(h.call('removeMulti', { [k('q1')]: stale, [k('qx')]: undefined }, { quiet: true }))).to.be.instanceOf(KeyExistsError);
    for (const opts of [c.openOptions({ bucketOptions: { quiet: true } }), c.openOptions({ connstrSuffix: 'quiet=1' })]) {
      await withHandle(c, opts, async (q) => {
        const m = await q.call('getMulti', [k('q1'), k('qx')]);
        expect(m.get(k('q1')).value).to.equal(1);
        expect(m.get(k('qx')).success).to.equal(false);
        expect((await q.call('get', k('qx'))).success).to.equal(false);
        // a call can still ask to hear about it
        expect(await expectReject(q.call('get', k('qx'), { quiet: false }))).to.be.instanceOf(NotFoundError);
      });
    }
  });

  it('ItemCollection: items carry key, document and CAS in, and get the outcome back', async function () {
    const h = c.h();
    const a = new Item(k('i1'), { v: 1 });
    const b = new Item(k('i2'), { v: 2 });
    const stored = await h.call('upsertMulti', new ItemSequence([a, b]));
    expect(stored.get(k('i1'))).to.equal(a, 'the MultiResult maps each key to the caller\'s item');
    expect(typeof a.cas).to.equal('bigint');
    expect(a.cas).to.not.equal(0n);
    const oldCas = a.cas;
    await h.call('upsert', k('i1'), { v: 9 });
    // the item's (now stale) CAS goes with the store; ignoreCas leaves it out
    const err = await expectReject(h.call('replaceMulti', new ItemSequence(a)));
    expect(err).to.be.instanceOf(KeyExistsError);
    expect(a.cas).to.equal(oldCas);
    const d = new ItemOptionDict().add(a, { ignoreCas: true }).add(b);
    await h.call('replaceMulti', d);
    expect(a.cas).to.not.equal(oldCas);
    const fresh = new Item(k('i2'));
    await h.call('getMulti', fresh.asItcoll());
    expect(fresh.value).to.deep.equal({ v: 2 });
    expect(fresh).to.be.instanceOf(ValueResult);
    const made = new ItemOptionDict().createAndAdd(k('i3'), 'text', 0n, { format: 0x04000004 });
    await h.call('upsertMulti', made);
    expect((await h.call('get', k('i3'))).flags).to.equal(0x04000004);
    expect([...made.dict.keys()][0]).to.be.instanceOf(OperationResult);
  });

  it('appendItems / prependItems add each item\'s fragment to its document and to its value; appendMulti of items needs the fragment', async function () {
    const h = c.h();
    const a = new Item(k('f1'), 'mid');
    const b = new Item(k('f2'), 'core');
    await h.call('upsertMulti', new ItemSequence([a, b]), { format: FMT_UTF8 });
    const d = new ItemOptionDict().add(a, { fragment: '-end' }).add(b, { fragment: '+' });
    const r = await h.call('appendItems', d);
    expect(r.get(k('f1'))).to.equal(a);
    expect([a.value, b.value]).to.deep.equal(['mid-end', 'core+']);
    await h.call('prependItems', new ItemOptionDict().add(a, { fragment: 'start-' }));
    expect(a.value).to.equal('start-mid-end');
    expect((await h.call('get', k('f1'))).value).to.equal('start-mid-end');
    expect((await h.call('get', k('f2'))).value).to.equal('core+');
    // The item's value is the whole document: appending it is refused, the fragment is required.
    expect(await expectReject(h.call('appendMulti', new ItemOptionDict().add(a)))).to.be.instanceOf(ArgumentError);
    expect((await h.call('get', k('f1'))).value).to.equal('start-mid-end');
  });
}
