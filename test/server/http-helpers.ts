// Helpers shared by the server tests that drive the management REST API as a client does.

export const ADMIN_AUTH = basicAuth('Administrator', 'password');

export function basicAuth(user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
}

export interface RestAnswer {
  status: number;
  text: string;
  json(): any;
}

/** One request to a node's management port, with a form body (what ns_server's POST/PUT endpoints take). */
export async function rest(port: number, method: string, p: string, opts: { auth?: string; form?: Record<string, string> } = {}): Promise<RestAnswer> {
  const headers: Record<string, string> = { authorization: opts.auth ?? ADMIN_AUTH };
  let body: string | undefined;
  if (opts.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  }
  const res = await fetch(`http://127.0.0.1:${port}${p}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

/** What `p` rejects with (undefined when it resolves). */
export async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  return undefined;
}
