// Worker thread entry. It imports nothing but node:worker_threads and the channel's word
// layout (const enums, inlined when compiled), so that a failure while loading the real code (a missing module, a
// syntax error) is reported to the blocked caller instead of leaving it waiting for a thread
// that died before it could say so.
import { isMainThread, workerData, type MessagePort } from 'node:worker_threads';
import { ChannelState, Word } from './control-words';

interface Bootstrap {
  deferbaseBlocking?: boolean;
  buffers: { ctrl: SharedArrayBuffer };
  port: MessagePort;
}

function reportFailure(data: Bootstrap, err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  try {
    data.port.postMessage({ startError: { name: e.name, message: e.message, stack: e.stack } });
  } catch {
    // The caller still wakes and reports a generic start failure.
  }
  const ctrl = new Int32Array(data.buffers.ctrl);
  Atomics.store(ctrl, Word.STATE, ChannelState.CRASHED);
  Atomics.notify(ctrl, Word.STATE);
}

if (!isMainThread && workerData && (workerData as Bootstrap).deferbaseBlocking) {
  const data = workerData as Bootstrap;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const impl = require('./worker-main') as typeof import('./worker-main');
    impl.runWorker(workerData as import('./worker-main').WorkerData);
  } catch (err) {
    reportFailure(data, err);
    process.exit(1);
  }
}
