// N1QL index management (Python's BucketManager.n1ql_index_* over libcouchbase's ixmgmt): each
// call is one N1QL statement (CREATE / DROP / BUILD INDEX, SELECT from system:indexes), and
// watching polls system:indexes until every index is online.
import { ArgumentError, KeyExistsError, N1QLError, NotFoundError, TimeoutError, type CouchbaseError } from '../errors';
import { N1QLQuery, runN1QL } from './n1ql';
import type { ServiceHost } from './host';

/** An index as system:indexes lists it (Python's couchbase._ixmgmt.N1qlIndex). */
export class N1qlIndex {
  name = '';
  primary = false;
  /** 'gsi' (or 'view'). */
  using = 'gsi';
  /** 'online', 'deferred', 'pending', 'building'... */
  state = '';
  keyspace = '';
  namespace = 'default';
  /** The WHERE of a partial index, '' for none. */
  condition = '';
  /** The index keys, as the server writes them. */
  indexKey: string[] = [];
  /** The system:indexes row as it came. */
  raw: Record<string, unknown> = {};

  /** An index from a system:indexes row, a name, or another index (Python's N1qlIndex.from_any). */
  static fromAny(obj: unknown, bucket: string): N1qlIndex {
    const ix = new N1qlIndex();
    if (obj instanceof N1qlIndex) return Object.assign(ix, obj, { raw: { ...obj.raw }, indexKey: [...obj.indexKey] });
    if (typeof obj === 'string') {
      ix.name = obj;
      ix.keyspace = bucket;
      ix.primary = obj === '#primary';
      return ix;
    }
    const r = (obj ?? {}) as Record<string, unknown>;
    ix.raw = r;
    ix.name = String(r.name ?? '');
    ix.primary = r.is_primary === true;
    ix.using = String(r.using ?? 'gsi');
    ix.state = String(r.state ?? '');
    ix.keyspace = String(r.keyspace_id ?? bucket);
    ix.namespace = String(r.namespace_id ?? 'default');
    ix.condition = typeof r.condition === 'string' ? r.condition : '';
    ix.indexKey = Array.isArray(r.index_key) ? r.index_key.map(String) : [];
    return ix;
  }
}

export interface IndexCreateOptions {
  defer?: boolean;
  ignoreExists?: boolean;
  primary?: boolean;
  fields?: string[];
  condition?: string;
  timeout?: number;
}

export interface IndexDropOptions {
  primary?: boolean;
  ignoreMissing?: boolean;
  timeout?: number;
}

export interface IndexWatchOptions {
  /** Seconds to wait for every index to be online (default 30). */
  timeout?: number;
  /** Seconds between polls (default 1). */
  interval?: number;
  /** Also watch the primary index. */
  watchPrimary?: boolean;
}

type Cb<T> = (err: CouchbaseError | null, result: T | null) => void;

function checkKeys(what: string, o: object, known: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) throw new ArgumentError(`${what} does not take the option "${k}"; it takes: ${known.join(', ')}`);
  }
}

const ident = (s: string): string => `\`${s.replace(/`/g, '``')}\``;

/** Runs one statement and collects its rows. */
function statement(host: ServiceHost, text: string, timeout: number | undefined, cb: Cb<unknown[]>): void {
  const q = new N1QLQuery(text);
  if (timeout !== undefined) q.timeout = timeout;
  const rows: unknown[] = [];
  runN1QL(host, q, { onRows: (r) => rows.push(...r), onDone: () => cb(null, rows), onError: (e) => cb(e, null) }, new Map());
}

/** libcouchbase's ixmgmt: "already exists" is KeyExistsError, "not found" NotFoundError. */
function indexError(err: CouchbaseError): CouchbaseError {
  if (!(err instanceof N1QLError)) return err;
  const msg = err.msg.toLowerCase();
  if (msg.includes('already exist')) return new KeyExistsError(`N1QL index: ${err.msg}`, { cause: err });
  if (msg.includes('not found')) return new NotFoundError(`N1QL index: ${err.msg}`, { cause: err });
  return err;
}

export function indexCreate(host: ServiceHost, name: string, o: IndexCreateOptions, cb: Cb<N1qlIndex[]>): void {
  checkKeys('n1qlIndexCreate', o, ['defer', 'ignoreExists', 'primary', 'fields', 'condition', 'timeout']);
  const fields = o.fields ?? [];
  if (typeof name !== 'string') throw new ArgumentError('n1qlIndexCreate: the index name must be a string');
  if (o.primary && fields.length > 0) throw new ArgumentError('n1qlIndexCreate: a primary index takes no fields');
  if (!o.primary && fields.length === 0) throw new ArgumentError('n1qlIndexCreate: a secondary index needs fields');
  if (!o.primary && name === '') throw new ArgumentError('n1qlIndexCreate: a secondary index needs a name');
  if (o.primary && o.condition) throw new ArgumentError('n1qlIndexCreate: a primary index takes no condition');
  const ks = ident(host.bucket);
  let text = o.primary
    ? `CREATE PRIMARY INDEX ${name ? `${ident(name)} ` : ''}ON ${ks}`
    : `CREATE INDEX ${ident(name)} ON ${ks}(${fields.join(', ')})${o.condition ? ` WHERE ${o.condition}` : ''}`;
  text += ' USING GSI';
  if (o.defer) text += ' WITH {"defer_build": true}';
  statement(host, text, o.timeout, (err) => {
    if (!err) return cb(null, []);
    const e = indexError(err);
    if (e instanceof KeyExistsError && o.ignoreExists) return cb(null, []);
    cb(e, null);
  });
}

export function indexDrop(host: ServiceHost, name: string, o: IndexDropOptions, cb: Cb<N1qlIndex[]>): void {
  checkKeys('n1qlIndexDrop', o, ['primary', 'ignoreMissing', 'timeout']);
  const ks = ident(host.bucket);
  const text = o.primary && !name ? `DROP PRIMARY INDEX ON ${ks} USING GSI` : `DROP INDEX ${ks}.${ident(name)} USING GSI`;
  statement(host, text, o.timeout, (err) => {
    if (!err) return cb(null, []);
    const e = indexError(err);
    if (e instanceof NotFoundError && o.ignoreMissing) return cb(null, []);
    cb(e, null);
  });
}

/** The indexes of this bucket (or, with otherBuckets, of every bucket). */
export function indexList(host: ServiceHost, o: { otherBuckets?: boolean; timeout?: number }, cb: Cb<N1qlIndex[]>): void {
  checkKeys('n1qlIndexList', o, ['otherBuckets', 'timeout']);
  const where = o.otherBuckets ? '' : ` WHERE keyspace_id = ${JSON.stringify(host.bucket)}`;
  statement(host, `SELECT idx.* FROM system:indexes AS idx${where} ORDER BY is_primary DESC, name ASC`, o.timeout, (err, rows) => {
    if (err) return cb(err, null);
    cb(null, rows!.map((r) => N1qlIndex.fromAny(r, host.bucket)).filter((ix) => ix.using === 'gsi'));
  });
}

/** Starts building every deferred index; gives the ones being built (for indexWatch). */
export function indexBuildDeferred(host: ServiceHost, o: { otherBuckets?: boolean; timeout?: number }, cb: Cb<N1qlIndex[]>): void {
  checkKeys('n1qlIndexBuildDeferred', o, ['otherBuckets', 'timeout']);
  indexList(host, o, (err, all) => {
    if (err) return cb(err, null);
    const pending = all!.filter((ix) => ix.state === 'deferred' || ix.state === 'pending');
    if (pending.length === 0) return cb(null, []);
    const byKeyspace = new Map<string, N1qlIndex[]>();
    for (const ix of pending) byKeyspace.set(ix.keyspace, [...(byKeyspace.get(ix.keyspace) ?? []), ix]);
    let left = byKeyspace.size;
    let failed: CouchbaseError | null = null;
    for (const [ks, list] of byKeyspace) {
      statement(host, `BUILD INDEX ON ${ident(ks)}(${list.map((ix) => ident(ix.name)).join(', ')}) USING GSI`, o.timeout, (e) => {
        failed ??= e;
        if (--left === 0) cb(failed, failed ? null : pending);
      });
    }
  });
}

/** Polls until every index in `indexes` is online; TimeoutError when the time runs out, NotFoundError when one is gone. */
export function indexWatch(host: ServiceHost, indexes: readonly unknown[], o: IndexWatchOptions, cb: Cb<N1qlIndex[]>): void {
  checkKeys('n1qlIndexWatch', o, ['timeout', 'interval', 'watchPrimary']);
  const wanted = indexes.map((x) => N1qlIndex.fromAny(x, host.bucket));
  if (o.watchPrimary) wanted.push(N1qlIndex.fromAny('#primary', host.bucket));
  const deadline = Date.now() + (o.timeout ?? 30) * 1000;
  // Python's n1ql_index_watch(indexes, timeout=30, interval=0.2, watch_primary=False)
  const interval = (o.interval ?? 0.2) * 1000;
  const poll = (): void => {
    indexList(host, { otherBuckets: true }, (err, all) => {
      if (err) return cb(err, null);
      const found: N1qlIndex[] = [];
      for (const w of wanted) {
        const ix = all!.find((x) => x.keyspace === w.keyspace && (w.name === '#primary' ? x.primary : x.name === w.name));
        if (!ix) return cb(new NotFoundError(`N1QL index ${w.name} on ${w.keyspace} does not exist`), null);
        found.push(ix);
      }
      if (found.every((ix) => ix.state === 'online')) return cb(null, found);
      if (Date.now() + interval > deadline) {
        const waiting = found.filter((ix) => ix.state !== 'online').map((ix) => `${ix.name} (${ix.state})`);
        return cb(new TimeoutError(`N1QL indexes not online in time: ${waiting.join(', ')}`), null);
      }
      setTimeout(poll, interval);
    });
  };
  poll();
}
