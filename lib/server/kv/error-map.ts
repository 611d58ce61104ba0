// The error map served by GET_ERROR_MAP, serialised once per version asked for.
import { SERVER_ERROR_MAP, serializeErrorMap } from '../../protocol';

const cache = new Map<number, Buffer>();

export function errorMapJson(maxVersion: number): Buffer {
  const v = Math.min(maxVersion, 2);
  let json = cache.get(v);
  if (json === undefined) {
    json = Buffer.from(serializeErrorMap(SERVER_ERROR_MAP, v));
    cache.set(v, json);
  }
  return json;
}
