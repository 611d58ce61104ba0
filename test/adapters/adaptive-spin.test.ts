// The blocking channel's spin policy: spin while it pays, stop when it does not, try again later.
import { expect } from 'chai';
import { AdaptiveSpin } from '../../adapters/blocking/channel';

const { TRIAL, OFF } = AdaptiveSpin;

describe('blocking channel spin policy', function () {
  it('keeps spinning while at least a quarter of the spins end with an answer', function () {
    const s = new AdaptiveSpin(0.05);
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < TRIAL; i++) {
        expect(s.window()).to.equal(0.05);
        if (i % 4 === 0) s.hit();
        else s.miss();
      }
    }
  });

  it('stops spinning for a while after a trial where spins rarely paid, then tries again', function () {
    const s = new AdaptiveSpin(0.05);
    for (let i = 0; i < TRIAL; i++) {
      s.window();
      s.miss();
    }
    const windows = Array.from({ length: OFF + 1 }, () => s.window());
    expect(windows.slice(0, OFF).every((w) => w === 0)).to.equal(true);
    expect(windows[OFF]).to.equal(0.05);
  });

  it('a zero maximum never spins', function () {
    const s = new AdaptiveSpin(0);
    for (let i = 0; i < 500; i++) expect(s.window()).to.equal(0);
  });
});
