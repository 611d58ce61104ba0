// Watching the heaps of sandbox threads from the main thread. A worker's own heap limit is not
// enough: when the heap reaches V8's limit, Node gives the worker 16 MB of leeway to stop, and one
// allocation bigger than that (an object with millions of keys doubling its dictionary, a string
// or array doubling its store) is a fatal out-of-memory error that aborts the whole process — KV
// and every service with it. So a sandbox thread runs with a V8 limit well above its own (see
// ./thread.ts) and this watch stops it once its heap passes its own.
//
// A busy thread cannot answer a message, so the heap is read through the inspector: the main
// thread's session reaches each worker (the NodeWorker domain) and asks for Runtime.getHeapUsage,
// which V8 answers between two steps of the running code. Nothing here evaluates or pauses code.
import type { Worker } from 'node:worker_threads';

type InspectorModule = typeof import('node:inspector');

/** Between two reads of a heap. At 20 ms the polling cost view index builds about 4% (bench/views); at 50 ms nothing measurable. */
const POLL_MS = 50;
/** A question can go unanswered (a worker's inspector session replaced while it was in flight). */
const ASK_AGAIN_MS = 500;

interface Watched {
  readonly worker: Worker;
  readonly limitBytes: number;
  readonly onOver: (usedBytes: number) => void;
  /** When the question in flight was asked (0: none); one unanswered for ASK_AGAIN_MS is asked again. */
  asked: number;
}

class HeapWatch {
  private session: import('node:inspector').Session | undefined;
  /** Inspector session ids of attached workers, by thread id. */
  private readonly attached = new Map<number, string>();
  private readonly watched = new Map<number, Watched>();
  /** Questions in flight, by message id. */
  private readonly questions = new Map<number, Watched>();
  private nextId = 1;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly module: InspectorModule) {}

  watch(entry: Omit<Watched, 'asked'>): void {
    this.watched.set(entry.worker.threadId, { ...entry, asked: 0 });
    entry.worker.once('exit', () => this.unwatch(entry.worker.threadId));
    this.open();
  }

  private unwatch(threadId: number): void {
    this.watched.delete(threadId);
    for (const [id, w] of this.questions) if (w.worker.threadId === threadId) this.questions.delete(id);
    this.attached.delete(threadId);
    if (this.watched.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /**
   * Connects once and stays attached to the process's workers: a second session's
   * NodeWorker.enable after a first one disconnected does not report new workers (Node 20).
   */
  private open(): void {
    if (this.session === undefined) {
      const session = new this.module.Session();
      session.connect();
      session.on('NodeWorker.attachedToWorker', (m: { params: { sessionId: string; workerInfo: { workerId: string } } }) => {
        this.attached.set(Number(m.params.workerInfo.workerId), m.params.sessionId);
      });
      session.on('NodeWorker.detachedFromWorker', (m: { params: { sessionId: string } }) => {
        for (const [id, sid] of this.attached) if (sid === m.params.sessionId) this.attached.delete(id);
      });
      session.on('NodeWorker.receivedMessageFromWorker', (m: { params: { message: string } }) => this.received(m.params.message));
      session.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
      this.session = session;
    }
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.poll(), POLL_MS);
      this.timer.unref();
    }
  }

  private poll(): void {
    const now = Date.now();
    for (const [threadId, w] of this.watched) {
      const sessionId = this.attached.get(threadId);
      if ((w.asked > 0 && now - w.asked < ASK_AGAIN_MS) || sessionId === undefined) continue;
      const id = this.nextId++;
      w.asked = now;
      this.questions.set(id, w);
      this.session!.post('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method: 'Runtime.getHeapUsage' }) });
    }
  }

  private received(message: string): void {
    let reply: { id?: number; result?: { usedSize?: number } };
    try {
      reply = JSON.parse(message) as typeof reply;
    } catch {
      return;
    }
    const w = reply.id === undefined ? undefined : this.questions.get(reply.id);
    if (w === undefined) return;
    this.questions.delete(reply.id!);
    w.asked = 0;
    const used = reply.result?.usedSize;
    if (typeof used !== 'number' || used <= w.limitBytes || !this.watched.has(w.worker.threadId)) return;
    this.unwatch(w.worker.threadId);
    w.onOver(used);
  }
}

let shared: HeapWatch | null | undefined;

function heapWatch(): HeapWatch | null {
  if (shared === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      shared = new HeapWatch(require('node:inspector') as InspectorModule);
    } catch {
      shared = null; // a Node built without the inspector
    }
  }
  return shared;
}

/** Whether this Node can watch worker heaps (false when built without the inspector). */
export function canWatchHeaps(): boolean {
  return heapWatch() !== null;
}

/** Calls `onOver` once `worker`'s heap passes `limitBytes` (checked every POLL_MS); see canWatchHeaps. */
export function watchHeap(worker: Worker, limitBytes: number, onOver: (usedBytes: number) => void): void {
  heapWatch()?.watch({ worker, limitBytes, onOver });
}
