// Worker side of a streamed query: rows from the engine wait here until the blocked caller pulls
// the next batch. Past HIGH_WATER queued rows the engine is paused (it stops reading its socket),
// and it resumes once the caller has drained below LOW_WATER, so memory stays flat however
// many rows the query returns.
import type { RowsHandler, StreamControl } from '../common/contract';
import { JsonText, type Reply } from '../../lib/sync-rpc';

export interface FlowLimits {
  /** Most rows handed over per pull. */
  batchRows: number;
  highWater: number;
  lowWater: number;
}

export const DEFAULT_LIMITS: FlowLimits = { batchRows: 1024, highWater: 8192, lowWater: 2048 };

/** What a pull answers: a batch of rows, whether the stream is over, and its meta when it is. */
export type PullAnswer = [rows: unknown, done: boolean, meta: unknown];

export class StreamBuffer implements RowsHandler {
  private batches: unknown[][] = [];
  private offset = 0;
  private queued = 0;
  private done = false;
  private meta: unknown = undefined;
  private error: Error | undefined;
  private parked: Reply | undefined;
  private paused = false;
  control: StreamControl | undefined;
  /** Rows are plain JSON (true for N1QL and views without includeDocs): send them as JSON text. */
  constructor(
    private readonly jsonRows: boolean,
    private readonly limits: FlowLimits = DEFAULT_LIMITS,
  ) {}

  get queuedRows(): number {
    return this.queued;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  onRows(rows: unknown[]): void {
    if (rows.length === 0) return;
    this.batches.push(rows);
    this.queued += rows.length;
    if (!this.paused && this.queued >= this.limits.highWater && this.control) {
      this.paused = true;
      this.control.pause();
    }
    this.serveParked();
  }

  onDone(meta: unknown): void {
    this.done = true;
    this.meta = meta;
    this.serveParked();
  }

  onError(err: Error): void {
    this.error = err;
    this.done = true;
    this.serveParked();
  }

  pull(reply: Reply): void {
    if (this.queued > 0 || this.done) this.serve(reply);
    else this.parked = reply;
  }

  cancel(): void {
    this.done = true;
    this.batches = [];
    this.queued = 0;
    this.control?.cancel();
    const parked = this.parked;
    this.parked = undefined;
    parked?.(null, [[], true, undefined] satisfies PullAnswer);
  }

  private serveParked(): void {
    const parked = this.parked;
    if (!parked) return;
    this.parked = undefined;
    this.serve(parked);
  }

  private serve(reply: Reply): void {
    if (this.queued === 0 && this.error) {
      reply(this.error);
      return;
    }
    const rows = this.take(this.limits.batchRows);
    const finished = this.done && this.queued === 0 && !this.error;
    if (this.paused && this.queued <= this.limits.lowWater) {
      this.paused = false;
      this.control?.resume();
    }
    let payload: unknown = rows;
    if (this.jsonRows) payload = new JsonText(JSON.stringify(rows));
    reply(null, [payload, finished, finished ? this.meta : undefined] satisfies PullAnswer);
  }

  private take(max: number): unknown[] {
    const first = this.batches[0];
    if (!first) return [];
    // Common case: hand over the engine's own batch whole when it fits.
    if (this.offset === 0 && first.length <= max) {
      this.batches.shift();
      this.queued -= first.length;
      return first;
    }
    const out: unknown[] = [];
    while (out.length < max && this.batches.length > 0) {
      const b = this.batches[0];
      const n = Math.min(max - out.length, b.length - this.offset);
      for (let i = 0; i < n; i++) out.push(b[this.offset + i]);
      this.offset += n;
      if (this.offset === b.length) {
        this.batches.shift();
        this.offset = 0;
      }
    }
    this.queued -= out.length;
    return out;
  }
}
