// Thin HTTP plumbing for the REST services (config bootstrap, N1QL, views): one keep-alive agent
// per engine, Basic auth, a request timeout, and raw chunks handed to the caller so that bodies
// are never buffered whole unless the caller wants a small JSON answer.
import * as http from 'node:http';
import * as https from 'node:https';
import type * as tls from 'node:tls';
import { CancelledError, HTTPError, NetworkError, TimeoutError, socketError, type CouchbaseError } from './errors';

export interface HttpTarget {
  host: string;
  port: number;
  tls: tls.ConnectionOptions | null;
}

export interface HttpAuth {
  username: string;
  password: string;
}

export interface HttpStreamHandler {
  onResponse(status: number, headers: http.IncomingHttpHeaders): void;
  onData(chunk: Buffer): void;
  onEnd(): void;
  onError(err: CouchbaseError): void;
}

/** Control over an in-flight request: pause stops reading the socket (TCP backpressure). */
export interface HttpControl {
  pause(): void;
  resume(): void;
  cancel(): void;
}

export class HttpAgents {
  readonly http = new http.Agent({ keepAlive: true, maxSockets: 32 });
  private httpsAgent: https.Agent | null = null;
  private readonly tlsOptions: tls.ConnectionOptions | null;
  /** Address family for name resolution: 4, 6, or 0 for either (the ipv6 option). */
  readonly family: 0 | 4 | 6;
  constructor(tlsOptions: tls.ConnectionOptions | null, family: 0 | 4 | 6 = 0) {
    this.tlsOptions = tlsOptions;
    this.family = family;
  }
  get https(): https.Agent {
    if (this.httpsAgent === null) this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 32, ...(this.tlsOptions ?? {}) });
    return this.httpsAgent;
  }
  destroy(): void {
    this.http.destroy();
    if (this.httpsAgent) this.httpsAgent.destroy();
  }
}

function hostHeader(t: HttpTarget): string {
  return t.host.includes(':') ? `[${t.host}]` : t.host;
}

export function basicAuth(a: HttpAuth): string {
  return 'Basic ' + Buffer.from(`${a.username}:${a.password}`, 'utf8').toString('base64');
}

/**
 * Starts a request whose response body is streamed to `handler`. Exactly one of onEnd/onError
 * is called, never after cancel().
 */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export function httpStream(
  agents: HttpAgents,
  target: HttpTarget,
  method: HttpMethod,
  path: string,
  auth: HttpAuth,
  body: string | null,
  contentType: string,
  timeoutMs: number,
  handler: HttpStreamHandler,
): HttpControl {
  let finished = false;
  let paused = false;
  let res: http.IncomingMessage | null = null;
  const headers: http.OutgoingHttpHeaders = {
    authorization: basicAuth(auth),
    host: `${hostHeader(target)}:${target.port}`,
    'user-agent': 'deferbase',
    accept: 'application/json',
  };
  if (body !== null) {
    headers['content-type'] = contentType;
    headers['content-length'] = Buffer.byteLength(body);
  }
  const mod = target.tls ? https : http;
  const req = mod.request({
    host: target.host,
    port: target.port,
    method,
    path,
    headers,
    family: agents.family || undefined,
    agent: target.tls ? agents.https : agents.http,
  });
  const timer = setTimeout(() => {
    fail(new TimeoutError(`${method} ${path} on ${target.host}:${target.port} took longer than ${timeoutMs} ms; raise the timeout or narrow the request`));
  }, timeoutMs);

  function fail(err: CouchbaseError): void {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    req.destroy();
    if (res) res.destroy();
    handler.onError(err);
  }

  req.on('error', (err: NodeJS.ErrnoException) => {
    const message = `${method} ${path} on ${target.host}:${target.port} failed: ${err.message}`;
    // Before an answer: the connection failed, with the class and code its cause gives (DNS: UnknownHostError).
    fail(res === null ? socketError(message, err) : new NetworkError(message, { cause: err }));
  });
  req.on('response', (r) => {
    res = r;
    if (paused) r.pause();
    try {
      handler.onResponse(r.statusCode ?? 0, r.headers);
    } catch (err) {
      return fail(err as CouchbaseError);
    }
    r.on('data', (chunk: Buffer) => {
      if (finished) return;
      try {
        handler.onData(chunk);
      } catch (err) {
        fail(err instanceof HTTPError || (err as CouchbaseError).rc !== undefined ? (err as CouchbaseError) : new NetworkError((err as Error).message, { cause: err }));
      }
    });
    r.on('end', () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      try {
        handler.onEnd();
      } catch (err) {
        handler.onError(err as CouchbaseError);
      }
    });
    r.on('aborted', () => fail(new NetworkError(`the response to ${method} ${path} from ${target.host}:${target.port} was cut off`)));
    r.on('error', (err) => fail(new NetworkError(`reading the response to ${method} ${path} failed: ${err.message}`, { cause: err })));
    r.on('close', () => {
      if (!finished && !r.complete) fail(new NetworkError(`the response to ${method} ${path} from ${target.host}:${target.port} was cut off before it ended`));
    });
  });
  req.end(body ?? undefined);

  return {
    pause() {
      paused = true;
      if (res) res.pause();
    },
    resume() {
      paused = false;
      if (res) res.resume();
    },
    cancel() {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      req.destroy(new CancelledError('request cancelled'));
      if (res) res.destroy();
    },
  };
}

/** Small JSON GET (config bootstrap): buffers the body (capped) and parses it. */
export function httpGetJson(
  agents: HttpAgents,
  target: HttpTarget,
  path: string,
  auth: HttpAuth,
  timeoutMs: number,
  cb: (err: CouchbaseError | null, status: number, body: string) => void,
): HttpControl {
  const chunks: Buffer[] = [];
  let size = 0;
  let status = 0;
  return httpStream(agents, target, 'GET', path, auth, null, '', timeoutMs, {
    onResponse(s) {
      status = s;
    },
    onData(c) {
      size += c.length;
      if (size > 64 * 1024 * 1024) throw new HTTPError(`response to GET ${path} is larger than 64 MiB`);
      chunks.push(c);
    },
    onEnd() {
      cb(null, status, Buffer.concat(chunks).toString('utf8'));
    },
    onError(err) {
      cb(err, status, '');
    },
  });
}
