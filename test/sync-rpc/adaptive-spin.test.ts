// The blocking channel's spin policy: spin about as long as answers take, stop when spinning
// does not pay, try again later.
import { expect } from 'chai';
import { AdaptiveSpin } from '../../lib/sync-rpc/adaptive-spin';

const { TRIAL, OFF_MIN, OFF_MAX, MIN_MS, P90_FACTOR } = AdaptiveSpin;

/** One wait: the window it was given, then what happened. */
function wait(s: AdaptiveSpin, tookMs: number): number {
  const w = s.window();
  s.record(tookMs, w > 0, w > 0 && tookMs <= w);
  return w;
}

describe('blocking channel spin policy', function () {
  it('starts with the maximum window, then learns 10x the 90th percentile of recent waits', function () {
    expect(P90_FACTOR).to.equal(10);
    const s = new AdaptiveSpin(1);
    expect(wait(s, 0.02)).to.equal(1);
    for (let i = 1; i < TRIAL; i++) wait(s, i < 25 ? 0.02 : 0.05); // p75 is 0.02, p90 is 0.05
    expect(s.window()).to.be.closeTo(0.5, 1e-9);
  });

  it('never learns a window below MIN_MS or above the maximum', function () {
    const fast = new AdaptiveSpin(1);
    for (let i = 0; i < TRIAL; i++) wait(fast, 0.001);
    expect(fast.window()).to.equal(MIN_MS);
    const slowish = new AdaptiveSpin(0.5);
    for (let i = 0; i < TRIAL; i++) wait(slowish, 0.45);
    expect(slowish.window()).to.equal(0.5);
  });

  it('keeps spinning while at least a quarter of the spins end with an answer', function () {
    const s = new AdaptiveSpin(0.05);
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < TRIAL; i++) {
        const w = s.window();
        expect(w).to.be.greaterThan(0);
        // Three in four answers come late, yet the 90th percentile stays within the maximum.
        s.record(i % 4 === 0 ? w / 2 : w, true, i % 4 === 0);
      }
    }
  });

  /** Spins missed for a whole trial: the answers all came after the window. */
  const failTrial = (s: AdaptiveSpin): void => {
    for (let n = 0; n < TRIAL; ) {
      const w = s.window();
      s.record(w > 0 ? w * 2 : 0.01, w > 0, false);
      if (w > 0) n++;
    }
  };
  /** How many waits in a row do not spin, from now. */
  const offRun = (s: AdaptiveSpin): number => {
    let n = 0;
    while (s.window() === 0) n++;
    return n;
  };

  it('stops spinning for OFF_MIN waits after a trial where spins rarely paid, then tries again', function () {
    const s = new AdaptiveSpin(0.05);
    failTrial(s);
    expect(offRun(s)).to.equal(OFF_MIN);
  });

  it('each failed trial in a row doubles the stop, up to OFF_MAX; a trial that pays starts over', function () {
    const s = new AdaptiveSpin(0.05);
    const runs: number[] = [];
    for (let t = 0; t < 8; t++) {
      failTrial(s);
      runs.push(offRun(s));
    }
    expect(runs).to.deep.equal([32, 64, 128, 256, 512, 1024, 1024, 1024].map((n) => Math.min(n, OFF_MAX)));
    // A trial where spins pay resets the stop to OFF_MIN.
    const fresh = new AdaptiveSpin(0.05);
    failTrial(fresh);
    offRun(fresh);
    for (let i = 0; i < TRIAL; i++) wait(fresh, 0.01);
    failTrial(fresh);
    expect(offRun(fresh)).to.equal(OFF_MIN);
  });

  it('waits that always outlast the maximum (queries) soon spin in only one trial per OFF_MAX waits', function () {
    const s = new AdaptiveSpin(1);
    for (let i = 0; i < 10 * OFF_MAX; i++) wait(s, 5);
    let spun = 0;
    for (let i = 0; i < 4 * (OFF_MAX + TRIAL); i++) if (wait(s, 5) > 0) spun++;
    expect(spun).to.be.at.most(4 * TRIAL + TRIAL);
  });

  it('a slow spell with most answers still inside the maximum spins the whole maximum instead of stopping', function () {
    // One stall of the machine makes 4 of 32 waits slow: the 90th percentile passes the
    // maximum, but spinning still catches 7 answers in 8, so a futex sleep would only cost more.
    const s = new AdaptiveSpin(1);
    for (let i = 0; i < TRIAL; i++) wait(s, i % 8 === 0 ? 5 : 0.1);
    for (let i = 0; i < 8 * TRIAL; i++) expect(wait(s, 0.1)).to.be.greaterThan(0);
  });

  it('a zero maximum never spins', function () {
    const s = new AdaptiveSpin(0);
    for (let i = 0; i < 500; i++) expect(wait(s, 0.01)).to.equal(0);
  });
});
