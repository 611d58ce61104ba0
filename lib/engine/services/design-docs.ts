// Design documents (Python's BucketManager.design_*) over the views service's REST API, and
// flush over the management API. `syncwait` polls until the change is visible: the document
// readable with a new revision and one of its views answering (or, for a delete, the document
// gone), as Python's _design_poll does.
import { ArgumentError, CouchbaseError, TimeoutError } from '../errors';
import type { HttpResult } from '../results';
import { httpRequest } from './http-request';
import { runView } from './views';
import type { ServiceHost } from './host';

type Cb<T> = (err: CouchbaseError | null, result: T | null) => void;

export interface DesignOptions {
  /** The development copy (`dev_` prefix): Python's use_devmode (default true for design_*). */
  useDevmode?: boolean;
  /** Seconds to poll until the change is visible (default 0: do not wait). */
  syncwait?: number;
}

function devName(name: string, useDevmode: boolean): string {
  return !useDevmode || name.startsWith('dev_') ? name : `dev_${name}`;
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw new ArgumentError('a design document needs a name');
  return name.startsWith('_design/') ? name.slice('_design/'.length) : name;
}

function checkOptions(what: string, o: object): void {
  for (const k of Object.keys(o)) if (k !== 'useDevmode' && k !== 'syncwait') throw new ArgumentError(`${what} does not take the option "${k}"; it takes: useDevmode, syncwait`);
}

function docPath(host: ServiceHost, name: string): string {
  return `/${encodeURIComponent(host.bucket)}/_design/${encodeURIComponent(name)}`;
}

function revOf(r: HttpResult | null): string | undefined {
  const meta = r?.headers['x-couchbase-meta'];
  if (!meta) return undefined;
  try {
    return String((JSON.parse(meta) as { rev?: unknown }).rev);
  } catch {
    return undefined;
  }
}

export function designGet(host: ServiceHost, rawName: string, o: DesignOptions, cb: Cb<HttpResult>): void {
  checkOptions('designGet', o);
  const name = devName(checkName(rawName), o.useDevmode ?? true);
  httpRequest(host, { service: 'capi', method: 'GET', path: docPath(host, name), timeout: host.options.views_timeout }, cb);
}

/** Polls until the design document is there with a revision other than `oldRev` and a view answers ('add'), or is gone ('del'). */
function poll(host: ServiceHost, name: string, mode: 'add' | 'del', oldRev: string | undefined, syncwait: number, cb: (err: CouchbaseError | null) => void): void {
  if (!syncwait) return cb(null);
  if (syncwait < 0) return cb(new ArgumentError('syncwait must not be negative'));
  const deadline = Date.now() + syncwait * 1000;
  const again = (): void => {
    if (Date.now() > deadline) return cb(new TimeoutError(`design document ${name}: the ${mode === 'add' ? 'change' : 'removal'} was not visible within syncwait (${syncwait}s)`));
    setTimeout(round, 50);
  };
  const round = (): void =>
    designGet(host, name, { useDevmode: false }, (err, r) => {
      if (err) return mode === 'del' ? cb(null) : again();
      if (mode === 'del' || (oldRev !== undefined && revOf(r) === oldRev)) return again();
      const views = Object.keys(((r!.value ?? {}) as { views?: Record<string, unknown> }).views ?? {});
      if (views.length === 0) return cb(null);
      runView(host, name, views[0], { stale: 'ok', limit: 1 }, { onRows() {}, onDone: () => cb(null), onError: () => again() });
    });
  round();
}

export function designCreate(host: ServiceHost, rawName: string, ddoc: unknown, o: DesignOptions, cb: Cb<HttpResult>): void {
  checkOptions('designCreate', o);
  const name = devName(checkName(rawName), o.useDevmode ?? true);
  let doc: Record<string, unknown>;
  if (typeof ddoc === 'string') {
    try {
      doc = JSON.parse(ddoc) as Record<string, unknown>;
    } catch {
      throw new ArgumentError(`designCreate("${name}"): the design document is not valid JSON`);
    }
  } else if (typeof ddoc === 'object' && ddoc !== null && !Array.isArray(ddoc)) doc = { ...(ddoc as Record<string, unknown>) };
  else throw new ArgumentError(`designCreate("${name}"): the design document must be an object or JSON text`);
  doc._id = `_design/${name}`;
  const put = (oldRev: string | undefined): void =>
    httpRequest(host, { service: 'capi', method: 'PUT', path: docPath(host, name), body: JSON.stringify(doc), timeout: host.options.views_timeout }, (err, r) => {
      if (err) return cb(err, null);
      poll(host, name, 'add', oldRev, o.syncwait ?? 0, (e) => cb(e, e ? null : r));
    });
  if (!o.syncwait) return put(undefined);
  designGet(host, name, { useDevmode: false }, (_e, existing) => put(revOf(existing)));
}

export function designDelete(host: ServiceHost, rawName: string, o: DesignOptions, cb: Cb<HttpResult>): void {
  checkOptions('designDelete', o);
  const name = devName(checkName(rawName), o.useDevmode ?? true);
  httpRequest(host, { service: 'capi', method: 'DELETE', path: docPath(host, name), timeout: host.options.views_timeout }, (err, r) => {
    if (err) return cb(err, null);
    poll(host, name, 'del', undefined, o.syncwait ?? 0, (e) => cb(e, e ? null : r));
  });
}

/** Copies the development design document to production and removes the development one. */
export function designPublish(host: ServiceHost, rawName: string, o: { syncwait?: number }, cb: Cb<HttpResult>): void {
  checkOptions('designPublish', o);
  const name = checkName(rawName).replace(/^dev_/, '');
  designGet(host, name, { useDevmode: true }, (err, existing) => {
    if (err) return cb(err, null);
    const { _id: _drop, ...body } = (existing!.value ?? {}) as Record<string, unknown>;
    designCreate(host, name, body, { useDevmode: false, syncwait: o.syncwait }, (e, created) => {
      if (e) return cb(e, null);
      designDelete(host, name, { useDevmode: true, syncwait: o.syncwait }, (e2) => cb(e2, e2 ? null : created));
    });
  });
}

/**
 * Every design document of the bucket (Python's design_list): an HttpResult whose value maps
 * each design document's id (`_design/name`, `_design/dev_name`) to its content.
 */
export function designList(host: ServiceHost, cb: Cb<HttpResult>): void {
  httpRequest(host, { service: 'mgmt', method: 'GET', path: `/pools/default/buckets/${encodeURIComponent(host.bucket)}/ddocs` }, (err, r) => {
    if (err) return cb(err, null);
    const rows = ((r!.value ?? {}) as { rows?: Array<{ doc?: { meta?: { id?: string }; json?: unknown } }> }).rows ?? [];
    const out: Record<string, unknown> = {};
    for (const row of rows) if (row.doc?.meta?.id) out[row.doc.meta.id] = row.doc.json;
    r!.value = out;
    cb(null, r);
  });
}

/** Empties the bucket (Python's Bucket.flush); the bucket must have flush enabled. */
export function flush(host: ServiceHost, cb: Cb<HttpResult>): void {
  httpRequest(host, { service: 'mgmt', method: 'POST', path: `/pools/default/buckets/${encodeURIComponent(host.bucket)}/controller/doFlush`, body: '', contentType: 'application/x-www-form-urlencoded' }, cb);
}
