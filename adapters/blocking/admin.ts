// Python's couchbase.admin.Admin for gcouchbase-style code: each call blocks until the REST
// answer is in. Its HTTP runs in a worker thread of its own, as a blocking Bucket's engine does.
import { MessageChannel, Worker } from 'node:worker_threads';
import { ChannelCaller, ChannelState, createChannelBuffers, WORKER_ENTRY } from '../../lib/sync-rpc';
import { ObjectDestroyedError } from '../../lib/engine/errors';
import type { HttpResult } from '../../lib/engine/results';
import { adminTarget, defineAdminMethods, type AdminCalls, type AdminOptions } from '../common/admin';
import { WORKER_MAIN } from './bucket';
import { sharedRegistry } from './registry';
import type { AdminWorkerData } from './worker-main';

type BlockingAdmin = { [M in keyof AdminCalls]: (...args: AdminCalls[M]) => HttpResult };

/** Longest a call waits for its answer (the HTTP timeout fires first). */
const CALL_WAIT_MS = 120_000;

export interface Admin extends BlockingAdmin {}

export class Admin {
  private readonly worker: Worker;
  private readonly channel: ChannelCaller;
  private closedFlag = false;

  /** Connects at once (Python's Admin does): bad credentials raise AuthError here. */
  constructor(username: string, password: string, host?: string | AdminOptions, port?: number, options?: AdminOptions & { connectWait?: number }) {
    const connstr = adminTarget(host, port, options);
    const buffers = createChannelBuffers();
    const { port1, port2 } = new MessageChannel();
    const data: AdminWorkerData & { syncRpcMain: string } = { syncRpcMain: WORKER_MAIN, kind: 'admin', buffers, port: port2, connstr, username, password };
    this.worker = new Worker(WORKER_ENTRY, { workerData: data, transferList: [port2] });
    this.worker.unref();
    port1.unref();
    this.channel = new ChannelCaller(buffers, port1, { registry: sharedRegistry(), captureStack: (err) => Error.captureStackTrace(err, Admin.prototype.invoke) });
    const waitMs = ((typeof host === 'object' ? (host as { connectWait?: number }).connectWait : options?.connectWait) ?? 30) * 1000;
    try {
      this.channel.waitReady(waitMs);
      this.invoke('connect', [], waitMs);
    } catch (err) {
      this.closedFlag = true;
      void this.worker.terminate();
      throw err;
    }
  }

  /** @internal */
  invoke(method: string, args: unknown[], waitMs: number = CALL_WAIT_MS): unknown {
    if (this.closedFlag) throw new ObjectDestroyedError('the Admin was closed; make a new one');
    return this.channel.call(method, args, waitMs);
  }

  /** Releases the HTTP connections and the worker thread. */
  close(): void {
    if (this.closedFlag) return;
    try {
      if (this.channel.state === ChannelState.READY) this.invoke('close', [], 10_000);
    } finally {
      this.closedFlag = true;
      this.channel.markClosed();
    }
  }
}

defineAdminMethods(Admin.prototype, (a, name, args) => a.invoke(name, args));
