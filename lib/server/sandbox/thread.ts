// Starting a sandbox thread: the worker that runs untrusted JavaScript (see ./realm.ts for what
// runs inside). Its heap is capped, so code that allocates without end ends that thread only; it
// gets no environment, arguments or standard input; and it runs with the flag the realm's import()
// refusal needs. What a service does when the thread breaks a limit is the service's policy.
//
// The cap is enforced by ./heap-watch.ts, not by V8's limit alone: that limit, reached by one
// large allocation, aborts the whole process. So the thread's V8 limit sits HARD_LIMIT_FACTOR
// times above the sandbox's own, where an object or string doubling its store from the sandbox's
// limit cannot reach it, and the watch stops the thread once its heap passes the sandbox's limit.
import { Worker, type Transferable } from 'node:worker_threads';
import { canWatchHeaps, watchHeap } from './heap-watch';

export interface SandboxThreadOptions {
  /** Heap (old generation) of the thread, in MB. */
  readonly memoryLimitMb: number;
  /** Passed to the worker as `workerData`. */
  readonly workerData?: unknown;
  /** Objects transferred with workerData (MessagePorts). */
  readonly transferList?: readonly Transferable[];
}

const HARD_LIMIT_FACTOR = 4;
const MB = 1024 * 1024;

/** Starts `file` (a compiled worker module) as a sandbox thread. */
export function spawnSandboxThread(file: string, options: SandboxThreadOptions): Worker {
  // Without the inspector (a Node built without it) heaps cannot be watched: V8's limit is the sandbox's.
  const watching = canWatchHeaps();
  const worker = new Worker(file, {
    resourceLimits: { maxOldGenerationSizeMb: options.memoryLimitMb * (watching ? HARD_LIMIT_FACTOR : 1) },
    env: {},
    argv: [],
    // --experimental-vm-modules: the hook that refuses import() (see ./realm.ts);
    // --no-warnings: what user code provokes (a promise rejection handled late) is not the server's to print.
    execArgv: ['--experimental-vm-modules', '--no-warnings'],
    stdin: false,
    workerData: options.workerData,
    transferList: options.transferList as Transferable[] | undefined,
  });
  const limitBytes = options.memoryLimitMb * MB;
  if (watching) {
    watchHeap(worker, limitBytes, (used) => {
      worker.emit('error', new SandboxOutOfMemoryError(used, limitBytes));
      void worker.terminate().catch(() => undefined);
    });
  }
  return worker;
}

/** The 'error' a sandbox thread emits when it passed its memory limit (as Node's own would be). */
export class SandboxOutOfMemoryError extends Error {
  readonly code = 'ERR_WORKER_OUT_OF_MEMORY';
  constructor(readonly usedBytes: number, limitBytes: number) {
    super(`the sandbox thread's heap reached ${Math.round(usedBytes / MB)} MB, past its limit of ${Math.round(limitBytes / MB)} MB`);
    this.name = 'SandboxOutOfMemoryError';
  }
}

/** Whether a worker's 'error' event says it ran out of its heap. */
export function isOutOfMemory(err: Error & { code?: string }): boolean {
  return err.code === 'ERR_WORKER_OUT_OF_MEMORY';
}
