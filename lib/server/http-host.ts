// "$HOST" in config JSON served over HTTP: ns_server puts in the address the request came in on
// (over KV the client stands it in itself). A node that never joined a cluster names itself so.
import type { ServerResponse } from 'node:http';
import { substituteHost } from '../protocol/config';

/** `json` with "$HOST" replaced by the local address of the connection `res` answers on. */
export function withLocalHost(json: string, res: ServerResponse): string {
  if (!json.includes('$HOST')) return json;
  const local = res.req?.socket.localAddress;
  return local === undefined ? json : substituteHost(json, local.replace(/^::ffff:/, ''));
}
