// How the thread meant to serve a blocking channel tells the caller waiting in waitReady() that
// it could not start, and why. No runtime imports (the word layout is inlined const enums), so
// worker.ts can use it even when the rest of the blocking code fails to load.
import type { MessagePort } from 'node:worker_threads';
import { ChannelState, Word } from './control-words';

export function reportStartFailure(buffers: { ctrl: SharedArrayBuffer }, port: MessagePort, err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  try {
    port.postMessage({ startError: { name: e.name, message: e.message, stack: e.stack } });
  } catch {
    // The caller still wakes and reports a generic start failure.
  }
  const ctrl = new Int32Array(buffers.ctrl);
  Atomics.store(ctrl, Word.STATE, ChannelState.CRASHED);
  Atomics.notify(ctrl, Word.STATE);
}
