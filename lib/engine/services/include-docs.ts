// include_docs for view rows: each batch's documents fetched with one getMulti and set as
// `row.doc`, batches delivered in the order they arrived, and the stream held (its socket not
// read) while a fetch is out, so a slow KV side does not make the view buffer. The engine uses it
// for engine.view(..., { include_docs: true }) and the flavours for their views, each with its own
// answer for a row whose document is gone: 'error' (the engine, the CLI) sets the failed result
// (success false, `error` a NotFoundError); 'quiet' (the flavours) a result with success false
// and no error, as getMulti(..., { quiet: true }) gives.

/** A stream's rows handler, as both the engine and the flavours write it. */
export interface RowsSink {
  onRows(rows: unknown[]): void;
  onDone(meta: never): void;
  onError(err: never): void;
}

/** The stream being read. */
export interface RowsControl {
  pause(): void;
  resume(): void;
  cancel(): void;
}

/** Where documents come from: a multi-key get. */
export interface DocSource {
  kvMulti(op: 'get', keys: string[], options: { quiet: boolean }, cb: (err: Error | null | undefined, result?: unknown) => void): unknown;
}

export type MissingDocs = 'error' | 'quiet';

interface Held {
  rows?: unknown[];
  ready: boolean;
  done?: { meta: unknown };
  error?: unknown;
}

/**
 * Sits between a view stream and its handler: rows go on with their documents, in order; the
 * stream's end or failure goes on after the rows that came before it. Also the control the
 * caller holds: its pause() and resume() combine with the holds of the fetches.
 */
export class DocsAttacher {
  private inner: RowsControl | null = null;
  private readonly held: Held[] = [];
  private fetching = 0;
  private userPaused = false;
  private finished = false;

  constructor(
    private readonly source: DocSource,
    private readonly missing: MissingDocs,
    private readonly handler: RowsSink,
  ) {}

  /** The stream this attacher reads (known once the request started). */
  attach(control: RowsControl): void {
    this.inner = control;
    if (this.finished) control.cancel();
    else this.applyPause();
  }

  /** True once the handler heard the end or a failure. */
  get done(): boolean {
    return this.finished;
  }

  onRows(rows: unknown[]): void {
    if (this.finished) return;
    const entry: Held = { rows, ready: false };
    this.held.push(entry);
    const ids: string[] = [];
    for (const r of rows) {
      const id = (r as { id?: unknown }).id;
      if (typeof id === 'string') ids.push(id);
    }
    if (ids.length === 0) {
      entry.ready = true;
      return this.flush();
    }
    this.fetching++;
    this.applyPause();
    this.source.kvMulti('get', [...new Set(ids)], { quiet: this.missing === 'quiet' }, (err, result) => {
      this.fetching--;
      if (this.finished) return;
      // A key that failed fails the getMulti, whose error still holds every key's result.
      const docs = (result ?? (err as { allResults?: unknown } | null | undefined)?.allResults) as Map<string, unknown> | undefined;
      if (err && !(docs instanceof Map) && this.missing === 'error') return this.fail(err);
      for (const r of rows) {
        const row = r as { id?: unknown; doc?: unknown };
        if (typeof row.id !== 'string') continue;
        row.doc = docs?.get(row.id) ?? (err ? { key: row.id, error: err, success: false } : undefined);
      }
      entry.ready = true;
      this.applyPause();
      this.flush();
    });
  }

  onDone(meta: unknown): void {
    if (this.finished) return;
    this.held.push({ ready: true, done: { meta } });
    this.flush();
  }

  onError(err: unknown): void {
    if (this.finished) return;
    this.held.push({ ready: true, error: err });
    this.flush();
  }

  pause(): void {
    this.userPaused = true;
    this.applyPause();
  }

  resume(): void {
    this.userPaused = false;
    this.applyPause();
  }

  /** Aborts the stream: the handler gets the stream's cancellation at once, ahead of held rows. */
  cancel(): void {
    if (this.finished) return;
    this.held.length = 0;
    const inner = this.inner;
    if (inner === null) {
      this.finished = true;
      return;
    }
    // The stream reports its own cancellation (onError), which now passes straight through.
    inner.cancel();
  }

  private fail(err: unknown): void {
    this.finished = true;
    this.held.length = 0;
    this.inner?.cancel();
    (this.handler.onError as (e: unknown) => void)(err);
  }

  private applyPause(): void {
    const inner = this.inner;
    if (inner === null || this.finished) return;
    if (this.userPaused || this.fetching > 0) inner.pause();
    else inner.resume();
  }

  private flush(): void {
    while (this.held.length > 0 && this.held[0].ready) {
      const e = this.held.shift()!;
      if (e.rows) this.handler.onRows(e.rows);
      else {
        this.finished = true;
        this.held.length = 0;
        if (e.done) (this.handler.onDone as (m: unknown) => void)(e.done.meta);
        else (this.handler.onError as (e: unknown) => void)(e.error);
      }
    }
  }
}
