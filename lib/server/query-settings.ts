// The cluster's query settings that ns_server keeps for every query node. Only the CURL() access
// list so far: `GET|POST /settings/querySettings/curlWhitelist` (the REST reference's "Query
// Settings" curlWhitelist object). By default CURL() may reach nothing: all_access false and no
// allowed URL.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity } from './rbac/users';
import { clusterPermission } from './rbac/permission';

export interface CurlAccessList {
  all_access: boolean;
  allowed_urls: string[];
  disallowed_urls: string[];
}

export class QuerySettings {
  curlWhitelist: CurlAccessList = { all_access: false, allowed_urls: [], disallowed_urls: [] };

  /** Whether CURL() may request `url`: a disallowed prefix refuses it, then all_access or an allowed prefix admits it. */
  curlAllows(url: string): boolean {
    const w = this.curlWhitelist;
    if (w.disallowed_urls.some((p) => url.startsWith(p))) return false;
    return w.all_access || w.allowed_urls.some((p) => url.startsWith(p));
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The access list a POST body describes, or the error ns_server answers with. */
function parseAccessList(text: string): CurlAccessList | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'Unexpected body: expected a JSON object';
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'Unexpected body: expected a JSON object';
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'all_access' && k !== 'allowed_urls' && k !== 'disallowed_urls') return `Unknown key ${k}`;
  if (typeof o.all_access !== 'boolean') return 'all_access should be a boolean value';
  const urls = (k: string): string[] | string => {
    const x = o[k];
    if (x === undefined) return [];
    if (!Array.isArray(x) || !x.every((u) => typeof u === 'string')) return `${k} should be a list of strings`;
    return x as string[];
  };
  const allowed = urls('allowed_urls');
  if (typeof allowed === 'string') return allowed;
  const disallowed = urls('disallowed_urls');
  if (typeof disallowed === 'string') return disallowed;
  return { all_access: o.all_access, allowed_urls: allowed, disallowed_urls: disallowed };
}

/**
 * `/settings/querySettings/curlWhitelist`: GET needs cluster.settings!read, POST cluster.settings!write.
 * Returns false for another path, true once it answered.
 */
export function handleQuerySettingsRest(settings: QuerySettings, user: Identity, req: IncomingMessage, res: ServerResponse, parts: string[]): boolean | Promise<void> {
  if (parts.length !== 3 || parts[0] !== 'settings' || parts[1] !== 'querySettings' || parts[2] !== 'curlWhitelist') return false;
  const write = req.method === 'POST';
  if (!write && req.method !== 'GET') {
    send(res, 405, { errors: { _: 'Method Not Allowed' } });
    return true;
  }
  const permission = clusterPermission(['settings'], write ? 'write' : 'read');
  if (!user.allows(permission)) {
    send(res, 403, { message: 'Forbidden. User needs the following permissions', permissions: [`cluster.settings!${write ? 'write' : 'read'}`] });
    return true;
  }
  if (!write) {
    send(res, 200, settings.curlWhitelist);
    return true;
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const parsed = parseAccessList(Buffer.concat(chunks).toString('utf8'));
      if (typeof parsed === 'string') send(res, 400, { errors: { curlWhitelist: parsed } });
      else {
        settings.curlWhitelist = parsed;
        send(res, 200, parsed);
      }
      resolve();
    });
  });
}
