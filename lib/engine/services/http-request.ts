// One REST call to a service of the cluster with its whole answer buffered (Python's
// Bucket._http_request): management, design documents. A 2xx answer is an HttpResult (the body
// parsed when it is JSON); any other is an HTTPError carrying that result as `objextra`.
import { HTTPError, type CouchbaseError } from '../errors';
import { httpStream, type HttpMethod } from '../http';
import { HttpResult } from '../results';
import { secondsToMs } from '../connstr';
import type { ServiceHost, ServiceName } from './host';

/** Largest answer kept (design documents and listings are small). */
const MAX_BODY = 64 * 1024 * 1024;

export interface HttpCall {
  service: ServiceName;
  method: HttpMethod;
  path: string;
  body?: string;
  contentType?: string;
  /** Seconds; default http_timeout. */
  timeout?: number;
}

function parseBody(text: string): unknown {
  if (text.length === 0) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function serviceLabel(s: ServiceName): string {
  return s === 'n1ql' ? 'query (n1ql)' : s === 'capi' ? 'views (capi)' : 'management';
}

/** Sends `call` to a node running its service; `cb` gets the HttpResult or an HTTPError. */
/** What a REST call needs of its host: an engine, or an Admin's management endpoints. */
export type HttpRequestHost = Pick<ServiceHost, 'whenConnected' | 'serviceTarget' | 'agents' | 'auth' | 'options'>;

export function httpRequest(host: HttpRequestHost, call: HttpCall, cb: (err: CouchbaseError | null, result: HttpResult | null) => void): void {
  host.whenConnected((err) => {
    if (err) return cb(err, null);
    const target = host.serviceTarget(call.service);
    if (!target) return cb(new HTTPError(`no node of the cluster runs the ${serviceLabel(call.service)} service`), null);
    const chunks: Buffer[] = [];
    let size = 0;
    let status = 0;
    let headers: Record<string, string> = {};
    const url = `${target.tls ? 'https' : 'http'}://${target.host}:${target.port}${call.path}`;
    httpStream(host.agents, target, call.method, call.path, host.auth, call.body ?? null, call.contentType ?? 'application/json', secondsToMs(call.timeout ?? host.options.http_timeout), {
      onResponse(s, h) {
        status = s;
        headers = {};
        for (const [k, v] of Object.entries(h)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
      },
      onData(c) {
        size += c.length;
        if (size > MAX_BODY) throw new HTTPError(`the answer to ${call.method} ${call.path} is larger than 64 MiB`);
        chunks.push(c);
      },
      onEnd() {
        const result = new HttpResult(url, status, parseBody(Buffer.concat(chunks).toString('utf8')), headers);
        if (status >= 200 && status < 300) return cb(null, result);
        const reason = typeof result.value === 'object' && result.value !== null ? JSON.stringify(result.value) : String(result.value ?? '');
        const e = new HTTPError(`${call.method} ${call.path} answered HTTP ${status}${reason ? `: ${reason.slice(0, 300)}` : ''}`, { objextra: result });
        e.httpStatus = status;
        cb(e, null);
      },
      onError(e) {
        cb(e, null);
      },
    });
  });
}
