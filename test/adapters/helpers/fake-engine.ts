// TEST DOUBLE. An in-memory object with the engine contract (adapters/common/contract.ts), used
// to test the adapters' own behaviour (queueing before connect, cancellation, flow control,
// the blocking channel) in isolation and deterministically. Integration tests use the real
// engine against the embedded cluster instead.
//
// Queries it understands (anything else fails with N1QLError code 3000):
//   "ROWS <n>"          n rows {i: 0..n-1}, in batches of 100, one batch per macrotask
//   "FAIL AFTER <n>"    n rows, then an N1QLError
//   "HANG"              never answers (for cancellation)
// Views: ddoc "beer", view "by_name" lists stored docs with a `name`, {id, key: name, value: null};
//        any other view fails with ViewError "not_found".
import type { Callback, CallbackEngineLike, KvHandler, RowsHandler, StreamControl } from '../../../adapters/common/contract';
import { CancelledError, KeyExistsError, N1QLError, NotFoundError, ViewError, ConnectError, type CouchbaseError } from '../../../lib/engine/errors';
import { MultiResult, OperationResult, Result, StatsResult, ValueResult } from '../../../lib/engine/results';

interface Doc {
  value: unknown;
  cas: bigint;
  flags: number;
}

export interface FakeEngineOptions {
  /** Milliseconds before connect() answers. */
  connectDelayMs?: number;
  /** connect() fails with this message. */
  connectError?: string;
  /** Milliseconds before each KV answer (0: next macrotask). */
  kvDelayMs?: number;
  /** false: no dispatchKv, so the adapters hand kv() a callback (an engine of the older contract, which the factory adapts). */
  handlers?: boolean;
}

export class FakeEngine implements CallbackEngineLike {
  readonly docs = new Map<string, Doc>();
  private casSeq = 1000n;
  connected = false;
  closed = false;
  /** Every kv() call, in order: [op, key]. */
  readonly calls: Array<[string, string]> = [];
  /** The options object of every kv() call, in order. */
  readonly callOptions: Array<Record<string, unknown>> = [];
  /** Live stream states, for flow-control assertions. */
  readonly streams: Array<{ paused: boolean; cancelled: boolean; sent: number; maxPausedGap: number }> = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  /** Every dispatchKv() handler, in order (the adapters' own objects, not closures). */
  readonly handlers: KvHandler[] = [];

  constructor(private readonly opts: FakeEngineOptions = {}) {
    if (opts.handlers === false) this.dispatchKv = undefined;
  }

  private later(ms: number, fn: () => void): void {
    if (ms === 0) {
      // Next turn of the loop, like a socket answer; close() stops it through `closed`.
      setImmediate(() => {
        if (!this.closed) fn();
      });
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  connect(cb: Callback<void>): void {
    this.later(this.opts.connectDelayMs ?? 0, () => {
      if (this.opts.connectError) return cb(new ConnectError(this.opts.connectError));
      this.connected = true;
      cb(null);
    });
  }

  close(cb?: Callback<void>): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (cb) setImmediate(() => cb(null));
  }

  /** Every kv() call whose handle was cancelled before it answered: [op, key]. */
  readonly cancelledCalls: Array<[string, string]> = [];

  kv(op: string, key: string, options: Record<string, unknown>, cb: Callback): { cancel(): void } {
    return this.start(op, key, options, cb);
  }

  /** kv() reporting to a handler object, as lib/engine's Engine does. */
  dispatchKv?(op: string, key: string, options: Record<string, unknown>, handler: KvHandler): { cancel(): void } {
    this.handlers.push(handler);
    return this.start(op, key, options, (err, result) => handler.kvDone(err, result));
  }

  private start(op: string, key: string, options: Record<string, unknown>, cb: Callback): { cancel(): void } {
    if (!this.connected) throw new Error('fake engine: kv() before connect');
    this.calls.push([op, key]);
    this.callOptions.push(options);
    // Like the real engine: the handle's cancel() removes a pending operation and fails it at
    // once with the engine's CancelledError, which the adapters must not pass on.
    let state: 'pending' | 'answered' | 'cancelled' = 'pending';
    this.later(this.opts.kvDelayMs ?? 0, () => {
      if (state !== 'pending') return;
      state = 'answered';
      try {
        cb(null, this.apply(op, key, options));
      } catch (err) {
        cb(err as Error);
      }
    });
    return {
      cancel: () => {
        if (state !== 'pending') return;
        state = 'cancelled';
        this.cancelledCalls.push([op, key]);
        cb(new CancelledError(`${op}("${key}") was cancelled`, { key }));
      },
    };
  }

  kvMulti(op: string, keys: unknown, options: Record<string, unknown>, cb: Callback): void {
    if (!this.connected) throw new Error('fake engine: kvMulti() before connect');
    const entries: Array<[string, unknown]> = Array.isArray(keys)
      ? keys.map((k) => [k as string, undefined])
      : keys instanceof Map
        ? [...keys.entries()]
        : Object.entries(keys as Record<string, unknown>);
    this.later(this.opts.kvDelayMs ?? 0, () => {
      // The engine contract: the first failing key (in the order given) fails the call and its
      // error holds every key's result; under quiet a missing key is a result with success false.
      const out = new MultiResult<Result>();
      let first: CouchbaseError | undefined;
      for (const [k, v] of entries) {
        try {
          const o = v === undefined ? options : op === 'unlock' || op === 'remove' ? { ...options, cas: v } : { ...options, value: v };
          out.set(k, this.apply(op, k, o));
        } catch (err) {
          const r = new Result(k, (err as NotFoundError).rc);
          const quietMiss = options.quiet === true && err instanceof NotFoundError && (op === 'get' || op === 'remove');
          if (!quietMiss) {
            r.error = err as NotFoundError;
            first ??= err as CouchbaseError;
          }
          out.set(k, r);
        }
      }
      if (first !== undefined) {
        first.allResults = out;
        return cb(first);
      }
      cb(null, out);
    });
  }

  private apply(op: string, key: string, o: Record<string, unknown>): Result {
    const doc = this.docs.get(key);
    const cas = (): bigint => ++this.casSeq;
    const missing = (): never => {
      throw new NotFoundError(`the document does not exist (key "${key}")`, { key });
    };
    const casMismatch = o.cas !== undefined && o.cas !== 0n && doc !== undefined && doc.cas !== o.cas;
    switch (op) {
      case 'upsert':
      case 'insert':
      case 'replace': {
        if (op === 'insert' && doc) throw new KeyExistsError(`the document exists (key "${key}")`, { key });
        if (op === 'replace' && !doc) missing();
        if (casMismatch) throw new KeyExistsError(`CAS mismatch (key "${key}")`, { key });
        const d = { value: o.value, cas: cas(), flags: 0x02000000 };
        this.docs.set(key, d);
        return new OperationResult(key, d.cas);
      }
      case 'append':
      case 'prepend': {
        if (!doc) missing();
        const s = op === 'append' ? String(doc!.value) + String(o.value) : String(o.value) + String(doc!.value);
        doc!.value = s;
        doc!.cas = cas();
        return new OperationResult(key, doc!.cas);
      }
      case 'get':
      case 'getReplica':
        if (!doc) missing();
        return new ValueResult(key, doc!.value, doc!.cas, doc!.flags);
      case 'touch':
        if (!doc) missing();
        return new OperationResult(key, doc!.cas);
      case 'lock':
        if (!doc) missing();
        doc!.cas = cas();
        return new ValueResult(key, doc!.value, doc!.cas, doc!.flags);
      case 'unlock':
        if (!doc) missing();
        return new OperationResult(key, doc!.cas);
      case 'remove':
        if (!doc) missing();
        if (casMismatch) throw new KeyExistsError(`CAS mismatch (key "${key}")`, { key });
        this.docs.delete(key);
        return new OperationResult(key, cas());
      case 'counter': {
        const delta = BigInt((o.delta as number | bigint | undefined) ?? 1);
        let n: bigint;
        if (!doc) {
          if (o.initial === undefined) missing();
          n = BigInt(o.initial as number);
        } else n = BigInt(doc.value as number) + delta;
        const d = { value: Number(n), cas: cas(), flags: 0 };
        this.docs.set(key, d);
        return new ValueResult(key, d.value, d.cas, 0);
      }
      case 'endure':
        if (!doc) missing();
        return new OperationResult(key, doc!.cas);
      case 'stats':
        return new StatsResult('', { curr_items: { 'fake:11210': String(this.docs.size) } });
      default:
        throw new Error(`fake engine: unknown op ${op}`);
    }
  }

  n1ql(query: unknown, handler: RowsHandler): StreamControl {
    const text = typeof query === 'string' ? query : String((query as { statement?: string }).statement ?? '');
    let m: RegExpMatchArray | null;
    if (text === 'HANG') return this.rowStream(handler, Infinity, undefined, true);
    if ((m = /^ROWS (\d+)$/.exec(text))) return this.rowStream(handler, Number(m[1]));
    if ((m = /^FAIL AFTER (\d+)$/.exec(text))) {
      const err = new N1QLError('syntax error near FAIL', {});
      err.code = 3000;
      err.msg = 'syntax error';
      return this.rowStream(handler, Number(m[1]), err);
    }
    const err = new N1QLError(`syntax error: ${text}`, {});
    err.code = 3000;
    return this.rowStream(handler, 0, err);
  }

  view(ddoc: string, view: string, params: Record<string, unknown>, handler: RowsHandler): StreamControl {
    if (ddoc !== 'beer' || view !== 'by_name') {
      const err = new ViewError(`view ${ddoc}/${view} not found`, {});
      err.error = 'not_found';
      return this.rowStream(handler, 0, err);
    }
    const rows = [...this.docs.entries()]
      .filter(([, d]) => d.value && typeof (d.value as { name?: unknown }).name === 'string')
      .map(([id, d]) => ({ id, key: (d.value as { name: string }).name, value: null }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const inRange = rows.filter(
      (r) => (params.startkey === undefined || r.key >= (params.startkey as string)) && (params.endkey === undefined || r.key <= (params.endkey as string)),
    );
    const limited = typeof params.limit === 'number' ? inRange.slice(0, params.limit) : inRange;
    return this.rowStream(handler, limited.length, undefined, false, (i) => limited[i]);
  }

  private rowStream(
    handler: RowsHandler,
    total: number,
    failWith?: Error,
    hang = false,
    rowAt: (i: number) => unknown = (i) => ({ i }),
  ): StreamControl {
    const st = { paused: false, cancelled: false, sent: 0, maxPausedGap: 0 };
    this.streams.push(st);
    let scheduled = false;
    const pump = (): void => {
      scheduled = false;
      if (st.cancelled || st.paused || hang) return;
      if (st.sent >= total) {
        if (failWith) handler.onError(failWith);
        else handler.onDone({ status: 'success', metrics: { resultCount: total } });
        return;
      }
      const n = Math.min(100, total - st.sent);
      const rows = new Array(n);
      for (let i = 0; i < n; i++) rows[i] = rowAt(st.sent + i);
      st.sent += n;
      handler.onRows(rows);
      schedule();
    };
    const schedule = (): void => {
      if (scheduled) return;
      scheduled = true;
      setImmediate(pump);
    };
    schedule();
    return {
      pause: () => {
        st.paused = true;
      },
      resume: () => {
        if (!st.paused) return;
        st.paused = false;
        schedule();
      },
      cancel: () => {
        st.cancelled = true;
      },
    };
  }
}
