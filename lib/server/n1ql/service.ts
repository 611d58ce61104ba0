// The query service's HTTP front end (Couchbase's /query/service): request parameters in, the
// response streamed out field by field and the results row by row, honouring backpressure.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import createDebug from 'debug';
import type { HttpServiceHandler, ServiceContext, ServiceUser } from '../service-types';
import { formatDuration, parseDuration } from './duration';
import { QueryError, ErrorCode, httpStatusFor } from './errors';
import type { ExecContext } from './expr';
import { parseQueryContext, type Env } from './keyspace';
import { jsonText, parseJson } from './json';
import { heapUsed, overMemoryQuota } from './memory';
import { parse } from './parser';
import type { Statement } from './ast';
import { Profile, PROFILE_MODES, type ProfileMode } from './profile';
import { PAUSE, type Pause } from './pause';
import type { PreparedCache } from './prepared';
import type { JavaScriptRunner } from './udf-javascript';
import { privilegesOf, collectionsDenied } from './privileges';
import { clusterPermission } from '../rbac/permission';
import type { RequestLog, RequestOutcome } from './request-log';
import { checkStatementKind, inTransactionError, Transaction, TransactionTable, transactionOptions, TX_ERRORS } from './transactions';
import { admitPlan, decodePlan, runStatement, type RunOptions, type StatementResult } from './statement';
import { setField, type Value } from './value';

const debug = createDebug('deferbase:n1ql');

const MAX_BODY = 16 * 1024 * 1024;
const FLUSH_AT = 16 * 1024;
const DEFAULT_TIMEOUT_MS = 75_000;

// Parameters Couchbase accepts; anything else is error 1065, as on a real server.
const KNOWN = new Set(
  (
    'statement prepared encoded_plan auto_execute args client_context_id timeout scan_consistency scan_vector scan_vectors ' +
    'scan_wait readonly metrics pretty profile max_parallelism pipeline_batch pipeline_cap scan_cap query_context use_fts ' +
    'preserve_expiry use_replica txid tximplicit txdata txtimeout txstmtnum durability_level kvtimeout atrcollection numatrs ' +
    'creds namespace signature compression encoding format controls use_cbo memory_quota sort_projection batch_args batch_named_args ' +
    'sql_mode auto_update_statistics errorlimit'
  ).split(' '),
);

const CONSISTENCIES = new Set(['not_bounded', 'request_plus', 'statement_plus', 'at_plus']);

export interface QueryServiceState {
  prepareds: PreparedCache;
  /** The threads the cluster's JavaScript functions run on. */
  javascript: JavaScriptRunner;
  /** Running and completed requests of every query node (system:active_requests, system:completed_requests). */
  requests: RequestLog;
  /** Open SQL++ transactions by txid (./transactions.ts). */
  transactions: TransactionTable;
}

type Params = Record<string, unknown>;

/** How long a statement runs before the event loop gets a turn (other requests, KV, management). */
const SLICE_MS = 10;

/** Parameters live in a prototype-less object: a parameter named `__proto__` is just a name. */
function newParams(): Params {
  return Object.create(null) as Params;
}

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** After a PAUSE: the answer a suspended JavaScript call waits for (./pause.ts), else one turn of the event loop. */
async function resumeWhenReady(exec: StatementContext): Promise<void> {
  const waiting = exec.waitingFor;
  if (waiting === undefined) return turn();
  exec.waitingFor = undefined;
  await waiting;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new QueryError(1190, 'Request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Form and URL parameters carry JSON-valued fields as JSON text. */
function fromForm(search: URLSearchParams, out: Params = newParams()): Params {
  for (const [k, v] of search) {
    if (k === 'args' || k.startsWith('$') || k === 'scan_vectors' || k === 'creds' || k === 'controls') {
      try {
        setField(out, k, parseJson(v));
      } catch {
        setField(out, k, v);
      }
    } else setField(out, k, v);
  }
  return out;
}

function bool(v: unknown): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new QueryError(ErrorCode.BAD_PARAMETER, `Invalid value for boolean parameter: ${String(v)}`);
}

/**
 * Who a request runs as: the Authorization header's user and every `creds` entry
 * (`[{"user": "local:<bucket>", "pass": "..."}]`, what SDK 2 cross-bucket queries send), each of
 * which must authenticate; a privilege any of them holds is granted. null when one fails.
 */
function requestUser(ctx: ServiceContext, authorization: string | undefined, creds: unknown): ServiceUser | null {
  const users: ServiceUser[] = [];
  if (authorization !== undefined || creds === undefined) {
    const u = ctx.authenticate(authorization);
    if (!u) return null;
    users.push(u);
  }
  if (creds !== undefined) {
    if (!Array.isArray(creds)) throw new QueryError(ErrorCode.BAD_PARAMETER, 'creds parameter must be an array of {"user", "pass"}');
    for (const c of creds as Array<{ user?: unknown; pass?: unknown }>) {
      if (typeof c?.user !== 'string' || typeof c.pass !== 'string') throw new QueryError(ErrorCode.BAD_PARAMETER, 'creds entries must be {"user": string, "pass": string}');
      const name = c.user.replace(/^local:/, '');
      const u = ctx.authenticate('Basic ' + Buffer.from(`${name}:${c.pass}`).toString('base64'));
      if (!u) return null;
      if (!users.some((x) => x.username === u.username)) users.push(u);
    }
  }
  if (users.length === 1) return users[0];
  return { username: users[0].username, allows: (permission) => users.some((u) => u.allows(permission)) };
}

export class QueryService implements HttpServiceHandler {
  private readonly active = new Set<ServerResponse>();

  constructor(
    private readonly ctx: ServiceContext,
    private readonly state: QueryServiceState,
  ) {}

  handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/admin/ping') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
      return;
    }
    if (url.pathname === '/admin/settings') {
      this.settings(req, res);
      return;
    }
    if (url.pathname === '/query/service' || url.pathname === '/query') {
      if (req.method !== 'POST' && req.method !== 'GET') {
        res.writeHead(405, { 'content-type': 'application/json', allow: 'GET, POST' });
        res.end(JSON.stringify({ errors: [{ code: 1000, msg: `Unsupported http method: ${req.method}` }], status: 'fatal' }));
        return;
      }
      this.active.add(res);
      res.on('close', () => this.active.delete(res));
      this.query(req, res, url).catch((err) => {
        debug('query handler failed: %O', err);
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ errors: [{ code: 5000, msg: String((err as Error).message) }], status: 'fatal' }));
        } else res.destroy();
      });
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 1000, msg: `Not found: ${url.pathname}` }], status: 'fatal' }));
  }

  /** The query service's settings the request log follows (`completed-threshold`, `completed-limit`); admins change them. */
  private settings(req: IncomingMessage, res: ServerResponse): void {
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const user = this.ctx.authenticate(req.headers.authorization);
    if (!user) return reply(401, { errors: [{ code: 10000, msg: 'Unable to authorize user.' }] });
    const log = this.state.requests;
    const current = () => ({ 'completed-limit': log.settings.completedLimit, 'completed-threshold': log.settings.completedThreshold });
    if (req.method === 'GET') {
      if (!user.allows(clusterPermission(['settings'], 'read'))) return reply(403, { errors: [{ code: 13014, msg: 'User does not have credentials to read the query settings.' }] });
      return reply(200, current());
    }
    if (req.method !== 'POST') return reply(405, { errors: [{ code: 1000, msg: `Unsupported http method: ${req.method}` }] });
    if (!user.allows(clusterPermission(['settings'], 'write'))) return reply(403, { errors: [{ code: 13014, msg: 'User does not have credentials to change the query settings.' }] });
    readBody(req).then(
      (body) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          return reply(400, { errors: [{ code: 1100, msg: 'Settings must be a JSON object' }] });
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return reply(400, { errors: [{ code: 1100, msg: 'Settings must be a JSON object' }] });
        const p = parsed as Record<string, unknown>;
        for (const [key, field] of [['completed-threshold', 'completedThreshold'], ['completed-limit', 'completedLimit']] as const) {
          const v = p[key];
          if (v === undefined) continue;
          if (typeof v !== 'number' || !Number.isInteger(v)) return reply(400, { errors: [{ code: 1065, msg: `${key} must be an integer` }] });
          log.settings[field] = v;
        }
        reply(200, current());
      },
      () => reply(400, { errors: [{ code: 1100, msg: 'Unreadable request body' }] }),
    );
  }

  private nodeNameCache?: string;

  /** This node's name as system catalogs show it (`host:port`). */
  private get nodeName(): string {
    this.nodeNameCache ??= this.ctx.nodes?.().find((n) => n.thisNode)?.name ?? '127.0.0.1:8091';
    return this.nodeNameCache;
  }

  close(): void {
    for (const res of this.active) res.destroy();
    this.active.clear();
    this.state.javascript.close();
  }

  private async readParams(req: IncomingMessage, url: URL): Promise<Params> {
    const params = fromForm(url.searchParams);
    if (req.method === 'POST') {
      const body = await readBody(req);
      const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (type === 'application/x-www-form-urlencoded') fromForm(new URLSearchParams(body), params);
      else if (body.trim()) {
        let parsed: unknown;
        try {
          parsed = parseJson(body);
        } catch {
          if (type === 'application/json') throw new QueryError(1100, `Error processing JSON request body: ${body.slice(0, 40)}`);
          // Couchbase takes a non-JSON text/plain body as the statement itself
          parsed = { statement: body };
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new QueryError(1100, 'Request body must be a JSON object');
        for (const k of Object.keys(parsed)) setField(params, k, (parsed as Params)[k]);
      }
    }
    return params;
  }

  private async query(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const started = process.hrtime.bigint();
    const requestID = randomUUID();
    let clientContextID: string | undefined;
    let pretty = false;
    let metrics = true;
    let result: StatementResult | undefined;
    let iterator: Iterator<Value | Pause> | undefined;
    let first: IteratorResult<Value | Pause> | undefined;
    let execStarted = started;
    let exec: StatementContext | undefined;
    let writes: (() => Promise<void>) | undefined;
    let profile: Profile | undefined;
    let closed = false;
    let preparedName: string | undefined;
    let tx: Transaction | undefined;
    let releaseTx: ((cutShort?: boolean) => void) | undefined;
    let implicitTx = false;
    // What the request log records when the response closes (./request-log.ts).
    const outcome: RequestOutcome = { state: 'closed', resultCount: 0, resultSize: 0, errorCount: 0, mutationCount: 0 };
    res.on('close', () => {
      closed = true;
    });
    try {
      const params = await this.readParams(req, url);
      if (typeof params.client_context_id === 'string') clientContextID = params.client_context_id;
      else if (params.client_context_id !== undefined) clientContextID = JSON.stringify(params.client_context_id);
      pretty = bool(params.pretty) ?? false;
      metrics = bool(params.metrics) ?? true;
      for (const k of Object.keys(params)) {
        if (!KNOWN.has(k) && !k.startsWith('$')) throw new QueryError(ErrorCode.UNRECOGNIZED_PARAMETER, `Unrecognized parameter in request: ${k}`);
      }
      if (params.profile !== undefined) {
        const mode = typeof params.profile === 'string' ? (params.profile.toLowerCase() as ProfileMode) : undefined;
        if (!mode || !PROFILE_MODES.includes(mode)) throw new QueryError(ErrorCode.BAD_PARAMETER, `Invalid value for profile parameter: ${String(params.profile)}`);
        if (mode !== 'off') profile = new Profile(mode);
      }
      const authStart = performance.now();
      const user = requestUser(this.ctx, req.headers.authorization, params.creds);
      if (!user) throw new QueryError(ErrorCode.AUTH, 'Unable to authorize user.');
      this.logRequest(requestID, clientContextID, params, user.username, req, res, outcome);
      if (profile) {
        profile.time('authorize', performance.now() - authStart);
        profile.operator('authorize');
      }
      const sc = params.scan_consistency;
      if (sc !== undefined && (typeof sc !== 'string' || !CONSISTENCIES.has(sc.toLowerCase()))) {
        throw new QueryError(ErrorCode.BAD_PARAMETER, `Unknown scan_consistency value: ${String(sc)}`);
      }
      let timeoutMs = DEFAULT_TIMEOUT_MS;
      if (params.timeout !== undefined) {
        const t = typeof params.timeout === 'string' ? parseDuration(params.timeout) : undefined;
        if (t === undefined) throw new QueryError(ErrorCode.BAD_PARAMETER, `Invalid value for timeout parameter: ${String(params.timeout)}`);
        if (t > 0) timeoutMs = t;
      }
      const positional = params.args === undefined ? [] : params.args;
      if (!Array.isArray(positional)) throw new QueryError(ErrorCode.BAD_PARAMETER, 'args parameter must be an array');
      const named = Object.create(null) as Record<string, Value>;
      for (const k of Object.keys(params)) if (k.startsWith('$')) setField(named, k.slice(1), params[k]);
      const readonly = (bool(params.readonly) ?? false) || req.method === 'GET';
      exec = statementContext(this.ctx.clock.now(), positional as Value[], named, timeoutMs, user.username);
      exec.canWait = true;
      const querySettings = this.ctx.querySettings;
      exec.curl = { permitted: user.allows(clusterPermission(['n1ql', 'curl'], 'execute')), allows: (url) => querySettings?.curlAllows(url) ?? false };
      if (profile) exec.profile = profile;
      const env = this.envFor(user);
      if (params.query_context !== undefined) {
        const qc = typeof params.query_context === 'string' ? parseQueryContext(params.query_context) : undefined;
        if (qc === undefined) throw new QueryError(ErrorCode.BAD_PARAMETER, `Invalid value for query_context: ${String(params.query_context)}`);
        if (qc !== null) env.queryContext = qc;
      }
      const opts: RunOptions = { env, ctx: exec, readonly, prepareds: this.state.prepareds, user: user.username };
      let stmt;
      const parseStart = performance.now();
      if (typeof params.statement === 'string') {
        stmt = parse(params.statement);
        profile?.time('parse', performance.now() - parseStart);
        if (params.prepared === undefined && stmt.type === 'prepare' && bool(params.auto_execute)) {
          preparedName = preparedNameOf(runStatement(stmt, opts));
          stmt = stmt.stmt;
        }
      } else if (typeof params.prepared === 'string') {
        let p = this.state.prepareds.get(user.username, params.prepared);
        if (!p && typeof params.encoded_plan === 'string') {
          p = decodePlan(params.encoded_plan);
          if (!p) throw new QueryError(4070, 'Unable to decode prepared statement');
          if (p.name !== params.prepared) throw new QueryError(4090, `Mismatching name in encoded plan, expecting: ${params.prepared}, found: ${p.name}`);
          admitPlan(p, opts);
        }
        if (!p) throw new QueryError(ErrorCode.NO_SUCH_PREPARED, `No such prepared statement: ${params.prepared}`);
        p.uses = (p.uses ?? 0) + 1;
        stmt = p.stmt;
      } else {
        throw new QueryError(ErrorCode.NO_STATEMENT, 'No statement or prepared value');
      }
      const joined = await this.joinTransaction(params, stmt, opts, res);
      tx = joined?.tx;
      releaseTx = joined?.release;
      if (closed) {
        releaseTx?.(true);
        return;
      }
      implicitTx = tx !== undefined && params.txid === undefined;
      execStarted = process.hrtime.bigint();
      writes = this.ctx.trackWrites?.();
      const planStart = performance.now();
      result = runStatement(stmt, opts);
      profile?.time('plan', performance.now() - planStart);
      iterator = result.rows[Symbol.iterator]();
      // Pull the first row before answering, so an error found while starting picks the HTTP status.
      first = iterator.next();
      while (!first.done && first.value === PAUSE) {
        await resumeWhenReady(exec);
        if (closed) {
          iterator.return?.();
          return;
        }
        exec.resume();
        first = iterator.next();
      }
    } catch (err) {
      if (implicitTx) tx!.end('rolled back');
      else tx?.endStatement(false);
      const qe = toQueryError(err);
      Object.assign(outcome, { state: qe.code === ErrorCode.TIMEOUT ? 'timeout' : 'fatal', errorCount: 1 });
      res.writeHead(httpStatusFor(qe.code), { 'content-type': 'application/json' });
      const parts = [`{\n"requestID": ${JSON.stringify(requestID)}`];
      if (clientContextID !== undefined) parts.push(`"clientContextID": ${JSON.stringify(clientContextID)}`);
      parts.push(`"errors": [${JSON.stringify(qe.toJSON())}]`, `"status": ${JSON.stringify(qe.code === ErrorCode.TIMEOUT ? 'timeout' : 'fatal')}`);
      if (metrics) parts.push(`"metrics": ${metricsText(started, execStarted, 0, 0, 0, 1)}`);
      releaseTx?.();
      res.end(parts.join(',\n') + '\n}\n');
      return;
    }

    const rows = iterator!;
    const firstErrorCode = result.errors.length ? result.errors[0].code : undefined;
    res.writeHead(firstErrorCode !== undefined && first.done ? httpStatusFor(firstErrorCode) : 200, { 'content-type': 'application/json' });
    let buf = `{\n"requestID": ${JSON.stringify(requestID)},\n`;
    if (clientContextID !== undefined) buf += `"clientContextID": ${JSON.stringify(clientContextID)},\n`;
    if (result.signature !== undefined) buf += `"signature": ${JSON.stringify(result.signature)},\n`;
    // Enhanced prepared statements: the name the client sends from now on instead of the text.
    if (preparedName !== undefined) buf += `"prepared": ${JSON.stringify(preparedName)},\n`;
    buf += '"results": [';
    let count = 0;
    let size = 0;
    let fatal: QueryError | undefined;
    let step = first!;
    // A statement with results streams them: the profile's "stream" phase is writing their text.
    const streamed = profile && result.signature !== undefined ? profile : undefined;
    streamed?.operator('stream');
    try {
      while (!step.done) {
        const t = streamed ? performance.now() : 0;
        const text = resultText(step.value as Value, pretty, exec!.nonFinite === true);
        if (streamed) streamed.time('stream', performance.now() - t);
        if (text !== undefined) {
          buf += (count ? ',' : '') + (pretty ? '\n' : '') + text;
          count++;
          size += text.length;
        }
        if (buf.length >= FLUSH_AT) {
          const ok = res.write(buf);
          buf = '';
          if (!ok) await waitDrain(res);
          else if ((count & 255) === 0) await turn();
          if (closed) {
            rows.return?.();
            return;
          }
        }
        step = rows.next();
        while (!step.done && step.value === PAUSE) {
          // The statement used up its slice: send what is ready and let the event loop run.
          if (buf.length) {
            if (!res.write(buf)) await waitDrain(res);
            buf = '';
          }
          await resumeWhenReady(exec!);
          if (closed) {
            rows.return?.();
            return;
          }
          exec!.resume();
          step = rows.next();
        }
      }
    } catch (err) {
      fatal = toQueryError(err);
      rows.return?.();
    }
    if (tx) result.errors.splice(0, result.errors.length, ...result.errors.map(inTransactionError));
    // tximplicit: the statement was its own transaction, committed only when all of it succeeded.
    if (implicitTx) {
      if (fatal === undefined && result.errors.length === 0) {
        try {
          tx!.commit();
        } catch (err) {
          fatal = toQueryError(err);
        }
      } else tx!.end('rolled back');
    }
    // In a transaction a statement is atomic: one that failed is undone, and counts no mutations.
    const failedInTx = tx !== undefined && (fatal !== undefined || result.errors.length > 0);
    if (tx && !implicitTx) tx.endStatement(!failedInTx);
    const mutationCount = failedInTx ? 0 : result.mutationCount();
    // Like a KV client's, a statement's writes are answered only once they are durable.
    if (result.mutationCount() > 0 && writes !== undefined) {
      try {
        await writes();
      } catch (err) {
        result.errors.push(new QueryError(ErrorCode.DML, `DML Error: the statement's writes that were not yet durable have been undone - cause: ${(err as Error).message}`));
      }
    }
    buf += pretty && count ? '\n]' : ']';
    const errors = fatal ? [...result.errors, fatal] : result.errors;
    if (errors.length) buf += `,\n"errors": ${JSON.stringify(errors.map((e) => e.toJSON()))}`;
    if (exec!.warnings.size) buf += `,\n"warnings": ${jsonText([...exec!.warnings.values()] as Value)}`;
    const status = fatal ? (fatal.code === ErrorCode.TIMEOUT ? 'timeout' : 'fatal') : errors.length ? 'errors' : 'success';
    Object.assign(outcome, { state: status === 'success' ? 'completed' : status, resultCount: count, resultSize: size, errorCount: errors.length, mutationCount });
    buf += `,\n"status": ${JSON.stringify(status)}`;
    if (metrics) buf += `,\n"metrics": ${metricsText(started, execStarted, count, size, mutationCount, errors.length)}`;
    if (profile) {
      profile.time('run', Number(process.hrtime.bigint() - execStarted) / 1e6);
      buf += `,\n"profile": ${JSON.stringify(profile.toJSON(profile.mode === 'timings' ? result.plan?.() : undefined))}`;
    }
    buf += '\n}\n';
    releaseTx?.();
    res.end(buf);
  }

  /**
   * The transaction the request runs in: the one its txid names, or a new one for tximplicit;
   * the statement's environment then sees the collections through it. Resolves once it is the
   * statement's turn in the transaction, with the function that gives the turn on; undefined: none.
   */
  private async joinTransaction(params: Params, stmt: Statement, opts: RunOptions, res: ServerResponse): Promise<{ tx: Transaction; release: (cutShort?: boolean) => void } | undefined> {
    const table = this.state.transactions;
    let tx: Transaction | undefined;
    const implicit = bool(params.tximplicit) ?? false;
    if (params.txid !== undefined) {
      if (typeof params.txid !== 'string') throw new QueryError(ErrorCode.BAD_PARAMETER, `Invalid value for txid parameter: ${String(params.txid)}`);
      if (implicit) throw new QueryError(ErrorCode.BAD_PARAMETER, 'tximplicit cannot be set with txid');
      tx = table.get(params.txid);
      tx.checkLive();
      // As the query service: only a positive statement number is checked (and kept), before the statement waits its turn.
      if (params.txstmtnum !== undefined) {
        const n = typeof params.txstmtnum === 'string' ? Number(params.txstmtnum) : params.txstmtnum;
        if (typeof n !== 'number' || !Number.isInteger(n)) throw new QueryError(ErrorCode.BAD_PARAMETER, `Invalid value for txstmtnum parameter: ${String(params.txstmtnum)}`);
        if (n > 0 && n <= tx.lastStatement) throw new QueryError(TX_ERRORS.OUT_OF_ORDER, `Transaction statement is out of order (${tx.lastStatement}, ${n}) `);
        if (n > 0) tx.lastStatement = n;
      }
      checkStatementKind(stmt, true, false);
    } else {
      checkStatementKind(stmt, false, implicit);
      if (implicit && stmt.type !== 'transaction') tx = table.begin(transactionOptions(params));
      else if (stmt.type === 'transaction') transactionOptions(params);
    }
    opts.transactions = { table, tx, params };
    if (tx === undefined) return undefined;
    if (stmt.type !== 'transaction') opts.env = tx.envFor(opts.env);
    const joined = tx;
    const { ready, release } = joined.takeTurn();
    // The turn is given on before the answer is sent (see query()), and here too when the request
    // is cut short (a statement cut short is undone: it did not succeed).
    res.on('close', () => release(true));
    if (ready) {
      await ready;
      try {
        // It may have ended (committed, rolled back, expired) while this statement waited.
        joined.checkLive();
      } catch (err) {
        release();
        throw err;
      }
    }
    if (!implicit && stmt.type !== 'transaction') joined.beginStatement();
    return { tx, release };
  }

  /** Enters the request in the request log until its response closes. */
  private logRequest(requestId: string, clientContextID: string | undefined, params: Params, username: string, req: IncomingMessage, res: ServerResponse, outcome: RequestOutcome): void {
    const log = this.state.requests;
    const sc = typeof params.scan_consistency === 'string' ? params.scan_consistency.toLowerCase() : 'not_bounded';
    // Requests handed over in-process may come without a socket.
    const socket = req.socket as IncomingMessage['socket'] | undefined;
    log.start({
      requestId,
      clientContextID,
      statement: typeof params.statement === 'string' ? params.statement : undefined,
      preparedName: typeof params.prepared === 'string' ? params.prepared : undefined,
      queryContext: typeof params.query_context === 'string' ? params.query_context : undefined,
      users: username,
      remoteAddr: socket?.remoteAddress === undefined ? undefined : `${socket.remoteAddress}:${socket.remotePort}`,
      userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : undefined,
      scanConsistency: sc === 'not_bounded' ? 'unbounded' : sc === 'request_plus' ? 'scan_plus' : sc,
      node: this.nodeName,
      cancel: () => {
        outcome.state = 'cancelled';
        res.destroy();
      },
    });
    res.on('close', () => log.finish(requestId, outcome));
  }

  private envFor(user: ServiceUser): Env {
    const ctx = this.ctx;
    const prepareds = this.state.prepareds;
    const mayAll = user.allows(clusterPermission(['n1ql', 'meta'], 'read'));
    return {
      username: user.username,
      requests: this.state.requests,
      nodeName: this.nodeName,
      nodes: ctx.nodes === undefined ? undefined : () => ctx.nodes!(),
      security: ctx.security,
      preparedList: () => prepareds.list(mayAll ? undefined : user.username),
      bucket: (name) => ctx.bucket(name),
      buckets: () => ctx.buckets(),
      ...privilegesOf(user),
      collections:
        ctx.changeCollections === undefined
          ? undefined
          : {
              bucket: (name) => ctx.bucket(name),
              change: (bucket, op) => ctx.changeCollections!(bucket, op),
              denied: (bucket, scope, text) => collectionsDenied(user, bucket, scope, text),
            },
      javascript: this.state.javascript,
    };
  }
}

interface StatementContext extends ExecContext {
  /** Starts a new time slice after the event loop had its turn. */
  resume(): void;
  /** Warnings for the response's `warnings` array, each once. */
  readonly warnings: Map<string, { code: number; msg: string; reason?: Record<string, unknown> }>;
}

/**
 * The execution context of one request: the deadline its `timeout` sets (checked by sources,
 * sorts and expression loops, so a statement stops at it wherever it is) and the time slices
 * after which sources yield PAUSE.
 */
function statementContext(now: number, positional: Value[], named: Record<string, Value>, timeoutMs: number, user: string): StatementContext {
  const deadline = performance.now() + timeoutMs;
  let sliceEnd = performance.now() + SLICE_MS;
  let ticks = 0;
  const heapAtStart = heapUsed();
  const expired = (): QueryError => new QueryError(ErrorCode.TIMEOUT, `Timeout ${formatDuration(timeoutMs * 1e6)} exceeded`);
  const overQuota = (): QueryError => new QueryError(ErrorCode.MEMORY_QUOTA, 'Request has exceeded memory quota');
  const warnings = new Map<string, { code: number; msg: string; reason?: Record<string, unknown> }>();
  return {
    now,
    positional,
    named,
    user,
    warnings,
    warn(code, msg, reason) {
      if (warnings.size < MAX_WARNINGS) warnings.set(`${code}\u0000${msg}`, reason ? { code, msg, reason } : { code, msg });
    },
    checkDeadline() {
      if ((++ticks & 127) !== 0) return;
      if (performance.now() > deadline) throw expired();
      if ((ticks & 4095) === 0 && overMemoryQuota(heapAtStart)) throw overQuota();
    },
    pauseDue() {
      const t = performance.now();
      if (t > deadline) throw expired();
      if (overMemoryQuota(heapAtStart)) throw overQuota();
      return t >= sliceEnd;
    },
    resume() {
      sliceEnd = performance.now() + SLICE_MS;
    },
  };
}

const MAX_WARNINGS = 10;

function resultText(v: Value, pretty: boolean, nonFinite: boolean): string | undefined {
  // The exact writer costs time on every value: only statements that produced a NaN or infinity pay it.
  return jsonText(v, pretty ? 4 : undefined, nonFinite);
}

/** The name a PREPARE statement's one row gives the statement it kept. */
function preparedNameOf(prepared: StatementResult): string | undefined {
  for (const row of prepared.rows) {
    const name = row !== PAUSE && typeof row === 'object' && row !== null ? (row as Record<string, unknown>).name : undefined;
    return typeof name === 'string' ? name : undefined;
  }
  return undefined;
}

function waitDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function toQueryError(err: unknown): QueryError {
  if (err instanceof QueryError) return err;
  debug('internal error: %O', err);
  return new QueryError(ErrorCode.EXECUTION, (err as Error)?.message ?? String(err));
}

function metricsText(started: bigint, execStarted: bigint, count: number, size: number, mutations: number, errors: number): string {
  const now = process.hrtime.bigint();
  const m: Record<string, unknown> = {
    elapsedTime: formatDuration(Number(now - started)),
    executionTime: formatDuration(Number(now - execStarted)),
    resultCount: count,
    resultSize: size,
    serviceLoad: 1,
  };
  if (mutations) m.mutationCount = mutations;
  if (errors) m.errorCount = errors;
  return JSON.stringify(m);
}
