// Session commands: HELLO, SASL, SELECT_BUCKET, and what a client reads about the cluster over
// KV (cluster map, error map, collections manifest and ids).
import { Status } from '../../../protocol/status';
import { decodeErrorMapVersion, encodeCollectionIdExtras } from '../../../protocol/extras';
import type { KvRequest } from '../reader';
import type { CommandHandler as Handler, KvConnection } from '../connection';
import { SaslSession, SASL_MECHANISMS } from '../sasl-session';
import { errorMapJson } from '../error-map';
import { DEFAULT_MANIFEST } from '../../cluster-config';
import { DATATYPE_JSON } from '../../store';

const EMPTY = Buffer.alloc(0);

export const hello: Handler = (c, req) => c.hello(req);

export const listMechs: Handler = (c, req) => c.respond(req, Status.SUCCESS, 0n, EMPTY, EMPTY, Buffer.from(SASL_MECHANISMS), 0);

export const saslAuth: Handler = (c, req) => {
  const mech = req.key.toString('latin1');
  const session = new SaslSession(mech, c.node.credentials);
  c.sasl = session;
  c.user = undefined;
  c.store = undefined;
  c.lacking = 0;
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
  c.lacking = ~c.node.kvPrivileges(c.user, name);
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

export const getManifest: Handler = (c, req) => {
  if (c.store === undefined) return c.respondStatus(req, c.user === undefined ? Status.EACCESS : Status.NO_BUCKET);
  c.respondJson(req, Buffer.from(JSON.stringify(DEFAULT_MANIFEST)));
};

export const getCollectionId: Handler = (c, req) => {
  if (c.store === undefined) return c.respondStatus(req, c.user === undefined ? Status.EACCESS : Status.NO_BUCKET);
  const path = (req.value.length !== 0 ? req.value : req.key).toString('utf8');
  const [scope = '', collection = ''] = path.split('.');
  const manifestUid = Buffer.from('{"manifest_uid":"0"}');
  if (scope !== '' && scope !== '_default') return c.respond(req, Status.UNKNOWN_SCOPE, 0n, EMPTY, EMPTY, manifestUid, DATATYPE_JSON);
  if (collection !== '' && collection !== '_default') {
    return c.respond(req, Status.UNKNOWN_COLLECTION, 0n, EMPTY, EMPTY, manifestUid, DATATYPE_JSON);
  }
  // The default collection: manifest uid 0, collection id 0.
  c.respond(req, Status.SUCCESS, 0n, encodeCollectionIdExtras(0n, 0), EMPTY, EMPTY, 0);
};
