// View query parameters, parsed and validated the way Couchbase's view engine does
// (couch_httpd_view's parse/validate steps and the view merger's on_error/connection_timeout),
// with the same reasons in the 400 bodies. Parameters apply in query-string order; unknown ones
// are ignored, as the server ignores them.
import { compareKeys } from './collation';
import { badRequest, queryParseError } from './errors';

export type Stale = 'false' | 'ok' | 'update_after';
export type OnError = 'continue' | 'stop';

export interface ViewQueryArgs {
  /** Whether the view's reduce runs (false for map views and for reduce=false). */
  readonly reduce: boolean;
  readonly hasStartKey: boolean;
  readonly startKey: unknown;
  readonly startDocId: string | undefined;
  readonly hasEndKey: boolean;
  readonly endKey: unknown;
  readonly endDocId: string | undefined;
  readonly inclusiveEnd: boolean;
  readonly descending: boolean;
  readonly limit: number | undefined;
  readonly skip: number;
  /** 0 = one group, 'exact' = group by full key, n = first n array elements. */
  readonly groupLevel: number | 'exact';
  readonly includeDocs: boolean;
  readonly stale: Stale;
  readonly onError: OnError;
  readonly debug: boolean;
  readonly fullSet: boolean;
  readonly connectionTimeout: number | undefined;
  readonly keys: readonly unknown[] | undefined;
}

type ViewType = 'map' | 'red_map' | 'reduce';

function decodeJson(name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest(`invalid UTF-8 JSON: ${JSON.stringify(text)} (parameter \`${name}\`)`);
  }
}

function parseBool(text: string): boolean {
  const t = text.toLowerCase();
  if (t === 'true') return true;
  if (t === 'false') return false;
  throw queryParseError(`Invalid boolean parameter: ${JSON.stringify(text)}`);
}

function parseInt10(text: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw queryParseError(`Invalid value for integer parameter: ${JSON.stringify(text)}`);
  return Number(text);
}

function parsePositiveInt(text: string): number {
  const n = parseInt10(text);
  if (n < 0) throw queryParseError(`Invalid value for positive integer parameter: ${JSON.stringify(text)}`);
  return n;
}

/**
 * Parses a view query. `params` are the URL parameters in order, `body` the POST body object (its
 * `keys`, `on_error` and `connection_timeout` count, as for Couchbase), `hasReduce` whether the
 * view defines a reduce.
 */
export function parseViewQuery(
  params: ReadonlyArray<readonly [string, string]>,
  body: Record<string, unknown> | undefined,
  hasReduce: boolean,
  isPost: boolean,
): ViewQueryArgs {
  const first = (name: string): string | undefined => params.find(([k]) => k === name)?.[1];

  let keys: unknown[] | undefined;
  if (body && body.keys !== undefined && body.keys !== null) {
    if (!Array.isArray(body.keys)) throw badRequest('`keys` member must be a array.');
    keys = body.keys;
  } else {
    const qsKeys = first('keys');
    if (qsKeys !== undefined) {
      const decoded = decodeJson('keys', qsKeys);
      if (!Array.isArray(decoded)) throw badRequest(isPost ? '`keys` member must be a array.' : '`keys` parameter is not an array.');
      keys = decoded;
    }
  }
  const multiGet = keys !== undefined;

  const reduceParam = first('reduce');
  const viewType: ViewType = !hasReduce ? 'map' : reduceParam === 'false' ? 'red_map' : 'reduce';

  const a = {
    reduce: viewType === 'reduce',
    hasStartKey: false,
    startKey: undefined as unknown,
    startDocId: undefined as string | undefined,
    hasEndKey: false,
    endKey: undefined as unknown,
    endDocId: undefined as string | undefined,
    inclusiveEnd: true,
    descending: false,
    limit: undefined as number | undefined,
    skip: 0,
    groupLevel: 0 as number | 'exact',
    includeDocs: false,
    stale: 'update_after' as Stale,
    onError: 'continue' as OnError,
    debug: false,
    fullSet: false,
    connectionTimeout: undefined as number | undefined,
    keys: keys as readonly unknown[] | undefined,
  };

  const setStart = (v: unknown) => {
    if (multiGet) throw queryParseError('Query parameter `start_key` is not compatible with multi-get');
    a.hasStartKey = true;
    a.startKey = v;
  };
  const setEnd = (v: unknown) => {
    if (multiGet) throw queryParseError('Query parameter `end_key` is not compatible with multi-get');
    a.hasEndKey = true;
    a.endKey = v;
  };
  const setGroupLevel = (level: number | 'exact') => {
    if (viewType !== 'reduce') throw queryParseError("Invalid URL parameter 'group' or  'group_level' for non-reduce view.");
    a.groupLevel = level;
  };

  for (const [name, value] of params) {
    switch (name) {
      case 'key': {
        const k = decodeJson(name, value);
        setStart(k);
        setEnd(k);
        break;
      }
      case 'startkey':
      case 'start_key':
        setStart(decodeJson(name, value));
        break;
      case 'endkey':
      case 'end_key':
        setEnd(decodeJson(name, value));
        break;
      case 'startkey_docid':
      case 'start_key_doc_id':
        a.startDocId = value;
        break;
      case 'endkey_docid':
      case 'end_key_doc_id':
        a.endDocId = value;
        break;
      case 'limit':
        a.limit = parsePositiveInt(value);
        break;
      case 'skip':
        a.skip = Math.max(0, parseInt10(value));
        break;
      case 'count':
        throw queryParseError("Query parameter 'count' is now 'limit'.");
      case 'update':
        throw queryParseError('update=false is now stale=ok');
      case 'stale':
        if (value !== 'ok' && value !== 'update_after' && value !== 'false') {
          throw queryParseError('stale only available as stale=ok or as stale=update_after');
        }
        a.stale = value;
        break;
      case 'descending':
        a.descending = parseBool(value);
        break;
      case 'group':
        setGroupLevel(parseBool(value) ? 'exact' : 0);
        break;
      case 'group_level':
        setGroupLevel(parsePositiveInt(value));
        break;
      case 'inclusive_end':
        a.inclusiveEnd = parseBool(value);
        break;
      case 'reduce':
        if (parseBool(value) && viewType === 'map') throw queryParseError('Invalid URL parameter `reduce` for map view.');
        break;
      case 'include_docs':
        if (parseBool(value)) {
          if (viewType === 'reduce') throw queryParseError('Query parameter `include_docs` is invalid for reduce views.');
          a.includeDocs = true;
        }
        break;
      case 'conflicts':
        if (parseBool(value) && viewType === 'reduce') throw queryParseError('Query parameter `conflicts` is invalid for reduce views.');
        break;
      case 'debug':
        a.debug = parseBool(value);
        break;
      case 'full_set':
        a.fullSet = parseBool(value);
        break;
      default:
        break;
    }
  }

  if (a.hasStartKey && a.hasEndKey && JSON.stringify(a.startKey) !== JSON.stringify(a.endKey)) {
    const c = compareKeys(a.startKey, a.endKey);
    if (!a.descending && c > 0) {
      throw queryParseError('No rows can match your key range, reverse your start_key and end_key or set descending=true');
    }
    if (a.descending && c < 0) {
      throw queryParseError('No rows can match your key range, reverse your start_key and end_key or set descending=false');
    }
  }
  if (viewType === 'reduce' && multiGet && a.groupLevel !== 'exact') {
    throw queryParseError('Multi-key fetchs for reduce view must include `group=true`');
  }

  const qsTimeout = first('connection_timeout');
  const timeout = body?.connection_timeout !== undefined ? body.connection_timeout : qsTimeout !== undefined ? decodeJson('connection_timeout', qsTimeout) : undefined;
  if (timeout !== undefined) {
    if (typeof timeout !== 'number' || !Number.isInteger(timeout)) throw badRequest('Query parameter `connection_timeout` must be an integer');
    a.connectionTimeout = timeout;
  }
  const onError = typeof body?.on_error === 'string' ? body.on_error : first('on_error') ?? 'continue';
  if (onError !== 'continue' && onError !== 'stop') {
    throw badRequest(`Invalid value (\`${onError}\`) for the parameter \`on_error\`. It must be \`continue\` (default) or \`stop\`.`);
  }
  a.onError = onError;
  return a;
}
