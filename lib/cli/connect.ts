// Connection flags shared by every command that talks to a cluster, and turning them into an
// engine. The embedded cluster's connection string (couchbase://127.0.0.1:p1,127.0.0.1:p2) is an
// ordinary connection string, so nothing here tells the two apart.
import { Engine, type CouchbaseError, type EngineOptions } from '../engine';
import type { FlagSpec, ParsedArgs } from './args';
import type { CliIo } from './io';
import { describeError } from './output';

export const DEFAULT_CONNSTR = 'couchbase://127.0.0.1/default';
/** The embedded cluster's default administrator, used when no credentials are given. */
export const DEFAULT_USERNAME = 'Administrator';
export const DEFAULT_PASSWORD = 'password';

export const CONNECTION_FLAGS: readonly FlagSpec[] = [
  { name: 'connstr', short: 'U', type: 'string', meta: 'CONNSTR', help: `connection string (default ${DEFAULT_CONNSTR})` },
  { name: 'username', short: 'u', type: 'string', meta: 'USER', help: `user name (default $DEFERBASE_USERNAME, else ${DEFAULT_USERNAME})` },
  { name: 'password', short: 'P', type: 'string', meta: 'PASS', help: `password (default $DEFERBASE_PASSWORD, else ${DEFAULT_PASSWORD})` },
  { name: 'bucket', short: 'b', type: 'string', meta: 'BUCKET', help: 'bucket to open (replaces the one in the connection string)' },
  { name: 'timeout', type: 'number', min: 0.001, meta: 'SECONDS', help: 'operation timeout in seconds (KV, query and view)' },
];

export interface Target {
  connstr: string;
  options: EngineOptions;
}

/** Whether the connection string names a bucket (`couchbase://host/bucket`). */
export function hasBucket(connstr: string): boolean {
  const rest = connstr.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//, '').split('?')[0];
  const slash = rest.indexOf('/');
  return slash >= 0 && slash < rest.length - 1;
}

/** Adds `/bucket` to a connection string that names none (or replaces it, with `replace`). */
export function withBucket(connstr: string, bucket: string, replace = false): string {
  if (hasBucket(connstr) && !replace) return connstr;
  const q = connstr.indexOf('?');
  let head = q >= 0 ? connstr.slice(0, q) : connstr;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(head)?.[0] ?? '';
  const slash = head.indexOf('/', scheme.length);
  if (slash >= 0) head = head.slice(0, slash);
  const tail = q >= 0 ? connstr.slice(q) : '';
  const prefix = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(head) ? head : `couchbase://${head}`;
  return `${prefix}/${encodeURIComponent(bucket)}${tail}`;
}

/**
 * The connection target from the flags: `positional` (a CONNSTR argument) wins over --connstr;
 * credentials come from the flags, else the string's own username=/password= options, else the
 * environment, else the embedded cluster's default administrator.
 */
export function targetOf(args: ParsedArgs, env: NodeJS.ProcessEnv, positional?: string): Target {
  let connstr = positional ?? (args.values.connstr as string | undefined) ?? env.DEFERBASE_CONNSTR ?? DEFAULT_CONNSTR;
  const bucket = args.values.bucket as string | undefined;
  if (bucket !== undefined) connstr = withBucket(connstr, bucket, true);
  const options: EngineOptions = {};
  const inString = /[?&]username=/.test(connstr);
  const username = (args.values.username as string | undefined) ?? (inString ? undefined : env.DEFERBASE_USERNAME ?? DEFAULT_USERNAME);
  const password =
    (args.values.password as string | undefined) ?? (/[?&]password=/.test(connstr) ? undefined : env.DEFERBASE_PASSWORD ?? (inString ? undefined : DEFAULT_PASSWORD));
  if (username !== undefined) options.username = username;
  if (password !== undefined) options.password = password;
  const timeout = args.values.timeout as number | undefined;
  if (timeout !== undefined) {
    options.operation_timeout = timeout;
    options.n1ql_timeout = timeout;
    options.views_timeout = timeout;
  }
  return { connstr, options };
}

/** Creates and connects an engine; rejects with the engine's typed error. */
export function connectEngine(target: Target): Promise<Engine> {
  return new Promise((resolve, reject) => {
    let engine: Engine;
    try {
      engine = new Engine(target.connstr, target.options);
    } catch (err) {
      return reject(err);
    }
    // Errors are delivered to callbacks; an unhandled 'error' event must not crash the command.
    engine.on('error', () => {});
    engine.connect((err: CouchbaseError | null) => {
      if (err) engine.close(() => reject(err));
      else resolve(engine);
    });
  });
}

export function closeEngine(engine: Engine): Promise<void> {
  return new Promise((resolve) => engine.close(() => resolve()));
}

/**
 * Connects, runs `body` with the engine and closes the engine however `body` ends; resolves to
 * body's exit status. A failed connect is said on stderr as "deferbase COMMAND: cannot connect
 * to CONNSTR: why" and gives exit status 1.
 */
export async function withEngine(target: Target, command: string, io: CliIo, body: (engine: Engine) => Promise<number>): Promise<number> {
  let engine: Engine;
  try {
    engine = await connectEngine(target);
  } catch (err) {
    io.stderr.write(`deferbase ${command}: cannot connect to ${target.connstr}: ${describeError(err)}\n`);
    return 1;
  }
  try {
    return await body(engine);
  } finally {
    await closeEngine(engine);
  }
}
