// What the flavours do to query rows on the caller's side, the same in each: Python's
// N1QLRequest row_factory and View row_processor turn each batch of rows into the caller's
// objects (code: it runs in the calling thread, the blocking flavour's included), and the errors
// a view reported under on_error 'continue' become warnings, as Python's warn() makes them.
import { ArgumentError } from '../../lib/engine/errors';
import { ViewQuery } from '../../lib/engine/services/views';

/** Python's row_factory: each N1QL row in, the caller's object out. */
export type RowFactory<T = unknown> = (row: unknown) => T;

/** Python's RowProcessor: a batch of view rows in, the caller's objects out. */
export interface RowProcessor<T = unknown> {
  handleRows(rows: unknown[], bucket: unknown, includeDocs: boolean): Iterable<T>;
}

/** Turns a batch of raw rows into what the caller iterates. */
export type Shaper = (rows: unknown[]) => unknown[];

export interface N1QLRowOptions<T = unknown> {
  /** Each row through this function (Python's row_factory). */
  rowFactory?: RowFactory<T>;
}

export interface ViewRowOptions<T = unknown> {
  /** Each row through this function, or each batch through `handleRows` (Python's row_processor). */
  rowProcessor?: RowFactory<T> | RowProcessor<T>;
  row_processor?: RowFactory<T> | RowProcessor<T>;
}

/** A N1QL call's row shaping, from its options (undefined when rows stay as they come). */
export function n1qlShaper(options: N1QLRowOptions | undefined): Shaper | undefined {
  const f = options?.rowFactory;
  if (f === undefined) return undefined;
  if (typeof f !== 'function') throw new ArgumentError('rowFactory must be a function (row) => value');
  return (rows) => rows.map((r) => f(r));
}

/**
 * A view call's options split in two: what goes to the engine (with `includeDocs` read, a
 * ViewQuery accepted as the options themselves) and the row shaping that stays here.
 */
export function splitViewOptions(options: unknown, bucket: unknown): { params: Record<string, unknown>; shape: Shaper | undefined; includeDocs: boolean } {
  const given = options instanceof ViewQuery ? { query: options } : ((options ?? {}) as Record<string, unknown>);
  const { rowProcessor, row_processor, ...params } = given as ViewRowOptions & Record<string, unknown>;
  const q = params.query instanceof ViewQuery ? (params.query.options as Record<string, unknown>) : {};
  const includeDocs = Boolean(params.includeDocs ?? params.include_docs ?? q.includeDocs ?? q.include_docs);
  const p = rowProcessor ?? row_processor;
  let shape: Shaper | undefined;
  if (typeof p === 'function') shape = (rows) => rows.map((r) => p(r));
  else if (p !== undefined) {
    if (typeof p?.handleRows !== 'function') throw new ArgumentError('rowProcessor must be a function (row) => value or have handleRows(rows, bucket, includeDocs)');
    shape = (rows) => [...p.handleRows(rows, bucket, includeDocs)];
  }
  return { params, shape, includeDocs };
}

/** Python warns for each error a view reported under on_error 'continue'; here: process warnings. */
export function warnViewErrors(meta: unknown): void {
  const errors = (meta as { errors?: unknown } | null | undefined)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return;
  process.emitWarning(`Error encountered in query: ${JSON.stringify(errors)}`, { type: 'ViewWarning', code: 'DEFERBASE_VIEW_ERRORS' });
}
