// The management routes of the web console, in front of mgmt.ts's discovery routes: the console
// page itself (/ui/), login and logout, session-or-Basic authentication, and the endpoints the
// console's actions use (controllers, bucket create/update/delete/flush, documents, stats, the
// query and views proxies). Every action goes through the same cluster operations, stores and
// services a client reaches, and needs the permission ns_server asks for (403 otherwise).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity } from '../rbac/users';
import { checkBucketForm } from '../buckets-admin';
import { ZOOM_LEVELS } from '../stats/sampler';
import { requirePermission } from '../rbac/guard';
import { bucketPermission, clusterPermission, collectionPermission } from '../rbac/permission';
import { DEFAULT_COLLECTION, DEFAULT_SCOPE } from '../rbac/kv-privileges';
import type { ConsoleCore } from './core';
import { CONTROLLERS, isBalanced } from './controller';
import { handleDocs } from './docs-rest';
import { NOT_FOUND, readForm, reply } from './http';
import { proxy, proxyRoute } from './proxy';
import { sessionCookie, sessionToken, wantsSession } from './sessions';
import { serveConsole } from './static';

type Handled = boolean | Promise<void>;

/** Routes that need no credentials: the console's files, login and logout. */
export function handlePublic(core: ConsoleCore, req: IncomingMessage, res: ServerResponse, path: string): Handled {
  if (req.url!.startsWith('/ui/')) {
    serveConsole(core.consoleDir, decodeURIComponent(new URL(req.url!, 'http://x').pathname.slice(4)), req, res);
    return true;
  }
  if (path === '/ui' && req.method === 'GET') {
    reply(res, 301, '', { location: '/ui/' });
    return true;
  }
  if (path === '/' && req.method === 'GET' && /\btext\/html\b/.test(String(req.headers.accept ?? ''))) {
    // A browser pointed at the management port gets the console, as on port 8091.
    reply(res, 302, '', { location: '/ui/' });
    return true;
  }
  if (path === '/uilogin' && req.method === 'POST') return uilogin(core, req, res);
  if (path === '/uilogout' && req.method === 'POST') {
    const token = sessionToken(req);
    if (token !== undefined) core.sessions.logout(token);
    reply(res, 200, '', { 'set-cookie': sessionCookie(req, undefined) });
    return true;
  }
  return false;
}

async function uilogin(core: ConsoleCore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const form = await readForm(req);
  const user = core.checkPassword(form.get('user') ?? '', form.get('password') ?? '');
  if (user === null) return reply(res, 400, '');
  const token = core.sessions.create(user);
  reply(res, 200, '', { 'set-cookie': sessionCookie(req, token) });
}

/**
 * Who is asking: with `ns-server-ui: yes` only the console session counts (cookie or
 * ns-server-auth-token), otherwise Basic auth as before. A session close to expiry is renewed
 * and the new cookie goes out on this response.
 */
export function authenticate(core: ConsoleCore, basic: (h: string | undefined) => Identity | null, req: IncomingMessage, res: ServerResponse): Identity | null {
  if (!wantsSession(req)) return basic(req.headers.authorization);
  const token = sessionToken(req);
  if (token === undefined) return null;
  const check = core.sessions.check(token);
  if (check.kind !== 'valid') return null;
  if (check.refreshed !== undefined) res.setHeader('set-cookie', sessionCookie(req, check.refreshed));
  // The session's user with its roles as they are now (they may have changed since login).
  return core.identity(check.user.username) ?? null;
}

/** The 401: the console (and anyone sending `invalid-auth-response: on`) gets no Basic challenge, so browsers show no login dialog. */
export function unauthorized(req: IncomingMessage, res: ServerResponse): void {
  if (wantsSession(req) || req.headers['invalid-auth-response'] === 'on') return reply(res, 401, []);
  reply(res, 401, '', { 'www-authenticate': 'Basic realm="Couchbase Server Admin / REST"' });
}

/** The console's authenticated routes; false when the path is not one of them. */
export function handleAuthed(core: ConsoleCore, node: number, user: Identity, req: IncomingMessage, res: ServerResponse, path: string, parts: readonly string[]): Handled {
  const route = proxyRoute(req.url!);
  if (route !== undefined) {
    proxy(core, node, route, user, req, res);
    return true;
  }
  const method = req.method;
  if (path === '/pools/default/rebalanceProgress' && method === 'GET') {
    if (requirePermission(user, res, clusterPermission(['tasks'], 'read'))) reply(res, 200, { status: 'none', balanced: isBalanced(core) });
    return true;
  }
  if (parts[0] === 'controller' && parts.length === 2 && method === 'POST' && Object.hasOwn(CONTROLLERS, parts[1])) {
    if (!requirePermission(user, res, clusterPermission(['pools'], 'write'))) return true;
    return (async () => {
      const answer = await CONTROLLERS[parts[1]](core, await readForm(req));
      reply(res, answer.status, answer.body);
    })();
  }
  if (parts[0] !== 'pools' || parts[1] !== 'default' || parts[2] !== 'buckets') return false;
  if (parts.length === 3 && method === 'POST') {
    if (!requirePermission(user, res, clusterPermission(['buckets'], 'create'))) return true;
    return createBucket(core, req, res);
  }
  if (parts.length < 4) return false;
  const name = parts[3];
  // Statistics of a service (@query) need no bucket; everything else here does.
  if (parts.length === 5 && parts[4] === 'stats' && method === 'GET' && name.startsWith('@')) {
    if (requirePermission(user, res, clusterPermission(['pools'], 'read'))) stats(core, name, new URL(req.url!, 'http://x'), res);
    return true;
  }
  const store = core.store(name);
  if (store === undefined) {
    if (parts[4] === 'docs' || parts[4] === 'scopes' || parts[4] === 'stats' || parts.length === 4 || (parts[4] === 'controller' && parts[5] === 'doFlush')) {
      reply(res, 404, NOT_FOUND);
      return true;
    }
    return false;
  }
  if (parts.length === 5 && parts[4] === 'stats' && method === 'GET') {
    if (requirePermission(user, res, bucketPermission(name, ['stats'], 'read'))) stats(core, name, new URL(req.url!, 'http://x'), res);
    return true;
  }
  if (parts.length === 4 && method === 'DELETE') {
    if (!requirePermission(user, res, bucketPermission(name, [], 'delete'))) return true;
    core.bucketAdmin.deleteBucket(name);
    reply(res, 200, '');
    return true;
  }
  if (parts.length === 4 && method === 'POST') {
    if (!requirePermission(user, res, bucketPermission(name, ['settings'], 'write'))) return true;
    return updateBucket(core, name, req, res);
  }
  if (parts.length === 6 && parts[4] === 'controller' && parts[5] === 'doFlush' && method === 'POST') {
    if (!requirePermission(user, res, bucketPermission(name, [], 'flush'))) return true;
    if (core.bucketAdmin.settingsOf(name)?.flushEnabled === false) reply(res, 400, { _: 'Flush is disabled for the bucket' });
    else {
      core.flushBucket(name);
      reply(res, 200, '');
    }
    return true;
  }
  const docsOp = method === 'GET' ? 'read' : method === 'POST' ? 'upsert' : method === 'DELETE' ? 'delete' : undefined;
  if (docsOp !== undefined && (parts[4] === 'docs' || parts[4] === 'scopes') && parts.includes('docs')) {
    const [scope, collection] = parts[4] === 'scopes' ? [parts[5] ?? DEFAULT_SCOPE, parts[7] ?? DEFAULT_COLLECTION] : [DEFAULT_SCOPE, DEFAULT_COLLECTION];
    if (!requirePermission(user, res, collectionPermission(name, scope, collection, ['data', 'docs'], docsOp))) return true;
  }
  return handleDocs(core, store, parts.slice(4), req, res, new URL(req.url!, 'http://x'));
}

async function createBucket(core: ConsoleCore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const form = await readForm(req);
  const check = checkBucketForm(form, core.bucketAdmin, undefined, { warnings: validateOnly(req) && !ignoreWarnings(req) });
  if (!check.ok) return reply(res, 400, 'global' in check ? { _: check.global } : { errors: check.errors });
  if (validateOnly(req)) return reply(res, 200, { errors: {} });
  core.bucketAdmin.createBucket(check.settings);
  reply(res, 202, '', { location: `/pools/default/buckets/${encodeURIComponent(check.settings.name)}` });
}

/** POST /pools/default/buckets/<b>: new settings for an existing bucket, checked as on create (ns_server's update rules). */
async function updateBucket(core: ConsoleCore, name: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const form = await readForm(req);
  const current = core.bucketAdmin.settingsOf(name);
  if (current === undefined) return reply(res, 404, NOT_FOUND);
  const check = checkBucketForm(form, core.bucketAdmin, current, { warnings: validateOnly(req) && !ignoreWarnings(req) });
  if (!check.ok) return reply(res, 400, 'global' in check ? { _: check.global } : { errors: check.errors });
  if (validateOnly(req)) return reply(res, 200, { errors: {} });
  core.bucketAdmin.updateBucket(check.settings);
  reply(res, 200, '');
}

/** `just_validate=1` (query string): check the form, change nothing. */
function validateOnly(req: IncomingMessage): boolean {
  return new URL(req.url!, 'http://x').searchParams.get('just_validate') === '1';
}

/** `ignore_warnings=1`: a validate-only request is not told about replicas the cluster cannot place. */
function ignoreWarnings(req: IncomingMessage): boolean {
  return new URL(req.url!, 'http://x').searchParams.get('ignore_warnings') === '1';
}

function stats(core: ConsoleCore, name: string, url: URL, res: ServerResponse): void {
  const zoomName = url.searchParams.get('zoom') ?? 'minute';
  const zoom = ZOOM_LEVELS.find((z) => z.name === zoomName);
  if (zoom === undefined) return reply(res, 400, { errors: { zoom: `zoom must be one of ${ZOOM_LEVELS.map((z) => z.name).join(', ')}` } });
  const have = url.searchParams.get('haveTStamp');
  if (have !== null && !/^\d+$/.test(have)) return reply(res, 400, { errors: { haveTStamp: 'haveTStamp must be a Unix time in milliseconds' } });
  // Service pseudo-buckets (@query) are visible to every authenticated user, as in ns_server.
  const body = core.statsArchive.body(name, zoom, have === null ? undefined : Number(have), !name.startsWith('@') && core.bucketAdmin.settingsOf(name)?.bucketType !== 'memcached');
  if (body === undefined) return reply(res, 404, NOT_FOUND);
  reply(res, 200, body);
}
