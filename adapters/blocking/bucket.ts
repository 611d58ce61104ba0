// gcouchbase-style Bucket: plain synchronous calls. The engine lives in a worker thread; each
// call waits on shared memory (see channel.ts) and returns the same result objects, or throws
// the same typed errors, the other flavours give.
import * as path from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import createDebug from 'debug';
import type { KvArgs, KvResults, ViewOptions, ViewRow } from '../common/api';
import { decodeOutcome, decodeViewRowKeys, encodeCallKeys } from '../common/key-mapping';
import { defineKvMethods, KV_METHODS, type KvCallName, type KvMethodName, type KvOptions } from '../common/methods';
import { defineBucketDesignMethods, defineBucketProperties, defineFieldEncryption, type FieldEncryption, defineManagerMethods, withDurabilityContext, type BucketDesignMethod, type BucketProperties, type DurabilityOptions, type ManagerCalls, type ManagerMethodName } from '../common/bucket-api';
import { durabilityDefaults, type DurabilityDefaults } from '../common/core';
import { applyFragments, type ItemOptionDict } from '../../lib/engine/items';
import type { HttpResult, MultiResult, MutationToken } from '../../lib/engine/results';
import { ViewQuery } from '../../lib/engine/services/views';
import { n1qlShaper, splitViewOptions, warnViewErrors, type N1QLRowOptions, type ViewRowOptions } from '../common/rows';
import type { DiagnosticsReport, PingReport } from '../../lib/engine/health';
import { ArgumentError, CouchbaseError, ObjectDestroyedError, PipelineError, ValueFormatError } from '../../lib/engine/errors';
import { runsOnThisThread } from '../common/embedded';
import { ChannelCaller, ChannelState, createChannelBuffers, NestingError, WORKER_ENTRY } from '../../lib/sync-rpc';
import { sharedRegistry } from './registry';
import { clusterThreadFor } from './cluster-threads';
import { CallerTranscoding } from './transcoding';
import { BlockingRows } from './rows';
import { defaultTranscoder, FMT_JSON, jsonConvertersChanged, toTranscoder, type PythonTranscoder, type Transcoder } from '../../lib/engine/transcoder';
import { multiOf, restoreSelfRefs, writeBackItems } from './wire';
import type { BucketWorkerData } from './worker-main';
import type { FlowLimits } from './stream-buffer';
import { defineCollections, type CollectionAccess, type CollectionOf } from '../common/collection';

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
  transcoder?: Transcoder | PythonTranscoder | (new () => Transcoder | PythonTranscoder);
  /** Seconds to wait for the worker to start and connect (default 30). */
  connectWait?: number;
  /** Row batching and flow-control limits of streamed queries. */
  streamLimits?: Partial<FlowLimits>;
  [engineOption: string]: unknown;
}

/** Longest a caller waits for a KV answer before declaring the worker lost (the engine times out first). */
const KV_WAIT_MS = 120_000;

type BlockingKv = { [M in KvCallName]: (...args: KvArgs[M]) => KvResults[M] };

/** bucket.collection('scope.collection'): the Bucket's KV methods in that collection. */
export type Collection = CollectionOf<BlockingKv, Bucket>;

export interface Bucket extends BlockingKv, BucketProperties, FieldEncryption, BlockingDesign, CollectionAccess<Collection> {}

export class Bucket {
  private readonly worker: Worker;
  /** False when the engine is served on an embedded cluster's thread, which the bucket must not end. */
  private readonly ownsWorker: boolean;
  private readonly channel: ChannelCaller;
  private closedFlag = false;
  /** The caller's own transcoder at work, when one was given (or setJsonConverters() ran). */
  private transcoding: CallerTranscoding | undefined;
  /** Whether the caller encodes documents itself because of setJsonConverters(). */
  private callerJson = false;
  /** The bucket's default_format, kept here too for documents this thread encodes. */
  private localDefaultFormat = FMT_JSON;
  /** The calls queued by the pipeline in progress (null when none is). */
  private pipelined: Array<[KvMethodName, unknown[]]> | null = null;

  constructor(connstr: string, options: BlockingBucketOptions = {}) {
    if (runsOnThisThread(connstr)) {
      throw new ArgumentError(
        `${connstr} is an embedded cluster running on this thread; a blocking call would stall it. ` +
          "Start it with startEmbedded() from 'deferbase/blocking', which runs it in its own thread.",
      );
    }
    const { engineModule, spinMicros, workerSpinMicros, connectWait, streamLimits, engineThread, transcoder, ...engineOptions } = options;
    this.transcoding = transcoder ? new CallerTranscoding(toTranscoder(transcoder)) : undefined;
    if (this.transcoding === undefined && jsonConvertersChanged()) {
      this.transcoding = new CallerTranscoding(defaultTranscoder);
      this.callerJson = true;
    }
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
      callerTranscodes: this.transcoding !== undefined,
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

  /** True while the connection is up (the constructor waited for it). */
  get connected(): boolean {
    return !this.closedFlag && (this.invoke('info', []) as { connected: boolean }).connected;
  }

  /** Empties the bucket (its flush must be enabled). */
  flush(): HttpResult {
    return this.invoke('manage', ['flush', []]) as HttpResult;
  }

  /** The design document and N1QL index calls (Python's bucket_manager()). */
  bucketManager(): BucketManager {
    return new BucketManager(this);
  }

  /** Pings every KV, query and views node. */
  ping(): PingReport {
    return this.invoke('manage', ['ping', []]) as PingReport;
  }

  /** The state of the KV connections (nothing is sent). */
  diagnostics(): DiagnosticsReport {
    return this.invoke('manage', ['diagnostics', []]) as DiagnosticsReport;
  }

  /**
   * Runs `fn` with a durability requirement on every mutation it makes that names none (Python's
   * `with bucket.durability(persist_to=..., replicate_to=...)`; both default to -1, every copy).
   */
  durability<T>(options: DurabilityOptions, fn: () => T): T {
    return withDurabilityContext<DurabilityDefaults | null, T>(
      () => this.invoke('durability', []) as DurabilityDefaults | null,
      (d) => this.invoke('durability', [d]),
      durabilityDefaults(options),
      fn,
    );
  }

  /**
   * Python's pipeline(): the KV calls made inside `run(fn)` return undefined and go out together
   * when `fn` returns; `run` gives their results in order (and `pipeline.results` keeps them),
   * and throws the first call's error if one failed. Queries cannot run inside.
   */
  pipeline(): Pipeline {
    return new Pipeline(this);
  }

  /** @internal Starts queuing KV calls (Pipeline.run). */
  beginPipeline(): void {
    if (this.pipelined !== null) throw new PipelineError('a pipeline is already running on this bucket');
    this.pipelined = [];
  }

  /** @internal Sends the queued calls as one batch; [error, result] per call, in order. */
  endPipeline(): Array<[Error | null, unknown]> {
    const calls = this.pipelined ?? [];
    this.pipelined = null;
    if (calls.length === 0) return [];
    const t = this.transcoding;
    const sent = calls.map(([m, a]) => [m, t === undefined ? a : t.encodeArgs(m, a, this.localDefaultFormat)] as [KvMethodName, unknown[]]);
    const answers = this.invoke('batch', [sent]) as Array<[Error | null, unknown]>;
    const keys = t?.transcoder.keys;
    const out = answers.map(([err, result], i): [Error | null, unknown] => {
      const args = calls[i][1];
      if (err) {
        restoreSelfRefs(err);
        t?.decodeEntries(multiOf(err));
        writeBackItems(args[0], multiOf(err));
        return [err, undefined];
      }
      try {
        const r = t === undefined ? result : t.decodeResult(result);
        writeBackItems(args[0], multiOf(r));
        return [null, r];
      } catch (e) {
        return [e as Error, undefined];
      }
    });
    if (keys === undefined) return out;
    // The queued calls' keys were encoded when queued (kvCall); their answers' keys are decoded here.
    return out.map(([err, result], i) => {
      try {
        decodeOutcome(keys, calls[i][1][0], err ?? result);
        return [err, result];
      } catch (e) {
        return [e as Error, undefined];
      }
    });
  }

  /** Credentials of another bucket, for cross-bucket N1QL (Python's add_bucket_creds). */
  addBucketCreds(bucket: string, password: string): void {
    this.invoke('addBucketCreds', [bucket, password]);
  }

  /** @internal A Bucket property: read in the worker, except the transcoder, which lives here. */
  readProperty(kind: 'info' | 'setting', name: string): unknown {
    if (name === 'transcoder') return this.transcoding?.transcoder ?? defaultTranscoder;
    if (name === 'defaultFormat') return this.localDefaultFormat;
    return kind === 'info' ? (this.invoke('info', []) as Record<string, unknown>)[name] : this.invoke('setting', [name]);
  }

  /** @internal Changes a Bucket property; a transcoder (code) stays in this thread, which then transcodes. */
  writeProperty(name: string, value: unknown): void {
    if (name === 'transcoder') {
      let t: Transcoder;
      try {
        // null / undefined: back to the default one (Python's transcoder = None)
        t = value === null || value === undefined ? defaultTranscoder : toTranscoder(value);
      } catch (err) {
        throw new ArgumentError((err as Error).message);
      }
      if (this.transcoding === undefined) this.invoke('transcodeInCaller', []);
      this.transcoding = new CallerTranscoding(t);
      return;
    }
    this.invoke('set', [name, value]);
    if (name === 'defaultFormat') this.localDefaultFormat = value as number;
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

  /**
   * A KV method's call: with the bucket's own transcoder (or JSON converters), documents are
   * encoded here and decoded on return. What comes back is put together as the other flavours
   * deliver it (see wire.ts).
   */
  kvCall(method: KvMethodName, args: unknown[]): unknown {
    // The transcoder's encodeKey/decodeKey are code: they run here, on the caller's thread.
    const keys = this.transcoding?.transcoder.keys;
    if (keys === undefined) return this.kvCallAsGiven(method, args);
    const sent = args.slice();
    sent[0] = encodeCallKeys(keys, KV_METHODS[method], args[0]);
    let result: unknown;
    try {
      result = this.kvCallAsGiven(method, sent);
    } catch (err) {
      decodeOutcome(keys, args[0], err);
      throw err;
    }
    if (this.pipelined === null) decodeOutcome(keys, args[0], result);
    return result;
  }

  private kvCallAsGiven(method: KvMethodName, args: unknown[]): unknown {
    if (this.pipelined !== null) {
      this.pipelined.push([method, args]);
      return undefined;
    }
    if (!this.callerJson && jsonConvertersChanged() && this.transcoding === undefined) this.transcodeHere();
    const t = this.transcoding;
    let result: unknown;
    try {
      result = t === undefined ? this.invoke(method, args) : t.decodeResult(this.invoke(method, t.encodeArgs(method, args, this.localDefaultFormat)));
    } catch (err) {
      if (err instanceof NestingError) return this.kvCallEncodedHere(method, args);
      restoreSelfRefs(err);
      t?.decodeEntries(multiOf(err));
      writeBackItems(args[0], multiOf(err));
      throw err;
    }
    writeBackItems(args[0], multiOf(result));
    return result;
  }

  /** setJsonConverters() ran: this thread's converters must do the JSON, so this thread transcodes. */
  private transcodeHere(): void {
    this.callerJson = true;
    if (this.invoke('transcodeInCaller', []) === true) this.transcoding = new CallerTranscoding(defaultTranscoder);
  }

  /**
   * A call whose arguments the channel could not carry (a value that refers to itself): the
   * documents are encoded here, with the error the other flavours give for the ones that cannot
   * be; any other argument fails the call as a value that cannot be encoded.
   */
  private kvCallEncodedHere(method: KvMethodName, args: unknown[]): unknown {
    const encoded = new CallerTranscoding(defaultTranscoder).encodeArgs(method, args, this.localDefaultFormat);
    let result: unknown;
    try {
      result = this.invoke(method, encoded);
    } catch (err) {
      if (err instanceof NestingError) {
        const key = typeof args[0] === 'string' ? args[0] : undefined;
        throw new ValueFormatError(`an argument of ${method}(${key === undefined ? '' : `"${key}"`}) refers to itself (or nests deeper than 1000 levels) and cannot be encoded`, { key });
      }
      if (err instanceof CouchbaseError) restoreSelfRefs(err);
      writeBackItems(args[0], multiOf(err));
      throw err;
    }
    writeBackItems(args[0], multiOf(result));
    return result;
  }

  /** A batch of streamed rows as the caller sees them (view docs and document ids decoded by its own transcoder). */
  finishRows(rows: unknown, kind: 'n1ql' | 'view'): void {
    this.transcoding?.decodeRows(rows);
    const keys = this.transcoding?.transcoder.keys;
    if (keys !== undefined && kind === 'view') decodeViewRowKeys(keys, rows);
  }

  /**
   * A N1QL query whose rows are read as you iterate: `for (const row of bucket.n1qlQuery(q))`.
   * The request starts on the first iteration; `meta` is set after the last row; iterating it
   * again is AlreadyQueriedError, as in Python. `rowFactory` shapes each row (in this thread).
   */
  n1qlQuery<T = unknown>(query: unknown, options: N1QLRowOptions<T> = {}): BlockingRows<T> {
    if (this.pipelined !== null) throw new PipelineError('N1QL queries cannot run inside a pipeline');
    return new BlockingRows<T>(this, 'n1ql', [query], n1qlShaper(options));
  }

  /**
   * A view query, iterated the same way; with `includeDocs` each row carries its `doc`. Options
   * may be a ViewQuery (or include `query: aViewQuery`); `rowProcessor` shapes the rows (in this
   * thread); with `onError: 'continue'` errors from nodes are warnings.
   */
  query<K = unknown, V = unknown>(ddoc: string, view: string, options: (ViewOptions & ViewRowOptions) | ViewQuery = {}): BlockingRows<ViewRow<K, V>> {
    if (this.pipelined !== null) throw new PipelineError('view queries cannot run inside a pipeline');
    const { params, shape } = splitViewOptions(options, this);
    return new BlockingRows<ViewRow<K, V>>(this, 'view', [ddoc, view, params], shape, warnViewErrors);
  }

  /** Every row of a N1QL query at once. */
  n1qlQueryAll<T = unknown>(query: unknown, options: N1QLRowOptions<T> = {}): T[] {
    return [...this.n1qlQuery<T>(query, options)];
  }

  /** Every row of a view query at once. */
  queryAll<K = unknown, V = unknown>(ddoc: string, view: string, options: (ViewOptions & ViewRowOptions) | ViewQuery = {}): ViewRow<K, V>[] {
    return [...this.query<K, V>(ddoc, view, options)];
  }

  /**
   * Python's append_items: appends each item's `fragment` option to its document
   * (appendMulti); once it succeeded each item's value has its fragment added too.
   */
  appendItems(items: ItemOptionDict, options?: KvOptions): MultiResult {
    const r = this.appendMulti(items, options);
    applyFragments(items, 'append');
    return r;
  }

  /** Python's prepend_items: prependMulti of each item's `fragment`, then the items' values updated. */
  prependItems(items: ItemOptionDict, options?: KvOptions): MultiResult {
    const r = this.prependMulti(items, options);
    applyFragments(items, 'prepend');
    return r;
  }

  /** The latest mutation token of each vBucket written (with fetch_mutation_tokens): MutationState.addAll reads them. */
  mutationTokens(): MutationToken[] {
    return this.invoke('mutationTokens', []) as MutationToken[];
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

/** A blocking bucket's pipeline (Python's couchbase.bucket.Pipeline). */
export class Pipeline {
  /** Each call's result (or error), in order, once run() has returned or thrown. */
  results: unknown[] | undefined = undefined;

  constructor(private readonly bucket: Bucket) {}

  /** Queues the KV calls `fn` makes, sends them together, and gives their results. */
  run(fn: () => void): unknown[] {
    this.bucket.beginPipeline();
    let answers: Array<[Error | null, unknown]>;
    try {
      fn();
    } finally {
      answers = this.bucket.endPipeline();
    }
    this.results = answers.map(([err, r]) => err ?? r);
    const failed = answers.find(([err]) => err !== null);
    if (failed) throw failed[0];
    return this.results;
  }
}

defineBucketProperties(
  Bucket.prototype,
  (b, kind, name) => b.readProperty(kind, name),
  (b, name, value) => b.writeProperty(name, value),
);

type BlockingManager = { [M in ManagerMethodName]: (...args: ManagerCalls[M]['args']) => ManagerCalls[M]['result'] };
type BlockingDesign = Pick<BlockingManager, BucketDesignMethod>;

export interface BucketManager extends BlockingManager {}

/** Design documents and N1QL indexes of a bucket (Python's BucketManager); every call blocks. */
export class BucketManager {
  constructor(readonly bucket: Bucket) {}
}

defineManagerMethods(BucketManager.prototype, (m, name, args) => m.bucket.invoke('manage', [name, args]));

// The call's arguments travel to the worker as one array: a channel round trip dwarfs it.
defineBucketDesignMethods(Bucket.prototype);
defineFieldEncryption(Bucket.prototype);

defineKvMethods(Bucket.prototype, (bucket, spec, a0, a1, a2, a3) =>
  bucket.kvCall(spec.name, a3 !== undefined ? [a0, a1, a2, a3] : a2 !== undefined ? [a0, a1, a2] : a1 !== undefined ? [a0, a1] : a0 !== undefined ? [a0] : []),
);
defineCollections(Bucket.prototype);

