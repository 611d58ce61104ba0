// gcouchbase-style Bucket: plain synchronous calls. The engine lives in a worker thread; each
// call waits on shared memory (see channel.ts) and returns the same result objects, or throws
// the same typed errors, the other flavours give.
import * as path from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import createDebug from 'debug';
import type { KvArgs, KvResults, ViewOptions, ViewRow } from '../common/api';
import { defineKvMethods, type KvMethodName } from '../common/methods';
import { ArgumentError, ObjectDestroyedError } from '../../lib/engine/errors';
import { runsOnThisThread } from '../common/embedded';
import { ChannelCaller, ChannelState, createChannelBuffers, WORKER_ENTRY } from '../../lib/sync-rpc';
import { sharedRegistry } from './registry';
import { clusterThreadFor } from './cluster-threads';
import { CallerTranscoding } from './transcoding';
import { BlockingRows } from './rows';
import type { Transcoder } from '../../lib/engine/transcoder';
import type { BucketWorkerData } from './worker-main';
import type { FlowLimits } from './stream-buffer';

const debug = createDebug('deferbase:adapters:blocking');

/** What the worker thread runs (lib/sync-rpc's worker entry loads it). */
export const WORKER_MAIN = path.join(__dirname, 'worker-main.js');

export interface BlockingBucketOptions {
  username?: string;
  password?: string;
  /** Module path exporting `createEngine(connstr, options)`; the worker uses it instead of lib/engine. */
  engineModule?: string;
  /** Longest the caller spins before sleeping while it waits, in microseconds (default 1000). The window itself is learned from how long answers take, and spinning stops by itself while it does not pay. */
  spinMicros?: number;
  /**
   * Longest the worker spins for the next request after answering, in microseconds (default
   * 200). The window itself is learned from how soon the caller comes back, and spinning stops
   * by itself while it does not pay.
   */
  workerSpinMicros?: number;
  /**
   * Where the engine runs when the connection string names an embedded cluster that
   * startEmbedded() runs in this process: `'cluster'` (the default) serves it on the cluster's
   * own thread, which saves a thread and the hop between two; `'own'` gives it a worker thread
   * of its own, as for any other cluster.
   */
  engineThread?: 'cluster' | 'own';
  /**
   * Replaces the common-flags transcoder, as in the other flavours. It runs in the calling
   * thread (code cannot cross to the worker): documents are encoded before they are sent and
   * decoded when they arrive.
   */
  transcoder?: Transcoder;
  /** Seconds to wait for the worker to start and connect (default 30). */
  connectWait?: number;
  /** Row batching and flow-control limits of streamed queries. */
  streamLimits?: Partial<FlowLimits>;
  [engineOption: string]: unknown;
}

/** Longest a caller waits for a KV answer before declaring the worker lost (the engine times out first). */
const KV_WAIT_MS = 120_000;

type BlockingKv = { [M in KvMethodName]: (...args: KvArgs[M]) => KvResults[M] };

export interface Bucket extends BlockingKv {}

export class Bucket {
  private readonly worker: Worker;
  /** False when the engine is served on an embedded cluster's thread, which the bucket must not end. */
  private readonly ownsWorker: boolean;
  private readonly channel: ChannelCaller;
  private closedFlag = false;
  /** The caller's own transcoder at work, when one was given. */
  private readonly transcoding: CallerTranscoding | undefined;

  constructor(connstr: string, options: BlockingBucketOptions = {}) {
    if (runsOnThisThread(connstr)) {
      throw new ArgumentError(
        `${connstr} is an embedded cluster running on this thread; a blocking call would stall it. ` +
          "Start it with startEmbedded() from 'deferbase/blocking', which runs it in its own thread.",
      );
    }
    const { engineModule, spinMicros, workerSpinMicros, connectWait, streamLimits, engineThread, transcoder, ...engineOptions } = options;
    this.transcoding = transcoder ? new CallerTranscoding(transcoder) : undefined;
    const buffers = createChannelBuffers();
    const { port1, port2 } = new MessageChannel();
    const data: BucketWorkerData & { syncRpcMain: string } = {
      syncRpcMain: WORKER_MAIN,
      kind: 'bucket',
      buffers,
      port: port2,
      connstr,
      options: engineOptions,
      engineModule,
      limits: streamLimits,
      serverSpinMicros: workerSpinMicros,
      callerTranscodes: transcoder !== undefined,
    };
    const host = engineThread === 'own' ? undefined : clusterThreadFor(connstr);
    if (host) {
      this.worker = host.workerThread;
      this.ownsWorker = false;
      host.hostBucket(data);
    } else {
      this.worker = new Worker(WORKER_ENTRY, { workerData: data, transferList: [port2] });
      this.ownsWorker = true;
      // A process that forgets close() must still exit: nothing here holds the event loop.
      this.worker.unref();
      this.worker.on('error', (err) => debug('worker error: %s', err.stack));
    }
    port1.unref();
    this.channel = new ChannelCaller(buffers, port1, {
      registry: sharedRegistry(),
      spinMicros,
      captureStack: (err) => Error.captureStackTrace(err, Bucket.prototype.invoke),
      // On a cluster's thread, the server closes when that cluster stops, not only on close().
      closedError: host ? () => new ObjectDestroyedError('the embedded cluster this bucket ran on was stopped; start one and open a new Bucket') : undefined,
    });
    const waitMs = (connectWait ?? 30) * 1000;
    try {
      this.channel.waitReady(waitMs);
      this.invoke('connect', [], waitMs);
    } catch (err) {
      this.closedFlag = true;
      if (this.ownsWorker) void this.worker.terminate();
      else this.releaseHosted();
      throw err;
    }
  }

  /** True once close() ran (or the constructor failed). */
  get closed(): boolean {
    return this.closedFlag;
  }

  /** After a failed start on a cluster's thread: frees what the cluster's thread holds for it. */
  private releaseHosted(): void {
    try {
      if (this.channel.state === ChannelState.READY) this.channel.call('close', [], 10_000);
    } catch (err) {
      debug('closing a bucket that failed to start: %s', (err as Error).message);
    } finally {
      this.channel.markClosed();
    }
  }

  /** The thread running this bucket's engine: its own worker, or an embedded cluster's thread (for lifecycle inspection). */
  get workerThread(): Worker {
    return this.worker;
  }

  /** Sends one request to the worker and waits for its answer. */
  invoke(method: string, args: unknown[], waitMs: number = KV_WAIT_MS): unknown {
    if (this.closedFlag && method !== 'close') throw new ObjectDestroyedError('the bucket was closed; open a new Bucket');
    return this.channel.call(method, args, waitMs);
  }

  /** A KV method's call: with the bucket's own transcoder, documents are encoded here and decoded on return. */
  kvCall(method: KvMethodName, args: unknown[]): unknown {
    const t = this.transcoding;
    if (t === undefined) return this.invoke(method, args);
    return t.decodeResult(this.invoke(method, t.encodeArgs(method, args)));
  }

  /** A batch of streamed rows as the caller sees them (view docs decoded by its own transcoder). */
  finishRows(rows: unknown): void {
    this.transcoding?.decodeRows(rows);
  }

  /**
   * A N1QL query whose rows are read as you iterate: `for (const row of bucket.n1qlQuery(q))`.
   * The request starts on the first iteration; `meta` is set after the last row.
   */
  n1qlQuery<T = unknown>(query: unknown): BlockingRows<T> {
    return new BlockingRows<T>(this, 'n1ql', [query]);
  }

  /** A view query, iterated the same way; with `includeDocs` each row carries its `doc`. */
  query<K = unknown, V = unknown>(ddoc: string, view: string, options: ViewOptions = {}): BlockingRows<ViewRow<K, V>> {
    return new BlockingRows<ViewRow<K, V>>(this, 'view', [ddoc, view, options]);
  }

  /** Every row of a N1QL query at once. */
  n1qlQueryAll<T = unknown>(query: unknown): T[] {
    return [...this.n1qlQuery<T>(query)];
  }

  /** Every row of a view query at once. */
  queryAll<K = unknown, V = unknown>(ddoc: string, view: string, options: ViewOptions = {}): ViewRow<K, V>[] {
    return [...this.query<K, V>(ddoc, view, options)];
  }

  /**
   * Benchmarks: from now on (or no longer, with false), the worker records how long each KV call
   * spends in the engine, read with engineTime(). Off by default: it costs two clock reads a call.
   */
  timeEngine(on = true): void {
    this.invoke('timeEngine', [on]);
  }

  /** Engine time spent on KV calls since the last read (see timeEngine()), measured inside the worker. */
  engineTime(): { ns: number; calls: number; samples: Float64Array } {
    const r = this.invoke('engineTime', []) as { ns: number; calls: number; samples: Buffer };
    // Copy out of the Buffer: its offset need not be a multiple of 8.
    const samples = new Float64Array(r.samples.length / 8);
    new Uint8Array(samples.buffer).set(r.samples);
    return { ns: r.ns, calls: r.calls, samples };
  }

  /** Closes the connection and ends the worker thread (not an embedded cluster's thread it shares). Safe to call twice. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    try {
      if (this.channel.state === ChannelState.READY) this.invoke('close', [], 10_000);
    } finally {
      this.channel.markClosed();
    }
  }
}

// The call's arguments travel to the worker as one array: a channel round trip dwarfs it.
defineKvMethods(Bucket.prototype, (bucket, spec, a0, a1, a2) =>
  bucket.kvCall(spec.name, a2 !== undefined ? [a0, a1, a2] : a1 !== undefined ? [a0, a1] : a0 !== undefined ? [a0] : []),
);

