// Worker thread entry. Besides node:worker_threads it loads only start-failure.ts, which has no
// runtime imports of its own, so that a failure while loading the real code (a missing module,
// a syntax error) is reported to the blocked caller instead of leaving it waiting for a thread
// that died before it could say so.
import { isMainThread, workerData, type MessagePort } from 'node:worker_threads';
import { reportStartFailure } from './start-failure';

interface Bootstrap {
  deferbaseBlocking?: boolean;
  buffers: { ctrl: SharedArrayBuffer };
  port: MessagePort;
}

if (!isMainThread && workerData && (workerData as Bootstrap).deferbaseBlocking) {
  const data = workerData as Bootstrap;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const impl = require('./worker-main') as typeof import('./worker-main');
    impl.runWorker(workerData as import('./worker-main').WorkerData);
  } catch (err) {
    reportStartFailure(data.buffers, data.port, err);
    process.exit(1);
  }
}
