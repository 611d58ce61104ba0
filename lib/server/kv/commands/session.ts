// Session commands: HELLO, SASL, SELECT_BUCKET, and what a client reads about the cluster over
// KV (cluster map, error map, collections manifest and ids).
import { Status } from '../../../protocol/status';
import { decodeErrorMapVersion, encodeCollectionIdExtras } from '../../../protocol/extras';
import type { KvRequest } from '../reader';
import type { CommandHandler as Handler, KvConnection } from '../connection';
import { SaslSession, SASL_MECHANISMS } from '../sasl-session';
import { errorMapJson } from '../error-map';
import { DATATYPE_JSON } from '../../store';
import { DEFAULT_COLLECTION, DEFAULT_SCOPE, SYSTEM_SCOPE, type Manifest, type ScopeDef, type Visibility } from '../../collections/manifest';
import { ANY } from '../../rbac/permission';

const EMPTY = Buffer.alloc(0);

export const hello: Handler = (c, req) => c.hello(req);

export const listMechs: Handler = (c, req) => c.respond(req, Status.SUCCESS, 0n, EMPTY, EMPTY, Buffer.from(SASL_MECHANISMS), 0);

export const saslAuth: Handler = (c, req) => {
  const mech = req.key.toString('latin1');
  const session = new SaslSession(mech, c.node.credentials);
  c.sasl = session;
  c.user = undefined;
  c.store = undefined;
  c.resetPrivileges(0);
  finishSasl(c, req, session.start(req.value));
};

export const saslStep: Handler = (c, req) => {
  const session = c.sasl;
  if (session === undefined || session.mechanism !== req.key.toString('latin1')) {
    c.sasl = undefined;
    return c.respondStatus(req, Status.AUTH_ERROR);
  }
  finishSasl(c, req, session.step(req.value));
};

function finishSasl(c: KvConnection, req: KvRequest, r: { status: 'continue' | 'done' | 'failed'; value: Buffer; user?: string }): void {
  if (r.status === 'continue') return c.respond(req, Status.AUTH_CONTINUE, 0n, EMPTY, EMPTY, r.value, 0);
  c.sasl = undefined;
  if (r.status === 'failed') return c.respondStatus(req, Status.AUTH_ERROR);
  c.user = r.user;
  c.respond(req, Status.SUCCESS, 0n, EMPTY, EMPTY, r.value, 0);
}

export const selectBucket: Handler = (c, req) => {
  const name = req.key.toString('utf8');
  if (c.user === undefined) return c.respondStatus(req, Status.EACCESS);
  const store = c.node.bucketFor(c.user, name);
  if (store === undefined) return c.respondStatus(req, Status.EACCESS);
  c.store = store;
  c.resetPrivileges(~c.node.kvPrivileges(c.user, name));
  c.respondOk(req);
};

export const getClusterConfig: Handler = (c, req) => {
  if (c.user === undefined) return c.respondStatus(req, Status.EACCESS);
  const json = c.store !== undefined ? c.node.bucketConfigJson(c.store.name) : c.node.globalConfigJson();
  c.pushedRev = Math.max(c.pushedRev, c.node.topology.rev);
  c.respondJson(req, json);
};

export const getErrorMap: Handler = (c, req) => {
  if (req.value.length !== 2) return c.respondStatus(req, Status.EINVAL);
  const v = decodeErrorMapVersion(req.value);
  if (v === 0) return c.respondStatus(req, Status.EINVAL);
  c.respondJson(req, errorMapJson(v));
};

/**
 * What the connection's user sees of the bucket's manifest (kv_engine filters by privilege): a
 * collection where it holds some privilege, a scope where it does or that has such a collection
 * (the `_system` scope only through its collections).
 */
function visibleTo(c: KvConnection, bucket: string): Visibility {
  return (scope, collection) => {
    if (c.user === undefined) return false;
    if (collection === undefined && scope === SYSTEM_SCOPE) return false;
    return c.node.kvPrivileges(c.user, bucket, scope, collection ?? ANY) !== 0;
  };
}

export const getManifest: Handler = (c, req) => {
  const store = c.store;
  if (store === undefined) return c.respondStatus(req, c.user === undefined ? Status.EACCESS : Status.NO_BUCKET);
  if (req.extras.length !== 0 || req.keyLength !== 0 || req.value.length !== 0) return c.respondStatus(req, Status.EINVAL);
  c.respondJson(req, Buffer.from(JSON.stringify(store.manifest.memcachedJson(visibleTo(c, store.name)))));
};

/** Scope `name` when the user sees it (as such, or through one of its collections). */
function visibleScope(manifest: Manifest, name: string, visible: Visibility): ScopeDef | undefined {
  const scope = manifest.scope(name);
  return scope !== undefined && (visible(name, undefined) || scope.collections.some((x) => visible(name, x.name))) ? scope : undefined;
}

/** A scope or collection name in a lookup path (kv_engine accepts system names here too); '' is `_default`. */
const PATH_NAME = /^[A-Za-z0-9_%-][A-Za-z0-9_%$-]{0,250}$/;

/**
 * The scope and collection a GET_COLLECTION_ID / GET_SCOPE_ID path names (`scope.collection`, an
 * empty part meaning `_default`), or undefined when it is malformed. A scope path may name its
 * collection too, which is ignored.
 */
function parsePath(text: string, wantCollection: boolean): { scope: string; collection: string } | undefined {
  const parts = text.split('.');
  if (wantCollection ? parts.length !== 2 : parts.length > 2) return undefined;
  const [scope, collection = ''] = parts;
  if ((scope !== '' && !PATH_NAME.test(scope)) || (collection !== '' && !PATH_NAME.test(collection))) return undefined;
  return { scope: scope || DEFAULT_SCOPE, collection: collection || DEFAULT_COLLECTION };
}

/** kv_engine takes the path from the value; clients before 7.0 sent it as the key. */
function pathOf(req: KvRequest): string {
  return (req.value.length !== 0 ? req.value : req.key).toString('utf8');
}

export const getCollectionId: Handler = (c, req) => {
  const store = c.store;
  if (store === undefined) return c.respondStatus(req, c.user === undefined ? Status.EACCESS : Status.NO_BUCKET);
  const path = parsePath(pathOf(req), true);
  if (path === undefined) return c.respondStatus(req, Status.EINVAL);
  const manifest = store.manifest;
  const visible = visibleTo(c, store.name);
  if (visibleScope(manifest, path.scope, visible) === undefined) return c.respondUnknownCollection(req, Status.UNKNOWN_SCOPE);
  const def = manifest.collection(path.scope, path.collection);
  if (def === undefined || !visible(path.scope, path.collection)) return c.respondUnknownCollection(req);
  c.respond(req, Status.SUCCESS, 0n, encodeCollectionIdExtras(BigInt(manifest.uid), def.uid), EMPTY, EMPTY, 0);
};

export const getScopeId: Handler = (c, req) => {
  const store = c.store;
  if (store === undefined) return c.respondStatus(req, c.user === undefined ? Status.EACCESS : Status.NO_BUCKET);
  const path = parsePath(pathOf(req), false);
  if (path === undefined) return c.respondStatus(req, Status.EINVAL);
  const manifest = store.manifest;
  const scope = visibleScope(manifest, path.scope, visibleTo(c, store.name));
  if (scope === undefined) return c.respondUnknownCollection(req, Status.UNKNOWN_SCOPE);
  c.respond(req, Status.SUCCESS, 0n, encodeCollectionIdExtras(BigInt(manifest.uid), scope.uid), EMPTY, EMPTY, 0);
};
