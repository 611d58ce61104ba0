// Where the throughput phase runs: the cluster's process on one CPU, each subject's process on
// another, as a client and a server on two machines would be.
//
// Left to itself, the scheduler of a 2-CPU machine moves a subject and the cluster between
// sharing one CPU and using both, burst by burst. The two cost very different amounts: a bare
// engine's 128-in-flight gets ran at 530-570k ops/s with both on one CPU and 380-430k on two
// (client CPU per get 1.23-1.33 against 1.53-1.74 us), so a round's four bursts could differ by
// 40% for no reason of their own. Pinned, they agree: the control subject's per-round get ratios
// had interquartile ranges within 0.96-1.05 over six full runs, against 0.86-1.12 and 0.89-1.15
// in two runs left to the scheduler.
import { spawnSync } from 'node:child_process';

export interface Placement {
  /** For the report's header. */
  readonly description: string;
  /** fork() options that start a subject's process on its CPU. */
  readonly subjectFork: { execPath: string; execArgv: string[] };
  /** Moves every thread of this process (the cluster's included) onto the cluster's CPU. */
  pinCluster(): void;
  /** Gives this process's threads back the CPUs they had. */
  release(): void;
}

/** CPUs in an affinity mask as `taskset -p` prints it (hex). */
export function cpusOfMask(hex: string): number[] {
  const cpus: number[] = [];
  let mask = BigInt(`0x${hex}`);
  for (let cpu = 0; mask > 0n; cpu++, mask >>= 1n) if (mask & 1n) cpus.push(cpu);
  return cpus;
}

/** This process's CPU affinity mask as `taskset -p` prints it (hex), or undefined without taskset. */
export function affinityMask(): string | undefined {
  const probe = spawnSync('taskset', ['-p', String(process.pid)], { encoding: 'utf8' });
  return probe.status === 0 ? /mask:\s*([0-9a-f]+)/i.exec(probe.stdout)?.[1] : undefined;
}

/**
 * The placement, or null with the reason when there is none: `BENCH_PIN=0`, a cluster in
 * another process (its CPU is not ours to choose), fewer than two CPUs, or no `taskset`.
 */
export function throughputPlacement(external: boolean): Placement | { none: string } {
  if (process.env.BENCH_PIN === '0') return { none: 'BENCH_PIN=0' };
  if (external) return { none: 'the cluster is in another process' };
  const mask = affinityMask();
  if (mask === undefined) return { none: 'taskset (util-linux) is not available' };
  const cpus = cpusOfMask(mask);
  if (cpus.length < 2) return { none: `this process may use only CPU ${cpus.join(',')}` };
  const [cluster, subject] = cpus;
  const setAll = (cpuList: string): void => {
    // taskset -a fails when a thread it listed exits before it is moved (a worker ending); again then.
    let r = spawnSync('taskset', ['-a', '-p', '-c', cpuList, String(process.pid)], { stdio: 'ignore' });
    for (let retry = 0; retry < 3 && r.status !== 0; retry++) r = spawnSync('taskset', ['-a', '-p', '-c', cpuList, String(process.pid)], { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`taskset -a -p -c ${cpuList} ${process.pid} failed (status ${r.status})`);
  };
  return {
    description: `the cluster's process on CPU ${cluster}, each subject's on CPU ${subject} (BENCH_PIN=0: the scheduler's choice)`,
    subjectFork: { execPath: 'taskset', execArgv: ['-c', String(subject), process.execPath] },
    pinCluster: () => setAll(String(cluster)),
    release: () => setAll(cpus.join(',')),
  };
}
