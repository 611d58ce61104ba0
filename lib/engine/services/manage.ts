// The management calls of a bucket (Python's BucketManager, plus Bucket.flush): one table, so
// the flavours derive their BucketManager methods from it as they derive the KV methods from
// OPERATIONS. Each row takes the method's arguments as given and reports to a callback.
import { ArgumentError, type CouchbaseError } from '../errors';
import { designCreate, designDelete, designGet, designList, designPublish, flush, type DesignOptions } from './design-docs';
import { indexBuildDeferred, indexCreate, indexDrop, indexList, indexWatch, type IndexCreateOptions, type IndexDropOptions, type IndexWatchOptions } from './index-management';
import type { ServiceHost } from './host';

type Cb = (err: CouchbaseError | null, result: unknown) => void;
type Row = (host: ServiceHost, args: readonly unknown[], cb: Cb) => void;

function objectOr<T extends object>(what: string, v: unknown): T {
  if (v === undefined || v === null) return {} as T;
  if (typeof v !== 'object' || Array.isArray(v)) throw new ArgumentError(`${what}: options must be an object, got ${typeof v}`);
  return v as T;
}

/** Python passes use_devmode positionally too: a boolean third argument stands for it. */
function designOptions(what: string, v: unknown): DesignOptions {
  return typeof v === 'boolean' ? { useDevmode: v } : objectOr<DesignOptions>(what, v);
}

const createPrimary: Row = (h, a, cb) => indexCreate(h, typeof a[0] === 'string' ? a[0] : '', { ...objectOr<IndexCreateOptions>('n1qlIndexCreatePrimary', typeof a[0] === 'string' ? a[1] : a[0]), primary: true }, cb);
const dropPrimary: Row = (h, a, cb) => indexDrop(h, typeof a[0] === 'string' ? a[0] : '', { ...objectOr<IndexDropOptions>('n1qlIndexDropPrimary', typeof a[0] === 'string' ? a[1] : a[0]), primary: true }, cb);
const create: Row = (h, a, cb) => indexCreate(h, a[0] as string, objectOr('n1qlIndexCreate', a[1]), cb);
const drop: Row = (h, a, cb) => indexDrop(h, a[0] as string, objectOr('n1qlIndexDrop', a[1]), cb);
const list: Row = (h, a, cb) => indexList(h, objectOr('n1qlIndexList', a[0]), cb);
const build: Row = (h, a, cb) => indexBuildDeferred(h, objectOr('n1qlIndexBuildDeferred', a[0]), cb);
const watch: Row = (h, a, cb) => {
  if (!Array.isArray(a[0])) throw new ArgumentError('n1qlIndexWatch(indexes, options?): indexes must be an array (of names or N1qlIndex)');
  indexWatch(h, a[0], objectOr<IndexWatchOptions>('n1qlIndexWatch', a[1]), cb);
};

/** The BucketManager's methods, by name (Python's snake_case aliases in camelCase included). */
export const MANAGER_METHODS = {
  designCreate: ((h, a, cb) => designCreate(h, a[0] as string, a[1], designOptions('designCreate', a[2]), cb)) as Row,
  designGet: ((h, a, cb) => designGet(h, a[0] as string, designOptions('designGet', a[1]), cb)) as Row,
  designPublish: ((h, a, cb) => designPublish(h, a[0] as string, objectOr('designPublish', a[1]), cb)) as Row,
  designDelete: ((h, a, cb) => designDelete(h, a[0] as string, designOptions('designDelete', a[1]), cb)) as Row,
  designList: ((h, _a, cb) => designList(h, cb)) as Row,
  n1qlIndexCreate: create,
  n1qlIndexCreatePrimary: createPrimary,
  n1qlIndexDrop: drop,
  n1qlIndexDropPrimary: dropPrimary,
  n1qlIndexList: list,
  n1qlIndexBuildDeferred: build,
  n1qlIndexWatch: watch,
  // Python's aliases (create_n1ql_index, ...)
  createN1qlIndex: create,
  createN1qlPrimaryIndex: createPrimary,
  dropN1qlIndex: drop,
  dropN1qlPrimaryIndex: dropPrimary,
  listN1qlIndexes: list,
  buildN1qlDeferredIndexes: build,
  watchN1qlIndexes: watch,
} satisfies Record<string, Row>;

export type ManagerMethodName = keyof typeof MANAGER_METHODS;

/** Bucket-level management calls beside the manager's. */
const BUCKET_CALLS: Record<string, Row> = {
  flush: (h, _a, cb) => flush(h, cb),
};

/** Runs a management call by name; an unknown name or bad arguments fail through `cb`. */
export function runManage(host: ServiceHost, name: string, args: readonly unknown[], cb: Cb): void {
  const row = Object.prototype.hasOwnProperty.call(MANAGER_METHODS, name) ? (MANAGER_METHODS as Record<string, Row>)[name] : BUCKET_CALLS[name];
  if (row === undefined) return process.nextTick(cb, new ArgumentError(`unknown management call "${name}"`), null);
  try {
    row(host, args, cb);
  } catch (err) {
    process.nextTick(cb, err as CouchbaseError, null);
  }
}
