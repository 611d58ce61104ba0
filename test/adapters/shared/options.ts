// Every option a call gives is checked against what its operation takes; replica reads; values
// that cannot be encoded, in every flavour alike.
import { expect } from 'chai';
import { ArgumentError, ErrorCode, NotFoundError, ValueFormatError, ValueResult } from '../../../lib/index';
import { expectReject, withHandle, type SharedContext } from './context';

export function optionCases(c: SharedContext): void {
  const { k } = c;

  it('an unknown or misspelt option is an ArgumentError naming it and the accepted ones', async function () {
    const h = c.h();
    const snake = await expectReject(h.call('upsert', k('o'), 1, { persist_to: 1 }));
    expect(snake).to.be.instanceOf(ArgumentError);
    expect(snake.message).to.include('"persist_to"').and.include('did you mean "persistTo"').and.include('cas, ttl, format, persistTo, replicateTo');
    const touch = await expectReject(h.call('touch', k('o'), { replica: true }));
    expect(touch).to.be.instanceOf(ArgumentError);
    expect(touch.message).to.include('touch does not take the option "replica"');
    expect(await expectReject(h.call('insert', k('o'), 1, { cas: 5n }))).to.be.instanceOf(ArgumentError);
    expect(await expectReject(h.call('lookupIn', k('o'), { specs: 'x', bogus: 1 } as never))).to.be.instanceOf(ArgumentError);
    const multi = await expectReject(h.call('getMulti', [k('o')], { no_format: true }));
    expect(multi).to.be.instanceOf(ArgumentError);
    // nothing was written by the refused calls
    expect(await expectReject(h.call('get', k('o')))).to.be.instanceOf(NotFoundError);
  });

  it('lock without a ttl is refused as Python refuses it; get with a ttl touches', async function () {
    const h = c.h();
    await h.call('upsert', k('l'), 1);
    expect(await expectReject(h.call('lock', k('l')))).to.be.instanceOf(ArgumentError);
    expect(await expectReject(h.call('lock', k('l'), { ttl: 0 }))).to.be.instanceOf(ArgumentError);
    const now = Math.floor(Date.now() / 1000);
    const r = await h.call('get', k('l'), { ttl: 500 });
    expect(r.value).to.equal(1);
    const { SD } = await import('../../../lib/index');
    expect((await h.call('lookupIn', k('l'), SD.get('$document.exptime', { xattr: true }))).at(0)).to.be.within(now + 490, now + 510);
  });

  it('get(key, { replica: true }) and getMulti(keys, { replica: true }) read a replica', async function () {
    await withHandle(c, c.replicaOptions(), async (h) => {
      await h.call('upsert', k('rep'), { copy: 1 }, { replicateTo: 1 });
      const r = await h.call('get', k('rep'), { replica: true });
      expect(r).to.be.instanceOf(ValueResult);
      expect(r.value).to.deep.equal({ copy: 1 });
      const m = await h.call('getMulti', [k('rep')], { replica: true });
      expect(m.get(k('rep')).value).to.deep.equal({ copy: 1 });
      const one = await h.call('getReplica', k('rep'), { replicaIndex: 0 });
      expect(one.value).to.deep.equal({ copy: 1 });
    });
    // On a bucket without replicas it is a replica read: it fails where a get succeeds.
    await withHandle(c, c.noReplicaOptions(), async (h) => {
      await h.call('upsert', k('norep'), 1);
      expect((await h.call('get', k('norep'))).value).to.equal(1);
      const err = await expectReject(h.call('get', k('norep'), { replica: true }));
      expect(err).to.be.instanceOf(NotFoundError);
      expect(err.rc).to.equal(ErrorCode.NO_MATCHING_SERVER);
    });
  });

  it('a value that refers to itself is a ValueFormatError (for that key only, in a *Multi)', async function () {
    const h = c.h();
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    const one = await expectReject(h.call('upsert', k('circ'), circular));
    expect(one).to.be.instanceOf(ValueFormatError);
    expect(one.message).to.include(`"${k('circ')}"`).and.include('JSON');
    const multi = await expectReject(h.call('upsertMulti', { [k('fine')]: { ok: true }, [k('circ')]: circular }));
    expect(multi).to.be.instanceOf(ValueFormatError);
    expect(multi.key).to.equal(k('circ'));
    expect(multi.allResults.get(k('fine')).success).to.equal(true);
    expect((await h.call('get', k('fine'))).value).to.deep.equal({ ok: true });
    expect(await expectReject(h.call('get', k('circ')))).to.be.instanceOf(NotFoundError);
  });
}
