// The scopes and collections REST API (ns_server's menelaus_web_collections): list, create and drop
// scopes; create, edit (PATCH) and drop collections; set the whole manifest (PUT); wait for a
// manifest uid. Answers in ns_server's shapes: `{"uid": "<hex>"}` on success, `{"errors": {field:
// message}}` for a bad form (its validators' words, in their order), `{"errors": {"_": message}}`
// for a refused change, with its status codes; 403 naming the permission a user lacks.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, readForm, reply, NOT_FOUND } from '../console/http';
import { requirePermission, type PermissionHolder } from '../rbac/guard';
import { ANY, bucketPermission, collectionPermission, scopePermission } from '../rbac/permission';
import { StoreError } from '../store';
import type { DocumentStore } from '../store';
import { MAX_TTL_LIMIT, NO_EXPIRY, SYSTEM_COLLECTIONS, SYSTEM_SCOPE, DEFAULT_COLLECTION, DEFAULT_SCOPE, collectionsErrorText, hexUid, nameProblem, type CollectionProps, type CollectionsOp, type CollectionsResult, type RequiredScope } from './manifest';

/** What the routes need from the cluster. */
export interface CollectionsRestHost {
  store(bucket: string): DocumentStore | undefined;
  /** Whether history can be kept in the bucket (magma Couchbase buckets): see CollectionsHost.magma. */
  readonly collectionsAdmin: { magma(bucket: string): boolean };
  changeCollections(bucket: string, op: CollectionsOp): CollectionsResult;
}

/** How long @ensureManifest waits by default, ms (ns_server's). */
const ENSURE_TIMEOUT_MS = 30000;
const MAX_ENSURE_TIMEOUT_MS = 300000;

/**
 * Handles `/pools/default/buckets/<b>/scopes[...]`; returns false for any other path (`parts`:
 * the decoded path segments).
 */
export function handleCollectionsRest(host: CollectionsRestHost, user: PermissionHolder, req: IncomingMessage, res: ServerResponse, parts: readonly string[]): boolean | Promise<void> {
  if (parts.length < 5 || parts[0] !== 'pools' || parts[1] !== 'default' || parts[2] !== 'buckets' || parts[4] !== 'scopes') return false;
  const bucket = parts[3];
  const store = host.store(bucket);
  if (store === undefined) {
    reply(res, 404, NOT_FOUND);
    return true;
  }
  const rest = parts.slice(5);
  const method = req.method ?? 'GET';
  if (rest.length === 0 && method === 'GET') {
    if (!requirePermission(user, res, collectionPermission(bucket, ANY, ANY, ['collections'], 'read'))) return true;
    reply(res, 200, store.manifest.restJson((s, c) => user.allows(collectionPermission(bucket, s, c ?? ANY, ['collections'], 'read'))));
    return true;
  }
  if (rest.length === 0 && method === 'POST') {
    if (!requirePermission(user, res, bucketPermission(bucket, ['collections'], 'write'))) return true;
    return withForm(req, res, host, bucket, (form) => {
      const errors = new FormErrors(form);
      const name = errors.name();
      errors.unsupported(['name']);
      if (errors.send(res)) return;
      answer(res, host.changeCollections(bucket, { op: 'createScope', scope: name! }));
    });
  }
  if (rest.length === 0 && method === 'PUT') {
    if (!requirePermission(user, res, bucketPermission(bucket, ['collections'], 'write'))) return true;
    return setManifest(req, res, host, bucket);
  }
  if (rest.length === 2 && rest[0] === '@ensureManifest' && method === 'POST') {
    if (!requirePermission(user, res, bucketPermission(bucket, ['settings'], 'read'))) return true;
    return ensureManifest(req, res, store, rest[1]);
  }
  const scope = rest[0];
  if (rest.length === 1 && method === 'DELETE') {
    if (!requirePermission(user, res, scopePermission(bucket, scope, ['collections'], 'write'))) return true;
    if (!collectionsAllowed(host, bucket, res)) return true;
    change(res, host, bucket, { op: 'dropScope', scope });
    return true;
  }
  if (rest.length === 2 && rest[1] === 'collections' && method === 'POST') {
    if (!requirePermission(user, res, scopePermission(bucket, scope, ['collections'], 'write'))) return true;
    return withForm(req, res, host, bucket, (form) => {
      const errors = new FormErrors(form);
      const props = collectionProps(errors, host, bucket, res);
      if (props === undefined) return;
      const name = errors.name();
      errors.unsupported(['name', 'maxTTL', 'history']);
      if (errors.send(res)) return;
      change(res, host, bucket, { op: 'createCollection', scope, collection: name!, props });
    });
  }
  if (rest.length === 3 && rest[1] === 'collections' && (method === 'DELETE' || method === 'PATCH')) {
    const collection = rest[2];
    if (method === 'DELETE') {
      if (!requirePermission(user, res, scopePermission(bucket, scope, ['collections'], 'write'))) return true;
      if (!collectionsAllowed(host, bucket, res)) return true;
      change(res, host, bucket, { op: 'dropCollection', scope, collection });
      return true;
    }
    if (!requirePermission(user, res, collectionPermission(bucket, scope, collection, ['collections'], 'write'))) return true;
    return withForm(req, res, host, bucket, (form) => {
      const errors = new FormErrors(form);
      const props = collectionProps(errors, host, bucket, res);
      if (props === undefined) return;
      errors.unsupported(['maxTTL', 'history']);
      if (errors.send(res)) return;
      change(res, host, bucket, { op: 'modifyCollection', scope, collection, props });
    });
  }
  // Other paths under scopes/ (a collection's documents: console/docs-rest.ts) are not ours.
  return false;
}

/** Memcached buckets have no collections: ns_server refuses before reading anything (a plain-text 400). */
function collectionsAllowed(host: CollectionsRestHost, bucket: string, res: ServerResponse): boolean {
  if (host.store(bucket)?.nodeLocator !== 'ketama') return true;
  reply(res, 400, 'Not allowed on this type of bucket');
  return false;
}

async function withForm(req: IncomingMessage, res: ServerResponse, host: CollectionsRestHost, bucket: string, then: (form: URLSearchParams) => void): Promise<void> {
  if (!collectionsAllowed(host, bucket, res)) return;
  then(await readForm(req));
}

/** A form's problems, one per field (the first found, as ns_server's validators skip a field with one). */
class FormErrors {
  private readonly errors: Record<string, string> = {};
  constructor(readonly form: URLSearchParams) {
    for (const key of new Set(form.keys())) if (form.getAll(key).length > 1) this.errors[key] = 'Key specified more than once';
  }

  has(field: string): boolean {
    return this.errors[field] !== undefined;
  }

  add(field: string, message: string): void {
    this.errors[field] ??= message;
  }

  /** The `name` field, checked as ns_server checks scope and collection names. */
  name(): string | undefined {
    const name = this.form.get('name');
    if (name === null) this.add('name', 'The value must be supplied');
    else if (!this.has('name')) {
      const problem = nameProblem(name);
      if (problem !== undefined) this.add('name', problem);
    }
    return name ?? undefined;
  }

  unsupported(known: readonly string[]): void {
    for (const key of this.form.keys()) if (!known.includes(key)) this.add(key, 'Unsupported key');
  }

  /** Answers 400 with every problem, when there are any. */
  send(res: ServerResponse): boolean {
    if (Object.keys(this.errors).length === 0) return false;
    reply(res, 400, { errors: this.errors });
    return true;
  }
}

/**
 * maxTTL and history as a create or PATCH gives them (ns_server's validators, in order). History on
 * a bucket that is not magma is refused outright (plain-text 400): answers and returns undefined.
 */
function collectionProps(errors: FormErrors, host: CollectionsRestHost, bucket: string, res: ServerResponse): CollectionProps | undefined {
  const form = errors.form;
  let history: boolean | undefined;
  const h = form.get('history');
  if (h !== null && !errors.has('history')) {
    if (h !== 'true' && h !== 'false') errors.add('history', 'The value must be one of the following: [true,false]');
    else history = h === 'true';
  }
  if (history === true) {
    if (!host.collectionsAdmin.magma(bucket)) {
      reply(res, 400, 'Not allowed on this type of bucket');
      return undefined;
    }
  }
  let maxTTL: number | undefined;
  const t = form.get('maxTTL');
  if (t !== null && !errors.has('maxTTL')) {
    if (!/^-?\d+$/.test(t.trim())) errors.add('maxTTL', 'The value must be an integer');
    else {
      const n = Number(t.trim());
      if (n < NO_EXPIRY || n > MAX_TTL_LIMIT) errors.add('maxTTL', `The value must be in range from ${NO_EXPIRY} to ${MAX_TTL_LIMIT}`);
      else maxTTL = n;
    }
  }
  return { ...(maxTTL !== undefined ? { maxTTL } : {}), ...(history !== undefined ? { history } : {}) };
}

function change(res: ServerResponse, host: CollectionsRestHost, bucket: string, op: CollectionsOp): void {
  let result: CollectionsResult;
  try {
    result = host.changeCollections(bucket, op);
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;
    reply(res, 503, { errors: { _: err.message } });
    return;
  }
  answer(res, result);
}

function answer(res: ServerResponse, result: CollectionsResult): void {
  if ('ok' in result) return reply(res, 200, { uid: hexUid(result.ok.uid) });
  const { message, status } = collectionsErrorText(result.error);
  reply(res, status, { errors: { _: message } });
}

/** POST .../scopes/@ensureManifest/<uid>: 200 once the bucket's manifest is at least that uid, 504 at the timeout. */
async function ensureManifest(req: IncomingMessage, res: ServerResponse, store: DocumentStore, uidText: string): Promise<void> {
  const form = await readForm(req);
  if (!/^[0-9a-fA-F]{1,16}$/.test(uidText)) return reply(res, 400, 'Invalid UID');
  const wanted = parseInt(uidText, 16);
  const t = form.get('timeout');
  const timeout = t === null ? ENSURE_TIMEOUT_MS : Number(t);
  if (!Number.isInteger(timeout) || timeout < 0 || timeout > MAX_ENSURE_TIMEOUT_MS) return reply(res, 400, { errors: { timeout: `The value must be in range from 0 to ${MAX_ENSURE_TIMEOUT_MS}` } });
  const until = Date.now() + timeout;
  // Every node shares the manifest: it is there at once, or when a later change brings it.
  while (store.manifest.uid < wanted) {
    if (Date.now() >= until) return reply(res, 504, 'timeout');
    await new Promise((r) => setTimeout(r, 50));
  }
  reply(res, 200, '');
}

/** Names a whole-manifest PUT may give though they start with `_` (ns_server's special_allowed). */
const SPECIAL_NAMES: readonly string[] = [DEFAULT_SCOPE, DEFAULT_COLLECTION, SYSTEM_SCOPE, ...SYSTEM_COLLECTIONS];

/**
 * PUT .../scopes with a JSON manifest `{"scopes": [{"name", "collections": [{"name", "maxTTL",
 * "history"}]}]}` (ns_server's handle_set_manifest): checked as its validators check it, then
 * made the bucket's manifest as one change (see Manifest.setManifest). `?validOnUid=<hex>` makes
 * it conditional on the current uid.
 */
async function setManifest(req: IncomingMessage, res: ServerResponse, host: CollectionsRestHost, bucket: string): Promise<void> {
  if (!collectionsAllowed(host, bucket, res)) return;
  const qs = new URL(req.url ?? '/', 'http://x').searchParams;
  const uidText = qs.get('validOnUid');
  let validOnUid: number | undefined;
  if (uidText !== null) {
    if (!/^[0-9a-fA-F]{1,16}$/.test(uidText)) return reply(res, 400, { errors: { _: 'Invalid validOnUid' } });
    validOnUid = parseInt(uidText, 16);
  }
  let body: unknown;
  try {
    body = JSON.parse((await readBody(req)).toString('utf8'));
  } catch {
    return reply(res, 400, { errors: { _: 'Invalid JSON' } });
  }
  const errors: Record<string, string> = {};
  const scopes = requiredScopes(body, errors);
  if (Object.keys(errors).length > 0 || scopes === undefined) return reply(res, 400, { errors });
  if (scopes.some((s) => s.collections.some((c) => c.props.history === true)) && !host.collectionsAdmin.magma(bucket)) {
    return reply(res, 400, 'Not allowed on this type of bucket');
  }
  change(res, host, bucket, { op: 'setManifest', scopes, validOnUid });
}

/** The scopes a manifest body lists, or undefined with `errors` filled in (keyed by where: `scopes[1].collections[0].maxTTL`). */
function requiredScopes(body: unknown, errors: Record<string, string>): RequiredScope[] | undefined {
  if (!isObject(body)) {
    errors._ = 'Unexpected JSON: a manifest is an object';
    return undefined;
  }
  for (const key of Object.keys(body)) if (key !== 'scopes') errors[key] = 'Unsupported key';
  if (!('scopes' in body)) errors.scopes = 'The value must be supplied';
  else if (!Array.isArray(body.scopes)) errors.scopes = 'Value must be json array';
  if (Object.keys(errors).length > 0) return undefined;
  const out: RequiredScope[] = [];
  (body.scopes as unknown[]).forEach((scope, i) => {
    const at = `scopes[${i}]`;
    if (!isObject(scope)) {
      errors[at] = 'Value must be json object';
      return;
    }
    const name = elementName(scope, at, errors);
    for (const key of Object.keys(scope)) if (key !== 'name' && key !== 'collections') errors[`${at}.${key}`] = 'Unsupported key';
    const list = scope.collections ?? [];
    if (!Array.isArray(list)) {
      errors[`${at}.collections`] = 'Value must be json array';
      return;
    }
    const collections: Array<{ name: string; props: CollectionProps }> = [];
    list.forEach((coll, j) => {
      const cat = `${at}.collections[${j}]`;
      if (!isObject(coll)) {
        errors[cat] = 'Value must be json object';
        return;
      }
      const cname = elementName(coll, cat, errors);
      const props = jsonCollectionProps(coll, cat, errors);
      for (const key of Object.keys(coll)) if (!['name', 'maxTTL', 'history'].includes(key)) errors[`${cat}.${key}`] = 'Unsupported key';
      if (cname !== undefined && props !== undefined) collections.push({ name: cname, props });
    });
    if (new Set(collections.map((c) => c.name)).size !== collections.length) errors[`${at}.collections`] = 'Contains duplicate name';
    if (name !== undefined) out.push({ name, collections });
  });
  if (new Set(out.map((s) => s.name)).size !== out.length) errors.scopes = 'Contains duplicate name';
  return Object.keys(errors).length > 0 ? undefined : out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A scope's or collection's `name`, checked as ns_server checks it (`_default`, `_system` and the system collections allowed here). */
function elementName(o: Record<string, unknown>, at: string, errors: Record<string, string>): string | undefined {
  const name = o.name;
  if (name === undefined) errors[`${at}.name`] = 'The value must be supplied';
  else if (typeof name !== 'string') errors[`${at}.name`] = 'Value must be a string';
  else {
    const problem = SPECIAL_NAMES.includes(name) ? undefined : nameProblem(name);
    if (problem === undefined) return name;
    errors[`${at}.name`] = problem;
  }
  return undefined;
}

function jsonCollectionProps(o: Record<string, unknown>, at: string, errors: Record<string, string>): CollectionProps | undefined {
  const props: { maxTTL?: number; history?: boolean } = {};
  if (o.history !== undefined) {
    if (typeof o.history !== 'boolean') errors[`${at}.history`] = 'The value must be one of the following: [true,false]';
    else props.history = o.history;
  }
  if (o.maxTTL !== undefined) {
    if (typeof o.maxTTL !== 'number' || !Number.isInteger(o.maxTTL)) errors[`${at}.maxTTL`] = 'The value must be an integer';
    else if (o.maxTTL < NO_EXPIRY || o.maxTTL > MAX_TTL_LIMIT) errors[`${at}.maxTTL`] = `The value must be in range from ${NO_EXPIRY} to ${MAX_TTL_LIMIT}`;
    else props.maxTTL = o.maxTTL;
  }
  return errors[`${at}.history`] === undefined && errors[`${at}.maxTTL`] === undefined ? props : undefined;
}
