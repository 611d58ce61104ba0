// The blocking caller's side and the worker's side of one request/response channel.
//
// Layout: a small Int32Array of control words and two byte areas, all on SharedArrayBuffers.
// The caller writes a request into its area and bumps REQ_SEQ; the worker (spinning right after
// an answer, else parked in Atomics.waitAsync so its event loop keeps running the engine)
// answers into the response area and stores RESP_SEQ. The caller spins on RESP_SEQ for a learned
// window (most KV answers land within it) and then sleeps in Atomics.wait. Anything too big for
// an area goes through a MessagePort instead, read synchronously with receiveMessageOnPort.
//
// Exactly one request is outstanding at a time: the caller is blocked while it waits.
//
// CALLER_PARKED is 1 while the caller sleeps in Atomics.wait, SERVER_PARKED while the worker
// waits in Atomics.waitAsync. Each side notifies only when the other is parked: a side that
// spins sees the sequence word change by itself, and Atomics.notify costs a global lock (and,
// for an async waiter, a task posted to the other thread's loop). Safe because both words are
// sequentially consistent: a side stores its PARKED word before it reads the sequence word it
// waits on, and the other side stores the sequence word before it reads PARKED, so at least one
// of them sees the other's store. Where each word lives is in control-words.ts.
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { ClassRegistry, Decoder, Encoder } from './codec';
import { ChannelState, Word } from './control-words';
import { AdaptiveSpin } from './adaptive-spin';

const REQ_SEQ = Word.REQ_SEQ;
const RESP_SEQ = Word.RESP_SEQ;
const REQ_LEN = Word.REQ_LEN;
const RESP_LEN = Word.RESP_LEN;
const RESP_KIND = Word.RESP_KIND;
const STATE = Word.STATE;
const CALLER_PARKED = Word.CALLER_PARKED;
const SERVER_PARKED = Word.SERVER_PARKED;
const CTRL_WORDS = Word.COUNT;

export { ChannelState };
export { reportStartFailure } from './start-failure';

const enum RespKind {
  OK = 0,
  ERROR = 1,
}

const VIA_PORT = -1;

/**
 * The caller's longest spin (microseconds). A KV round trip through a worker and a cluster takes
 * 50-200 us on a loaded two-core machine; the learned window covers it, and waits longer than
 * this (queries) go straight to sleep.
 */
const DEFAULT_CALLER_SPIN_MICROS = 1000;

// Node >= 16 has Atomics.waitAsync; the ES2022 lib typings do not describe it yet.
type WaitAsync = (
  arr: Int32Array,
  index: number,
  value: number,
  timeout?: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

export interface ChannelBuffers {
  ctrl: SharedArrayBuffer;
  request: SharedArrayBuffer;
  response: SharedArrayBuffer;
}

export function createChannelBuffers(requestBytes = 256 * 1024, responseBytes = 1024 * 1024): ChannelBuffers {
  return {
    ctrl: new SharedArrayBuffer(CTRL_WORDS * 4),
    request: new SharedArrayBuffer(requestBytes),
    response: new SharedArrayBuffer(responseBytes),
  };
}

/** Raised in the caller when the worker is gone or does not answer in time. */
export class ChannelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChannelError';
  }
}

export interface CallerOptions {
  registry: ClassRegistry;
  /** The longest the caller spins before sleeping, in microseconds (the window itself is learned). */
  spinMicros?: number;
  /** Called with each error the worker sent, before it is thrown, to give it the caller's stack. */
  captureStack?(err: Error): void;
  /** The error a call on a channel the other side closed throws (default: ChannelError "the bucket is closed"). */
  closedError?(): Error;
}

const now = (): number => performance.now();

/**
 * Puts an encoded message where the other side will look for it: into the shared area when it
 * fits, else onto the port; `lenWord` says which (a byte count, or VIA_PORT).
 */
function sendPayload(enc: Encoder, area: Buffer, port: MessagePort, ctrl: Int32Array, lenWord: number): void {
  const n = enc.pos;
  if (enc.buf === area) {
    // Encoded in place (the usual case): nothing to copy.
    Atomics.store(ctrl, lenWord, n);
  } else if (n <= area.length) {
    enc.buf.copy(area, 0, 0, n);
    Atomics.store(ctrl, lenWord, n);
  } else {
    port.postMessage(enc.bytes().slice());
    Atomics.store(ctrl, lenWord, VIA_PORT);
  }
  // The other side will read it: the shapes it defined are now known there.
  enc.commit();
}

/**
 * The other side of sendPayload: a buffer that starts with the message, given the length word
 * it stored. That is the shared area itself when the message is there (the decoder reads a
 * message by its own structure, so no view of its exact length is made for each call).
 */
function receivePayload(len: number, area: Buffer, port: MessagePort, missing: string): Buffer {
  if (len !== VIA_PORT) return area;
  const msg = receiveMessageOnPort(port);
  if (!msg) throw new ChannelError(missing);
  const bytes = msg.message as Uint8Array;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** What both ends hold: views of the shared control words and areas, and their codec. */
abstract class ChannelEnd {
  protected readonly ctrl: Int32Array;
  protected readonly reqArea: Buffer;
  protected readonly respArea: Buffer;
  protected readonly encoder: Encoder;
  protected readonly decoder: Decoder;
  protected readonly spin: AdaptiveSpin;

  constructor(
    buffers: ChannelBuffers,
    protected readonly port: MessagePort,
    registry: ClassRegistry,
    decoderOptions: ConstructorParameters<typeof Decoder>[1],
    spinMicros: number,
    /** Which area this end writes: the caller writes requests, the worker responses. */
    writes: 'request' | 'response',
  ) {
    this.ctrl = new Int32Array(buffers.ctrl);
    this.reqArea = Buffer.from(buffers.request);
    this.respArea = Buffer.from(buffers.response);
    // Each end writes its messages straight into the area the other end reads.
    this.encoder = new Encoder(registry, writes === 'request' ? this.reqArea : this.respArea);
    this.decoder = new Decoder(registry, decoderOptions);
    this.spin = new AdaptiveSpin(spinMicros / 1000);
  }
}

export class ChannelCaller extends ChannelEnd {
  private seq = 0;
  private busy = false;
  private readonly closedError: () => Error;

  constructor(buffers: ChannelBuffers, port: MessagePort, options: CallerOptions) {
    super(buffers, port, options.registry, { captureStack: options.captureStack }, options.spinMicros ?? DEFAULT_CALLER_SPIN_MICROS, 'request');
    this.closedError = options.closedError ?? (() => new ChannelError('the bucket is closed'));
  }

  get state(): ChannelState {
    return Atomics.load(this.ctrl, STATE) as ChannelState;
  }

  /** Blocks until the worker reports READY; throws what stopped it from starting otherwise. */
  waitReady(timeoutMs: number): void {
    const deadline = now() + timeoutMs;
    for (;;) {
      const st = Atomics.load(this.ctrl, STATE);
      if (st === ChannelState.READY) return;
      if (st !== ChannelState.STARTING) {
        const msg = receiveMessageOnPort(this.port)?.message as { startError?: { name: string; message: string; stack?: string } } | undefined;
        const info = msg?.startError;
        if (info) {
          const err = new ChannelError(`the blocking worker failed to start: ${info.name}: ${info.message}`);
          (err as { cause?: unknown }).cause = info.stack;
          throw err;
        }
        throw new ChannelError('the blocking worker exited while starting');
      }
      const left = deadline - now();
      if (left <= 0) throw new ChannelError(`the blocking worker did not start within ${timeoutMs} ms`);
      Atomics.wait(this.ctrl, STATE, ChannelState.STARTING, Math.min(left, 100));
    }
  }

  /**
   * Sends `method(args)` to the worker and blocks until it answers. Returns the decoded value or
   * throws the decoded error. `timeoutMs` bounds the wait (the worker applies its own op timeouts;
   * this only guards against a worker that is gone).
   */
  call(method: string, args: unknown[], timeoutMs: number): unknown {
    if (this.busy) throw new ChannelError('blocking bucket re-entered while a call was in progress');
    const st = Atomics.load(this.ctrl, STATE);
    if (st !== ChannelState.READY) {
      throw st === ChannelState.CLOSED ? this.closedError() : new ChannelError('the blocking worker is not running');
    }
    this.busy = true;
    try {
      const enc = this.encoder.reset();
      enc.write(method).write(args);
      sendPayload(enc, this.reqArea, this.port, this.ctrl, REQ_LEN);
      const seq = (this.seq = (this.seq + 1) | 0);
      Atomics.store(this.ctrl, REQ_SEQ, seq);
      if (Atomics.load(this.ctrl, SERVER_PARKED) !== 0) Atomics.notify(this.ctrl, REQ_SEQ);
      this.await(seq, timeoutMs);
      const len = Atomics.load(this.ctrl, RESP_LEN);
      const kind = Atomics.load(this.ctrl, RESP_KIND);
      const value = this.decoder.decode(
        receivePayload(len, this.respArea, this.port, 'the blocking worker announced a large answer but sent none'),
      );
      if (kind === RespKind.ERROR) throw value;
      return value;
    } finally {
      this.busy = false;
    }
  }

  private await(seq: number, timeoutMs: number): void {
    const ctrl = this.ctrl;
    if (Atomics.load(ctrl, RESP_SEQ) === seq) return;
    // Spin first: a KV answer arrives within a learned window most of the time, and a futex
    // sleep plus the wake-up of an idle CPU costs more than the spin.
    const start = now();
    const window = this.spin.window();
    if (window > 0) {
      const spinUntil = start + window;
      for (let i = 1; ; i++) {
        if (Atomics.load(ctrl, RESP_SEQ) === seq) return this.spin.record(now() - start, true, true);
        if ((i & 63) === 0 && now() >= spinUntil) break;
      }
    }
    this.sleep(seq, start, window > 0, timeoutMs);
  }

  /**
   * The slow path, kept out of await() (with its own bookkeeping) so the spin loop's optimized
   * code stays small: arithmetic on a rarely taken path there deoptimized it again and again.
   */
  private sleep(seq: number, start: number, spun: boolean, timeoutMs: number): void {
    const ctrl = this.ctrl;
    const deadline = start + timeoutMs;
    Atomics.store(ctrl, CALLER_PARKED, 1);
    try {
      for (;;) {
        const prev = Atomics.load(ctrl, RESP_SEQ);
        if (prev === seq) return this.spin.record(now() - start, spun, false);
        const st = Atomics.load(ctrl, STATE);
        if (st === ChannelState.CRASHED) throw this.crashError();
        const left = deadline - now();
        if (left <= 0) throw new ChannelError(`the blocking worker did not answer within ${Math.round(timeoutMs)} ms`);
        Atomics.wait(ctrl, RESP_SEQ, prev, left < 250 ? left : 250);
      }
    } finally {
      Atomics.store(ctrl, CALLER_PARKED, 0);
    }
  }

  private crashError(): ChannelError {
    const msg = receiveMessageOnPort(this.port)?.message as { crashError?: { name: string; message: string; stack?: string } } | undefined;
    const info = msg?.crashError;
    const err = new ChannelError(info ? `the blocking worker crashed: ${info.name}: ${info.message}` : 'the blocking worker crashed');
    if (info) (err as { cause?: unknown }).cause = info.stack;
    return err;
  }

  /** Marks the channel closed on this side (the worker may already be gone). */
  markClosed(): void {
    Atomics.store(this.ctrl, STATE, ChannelState.CLOSED);
    Atomics.notify(this.ctrl, REQ_SEQ);
  }
}

export type Reply = (err: unknown, value?: unknown) => void;

/** What the worker side dispatches requests to. */
export interface ChannelHandler {
  handle(method: string, args: unknown[], reply: Reply): void;
}

export interface ServerOptions {
  registry: ClassRegistry;
  /** Wait this long for the next request after answering (a short spin, then parked), in microseconds. */
  spinMicros?: number;
}

export class ChannelServer extends ChannelEnd {
  private lastSeq = 0;
  private stopped = false;
  private dispatching = false;
  private hasCaught = false;
  private caught = 0;
  /** When the last spin for a next request gave up (-1: it did not), to learn the real gap. */
  private missedSince = -1;

  constructor(
    buffers: ChannelBuffers,
    port: MessagePort,
    private readonly handler: ChannelHandler,
    options: ServerOptions,
  ) {
    super(buffers, port, options.registry, undefined, options.spinMicros ?? 200, 'response');
  }

  /** Announces readiness and starts serving. */
  start(): void {
    this.lastSeq = Atomics.load(this.ctrl, REQ_SEQ);
    Atomics.store(this.ctrl, STATE, ChannelState.READY);
    Atomics.notify(this.ctrl, STATE);
    this.arm();
  }

  /** The worker hit an uncaught exception: tell a waiting caller what it was, then stop. */
  crash(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    try {
      this.port.postMessage({ crashError: { name: e.name, message: e.message, stack: e.stack } });
    } catch {
      // The caller still learns that the worker crashed.
    }
    this.stop(ChannelState.CRASHED);
  }

  /** Stops serving and records why, waking a caller that may be waiting. */
  stop(state: ChannelState.CLOSED | ChannelState.CRASHED): void {
    this.stopped = true;
    Atomics.store(this.ctrl, STATE, state);
    Atomics.notify(this.ctrl, STATE);
    Atomics.notify(this.ctrl, RESP_SEQ);
  }

  private arm(): void {
    if (this.stopped) return;
    Atomics.store(this.ctrl, SERVER_PARKED, 1);
    const r = waitAsync(this.ctrl, REQ_SEQ, this.lastSeq);
    if (r.async) r.value.then(() => this.poll());
    else queueMicrotask(() => this.poll());
  }

  private poll(): void {
    if (this.stopped) return;
    Atomics.store(this.ctrl, SERVER_PARKED, 0);
    const seq = Atomics.load(this.ctrl, REQ_SEQ);
    if (seq === this.lastSeq) {
      this.arm();
      return;
    }
    this.lastSeq = seq;
    if (this.missedSince >= 0) {
      this.spin.record(now() - this.missedSince, true, false);
      this.missedSince = -1;
    }
    this.run(seq);
  }

  /**
   * Dispatches `seq` right away, on this stack: a request caught while waiting after an answer
   * that completed synchronously is left for the loop below, so a run of synchronous answers
   * does not nest. (A microtask instead would first unwind the socket callback that delivered
   * the previous answer, which costs several microseconds per call.)
   */
  private run(seq: number): void {
    if (this.dispatching) {
      this.caught = seq;
      this.hasCaught = true;
      return;
    }
    this.dispatching = true;
    try {
      for (;;) {
        this.hasCaught = false;
        this.dispatch(seq);
        if (!this.hasCaught || this.stopped) break;
        seq = this.caught;
      }
    } finally {
      this.dispatching = false;
    }
  }

  private dispatch(seq: number): void {
    let method: string;
    let args: unknown[];
    try {
      const len = Atomics.load(this.ctrl, REQ_LEN);
      const bytes = receivePayload(len, this.reqArea, this.port, 'request announced on the port but none arrived');
      const both = this.decoder.decodeSequence(bytes, 2);
      method = both[0] as string;
      args = both[1] as unknown[];
    } catch (err) {
      this.answer(seq, err, undefined);
      return;
    }
    let answered = false;
    try {
      this.handler.handle(method, args, (err, value) => {
        if (answered) return;
        answered = true;
        this.answer(seq, err, value);
      });
    } catch (err) {
      if (!answered) {
        answered = true;
        this.answer(seq, err, undefined);
      }
    }
  }

  private answer(seq: number, err: unknown, value: unknown): void {
    if (this.stopped && Atomics.load(this.ctrl, STATE) === ChannelState.CRASHED) return;
    const enc = this.encoder.reset();
    let kind = RespKind.OK;
    try {
      if (err !== undefined && err !== null) {
        kind = RespKind.ERROR;
        enc.write(err instanceof Error ? err : new Error(String(err)));
      } else {
        enc.write(value);
      }
    } catch (encodeErr) {
      kind = RespKind.ERROR;
      enc.reset().write(encodeErr);
    }
    sendPayload(enc, this.respArea, this.port, this.ctrl, RESP_LEN);
    Atomics.store(this.ctrl, RESP_KIND, kind);
    Atomics.store(this.ctrl, RESP_SEQ, seq);
    if (Atomics.load(this.ctrl, CALLER_PARKED) !== 0) Atomics.notify(this.ctrl, RESP_SEQ);
    this.spinForNext();
  }

  /**
   * A synchronous caller usually sends its next request right away; catching it here saves the
   * event-loop wake-up that Atomics.waitAsync costs (a task posted to this thread's loop). The
   * worker spins for the whole learned window (AdaptiveSpin: 10x the 90th percentile of the
   * caller's recent gaps, at most spinMicros) and does not park on the futex: measured on a
   * two-vCPU VM, a caller whose notify has to wake a parked worker pays 5-30 us for the syscall
   * and the idle vCPU's wake-up (p50 overhead 13.2/8.6/15.1 us parked, 8.4/6.0/9.9 spinning, in
   * alternating runs). The engine's I/O waits at most one window.
   */
  private spinForNext(): void {
    if (this.stopped) return;
    const window = this.spin.window();
    if (window > 0) {
      const start = now();
      const spinUntil = start + window;
      let seq = Atomics.load(this.ctrl, REQ_SEQ);
      for (let i = 1; seq === this.lastSeq; i++) {
        if ((i & 31) === 0 && now() >= spinUntil) break;
        seq = Atomics.load(this.ctrl, REQ_SEQ);
      }
      if (seq !== this.lastSeq && !this.stopped) {
        this.spin.record(now() - start, true, true);
        this.lastSeq = seq;
        this.run(seq);
        return;
      }
      // Recorded when the request does come (poll), so the learned window sees its real gap.
      this.missedSince = start;
    }
    this.arm();
  }
}
