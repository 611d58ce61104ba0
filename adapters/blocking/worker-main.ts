// The blocking flavour's worker thread (loaded by lib/sync-rpc's worker entry). It hosts either a bucket (an engine behind BucketCore)
// or an embedded cluster, and serves the caller's requests from the shared-memory channel while
// its own event loop runs the sockets. The caller never runs I/O: it only waits on memory.
import { parentPort, type MessagePort } from 'node:worker_threads';
import createDebug from 'debug';
import { BucketCore, type DurabilityDefaults } from '../common/core';
import { adoptEngine, createEngine } from '../common/engine-factory';
import type { CallbackEngineLike, EngineLike, KvHandler } from '../common/contract';
import { KV_METHODS, type KvMethodName } from '../common/methods';
import { ChannelServer, ChannelState, reportStartFailure, type ChannelBuffers, type ChannelHandler, type Reply } from '../../lib/sync-rpc';
import { sharedRegistry } from './registry';
import { StreamBuffer, DEFAULT_LIMITS, type FlowLimits } from './stream-buffer';
import { WorkerTranscoder } from './transcoding';
import { breakSelfRefs } from './wire';
import { AdminClient, runAdmin } from '../../lib/engine/services/admin';

const debug = createDebug('deferbase:adapters:blocking-worker');

export interface BucketWorkerData {
  kind: 'bucket';
  buffers: ChannelBuffers;
  port: MessagePort;
  connstr: string;
  options: Record<string, unknown>;
  /** Module exporting `createEngine(connstr, options)`, used instead of lib/engine. */
  engineModule?: string;
  limits?: Partial<FlowLimits>;
  serverSpinMicros?: number;
  /** The caller runs its own transcoder (see transcoding.ts): the engine passes bytes through. */
  callerTranscodes?: boolean;
}

export interface ClusterWorkerData {
  kind: 'cluster';
  buffers: ChannelBuffers;
  port: MessagePort;
  /** Module exporting the cluster host factory `createClusterHost()` (lib/server by default). */
  clusterModule?: string;
}

export interface AdminWorkerData {
  kind: 'admin';
  buffers: ChannelBuffers;
  port: MessagePort;
  connstr: string;
  username: string;
  password: string;
}

export type WorkerData = BucketWorkerData | ClusterWorkerData | AdminWorkerData;

/** Serves one Admin (Python's couchbase.admin.Admin): its REST calls, connect and close. */
function adminHandler(data: AdminWorkerData, shutdown: () => void): ChannelHandler {
  const client = new AdminClient(data.connstr, data.username, data.password);
  return {
    handle(method, args, reply) {
      if (method === 'connect') return client.whenConnected((err) => reply(err));
      if (method === 'close') {
        client.close();
        reply(null);
        setImmediate(shutdown);
        return;
      }
      runAdmin(client, method, args, (err, result) => {
        if (err) breakSelfRefs(err);
        reply(err, result);
      });
    },
  };
}

/** Where a KV call's outcome goes: straight back over the channel. */
class KvReply implements KvHandler {
  constructor(private readonly reply: Reply) {}

  kvDone(err: Error | null | undefined, result?: unknown): void {
    if (err) breakSelfRefs(err);
    this.reply(err, result);
  }
}

/** A KV call whose engine time is recorded (only while a benchmark asked for it, see 'timeEngine'). */
class TimedKvReply implements KvHandler {
  private readonly t0 = performance.now();

  constructor(
    private readonly host: BucketHost,
    private readonly reply: Reply,
  ) {}

  kvDone(err: Error | null | undefined, result?: unknown): void {
    this.host.recordEngineTime((performance.now() - this.t0) * 1e6);
    if (err) breakSelfRefs(err);
    this.reply(err, result);
  }
}

/** Serves one bucket: KV methods, streams, close. */
export class BucketHost implements ChannelHandler {
  private readonly core: BucketCore;
  private readonly streams = new Map<number, StreamBuffer>();
  private nextStream = 1;
  private readonly limits: FlowLimits;
  /** Whether KV calls record their engine time (off unless a benchmark turns it on). */
  private timing = false;
  /** Time spent inside the engine per KV call (ns), for the overhead benchmark. */
  private engineNs = 0;
  private engineCalls = 0;
  /** The last calls' engine times (ns), so the benchmark can subtract them call by call. */
  private readonly engineSamples = new Float64Array(1 << 16);

  constructor(
    engine: EngineLike,
    limits: Partial<FlowLimits> | undefined,
    private readonly onClosed: () => void,
    /** The engine's transcoder, when it is the worker's own (the caller may switch it to pass-through). */
    private readonly transcoder?: WorkerTranscoder,
  ) {
    this.core = new BucketCore(engine, { closedError: () => new Error('the bucket is closed') });
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  handle(method: string, args: unknown[], reply: Reply): void {
    if (Object.prototype.hasOwnProperty.call(KV_METHODS, method)) {
      this.core.run(KV_METHODS[method as KvMethodName], args[0], args[1], args[2], args[3], this.timing ? new TimedKvReply(this, reply) : new KvReply(reply));
      return;
    }
    switch (method) {
      case 'connect':
        this.core.connect((err) => reply(err));
        return;
      case 'n1ql':
      case 'view':
        reply(null, this.open(method, args));
        return;
      case 'pull': {
        const s = this.streams.get(args[0] as number);
        if (!s) return reply(new Error(`no such stream ${String(args[0])}`));
        s.pull((err, value) => {
          if (err || (value as [unknown, boolean])[1]) this.streams.delete(args[0] as number);
          reply(err, value);
        });
        return;
      }
      case 'cancel': {
        const s = this.streams.get(args[0] as number);
        this.streams.delete(args[0] as number);
        s?.cancel();
        reply(null);
        return;
      }
      case 'manage': {
        // management calls, ping and diagnostics: their outcome goes back as a KV call's does
        this.core.manage(args[0] as string, args[1] as unknown[], new KvReply(reply));
        return;
      }
      case 'info':
        reply(null, this.core.info());
        return;
      case 'setting':
        reply(null, this.core.setting(args[0] as string));
        return;
      case 'set':
        this.core.set(args[0] as string, args[1]);
        reply(null);
        return;
      case 'durability':
        // no argument: read the context's requirements; one: set them (null ends the context)
        if (args.length > 0) this.core.durability = (args[0] as DurabilityDefaults | null) ?? null;
        reply(null, this.core.durability);
        return;
      case 'batch': {
        // a pipeline's calls, all at once; [error, result] for each, in order
        const calls = args[0] as Array<[string, unknown[]]>;
        const out: Array<[Error | null, unknown]> = new Array(calls.length);
        let left = calls.length;
        if (left === 0) return reply(null, out);
        calls.forEach(([m, a], i) => {
          const done = (err: Error | null | undefined, result?: unknown): void => {
            if (err) breakSelfRefs(err);
            out[i] = [err ?? null, result];
            if (--left === 0) reply(null, out);
          };
          if (!Object.prototype.hasOwnProperty.call(KV_METHODS, m)) return done(new TypeError(`unknown bucket method "${m}"`));
          this.core.run(KV_METHODS[m as KvMethodName], a[0], a[1], a[2], a[3], { kvDone: done });
        });
        return;
      }
      case 'mutationTokens':
        reply(null, this.core.mutationTokens());
        return;
      case 'addBucketCreds':
        this.core.addBucketCreds(args[0] as string, args[1] as string);
        reply(null);
        return;
      case 'transcodeInCaller':
        // setJsonConverters() ran in the caller: it encodes and decodes documents from now on.
        if (this.transcoder) this.transcoder.passThrough = true;
        reply(null, this.transcoder !== undefined);
        return;
      case 'timeEngine':
        // performance.now() per call (a double; hrtime.bigint() would allocate two BigInts).
        this.timing = args[0] === true;
        reply(null);
        return;
      case 'engineTime': {
        // Per-call samples (oldest first when no more than the ring holds) as raw float64 bytes.
        const n = Math.min(this.engineCalls, this.engineSamples.length);
        const samples = Buffer.from(this.engineSamples.buffer, 0, n * 8);
        const out = { ns: this.engineNs, calls: this.engineCalls, samples };
        this.engineNs = 0;
        this.engineCalls = 0;
        reply(null, out);
        return;
      }
      case 'streamState': {
        const s = this.streams.get(args[0] as number);
        reply(null, s ? { queued: s.queuedRows, paused: s.isPaused } : null);
        return;
      }
      case 'close':
        for (const s of this.streams.values()) s.cancel();
        this.streams.clear();
        this.core.close((err) => {
          reply(err);
          this.onClosed();
        });
        return;
      default:
        reply(new TypeError(`unknown blocking bucket request "${method}"`));
    }
  }

  /** @internal One KV call's engine time (ns), from TimedKvReply. */
  recordEngineTime(ns: number): void {
    this.engineNs += ns;
    this.engineSamples[this.engineCalls++ & (this.engineSamples.length - 1)] = ns;
  }

  private open(kind: 'n1ql' | 'view', args: unknown[]): number {
    const id = this.nextStream++;
    let includeDocs = false;
    if (kind === 'view') {
      const o = (args[2] ?? {}) as Record<string, unknown>;
      includeDocs = Boolean(o.includeDocs ?? o.include_docs);
    }
    const buf = new StreamBuffer(!includeDocs, this.limits);
    this.streams.set(id, buf);
    buf.control =
      kind === 'n1ql'
        ? this.core.n1ql(args[0], buf)
        : this.core.view(args[0] as string, args[1] as string, args[2] as Record<string, unknown> | undefined, buf);
    return id;
  }
}

/** What a cluster host module provides (see cluster-host.ts). */
export interface ClusterHostModule {
  createClusterHost(notify: (event: unknown) => void): ChannelHandler & { stop(cb: () => void): void };
}

function engineFor(data: BucketWorkerData, transcoder: WorkerTranscoder): EngineLike {
  // A caller with its own transcoder sends documents encoded and decodes what comes back.
  const options = { ...data.options, transcoder };
  if (!data.engineModule) return createEngine(data.connstr, options);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(data.engineModule) as { createEngine(c: string, o: Record<string, unknown>): EngineLike | CallbackEngineLike };
  return adoptEngine(mod.createEngine(data.connstr, options));
}

/**
 * The longest a bucket hosted on a cluster's thread spins for its caller's next request (us):
 * the cluster's sockets wait while it spins, so it spins less than a bucket's own worker does.
 */
export const HOSTED_SPIN_MICROS = 50;

/** Blocking buckets served on the cluster's thread, beside the cluster (see cluster-threads.ts). */
class HostedBuckets {
  private readonly servers = new Map<ChannelServer, BucketHost>();

  /** Starts serving one bucket; it stops when the bucket closes or the cluster stops. */
  add(data: BucketWorkerData): void {
    let engine: EngineLike;
    const transcoder = new WorkerTranscoder(data.callerTranscodes === true);
    try {
      engine = engineFor(data, transcoder);
    } catch (err) {
      // The caller is in waitReady(): it throws this. The cluster itself is unharmed.
      reportStartFailure(data.buffers, data.port, err);
      return;
    }
    let server: ChannelServer;
    const host = new BucketHost(
      engine,
      data.limits,
      () => {
        this.servers.delete(server);
        server.stop(ChannelState.CLOSED);
        data.port.close();
      },
      transcoder,
    );
    server = new ChannelServer(data.buffers, data.port, host, {
      registry: sharedRegistry(),
      spinMicros: Math.min(data.serverSpinMicros ?? HOSTED_SPIN_MICROS, HOSTED_SPIN_MICROS),
    });
    this.servers.set(server, host);
    server.start();
  }

  /** Closes every hosted bucket (their callers then get the ObjectDestroyedError their Bucket gave its ChannelCaller as closedError). */
  closeAll(cb: () => void): void {
    let left = this.servers.size;
    if (left === 0) return cb();
    for (const host of [...this.servers.values()]) host.handle('close', [], () => --left === 0 && cb());
  }

  crashAll(err: unknown): void {
    for (const server of this.servers.keys()) server.crash(err);
  }
}

function main(data: WorkerData): void {
  // A pending Atomics.waitAsync does not keep a thread alive; this timer does, until close.
  const keepAlive = setInterval(() => {}, 1 << 30);
  let server: ChannelServer;
  const hosted = new HostedBuckets();
  const shutdown = (): void => {
    clearInterval(keepAlive);
    server.stop(ChannelState.CLOSED);
    data.port.close();
  };
  let handler: ChannelHandler;
  if (data.kind === 'bucket') {
    const transcoder = new WorkerTranscoder(data.callerTranscodes === true);
    handler = new BucketHost(engineFor(data, transcoder), data.limits, () => setImmediate(shutdown), transcoder);
  } else if (data.kind === 'admin') {
    handler = adminHandler(data, shutdown);
  } else {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(data.clusterModule ?? './cluster-host') as ClusterHostModule;
    const host = mod.createClusterHost((event) => parentPort?.postMessage(event));
    // Blocking buckets opened on this cluster from the process that started it run here.
    parentPort?.on('message', (msg: { deferbaseHostBucket?: BucketWorkerData }) => {
      if (msg?.deferbaseHostBucket) hosted.add(msg.deferbaseHostBucket);
    });
    // Listening must not keep the thread alive: keepAlive does, until stop.
    parentPort?.unref();
    handler = {
      handle(method, args, reply) {
        if (method === 'stop') {
          hosted.closeAll(() =>
            host.stop(() => {
              reply(null);
              setImmediate(shutdown);
            }),
          );
          return;
        }
        host.handle(method, args, reply);
      },
    };
  }
  server = new ChannelServer(data.buffers, data.port, handler, {
    registry: sharedRegistry(),
    spinMicros: data.kind === 'bucket' ? data.serverSpinMicros : 0,
  });
  process.on('uncaughtException', (err) => {
    debug('worker crashed: %s', err.stack);
    hosted.crashAll(err);
    server.crash(err);
    clearInterval(keepAlive);
    process.exit(1);
  });
  server.start();
}

/** Entry point, called by lib/sync-rpc's worker entry once this module (and everything it imports) has loaded. */
export function runWorker(data: WorkerData): void {
  main(data);
}
