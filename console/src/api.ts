// Every request the console makes goes to the management port it was loaded from, with
// `ns-server-ui: yes` so the server judges it by the session cookie (and never answers with a
// Basic-auth challenge). A 401 anywhere means the session ended: the app shows the login page.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    message: string,
  ) {
    super(message);
  }
}

type Listener = () => void;
const loggedOutListeners = new Set<Listener>();
export function onLoggedOut(fn: Listener): () => void {
  loggedOutListeners.add(fn);
  return () => loggedOutListeners.delete(fn);
}

export interface RequestOptions {
  method?: string;
  form?: Record<string, string | number | boolean | undefined>;
  json?: unknown;
  signal?: AbortSignal;
}

const HEADERS = { 'ns-server-ui': 'yes' };

export function formBody(form: Record<string, string | number | boolean | undefined>): URLSearchParams {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) if (v !== undefined) p.set(k, String(v));
  return p;
}

/** Sends a request; resolves with the raw Response when it succeeded (2xx). */
export async function send(path: string, opts: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...HEADERS };
  let body: BodyInit | undefined;
  if (opts.form !== undefined) body = formBody(opts.form);
  else if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  const res = await fetch(path, { method: opts.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, credentials: 'same-origin', signal: opts.signal });
  if (res.status === 401) {
    for (const fn of loggedOutListeners) fn();
    throw new ApiError(401, null, 'Your session ended: log in again.');
  }
  if (!res.ok) {
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // plain-text error body
    }
    throw new ApiError(res.status, parsed, describe(res.status, parsed));
  }
  return res;
}

/** The message an ns_server / query / CouchDB-shaped error body carries. */
export function describe(status: number, body: unknown): string {
  if (typeof body === 'string') return body.trim() || `HTTP ${status}`;
  const b = body as Record<string, any> | null;
  if (b === null || typeof b !== 'object') return `HTTP ${status}`;
  if (b.errors && typeof b.errors === 'object' && !Array.isArray(b.errors)) return Object.entries(b.errors).map(([k, v]) => (k === '_' ? String(v) : `${k}: ${v}`)).join('; ');
  if (Array.isArray(b.errors)) return b.errors.map((e: any) => `${e.code}: ${e.msg}`).join('; ');
  if (b.reason) return `${b.error ?? 'error'}: ${b.reason}`;
  if (b.message) return String(b.message);
  if (b.mismatch) return 'The node list changed; reload and try again.';
  return `HTTP ${status}`;
}

export async function getJson<T = any>(path: string, signal?: AbortSignal): Promise<T> {
  return (await send(path, { signal })).json() as Promise<T>;
}

export async function post(path: string, form: Record<string, string | number | boolean | undefined>): Promise<string> {
  return (await send(path, { form })).text();
}

export const enc = encodeURIComponent;

export async function login(user: string, password: string): Promise<boolean> {
  const res = await fetch('/uilogin', { method: 'POST', headers: HEADERS, body: formBody({ user, password }), credentials: 'same-origin' });
  return res.ok;
}

export async function logout(): Promise<void> {
  await fetch('/uilogout', { method: 'POST', headers: HEADERS, credentials: 'same-origin' });
}

export interface QueryResponse {
  status?: string;
  results?: unknown[];
  errors?: Array<{ code: number; msg: string }>;
  warnings?: Array<{ code: number; msg: string }>;
  metrics?: Record<string, unknown>;
  signature?: unknown;
  requestID?: string;
}

/**
 * Runs a N1QL statement through the management port's query proxy. The response streams:
 * `progress` is told how many bytes have arrived while the service is still sending.
 */
export async function runQuery(
  statement: string,
  params: { args?: unknown[]; named?: Record<string, unknown>; timeout?: string },
  signal?: AbortSignal,
  progress?: (bytes: number) => void,
): Promise<QueryResponse> {
  const body: Record<string, unknown> = { statement, timeout: params.timeout ?? '600s' };
  if (params.args !== undefined) body.args = params.args;
  for (const [k, v] of Object.entries(params.named ?? {})) body[k.startsWith('$') ? k : `$${k}`] = v;
  const res = await fetch('/_p/query/query/service', {
    method: 'POST',
    headers: { ...HEADERS, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
    signal,
  });
  if (res.status === 401) {
    for (const fn of loggedOutListeners) fn();
    throw new ApiError(401, null, 'Your session ended: log in again.');
  }
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    text += decoder.decode(value, { stream: true });
    progress?.(bytes);
  }
  text += decoder.decode();
  try {
    return JSON.parse(text) as QueryResponse;
  } catch {
    throw new ApiError(res.status, text, `The query service answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
}

/** Runs a statement and throws its first error (for the console's own short statements). */
export async function n1ql(statement: string): Promise<unknown[]> {
  const r = await runQuery(statement, { timeout: '75s' });
  if (r.errors && r.errors.length > 0) throw new ApiError(400, r, r.errors.map((e) => `${e.code}: ${e.msg}`).join('; '));
  return r.results ?? [];
}

export const ident = (name: string): string => '`' + name.replace(/`/g, '``') + '`';
