// Rows of a blocking query: pulled from the worker a batch at a time as the caller iterates.
import { AlreadyQueriedError } from '../../lib/engine/errors';
import type { Shaper } from '../common/rows';
import type { PullAnswer } from './stream-buffer';

/** Longest a caller waits for the next batch of a streamed query (the engine's query timeout bounds it first). */
const STREAM_WAIT_MS = 30 * 60_000;

/** What the rows need of their bucket. */
export interface RowSource {
  /** Sends one request to the worker and waits for its answer. */
  invoke(method: string, args: unknown[], waitMs?: number): unknown;
  /** A batch of rows as the caller sees them (view docs and ids decoded by its own transcoder). */
  finishRows(rows: unknown, kind: 'n1ql' | 'view'): void;
}

/**
 * Rows of a streamed query, pulled from the worker a batch at a time. Iterate once; `break`
 * (or `return()`) cancels the request. `meta` holds the query's meta after the last row.
 */
export class BlockingRows<T> implements IterableIterator<T> {
  meta: unknown = undefined;
  private id = 0;
  private batch: T[] = [];
  private index = 0;
  private state: 'new' | 'open' | 'last' | 'done' = 'new';

  constructor(
    private readonly bucket: RowSource,
    private readonly kind: 'n1ql' | 'view',
    private readonly args: unknown[],
    /** Turns each batch into the caller's rows (rowFactory / rowProcessor, run here). */
    private readonly shape?: Shaper,
    /** Sees the meta once the last row is read (view warnings). */
    private readonly onMeta?: (meta: unknown) => void,
  ) {}

  [Symbol.iterator](): this {
    if (this.state === 'new') {
      this.id = this.bucket.invoke(this.kind, this.args) as number;
      this.state = 'open';
    } else if (this.state !== 'open' && this.state !== 'last') {
      throw new AlreadyQueriedError('these rows were already iterated; run the query again to read them again');
    }
    return this;
  }

  next(): IteratorResult<T> {
    if (this.state === 'new') this[Symbol.iterator]();
    for (;;) {
      if (this.index < this.batch.length) return { done: false, value: this.batch[this.index++] };
      if (this.state !== 'open') {
        this.state = 'done';
        this.batch = [];
        return { done: true, value: undefined };
      }
      let answer: PullAnswer;
      try {
        answer = this.bucket.invoke('pull', [this.id], STREAM_WAIT_MS) as PullAnswer;
      } catch (err) {
        this.state = 'done';
        this.batch = [];
        throw err;
      }
      this.bucket.finishRows(answer[0], this.kind);
      let rows = answer[0] as unknown[];
      if (this.shape !== undefined) {
        try {
          rows = this.shape(rows);
        } catch (err) {
          this.return();
          throw err;
        }
      }
      this.batch = rows as T[];
      this.index = 0;
      if (answer[1]) {
        this.state = 'last';
        this.meta = answer[2];
        this.onMeta?.(this.meta);
      }
    }
  }

  return(): IteratorResult<T> {
    if (this.state === 'open') {
      this.state = 'done';
      this.bucket.invoke('cancel', [this.id]);
    }
    this.state = 'done';
    this.batch = [];
    return { done: true, value: undefined };
  }

  /** Every remaining row. */
  all(): T[] {
    return [...this];
  }

  /** Runs the statement to its end, rows unread (Python's execute()). */
  execute(): this {
    for (const _ of this) {
      // drained
    }
    return this;
  }

  /** The first row, the request ended there (Python's get_single_result); undefined when there is none. */
  getSingleResult(): T | undefined {
    for (const row of this) {
      this.return();
      return row;
    }
    return undefined;
  }

  /** The query's metrics (from its meta), once the last row has been read. */
  get metrics(): unknown {
    return (this.meta as { metrics?: unknown } | undefined)?.metrics;
  }
}
