// Small HTTP helpers for the management routes of this folder: answers in ns_server's shapes and
// bounded request bodies.
import type { IncomingMessage, ServerResponse } from 'node:http';

export function reply(res: ServerResponse, status: number, body: unknown = '', headers: Record<string, string | string[]> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-cache',
    ...headers,
  });
  res.end(text);
}

/** ns_server's 404 body. */
export const NOT_FOUND = 'Requested resource not found.\r\n';

export class BodyTooLarge extends Error {}

/** Reads a request body up to `limit` bytes (a larger one rejects with BodyTooLarge). */
export function readBody(req: IncomingMessage, limit = 21 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new BodyTooLarge(`request body over ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** An `application/x-www-form-urlencoded` body (what ns_server's POST endpoints take). */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new URLSearchParams((await readBody(req, 1024 * 1024)).toString('utf8'));
}
