// One driver per flavour, so the shared behaviour suite runs the same cases against all three.
// Each driver turns its flavour's async type into a Promise for the test to await; that is the
// only thing it adds.
import * as path from 'node:path';
import { Bucket as DeferredBucket } from '../../../adapters/deferred';
import { Bucket as PromiseBucket } from '../../../adapters/promise';
import { Bucket as BlockingBucket } from '../../../adapters/blocking';
import { FakeEngine, type FakeEngineOptions } from './fake-engine';

export const FAKE_ENGINE_MODULE = path.join(__dirname, 'fake-engine-module.js');

export interface OpenOptions {
  /** Real stack: connection string + credentials. Fake: ignored. */
  connstr?: string;
  username?: string;
  password?: string;
  /** Fake backend only. */
  fake?: FakeEngineOptions;
  seed?: Record<string, unknown>;
  /** Real stack: more Bucket constructor options (quiet, transcoder, ...). */
  bucketOptions?: Record<string, unknown>;
}

export interface Rows {
  rows: unknown[];
  meta: unknown;
}

export interface Driver {
  readonly name: 'deferred' | 'promise' | 'blocking';
  open(backend: 'fake' | 'real', o: OpenOptions): Handle;
}

export interface Handle {
  call(method: string, ...args: unknown[]): Promise<any>;
  n1ql(query: unknown): Promise<Rows>;
  view(ddoc: string, view: string, options?: Record<string, unknown>): Promise<Rows>;
  close(): Promise<void>;
  /** The flavour's own Bucket object. */
  readonly bucket: unknown;
}

function fakeEngine(o: OpenOptions): FakeEngine {
  const e = new FakeEngine(o.fake);
  let cas = 1n;
  for (const [k, v] of Object.entries(o.seed ?? {})) e.docs.set(k, { value: v, cas: cas++, flags: 0x02000000 });
  return e;
}

const asyncOptions = (backend: 'fake' | 'real', o: OpenOptions): Record<string, unknown> =>
  backend === 'fake' ? { engine: fakeEngine(o) } : { username: o.username, password: o.password, ...o.bucketOptions };

export const deferredDriver: Driver = {
  name: 'deferred',
  open(backend, o) {
    const b = new DeferredBucket(o.connstr ?? 'couchbase://fake/default', asyncOptions(backend, o));
    const any = b as unknown as Record<string, (...a: unknown[]) => PromiseLike<unknown>>;
    return {
      bucket: b,
      call: (m, ...a) => Promise.resolve(any[m](...a)),
      n1ql: async (q) => {
        const rows = await b.n1qlQueryAll(q);
        return { rows: [...rows], meta: rows.meta };
      },
      view: async (d, v, opts) => {
        const rows = await b.queryAll(d, v, opts);
        return { rows: [...rows], meta: rows.meta };
      },
      close: async () => {
        await b.close();
      },
    };
  },
};

export const promiseDriver: Driver = {
  name: 'promise',
  open(backend, o) {
    const b = new PromiseBucket(o.connstr ?? 'couchbase://fake/default', asyncOptions(backend, o));
    const any = b as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    return {
      bucket: b,
      call: (m, ...a) => any[m](...a),
      n1ql: async (q) => {
        const it = b.n1qlQuery(q);
        const rows: unknown[] = [];
        for await (const r of it) rows.push(r);
        return { rows, meta: it.meta };
      },
      view: async (d, v, opts) => {
        const it = b.query(d, v, opts);
        const rows: unknown[] = [];
        for await (const r of it) rows.push(r);
        return { rows, meta: it.meta };
      },
      close: () => b.close(),
    };
  },
};

export const blockingDriver: Driver = {
  name: 'blocking',
  open(backend, o) {
    const b =
      backend === 'fake'
        ? new BlockingBucket(o.connstr ?? 'couchbase://fake/default', { engineModule: FAKE_ENGINE_MODULE, fake: o.fake, seed: o.seed })
        : new BlockingBucket(o.connstr!, { username: o.username, password: o.password, ...o.bucketOptions });
    const any = b as unknown as Record<string, (...a: unknown[]) => unknown>;
    // Calls run synchronously; wrapping the outcome keeps the suite's code flavour-neutral.
    const sync = <T>(fn: () => T): Promise<T> => {
      try {
        return Promise.resolve(fn());
      } catch (err) {
        return Promise.reject(err);
      }
    };
    return {
      bucket: b,
      call: (m, ...a) => sync(() => any[m](...a)),
      n1ql: (q) =>
        sync(() => {
          const it = b.n1qlQuery(q);
          const rows: unknown[] = [];
          for (const r of it) rows.push(r);
          return { rows, meta: it.meta };
        }),
      view: (d, v, opts) =>
        sync(() => {
          const it = b.query(d, v, opts);
          const rows: unknown[] = [];
          for (const r of it) rows.push(r);
          return { rows, meta: it.meta };
        }),
      close: () => sync(() => b.close()),
    };
  },
};

export const DRIVERS: Driver[] = [deferredDriver, promiseDriver, blockingDriver];
