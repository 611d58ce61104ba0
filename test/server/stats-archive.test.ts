import { expect } from 'chai';
import { ManualClock } from '../../lib/server/clock';
import { StatsArchive, ZOOM_LEVELS } from '../../lib/server/stats/sampler';

describe('server: the statistics archive', () => {
  it('keeps sub-millisecond latencies (in seconds) to six significant digits and counts exact', () => {
    const clock = new ManualClock();
    const archive = new StatsArchive(clock);
    archive.addSource('@query', {
      names: ['query_latency_p50', 'query_requests', 'ops'],
      read(out) {
        out[0] = 0.000_213_7; // 213.7 µs
        out[1] = 2 / 3;
        out[2] = 123_456_789.25;
      },
    });
    clock.advance(1000);
    archive.sample();
    const s = archive.body('@query', ZOOM_LEVELS[0], undefined, false)!.op.samples;
    expect(s.query_latency_p50).to.deep.equal([0.000_213_7]);
    expect(s.query_requests).to.deep.equal([0.666667]);
    expect(s.ops).to.deep.equal([123_456_789.25]);
    expect(archive.latest('@query', 'query_latency_p50')).to.equal(0.000_213_7);
  });
});
