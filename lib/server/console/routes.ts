// The management routes of the web console, in front of mgmt.ts's discovery routes: the console
// page itself (/ui/), login and logout, session-or-Basic authentication, and the endpoints the
// console's actions use (controllers, bucket create/delete/flush, documents, stats, /whoami, the
// query and views proxies). Every action goes through the same cluster operations, stores and
// services a client reaches.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServiceUser } from '../service-types';
import { checkCreateForm } from '../buckets-admin';
import { ZOOM_LEVELS } from '../stats/sampler';
import { isAdmin, type ConsoleCore } from './core';
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
export function authenticate(core: ConsoleCore, basic: (h: string | undefined) => ServiceUser | null, req: IncomingMessage, res: ServerResponse): ServiceUser | null {
  if (!wantsSession(req)) return basic(req.headers.authorization);
  const token = sessionToken(req);
  if (token === undefined) return null;
  const check = core.sessions.check(token);
  if (check.kind !== 'valid') return null;
  if (check.refreshed !== undefined) res.setHeader('set-cookie', sessionCookie(req, check.refreshed));
  // Routes that hand the request on to a service in this process (the ddocs listing) see the
  // session's user as Basic credentials, as ns_server puts the identity on the request it forwards.
  const password = core.lookupPassword(check.user.username);
  if (password === undefined) return null;
  req.headers.authorization = 'Basic ' + Buffer.from(`${check.user.username}:${password}`).toString('base64');
  return check.user;
}

/** The 401: the console (and anyone sending `invalid-auth-response: on`) gets no Basic challenge, so browsers show no login dialog. */
export function unauthorized(req: IncomingMessage, res: ServerResponse): void {
  if (wantsSession(req) || req.headers['invalid-auth-response'] === 'on') return reply(res, 401, []);
  reply(res, 401, '', { 'www-authenticate': 'Basic realm="Couchbase Server Admin / REST"' });
}

function forbidden(res: ServerResponse, permission: string): void {
  reply(res, 403, { message: 'Forbidden. User needs the following permissions', permissions: [permission] });
}

function whoami(user: ServiceUser): Record<string, unknown> {
  const roles = user.buckets === '*' ? [{ role: 'admin' }] : user.buckets.map((b) => ({ role: 'bucket_full_access', bucket_name: b }));
  return { id: user.username, domain: user.buckets === '*' ? 'admin' : 'local', roles, name: user.username };
}

/** The console's authenticated routes; false when the path is not one of them. */
export function handleAuthed(core: ConsoleCore, node: number, user: ServiceUser, req: IncomingMessage, res: ServerResponse, path: string, parts: readonly string[]): Handled {
  const route = proxyRoute(req.url!);
  if (route !== undefined) {
    proxy(core, node, route, user, req, res);
    return true;
  }
  const method = req.method;
  if (path === '/whoami' && method === 'GET') {
    reply(res, 200, whoami(user));
    return true;
  }
  if (path === '/pools/default/rebalanceProgress' && method === 'GET') {
    reply(res, 200, { status: 'none', balanced: isBalanced(core) });
    return true;
  }
  if (parts[0] === 'controller' && parts.length === 2 && method === 'POST' && Object.hasOwn(CONTROLLERS, parts[1])) {
    if (!isAdmin(user)) {
      forbidden(res, 'cluster.pools!write');
      return true;
    }
    return (async () => {
      const answer = await CONTROLLERS[parts[1]](core, await readForm(req));
      reply(res, answer.status, answer.body);
    })();
  }
  if (parts[0] !== 'pools' || parts[1] !== 'default' || parts[2] !== 'buckets') return false;
  if (parts.length === 3 && method === 'POST') {
    if (!isAdmin(user)) {
      forbidden(res, 'cluster.buckets!create');
      return true;
    }
    return createBucket(core, req, res);
  }
  if (parts.length < 4) return false;
  const name = parts[3];
  const visible = user.buckets === '*' || user.buckets.includes(name);
  const store = visible ? core.store(name) : undefined;
  if (parts.length === 5 && parts[4] === 'stats' && method === 'GET') {
    stats(core, name, visible, new URL(req.url!, 'http://x'), res);
    return true;
  }
  if (parts.length === 4 && method === 'DELETE') {
    if (store === undefined) reply(res, 404, NOT_FOUND);
    else if (!isAdmin(user)) forbidden(res, `cluster.bucket[${name}].settings!write`);
    else {
      core.bucketAdmin.deleteBucket(name);
      reply(res, 200, '');
    }
    return true;
  }
  if (parts.length === 6 && parts[4] === 'controller' && parts[5] === 'doFlush' && method === 'POST') {
    if (store === undefined) reply(res, 404, NOT_FOUND);
    else if (core.bucketAdmin.settingsOf(name)?.flushEnabled === false) reply(res, 400, { _: 'Flush is disabled for the bucket' });
    else {
      core.flushBucket(name);
      reply(res, 200, '');
    }
    return true;
  }
  if (store === undefined) {
    if (parts[4] === 'docs' || parts[4] === 'scopes') {
      reply(res, 404, NOT_FOUND);
      return true;
    }
    return false;
  }
  return handleDocs(core, store, parts.slice(4), req, res, new URL(req.url!, 'http://x'));
}

async function createBucket(core: ConsoleCore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const form = await readForm(req);
  const check = checkCreateForm(form, core.bucketAdmin);
  const justValidate = form.get('just_validate') === '1' || new URL(req.url!, 'http://x').searchParams.get('just_validate') === '1';
  if (!check.ok) return reply(res, 400, { errors: check.errors });
  if (justValidate) return reply(res, 200, { errors: {} });
  core.bucketAdmin.createBucket(check.settings);
  reply(res, 202, '');
}

function stats(core: ConsoleCore, name: string, visible: boolean, url: URL, res: ServerResponse): void {
  const zoomName = url.searchParams.get('zoom') ?? 'minute';
  const zoom = ZOOM_LEVELS.find((z) => z.name === zoomName);
  if (zoom === undefined) return reply(res, 400, { errors: { zoom: `zoom must be one of ${ZOOM_LEVELS.map((z) => z.name).join(', ')}` } });
  const have = url.searchParams.get('haveTStamp');
  if (have !== null && !/^\d+$/.test(have)) return reply(res, 400, { errors: { haveTStamp: 'haveTStamp must be a Unix time in milliseconds' } });
  // Service pseudo-buckets (@query) are visible to every authenticated user, as in ns_server.
  const body = name.startsWith('@') || visible ? core.statsArchive.body(name, zoom, have === null ? undefined : Number(have), !name.startsWith('@') && core.bucketAdmin.settingsOf(name)?.bucketType !== 'memcached') : undefined;
  if (body === undefined) return reply(res, 404, NOT_FOUND);
  reply(res, 200, body);
}
