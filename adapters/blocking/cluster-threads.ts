// The embedded clusters this process runs in worker threads (startEmbedded), so that a blocking
// Bucket on one of them can put its engine on the cluster's thread instead of a thread of its
// own: one thread fewer, and no hop between the engine's thread and the cluster's.
import type { Worker } from 'node:worker_threads';
import type { BucketWorkerData } from './worker-main';
import { endpointsOf } from '../common/embedded';

/** A thread that runs an embedded cluster and can host blocking buckets' engines beside it. */
export interface ClusterThread {
  readonly connectionString: string;
  readonly workerThread: Worker;
  /** Starts serving a bucket on the cluster's thread; its channel reports READY when it does. */
  hostBucket(data: BucketWorkerData): void;
}

const threads = new Set<ClusterThread>();

export function addClusterThread(t: ClusterThread): void {
  threads.add(t);
}

export function removeClusterThread(t: ClusterThread): void {
  threads.delete(t);
}

/** The running cluster thread that `connstr` names, if any. */
export function clusterThreadFor(connstr: string): ClusterThread | undefined {
  const wanted = endpointsOf(connstr);
  if (wanted.length === 0) return undefined;
  for (const t of threads) {
    const own = endpointsOf(t.connectionString);
    if (wanted.some((e) => own.includes(e))) return t;
  }
  return undefined;
}
