// A views service on its own HTTP server over a DocumentStore, as each node of the embedded
// cluster runs it; requests go over real sockets.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DocumentStore } from '../../lib/server/store';
import type { ServerClock, ServiceContext } from '../../lib/server/service-types';
import { createViewsService, createViewsServiceWith, type ViewsOptions } from '../../lib/server/views';
import { userWithRoles } from '../../lib/server/rbac/users';

export const AUTH = 'Basic ' + Buffer.from('Administrator:password').toString('base64');

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

export interface ViewsServer {
  store: DocumentStore;
  stores: Map<string, DocumentStore>;
  port: number;
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  putDoc(id: string, value: unknown): void;
  close(): Promise<void>;
}

export async function startViewsServer(
  opts: { buckets?: string[]; options?: ViewsOptions; users?: Record<string, { username: string; password: string; roles: string[] }>; clock?: ServerClock } = {},
): Promise<ViewsServer> {
  const stores = new Map<string, DocumentStore>();
  for (const name of opts.buckets ?? ['b']) stores.set(name, new DocumentStore({ name, numVBuckets: 64, clock: opts.clock }));
  const users: Record<string, { username: string; password: string; roles: string[] }> = opts.users ?? { Administrator: { username: 'Administrator', password: 'password', roles: ['admin'] } };
  const ctx: ServiceContext = {
    clock: { now: () => Date.now() },
    bucket: (name) => stores.get(name),
    buckets: () => [...stores.values()],
    authenticate: (h) => {
      if (!h?.startsWith('Basic ')) return null;
      const [u, p] = Buffer.from(h.slice(6), 'base64').toString().split(':');
      const user = users[u];
      return user && user.password === p ? userWithRoles(user.username, user.roles) : null;
    },
    nodeIndex: 0,
  };
  const handler = (opts.options ? createViewsServiceWith(opts.options) : createViewsService)(ctx);
  const server = http.createServer((req, res) => handler.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const store = [...stores.values()][0];
  return {
    store,
    stores,
    port,
    request: (method, path, body, headers) => request(port, method, path, body, headers),
    putDoc(id, value) {
      const buf = Buffer.isBuffer(value) ? value : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
      store.write(id, buf, 'upsert');
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Ends the design documents' sandbox threads, as a cluster node does when it stops.
        handler.close?.();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function request(port: number, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: false,
        headers: {
          authorization: AUTH,
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** URL query string with JSON-encoded values where the view API expects JSON. */
export function qs(params: Record<string, unknown>): string {
  const parts = Object.entries(params).map(([k, v]) => `${k}=${encodeURIComponent(typeof v === 'string' && !JSON_PARAMS.has(k) ? v : JSON.stringify(v))}`);
  return parts.length ? '?' + parts.join('&') : '';
}
const JSON_PARAMS = new Set(['key', 'keys', 'startkey', 'start_key', 'endkey', 'end_key']);

export async function putDesign(s: ViewsServer, name: string, views: Record<string, { map: string; reduce?: string }>): Promise<void> {
  const r = await s.request('PUT', `/${s.store.name}/_design/${name}`, { views });
  if (r.status !== 201) throw new Error(`design doc PUT failed: ${r.status} ${r.text}`);
}

export async function query(s: ViewsServer, ddoc: string, view: string, params: Record<string, unknown> = {}): Promise<Reply> {
  return s.request('GET', `/${s.store.name}/_design/${ddoc}/_view/${view}${qs(params)}`);
}
