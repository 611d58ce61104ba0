// A fake HTTP service (query / views) on 127.0.0.1:0 whose answers each test scripts.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeHttp {
  port: number;
  requests: Array<{ method: string; url: string; body: string; headers: http.IncomingHttpHeaders }>;
  close(): Promise<void>;
}

export async function startFakeHttp(handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void): Promise<FakeHttp> {
  const requests: FakeHttp['requests'] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method!, url: req.url!, body, headers: req.headers });
      handler(req, res, body);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
