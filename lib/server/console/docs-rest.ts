// The documents REST endpoints the Couchbase web console uses (ns_server's menelaus_web_crud),
// over the same document store a KV client writes to:
//   GET    /pools/default/buckets/B[/scopes/_default/collections/_default]/docs
//            ?skip=0&limit=1000&startkey="a"&endkey="b"&inclusive_end=true&include_docs=false
//          -> {"rows": [{"id": "k", "doc": {"json": {...}} | {"base64": "..."}}]}, keys in byte order
//   GET    .../docs/ID   -> {"meta": {id, rev, expiration, flags, type, cas, datatype}, "json" | "base64": ...}
//   POST   .../docs/ID   form value=...&flags=N -> [] (a plain set, as ns_server does)
//   DELETE .../docs/ID   -> []
// Ours on top (ns_server's set is blind, a console editor should not be): POST and DELETE take
// `cas=N` (the write happens only if the document still has that CAS; 409 otherwise), and POST
// takes `insert=true` (fails with 409 when the document exists). `meta` also carries the CAS as
// a decimal string and the datatype names, for the editor's metadata panel.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DocumentStore } from '../store';
import { StoreError, StoreStatus } from '../store';
import type { StoredDoc } from '../service-types';
import type { ConsoleCore } from './core';
import { readForm, reply } from './http';

/** RFC-20 common flags for a JSON document: what ns_server stores when no flags are given. */
const COMMON_FLAGS_JSON = 0x02000006;

const badRequest = { error: 'bad_request', reason: 'bad request' };

function parseBool(raw: string | null, dflt: boolean): boolean | undefined {
  if (raw === null) return dflt;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  return undefined;
}

function parseInt10(raw: string | null, dflt: number): number | undefined {
  if (raw === null) return dflt;
  return /^-?\d+$/.test(raw) ? Number(raw) : undefined;
}

function parseKey(raw: string | null): string | null | undefined {
  if (raw === null) return null;
  try {
    const v: unknown = JSON.parse(raw);
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}


function body(doc: StoredDoc): { json: unknown } | { base64: string } {
  if ((doc.datatype & 0x01) !== 0) {
    try {
      return { json: JSON.parse(doc.value.toString('utf8')) };
    } catch {
      // Flagged JSON that does not parse: show the bytes.
    }
  }
  return { base64: doc.value.toString('base64') };
}

const hex = (n: bigint | number, width: number): string => n.toString(16).padStart(width, '0');

function meta(doc: StoredDoc): Record<string, unknown> {
  const datatype: string[] = [];
  if ((doc.datatype & 0x01) !== 0) datatype.push('json');
  if ((doc.datatype & 0x02) !== 0) datatype.push('snappy');
  if ((doc.datatype & 0x04) !== 0) datatype.push('xattr');
  return {
    id: doc.id,
    // CouchDB-style revision as capi_utils builds it: seqno, then CAS, expiry and flags in hex.
    rev: `${doc.seqno}-${hex(doc.cas, 16)}${hex(doc.expiry, 8)}${hex(doc.flags >>> 0, 8)}`,
    expiration: doc.expiry,
    flags: doc.flags >>> 0,
    type: (doc.datatype & 0x01) !== 0 ? 'json' : 'base64',
    cas: doc.cas.toString(),
    datatype: datatype.length > 0 ? datatype : ['raw'],
  };
}

function list(store: DocumentStore, url: URL, res: ServerResponse): void {
  const q = url.searchParams;
  const skip = parseInt10(q.get('skip'), 0);
  const limit = parseInt10(q.get('limit'), 1000);
  const includeDocs = parseBool(q.get('include_docs'), false);
  const inclusiveEnd = parseBool(q.get('inclusive_end'), true);
  const startKey = parseKey(q.get('startkey'));
  const endKey = parseKey(q.get('endkey'));
  if (skip === undefined || limit === undefined || skip < 0 || limit < 0 || includeDocs === undefined || inclusiveEnd === undefined || startKey === undefined || endKey === undefined) {
    return reply(res, 400, badRequest);
  }
  const start = startKey === null ? undefined : Buffer.from(startKey, 'utf8');
  const end = endKey === null ? undefined : Buffer.from(endKey, 'utf8');
  // Keys in UTF-8 byte order, as memcached's key listing returns them.
  const keys: Array<{ id: string; k: Buffer }> = [];
  for (const doc of store.docs()) {
    const k = Buffer.from(doc.id, 'utf8');
    if (start !== undefined && Buffer.compare(k, start) < 0) continue;
    if (end !== undefined) {
      const c = Buffer.compare(k, end);
      if (c > 0 || (c === 0 && !inclusiveEnd)) continue;
    }
    keys.push({ id: doc.id, k });
  }
  keys.sort((a, b) => Buffer.compare(a.k, b.k));
  const ids = keys.map((e) => e.id);
  const rows = ids.slice(skip, skip + limit).map((id) => {
    const doc = store.get(id);
    return includeDocs && doc !== undefined ? { id, doc: body(doc) } : { id };
  });
  reply(res, 200, { rows });
}

function storeErrorAnswer(err: StoreError, hadCas: boolean): [number, Record<string, string>] {
  switch (err.status) {
    case StoreStatus.KEY_ENOENT:
      return [404, { error: 'not_found', reason: 'The document does not exist (it was deleted since it was read?)' }];
    case StoreStatus.KEY_EEXISTS:
      return hadCas
        ? [409, { error: 'conflict', reason: 'CAS mismatch: the document was changed since it was read; reload it to see the current version' }]
        : [409, { error: 'exists', reason: 'A document with this ID already exists' }];
    case StoreStatus.LOCKED:
      return [423, { error: 'locked', reason: 'The document is locked (GET_LOCKED); try again when the lock expires' }];
    case StoreStatus.E2BIG:
      return [400, { error: 'bad_request', reason: 'The value is larger than 20 MiB' }];
    default:
      return [400, { error: 'bad_request', reason: err.message }];
  }
}

/** Answers after the write is durable when the cluster keeps a log, as a KV ack would. */
function afterDurable(core: ConsoleCore, then: () => void): void {
  const log = core.log;
  if (log !== undefined && log.pending()) log.whenDurable(then);
  else then();
}

function parseCas(raw: string | null): bigint | null | undefined {
  if (raw === null || raw === '') return null;
  return /^\d{1,20}$/.test(raw) ? BigInt(raw) : undefined;
}

async function write(core: ConsoleCore, store: DocumentStore, id: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const form = await readForm(req);
  const value = Buffer.from(form.get('value') ?? '', 'utf8');
  const flagsRaw = form.get('flags');
  let flags = COMMON_FLAGS_JSON;
  if (flagsRaw !== null) {
    if (!/^\d+$/.test(flagsRaw) || Number(flagsRaw) <= 0 || Number(flagsRaw) > 0xffffffff) return reply(res, 400, "'flags' must be a valid positive integer");
    flags = Number(flagsRaw);
  }
  const cas = parseCas(form.get('cas'));
  if (cas === undefined) return reply(res, 400, { error: 'bad_request', reason: "'cas' must be the document's CAS as a decimal number" });
  const insert = parseBool(form.get('insert'), false);
  if (insert === undefined) return reply(res, 400, { error: 'bad_request', reason: "'insert' must be true or false" });
  try {
    store.write(id, value, insert ? 'insert' : cas !== null ? 'replace' : 'upsert', { flags, cas: cas ?? undefined });
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;
    const [status, answer] = storeErrorAnswer(err, cas !== null);
    return reply(res, status, answer);
  }
  afterDurable(core, () => reply(res, 200, []));
}

function remove(core: ConsoleCore, store: DocumentStore, id: string, url: URL, res: ServerResponse): void {
  const cas = parseCas(url.searchParams.get('cas'));
  if (cas === undefined) return reply(res, 400, { error: 'bad_request', reason: "'cas' must be the document's CAS as a decimal number" });
  try {
    store.remove(id, { cas: cas ?? undefined });
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;
    const [status, answer] = storeErrorAnswer(err, cas !== null);
    return reply(res, status, answer);
  }
  afterDurable(core, () => reply(res, 200, []));
}

/**
 * Handles `rest` = the path after /pools/default/buckets/B (`docs`, `docs/ID`, or the same under
 * scopes/S/collections/C). Returns false when the path is not a documents route.
 */
export function handleDocs(core: ConsoleCore, bucket: DocumentStore, rest: readonly string[], req: IncomingMessage, res: ServerResponse, url: URL): boolean | Promise<void> {
  let parts = rest;
  let store: DocumentStore | undefined = bucket;
  if (parts[0] === 'scopes' && parts[2] === 'collections' && parts[4] === 'docs') {
    store = bucket.collectionNamed(parts[1], parts[3]);
    if (store === undefined) {
      reply(res, 404, { error: `Collection ${parts[1]}.${parts[3]} not found in bucket ${bucket.name}` });
      return true;
    }
    parts = parts.slice(4);
  }
  if (parts[0] !== 'docs' || parts.length > 2) return false;
  if (core.bucketAdmin.settingsOf(store.name)?.bucketType === 'memcached' && parts.length === 1) {
    // memcached cannot list its keys; ns_server answers so.
    reply(res, 501, { error: 'memcached_error', reason: 'not_supported' });
    return true;
  }
  if (parts.length === 1) {
    if (req.method !== 'GET') return false;
    list(store, url, res);
    return true;
  }
  const id = parts[1];
  if (req.method === 'GET') {
    const doc = store.get(id);
    if (doc === undefined) reply(res, 404, '');
    else reply(res, 200, { meta: meta(doc), ...body(doc) });
    return true;
  }
  if (req.method === 'POST') return write(core, store, id, req, res);
  if (req.method === 'DELETE') {
    remove(core, store, id, url, res);
    return true;
  }
  return false;
}
