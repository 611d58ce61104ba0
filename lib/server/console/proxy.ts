// ns_server's service proxies on the management port, which the web console talks through so it
// needs one origin and one session: /_p/query/* goes to this node's query service and
// /couchBase/* to its views (CAPI) port. Bodies stream both ways (a long query result reaches
// the browser row by row, as it does any client), and a browser that goes away cancels the
// request upstream. The upstream service authenticates as usual: the session's user is sent on
// with a one-time credential (rbac/delegation.ts), and the service checks that user's privileges.
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import createDebug from 'debug';
import type { ServiceUser } from '../service-types';
import type { ConsoleCore } from './core';
import { reply } from './http';

const debug = createDebug('deferbase:server:console');

/** Request headers not passed on: hop-by-hop ones, and the console's own credentials. */
const DROPPED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'cookie', 'authorization', 'ns-server-ui', 'ns-server-auth-token']);

interface ProxyRoute {
  prefix: string;
  service: string;
  port(core: ConsoleCore, node: number): number | undefined;
  /** The upstream path for the part after the prefix. */
  path(rest: string): string;
}

const ROUTES: readonly ProxyRoute[] = [
  { prefix: '/_p/query/', service: 'query', port: (c, n) => c.ports(n).n1ql, path: (rest) => '/' + rest },
  { prefix: '/couchBase/', service: 'views', port: (c, n) => c.ports(n).capi, path: (rest) => '/' + rest },
];

export function proxyRoute(url: string): ProxyRoute | undefined {
  return ROUTES.find((r) => url.startsWith(r.prefix));
}

export function proxy(core: ConsoleCore, node: number, route: ProxyRoute, user: ServiceUser, req: IncomingMessage, res: ServerResponse): void {
  const port = route.port(core, node);
  if (port === undefined) return reply(res, 404, { error: `the ${route.service} service does not run on this node` });
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) if (!DROPPED.has(name) && value !== undefined) headers[name] = value;
  headers.authorization = 'Basic ' + Buffer.from(`${user.username}:${core.delegate(user.username)}`).toString('base64');
  const upstream = http.request(
    { host: core.host, port, method: req.method, path: route.path(req.url!.slice(route.prefix.length)), headers, agent: false },
    (up) => {
      const out: http.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(up.headers)) if (!DROPPED.has(name) && value !== undefined) out[name] = value;
      res.writeHead(up.statusCode ?? 502, out);
      up.pipe(res);
      up.on('error', () => res.destroy());
    },
  );
  upstream.on('error', (err) => {
    debug('proxy to %s failed: %s', route.service, err.message);
    if (!res.headersSent) reply(res, 502, { error: `the ${route.service} service did not answer: ${err.message}` });
    else res.destroy();
  });
  // The browser left: stop the upstream request (a running query is cancelled by its service).
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}
