import { expect } from 'chai';
import { affinityMask, cpusOfMask, throughputPlacement, type Placement } from '../../bench/adapters/placement';

const maskOfThisProcess = (): string => affinityMask()!;

describe('bench/adapters placement', () => {
  it('reads the CPUs of an affinity mask as taskset prints it', () => {
    expect(cpusOfMask('3')).to.deep.equal([0, 1]);
    expect(cpusOfMask('a')).to.deep.equal([1, 3]);
    expect(cpusOfMask('1')).to.deep.equal([0]);
    expect(cpusOfMask('100000000')).to.deep.equal([32]);
    expect(cpusOfMask('0')).to.deep.equal([]);
  });

  it('does not pin with BENCH_PIN=0 or for a cluster in another process, and says why', () => {
    const saved = process.env.BENCH_PIN;
    try {
      process.env.BENCH_PIN = '0';
      expect(throughputPlacement(false)).to.deep.equal({ none: 'BENCH_PIN=0' });
      delete process.env.BENCH_PIN;
      expect(throughputPlacement(true)).to.deep.equal({ none: 'the cluster is in another process' });
    } finally {
      if (saved === undefined) delete process.env.BENCH_PIN;
      else process.env.BENCH_PIN = saved;
    }
  });

  it('pins this process to the first CPU, starts subjects on the second, and gives the CPUs back', function () {
    const where = throughputPlacement(false);
    if ('none' in where) return this.skip();
    const placement = where as Placement;
    const before = maskOfThisProcess();
    const [first, second] = cpusOfMask(before);
    expect(placement.subjectFork).to.deep.equal({ execPath: 'taskset', execArgv: ['-c', String(second), process.execPath] });
    try {
      placement.pinCluster();
      expect(cpusOfMask(maskOfThisProcess())).to.deep.equal([first]);
    } finally {
      placement.release();
    }
    expect(maskOfThisProcess()).to.equal(before);
  });
});
