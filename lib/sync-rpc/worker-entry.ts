// Worker thread entry: start a Worker on this file with workerData carrying `syncRpcMain`, the
// absolute path of a module exporting `runWorker(workerData)`. Besides node:worker_threads it
// loads only start-failure.ts, which has no runtime imports of its own, so that a failure while
// loading the real code (a missing module, a syntax error) is reported to the blocked caller
// instead of leaving it waiting for a thread that died before it could say so.
import * as path from 'node:path';
import { isMainThread, workerData, type MessagePort } from 'node:worker_threads';
import { reportStartFailure } from './start-failure';

/** This file, for `new Worker(WORKER_ENTRY, { workerData: { syncRpcMain, buffers, port, ... } })`. */
export const WORKER_ENTRY = path.join(__dirname, 'worker-entry.js');

/** What workerData must carry (besides whatever the main module reads). */
export interface WorkerBootstrap {
  /** Absolute path of the module whose `runWorker(workerData)` serves the channel. */
  syncRpcMain: string;
  buffers: { ctrl: SharedArrayBuffer };
  port: MessagePort;
}

if (!isMainThread && workerData && typeof (workerData as Partial<WorkerBootstrap>).syncRpcMain === 'string') {
  const data = workerData as WorkerBootstrap;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const impl = require(data.syncRpcMain) as { runWorker(data: unknown): void };
    impl.runWorker(workerData);
  } catch (err) {
    reportStartFailure(data.buffers, data.port, err);
    process.exit(1);
  }
}
