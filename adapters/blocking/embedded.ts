// The embedded cluster for blocking code: it runs in its own worker thread, because a caller
// blocked in Atomics.wait would otherwise stall the very sockets it is waiting on. Every call
// here is synchronous, like the rest of the blocking flavour.
import { MessageChannel, Worker } from 'node:worker_threads';
import type { ClusterNode } from '../../lib/server';
import { EMBEDDED_USER, embeddedBucketConnstr, type EmbeddedOptions, type SampleName } from '../common/embedded';
import { Bucket, WORKER_MAIN, type BlockingBucketOptions } from './bucket';
import { ChannelCaller, ChannelError, ChannelState, createChannelBuffers, WORKER_ENTRY } from '../../lib/sync-rpc';
import { sharedRegistry } from './registry';
import { addClusterThread, removeClusterThread, type ClusterThread } from './cluster-threads';
import type { BucketWorkerData, ClusterWorkerData } from './worker-main';

export interface BlockingEmbeddedOptions extends EmbeddedOptions {
  /** Called as sample documents load: (sample, loaded, total). */
  onProgress?: (sample: SampleName, loaded: number, total: number) => void;
}

/**
 * An embedded cluster running in a worker thread; stop() ends the thread. Blocking buckets
 * opened on it from this process run their engines on that thread too (see Bucket's
 * `engineThread` option).
 */
export class EmbeddedClusterThread implements ClusterThread {
  readonly connectionString: string;
  readonly nodes: ClusterNode[];
  private readonly channel: ChannelCaller;
  private readonly worker: Worker;
  private stopped = false;

  constructor(options: BlockingEmbeddedOptions = {}) {
    const { onProgress, ...opts } = options;
    const buffers = createChannelBuffers(64 * 1024, 256 * 1024);
    const { port1, port2 } = new MessageChannel();
    const data: ClusterWorkerData & { syncRpcMain: string } = { syncRpcMain: WORKER_MAIN, kind: 'cluster', buffers, port: port2 };
    this.worker = new Worker(WORKER_ENTRY, { workerData: data, transferList: [port2] });
    this.worker.unref();
    port1.unref();
    this.channel = new ChannelCaller(buffers, port1, { registry: sharedRegistry(), spinMicros: 0 });
    try {
      this.channel.waitReady(30_000);
      const info = this.channel.call('start', [opts], 60_000) as { connectionString: string; nodes: ClusterNode[] };
      this.connectionString = info.connectionString;
      this.nodes = info.nodes;
      for (const name of opts.samples ?? []) this.loadSample(name, onProgress);
      addClusterThread(this);
    } catch (err) {
      this.stopped = true;
      void this.worker.terminate();
      throw err;
    }
  }

  private loadSample(name: SampleName, onProgress: BlockingEmbeddedOptions['onProgress']): void {
    const total = this.channel.call('sampleTotal', [name], 120_000) as number;
    let loaded = 0;
    while (loaded < total) {
      loaded = this.channel.call('sampleStep', [name, 2000], 60_000) as number;
      onProgress?.(name, loaded, total);
    }
    this.channel.call('sampleFinish', [name], 300_000);
  }

  /** Fails a node over, adds it back, or rebalances (cluster topology tests). */
  exec(op: 'failover' | 'addBack' | 'rebalance', node?: number): void {
    this.channel.call('exec', [op, node], 30_000);
  }

  /** A connection string for one of its buckets. */
  bucketConnstr(bucket: string): string {
    return embeddedBucketConnstr(this.connectionString, bucket);
  }

  /** Opens a blocking Bucket on it (administrator credentials). */
  openBucket(bucket: string, options: BlockingBucketOptions = {}): Bucket {
    return new Bucket(this.bucketConnstr(bucket), { ...EMBEDDED_USER, ...options });
  }

  /** The worker thread the cluster runs in. */
  get workerThread(): Worker {
    return this.worker;
  }

  /** Hands a blocking bucket's channel to the cluster's thread, which serves it from then on. */
  hostBucket(data: BucketWorkerData): void {
    if (this.stopped) throw new ChannelError('the embedded cluster was stopped');
    this.worker.postMessage({ deferbaseHostBucket: data }, [data.port]);
  }

  /** Stops the cluster and ends its thread. Safe to call twice. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    removeClusterThread(this);
    try {
      if (this.channel.state === ChannelState.READY) this.channel.call('stop', [], 30_000);
    } finally {
      this.channel.markClosed();
    }
  }
}

/** Starts an embedded cluster in its own thread and returns once it (and its samples) are up. */
export function startEmbedded(options: BlockingEmbeddedOptions = {}): EmbeddedClusterThread {
  return new EmbeddedClusterThread(options);
}

/** Starts an embedded cluster and opens a blocking Bucket on it, in one step. */
export function connectEmbedded(
  options: BlockingEmbeddedOptions & { bucketOptions?: BlockingBucketOptions } = {},
): { cluster: EmbeddedClusterThread; bucket: Bucket } {
  const { bucketOptions, ...clusterOptions } = options;
  const cluster = startEmbedded(clusterOptions);
  try {
    const name = options.bucket ?? options.samples?.[0] ?? options.buckets?.[0]?.name ?? 'default';
    return { cluster, bucket: cluster.openBucket(name, bucketOptions) };
  } catch (err) {
    cluster.stop();
    throw err;
  }
}
