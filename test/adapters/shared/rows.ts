// Query rows as each flavour hands them over: the deferred flavour fires with every row at once
// (txcouchbase's n1qlQueryAll / queryAll), the promise flavour returns rows to `for await`, the
// blocking one rows to `for`. These helpers give the cases one way to ask for and read them.
import type { Handle } from '../helpers/flavours';
import type { SharedContext } from './context';

type Target = Record<string, (...a: unknown[]) => any>;

/** The flavour's rows object for a N1QL query (deferred: the fired RowList). */
export async function n1qlRows(c: SharedContext, target: unknown, query: unknown, options?: Record<string, unknown>): Promise<any> {
  const t = target as Target;
  return c.driver.name === 'deferred' ? await t.n1qlQueryAll(query, options) : t.n1qlQuery(query, options);
}

/** The flavour's rows object for a view query (deferred: the fired RowList). */
export async function viewRows(c: SharedContext, h: Handle, ddoc: string, view: string, options?: unknown): Promise<any> {
  const t = h.bucket as Target;
  return c.driver.name === 'deferred' ? await t.queryAll(ddoc, view, options) : t.query(ddoc, view, options);
}

/** Every row of a rows object, read the way its flavour reads them. */
export async function drain(rows: any): Promise<unknown[]> {
  const out: unknown[] = [];
  if (rows && typeof rows[Symbol.asyncIterator] === 'function') {
    for await (const r of rows) out.push(r);
  } else {
    for (const r of rows) out.push(r);
  }
  return out;
}

/** A flavour's call result (its async type, or a plain value) as a promise; a throw rejects. */
export async function settle<T = any>(fn: () => unknown): Promise<T> {
  return (await fn()) as T;
}
