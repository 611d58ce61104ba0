// Data structures on one JSON document (Python's map_*, list_*, set_*, queue_*), built as
// Python builds them: sub-document commands, `create` inserting an empty document when the key
// is missing, CAS retries where a read decides the write (setRemove, queuePop), and a missing
// path reported as IndexError.
import { CouchbaseError, IndexError, KeyExistsError, NotFoundError, QueueEmpty, SubdocPathExistsError, SubdocPathNotFoundError, ArgumentError } from '../../errors';
import { ValueResult, type Result, type SubdocResult } from '../../results';
import * as SD from '../../subdoc';
import type { KvHost } from '../host';
import type { CompositeRun, KvCallback, KvOptions } from '../spec';

/** The options a data-structure mutation passes on to mutateIn. */
function mutationOptions(o: KvOptions): KvOptions {
  const out: KvOptions = {};
  if (o.collection !== undefined) out.collection = o.collection;
  if (o.cas !== undefined) out.cas = o.cas;
  if (o.ttl !== undefined) out.ttl = o.ttl;
  if (o.persistTo !== undefined) out.persistTo = o.persistTo;
  if (o.replicateTo !== undefined) out.replicateTo = o.replicateTo;
  if (o.timeout !== undefined) out.timeout = o.timeout;
  return out;
}

type Shape = 'map' | 'list';

/**
 * Runs `attempt`; when the document is missing and `create` was asked, inserts an empty one of
 * `shape` (someone else's insert is fine) and tries once more. A missing path is IndexError.
 */
function dsop(host: KvHost, key: string, o: KvOptions, shape: Shape | null, attempt: (done: KvCallback) => void, cb: KvCallback): void {
  const finish: KvCallback = (err, r) => cb(err instanceof SubdocPathNotFoundError && !(err instanceof IndexError) ? indexError(key, err) : err, r);
  attempt((err, r) => {
    if (!(err instanceof NotFoundError) || !o.create || shape === null) return finish(err, r);
    // An encoded empty document from the caller (see KvOptions.create), else the shape's own.
    const empty = o.create !== true ? o.create : shape === 'map' ? {} : [];
    host.runOp('insert', key, { value: empty, timeout: o.timeout, collection: o.collection }, (e) => {
      if (e && !(e instanceof KeyExistsError)) return finish(e, null);
      attempt(finish);
    });
  });
}

function indexError(key: string, cause: CouchbaseError): IndexError {
  const path = String(cause.objextra ?? '');
  return new IndexError(`key "${key}" has no ${path.startsWith('[') ? `index ${path.slice(1, -1)}` : `entry "${path}"`}`, { key, objextra: cause.objextra, cause });
}

function mutate(host: KvHost, key: string, o: KvOptions, shape: Shape | null, spec: () => SD.SubdocSpec, cb: KvCallback): void {
  let s: SD.SubdocSpec;
  try {
    s = spec();
  } catch (err) {
    return cb(err as CouchbaseError, null);
  }
  dsop(host, key, o, shape, (done) => host.runOp('mutateIn', key, { ...mutationOptions(o), specs: [s] }, done), cb);
}

/** A lookup of one path as an item (Python's _wrap_dsop): its value and the document's CAS. */
function getOne(host: KvHost, key: string, o: KvOptions, spec: () => SD.SubdocSpec, cb: KvCallback): void {
  let s: SD.SubdocSpec;
  try {
    s = spec();
  } catch (err) {
    return cb(err as CouchbaseError, null);
  }
  dsop(host, key, o, null, (done) => host.runOp('lookupIn', key, { specs: [s], timeout: o.timeout, collection: o.collection }, (err, r) => {
    if (err) return done(err, null);
    const sd = r as SubdocResult;
    let value: unknown;
    try {
      value = sd.at(0);
    } catch (e) {
      return done(e as CouchbaseError, null);
    }
    done(null, new ValueResult(key, value, sd.cas, 0));
  }), cb);
}

function mapkeyOf(key: string, o: KvOptions): string {
  if (typeof o.mapkey !== 'string' || o.mapkey.length === 0) throw new ArgumentError(`the map key for document "${key}" must be a non-empty string`, { key });
  return o.mapkey;
}

/** `[index]`, the path of a list element. */
function indexPath(key: string, o: KvOptions): string {
  if (!Number.isInteger(o.index) || (o.index as number) < -1) throw new ArgumentError(`the list index for document "${key}" must be an integer >= -1 (-1: the last)`, { key });
  return `[${o.index}]`;
}

export const mapAdd: CompositeRun<KvHost> = (host, key, o, cb) => mutate(host, key, o, 'map', () => SD.upsert(mapkeyOf(key, o), o.value), cb);
export const mapRemove: CompositeRun<KvHost> = (host, key, o, cb) => mutate(host, key, o, null, () => SD.remove(mapkeyOf(key, o)), cb);
export const mapGet: CompositeRun<KvHost> = (host, key, o, cb) => getOne(host, key, o, () => SD.get(mapkeyOf(key, o)), cb);

export const listAppend: CompositeRun<KvHost> = (host, key, o, cb) => mutate(host, key, o, 'list', () => SD.arrayAppend('', o.value), cb);
export const listPrepend: CompositeRun<KvHost> = (host, key, o, cb) => mutate(host, key, o, 'list', () => SD.arrayPrepend('', o.value), cb);
export const listSet: CompositeRun<KvHost> = (host, key, o, cb) => mutate(host, key, o, null, () => SD.replace(indexPath(key, o), o.value), cb);
export const listRemove: CompositeRun<KvHost> = (host, key, o, cb) => mutate(host, key, o, null, () => SD.remove(indexPath(key, o)), cb);
export const listGet: CompositeRun<KvHost> = (host, key, o, cb) => getOne(host, key, o, () => SD.get(indexPath(key, o)), cb);

/** The number of entries of the document (map, list, set or queue). */
export const size: CompositeRun<KvHost> = (host, key, o, cb) =>
  host.runOp('lookupIn', key, { specs: [SD.getCount('')], timeout: o.timeout, collection: o.collection }, (err, r) => {
    if (err) return cb(err, null);
    try {
      cb(null, (r as SubdocResult).at(0) as unknown as Result);
    } catch (e) {
      cb(e as CouchbaseError, null);
    }
  });

/** Adds a primitive unless present: the mutation's result, or undefined when it was there. */
export const setAdd: CompositeRun<KvHost> = (host, key, o, cb) =>
  mutate(host, key, o, 'list', () => SD.arrayAddUnique('', o.value), (err, r) => {
    if (err instanceof SubdocPathExistsError) return cb(null, undefined as unknown as Result);
    cb(err, r);
  });

/** Python compares set members with ==: primitives by value, containers by content. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

function members(key: string, r: Result | null): unknown[] {
  const v = (r as ValueResult).value;
  if (!Array.isArray(v)) throw new ArgumentError(`document "${key}" is not a list/set/queue (its value is not an array)`, { key });
  return v;
}

export const setContains: CompositeRun<KvHost> = (host, key, o, cb) =>
  host.runOp('get', key, { timeout: o.timeout, collection: o.collection }, (err, r) => {
    if (err) return cb(err, null);
    try {
      cb(null, members(key, r).some((m) => same(m, o.value)) as unknown as Result);
    } catch (e) {
      cb(e as CouchbaseError, null);
    }
  });

/** Removes a member if present (read, then remove by index with the read's CAS; retried on a race). */
export const setRemove: CompositeRun<KvHost> = (host, key, o, cb) => {
  const round = (): void =>
    host.runOp('get', key, { timeout: o.timeout, collection: o.collection }, (err, r) => {
      if (err) return cb(err, null);
      let index: number;
      try {
        index = members(key, r).findIndex((m) => same(m, o.value));
      } catch (e) {
        return cb(e as CouchbaseError, null);
      }
      if (index < 0) return cb(null, undefined as unknown as Result);
      const opts = { ...mutationOptions(o), cas: (r as ValueResult).cas, specs: [SD.remove(`[${index}]`)] };
      host.runOp('mutateIn', key, opts, (e, done) => (e instanceof KeyExistsError ? round() : cb(e, done)));
    });
  round();
};

/** Takes the oldest entry (the list's last; queuePush prepends): QueueEmpty when there is none. */
export const queuePop: CompositeRun<KvHost> = (host, key, o, cb) => {
  const round = (): void =>
    listGet(host, key, { index: -1, timeout: o.timeout, collection: o.collection }, (err, item) => {
      if (err instanceof IndexError) return cb(new QueueEmpty(`the queue "${key}" is empty`) as unknown as CouchbaseError, null);
      if (err) return cb(err, null);
      const opts = { ...mutationOptions(o), cas: (item as ValueResult).cas, specs: [SD.remove('[-1]')] };
      host.runOp('mutateIn', key, opts, (e) => (e instanceof KeyExistsError ? round() : cb(e, e ? null : item)));
    });
  round();
};
