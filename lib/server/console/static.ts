// Serves the bundled web console under /ui/ from the files `npm run build` wrote (dist/console).
// Nothing is fetched at run time: the page, its script and style sheet are all here. Files are
// read once and kept in memory with a gzip copy; names with a content hash are cached for a year,
// index.html is revalidated every time.
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { reply } from './http';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
};

interface Asset {
  body: Buffer;
  gzip: Buffer | undefined;
  type: string;
  immutable: boolean;
}

/** Where `npm run build` puts the console, relative to this compiled file (dist/lib/server/console). */
export function defaultConsoleDir(): string | undefined {
  const dir = path.resolve(__dirname, '..', '..', '..', 'console');
  return fs.existsSync(path.join(dir, 'index.html')) ? dir : undefined;
}

const caches = new Map<string, Map<string, Asset | null>>();

function load(dir: string, name: string): Asset | undefined {
  let cache = caches.get(dir);
  if (cache === undefined) caches.set(dir, (cache = new Map()));
  const cached = cache.get(name);
  if (cached !== undefined) return cached ?? undefined;
  const file = path.join(dir, name);
  // Only plain names under the folder: no dot-dot, no hidden files.
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith('.') || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    cache.set(name, null);
    return undefined;
  }
  const body = fs.readFileSync(file);
  const type = TYPES[path.extname(name)] ?? 'application/octet-stream';
  const asset: Asset = {
    body,
    gzip: /^(text|application\/json|image\/svg)/.test(type) && body.length > 1024 ? gzipSync(body, { level: 9 }) : undefined,
    type,
    immutable: /-[A-Z0-9]{8,}\.(js|css)$/.test(name),
  };
  cache.set(name, asset);
  return asset;
}

/** Answers GET /ui/... ; `rest` is the path after /ui/. */
export function serveConsole(dir: string | undefined, rest: string, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, '', { allow: 'GET, HEAD' });
  if (dir === undefined) {
    return reply(res, 404, 'The web console is not built: run `npm run build` (it bundles the console into dist/console).\n');
  }
  const asset = load(dir, rest === '' ? 'index.html' : rest);
  if (asset === undefined) return reply(res, 404, 'Not found.\r\n');
  const gzip = asset.gzip !== undefined && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gzip ? asset.gzip! : asset.body;
  const headers: Record<string, string | number> = {
    'content-type': asset.type,
    'content-length': body.length,
    'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
    vary: 'accept-encoding',
  };
  if (gzip) headers['content-encoding'] = 'gzip';
  if (asset.type.startsWith('text/html')) {
    headers['x-frame-options'] = 'DENY';
    headers['content-security-policy'] = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";
  }
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}
