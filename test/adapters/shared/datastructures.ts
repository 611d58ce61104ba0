// Python's data structures (map_*, list_*, set_*, queue_*) through each flavour.
import { expect } from 'chai';
import { IndexError, NotFoundError, OperationResult, QueueEmpty, SubdocPathNotFoundError, SubdocResult, ValueResult } from '../../../lib/index';
import { expectReject, type SharedContext } from './context';

export function dataStructureCases(c: SharedContext): void {
  const { k } = c;

  it('maps: mapAdd (create), mapGet, mapSize, mapRemove; a missing map key is IndexError', async function () {
    const h = c.h();
    expect(await expectReject(h.call('mapAdd', k('map'), 'key1', 'val1'))).to.be.instanceOf(NotFoundError);
    const added = await h.call('mapAdd', k('map'), 'key1', 'val1', { create: true });
    expect(added).to.be.instanceOf(SubdocResult);
    await h.call('mapAdd', k('map'), 'key2', { nested: [1] });
    const got = await h.call('mapGet', k('map'), 'key2');
    expect(got).to.be.instanceOf(ValueResult);
    expect(got.value).to.deep.equal({ nested: [1] });
    expect(got.cas).to.equal(added.cas === got.cas ? added.cas : got.cas);
    expect(await h.call('mapSize', k('map'))).to.equal(2);
    await h.call('mapRemove', k('map'), 'key1');
    expect(await h.call('mapSize', k('map'))).to.equal(1);
    const missing = await expectReject(h.call('mapGet', k('map'), 'key1'));
    expect(missing).to.be.instanceOf(IndexError).and.instanceOf(SubdocPathNotFoundError);
    expect(await expectReject(h.call('mapRemove', k('map'), 'key1'))).to.be.instanceOf(IndexError);
    expect((await h.call('get', k('map'))).value).to.deep.equal({ key2: { nested: [1] } });
  });

  it('lists: listAppend / listPrepend (create), listGet, listSet, listRemove, listSize', async function () {
    const h = c.h();
    await h.call('listAppend', k('list'), 'hello', { create: true });
    await h.call('listAppend', k('list'), 'world');
    await h.call('listPrepend', k('list'), 'first');
    expect((await h.call('get', k('list'))).value).to.deep.equal(['first', 'hello', 'world']);
    expect((await h.call('listGet', k('list'), 1)).value).to.equal('hello');
    expect((await h.call('listGet', k('list'), -1)).value).to.equal('world');
    await h.call('listSet', k('list'), 1, 'HELLO');
    await h.call('listRemove', k('list'), 0);
    expect((await h.call('get', k('list'))).value).to.deep.equal(['HELLO', 'world']);
    expect(await h.call('listSize', k('list'))).to.equal(2);
    expect(await expectReject(h.call('listGet', k('list'), 10))).to.be.instanceOf(IndexError);
    expect(await expectReject(h.call('listSet', k('list'), 10, 'x'))).to.be.instanceOf(IndexError);
  });

  it('sets: setAdd gives a result when added and undefined when present; setContains, setRemove, setSize', async function () {
    const h = c.h();
    const first = await h.call('setAdd', k('set'), 123, { create: true });
    expect(first).to.be.instanceOf(OperationResult);
    expect(await h.call('setAdd', k('set'), 123)).to.equal(undefined);
    await h.call('setAdd', k('set'), 'str');
    expect(await h.call('setSize', k('set'))).to.equal(2);
    expect(await h.call('setContains', k('set'), 123)).to.equal(true);
    expect(await h.call('setContains', k('set'), 999)).to.equal(false);
    expect(await h.call('setRemove', k('set'), 123)).to.be.instanceOf(OperationResult);
    expect(await h.call('setRemove', k('set'), 123)).to.equal(undefined);
    expect(await h.call('setSize', k('set'))).to.equal(1);
    expect(await h.call('setContains', k('set'), 123)).to.equal(false);
  });

  it('queues: queuePush / queuePop in FIFO order, queueSize, QueueEmpty when there is nothing to pop', async function () {
    const h = c.h();
    await h.call('queuePush', k('q'), 1, { create: true });
    await h.call('queuePush', k('q'), 2);
    await h.call('queuePush', k('q'), 3);
    expect(await h.call('queueSize', k('q'))).to.equal(3);
    const popped = await h.call('queuePop', k('q'));
    expect(popped).to.be.instanceOf(ValueResult);
    expect(popped.value).to.equal(1);
    expect((await h.call('queuePop', k('q'))).value).to.equal(2);
    expect((await h.call('queuePop', k('q'))).value).to.equal(3);
    const empty = await expectReject(h.call('queuePop', k('q')));
    expect(empty).to.be.instanceOf(QueueEmpty);
    expect(await h.call('queueSize', k('q'))).to.equal(0);
  });

  it('data-structure mutations take cas and ttl: a stale CAS fails, and the retrying ones survive a concurrent change', async function () {
    const h = c.h();
    const r = await h.call('listAppend', k('dl'), 'a', { create: true });
    await h.call('listAppend', k('dl'), 'b');
    const err = await expectReject(h.call('listAppend', k('dl'), 'c', { cas: r.cas }));
    expect(err.name).to.equal('KeyExistsError');
    // setRemove and queuePop read, then write with the read's CAS: many at once still each take one
    for (let i = 0; i < 10; i++) await h.call('queuePush', k('race'), i, { create: true });
    const popped = await Promise.all(Array.from({ length: 10 }, () => h.call('queuePop', k('race'))));
    expect((popped.map((p: ValueResult) => p.value) as number[]).sort((a, b) => a - b)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
}
