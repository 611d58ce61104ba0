// CURL(url [, options]): an HTTP GET or POST from the query service, as Couchbase 7.6 runs it.
// The user needs query_external_access (13014 otherwise) and the cluster's access list
// (/settings/querySettings/curlWhitelist) must admit the URL: by default it admits nothing.
// The response body is the result, parsed as JSON when it is JSON.
//
// The request is asynchronous; like a JavaScript function call (../pause.ts), the evaluation
// suspends and is repeated once the answer is there, so the event loop (and an HTTP server in the
// same process) keeps running. Where an evaluation cannot be repeated, CURL is refused.
import * as http from 'node:http';
import * as https from 'node:https';
import { EvaluationCause, QueryError, ErrorCode } from '../errors';
import { parseJson } from '../json';
import { SUSPENDED, type Suspension } from '../pause';
import { isObject, type ObjectValue, type Value } from '../value';
import { family, def, type FunctionContext } from './registry';

family({ floatArgs: false });

/** The default result cap (20 MB) and time limit, as the CURL reference gives them. */
const RESULT_CAP = 20 * 1024 * 1024;
const DEFAULT_MAX_TIME_S = 0;

interface Request {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: string;
  maxTimeMs: number;
  connectTimeoutMs: number;
  insecure: boolean;
  resultCap: number;
}

type Answer = { value: Value } | { error: string };

const fail = (msg: string): never => {
  throw new EvaluationCause(msg);
};

const strings = (v: Value, what: string): string[] => {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : fail(`Incorrect type for ${what} option ${JSON.stringify(x)} in CURL. ${what[0].toUpperCase() + what.slice(1)} option should be a string value or an array of strings.  `)));
  return fail(`Incorrect type for ${what} option in CURL. ${what[0].toUpperCase() + what.slice(1)} option should be a string value or an array of strings.  `);
};

const bool = (v: Value, name: string): boolean => (typeof v === 'boolean' ? v : fail(`Incorrect type for ${name} option in CURL `));
const seconds = (v: Value, name: string): number => (typeof v === 'number' && v >= 0 ? v * 1000 : fail(`Incorrect type for ${name} option in CURL `));

/** The request the URL and options describe (the options of the CURL reference). */
function requestOf(urlText: string, options: ObjectValue): Request {
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    return fail('No host in request URL.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(`Unsupported protocol scheme: ${url.protocol.replace(/:$/, '')}`);
  if (url.hostname === '') fail('No host in request URL.');
  if (url.pathname.startsWith('/diag/eval')) fail(`Access restricted - ${urlText}.`);
  const req: Request = { method: 'GET', url, headers: {}, maxTimeMs: DEFAULT_MAX_TIME_S, connectTimeoutMs: 0, insecure: false, resultCap: RESULT_CAP };
  let data: string[] = [];
  let get = false;
  let explicit: string | undefined;
  for (const [k, v] of Object.entries(options)) {
    switch (k) {
      case 'request':
      case 'X':
        if (typeof v !== 'string' || (v.toUpperCase() !== 'GET' && v.toUpperCase() !== 'POST')) fail('CURL only supports GET and POST requests. ');
        explicit = (v as string).toUpperCase();
        break;
      case 'data':
      case 'd':
        data = strings(v, 'data');
        break;
      case 'get':
      case 'G':
        get = bool(v, 'get');
        break;
      case 'header':
      case 'headers':
      case 'H':
        for (const h of strings(v, 'header')) {
          const colon = h.indexOf(':');
          if (colon > 0) req.headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
        }
        break;
      case 'user':
      case 'u':
        if (typeof v !== 'string') fail('Incorrect type for user option in CURL. It should be a string. ');
        req.headers.Authorization = `Basic ${Buffer.from(v as string).toString('base64')}`;
        break;
      case 'basic':
        bool(v, 'basic');
        break;
      case 'insecure':
      case 'k':
        req.insecure = bool(v, 'insecure');
        break;
      case 'max-time':
      case 'm':
        req.maxTimeMs = seconds(v, 'max-time');
        break;
      case 'connect-timeout':
        req.connectTimeoutMs = seconds(v, 'connect-timeout');
        break;
      case 'result-cap':
        if (typeof v !== 'number' || v <= 0) fail('Incorrect type for result-cap option in CURL ');
        req.resultCap = v as number;
        break;
      case 'silent':
      case 's':
      case 'show-error':
      case 'S':
      case 'keepalive-time':
      case 'max-redirs':
      case 'user-agent':
      case 'A':
        break;
      default:
        fail(`CURL option ${k} is not supported.`);
    }
  }
  if (get || explicit === 'GET') {
    // -G: the data goes in the query string of a GET.
    if (data.length) url.search = (url.search ? url.search.slice(1) + '&' : '') + data.join('&');
  } else if (data.length || explicit === 'POST') {
    req.method = 'POST';
    req.body = data.join('&');
    req.headers['Content-Type'] ??= 'application/x-www-form-urlencoded';
  }
  return req;
}

function send(req: Request): Promise<Answer> {
  return new Promise((resolve) => {
    const lib = req.url.protocol === 'https:' ? https : http;
    let done = false;
    const finish = (a: Answer): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(a);
    };
    const r = lib.request(req.url, { method: req.method, headers: req.headers, rejectUnauthorized: !req.insecure }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > req.resultCap) {
          r.destroy();
          finish({ error: `Response size limit of ${req.resultCap} exceeded` });
        } else chunks.push(c);
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let value: Value;
        try {
          value = text.length ? parseJson(text) : undefined;
        } catch {
          value = text;
        }
        finish({ value });
      });
      res.on('error', (e) => finish({ error: `curl: ${e.message}` }));
    });
    const timer = req.maxTimeMs > 0 ? setTimeout(() => (r.destroy(), finish({ error: 'curl: Timeout was reached' })), req.maxTimeMs) : undefined;
    if (req.connectTimeoutMs > 0) r.setTimeout(req.connectTimeoutMs, () => (r.destroy(), finish({ error: 'curl: Timeout was reached' })));
    r.on('error', (e) => finish({ error: `curl: ${e.message}` }));
    if (req.body !== undefined) r.write(req.body);
    r.end();
  });
}

function curl(args: Value[], ctx: FunctionContext): Value {
  const [url, options] = args;
  const grant = ctx.curl;
  if (grant !== undefined && !grant.permitted) {
    throw new QueryError(ErrorCode.INSUFFICIENT_CREDENTIALS, 'User does not have credentials to run queries using the CURL() function. Add role query_external_access to allow the statement to run.');
  }
  if (url === undefined) return undefined;
  if (typeof url !== 'string') return null;
  if (options !== undefined && options !== null && !isObject(options)) fail('Incorrect type for options in CURL. Options should be an object. ');
  const req = requestOf(url, (options as ObjectValue | undefined) ?? {});
  if (!grant?.allows(req.url.href) && !grant?.allows(url)) fail(`The end point ${url} is not permitted.  List allowed end points in the configuration.`);
  const s = ctx as FunctionContext & Suspension;
  const key = `curl\u0000${url}\u0000${JSON.stringify(options ?? null)}`;
  const kept = s.jsAnswers?.get(key) as { answer?: Answer; done: Promise<unknown> } | undefined;
  if (kept?.answer) {
    if ('error' in kept.answer) fail(kept.answer.error);
    return (kept.answer as { value: Value }).value;
  }
  if (!(s.canWait === true && s.retryable === true)) fail('CURL() cannot run here: the evaluation cannot wait for its answer.');
  if (kept) {
    s.waitingFor = kept.done;
    throw SUSPENDED;
  }
  const call: { answer?: Answer; done: Promise<unknown> } = { done: Promise.resolve() };
  call.done = send(req).then((a) => {
    call.answer = a;
  });
  (s.jsAnswers ??= new Map()).set(key, call);
  s.waitingFor = call.done;
  throw SUSPENDED;
}

def('curl', 1, 2, curl, false, true);
