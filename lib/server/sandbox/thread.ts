// Starting a sandbox thread: the worker that runs untrusted JavaScript (see ./realm.ts for what
// runs inside). Its heap is capped, so code that allocates without end ends that thread only; it
// gets no environment, arguments or standard input; and it runs with the flag the realm's import()
// refusal needs. What a service does when the thread breaks a limit is the service's policy.
import { Worker, type Transferable } from 'node:worker_threads';

export interface SandboxThreadOptions {
  /** Heap (old generation) of the thread, in MB. */
  readonly memoryLimitMb: number;
  /** Passed to the worker as `workerData`. */
  readonly workerData?: unknown;
  /** Objects transferred with workerData (MessagePorts). */
  readonly transferList?: readonly Transferable[];
}

/** Starts `file` (a compiled worker module) as a sandbox thread. */
export function spawnSandboxThread(file: string, options: SandboxThreadOptions): Worker {
  return new Worker(file, {
    resourceLimits: { maxOldGenerationSizeMb: options.memoryLimitMb },
    env: {},
    argv: [],
    // --experimental-vm-modules: the hook that refuses import() (see ./realm.ts);
    // --no-warnings: what user code provokes (a promise rejection handled late) is not the server's to print.
    execArgv: ['--experimental-vm-modules', '--no-warnings'],
    stdin: false,
    workerData: options.workerData,
    transferList: options.transferList as Transferable[] | undefined,
  });
}

/** Whether a worker's 'error' event says it ran out of its heap. */
export function isOutOfMemory(err: Error & { code?: string }): boolean {
  return err.code === 'ERR_WORKER_OUT_OF_MEMORY';
}
