// Index advisor sessions (SQL++ reference: ADVISOR function): ADVISOR({"action": "start",
// "duration": ...}) collects the statements of the requests that complete while the session runs
// (of one user when `profile` is given, slower than `response` when it is given, at most
// `query_count` of them), and when the duration is over runs the advisor on them. The session is
// a task of class "advisor" in system:tasks_cache: `stop` ends it early (state "cancelled", its
// advice kept), `abort` ends it and forgets it, `purge` forgets a finished one, `get` gives its
// advice and `list` the sessions. Argument errors are the server's words (its func_advisor.go).
import { createHash, randomUUID } from 'node:crypto';
import { formatDuration, parseDuration } from './duration';
import type { FinishedRequest, RequestLog } from './request-log';
import { isObject, type ObjectValue, type Value } from './value';

/** Runs the advisor on collected statements (./advisor's adviseStatements with the starter's environment). */
export type Analyzer = (statements: Value) => Value;

interface Session {
  name: string;
  id: string;
  node: string;
  queryContext: string;
  delayNs: number;
  submitTime: number;
  startTime?: number;
  stopTime?: number;
  state: 'scheduled' | 'completed' | 'cancelled';
  profile?: string;
  /** Collect only requests slower than this (ms). */
  responseMs?: number;
  queryCount: number;
  /** The statements collected, with the query_context each ran under. */
  collected: { statement: string; queryContext?: string }[];
  results?: Value[];
  timer?: NodeJS.Timeout;
  analyze: Analyzer;
}

/** When no query_count is given: the most statements a session keeps. */
const MAX_COUNT = 20000;
const CLASS = 'advisor';
const SUB_CLASS = 'analyze';
/** setTimeout's longest delay; longer sessions re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const CALLS_ADVISOR = /\badvisor\s*\(/i;

/** The fields a session argument may have (any other is refused). */
const ARGUMENTS = new Set(['action', 'profile', 'response', 'duration', 'query_count', 'status', 'session']);

/** A name-based (version 5) UUID: the task id the scheduler derives from the session name. */
function uuidV5(namespace: Buffer, name: string): string {
  const h = createHash('sha1').update(namespace).update(name).digest().subarray(0, 16);
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
const TASK_NAMESPACE = Buffer.from(uuidV5(Buffer.alloc(16), CLASS + SUB_CLASS).replace(/-/g, ''), 'hex');

/** The scheduler's time format (Go's `2006-01-02T15:04:05.999Z07:00`, in UTC). */
function taskTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.?0*Z$/, 'Z');
}

/** A Go duration string in nanoseconds, or the error text Go's time.ParseDuration gives. */
function durationNs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || text.trim() !== text) throw new Error(`time: invalid duration ${JSON.stringify(text)}`);
  return Math.round(ms * 1e6);
}

export class AdvisorSessions {
  private readonly sessions = new Map<string, Session>();

  constructor(
    log: RequestLog,
    private readonly now: () => number,
  ) {
    // For the log's life (sessions are kept beside it): their timers do not hold the process.
    log.watch((r) => this.collect(r));
  }

  private collect(r: FinishedRequest): void {
    // Requests that called the advisor are not part of the workload (the server marks them so).
    if (r.statement === undefined || CALLS_ADVISOR.test(r.statement)) return;
    for (const s of this.sessions.values()) {
      if (s.state !== 'scheduled' || s.collected.length >= s.queryCount) continue;
      if (r.startedAt < s.submitTime) continue;
      if (s.profile !== undefined && !r.users.includes(s.profile)) continue;
      if (s.responseMs !== undefined && !(r.elapsedMs > s.responseMs)) continue;
      s.collected.push({ statement: r.statement, queryContext: r.queryContext });
    }
  }

  start(args: { profile?: string; responseMs?: number; durationNs: number; queryCount: number }, node: string, queryContext: string, analyze: Analyzer): string {
    const name = randomUUID();
    const s: Session = {
      name,
      id: uuidV5(TASK_NAMESPACE, name),
      node,
      queryContext,
      delayNs: args.durationNs,
      submitTime: this.now(),
      state: 'scheduled',
      profile: args.profile,
      responseMs: args.responseMs,
      queryCount: args.queryCount,
      collected: [],
      analyze,
    };
    this.sessions.set(name, s);
    this.arm(s, args.durationNs / 1e6);
    return name;
  }

  private arm(s: Session, ms: number): void {
    const step = Math.min(ms, MAX_TIMER_MS);
    s.timer = setTimeout(() => (ms > step ? this.arm(s, ms - step) : this.complete(s)), step);
    s.timer.unref();
  }

  /** The duration is over: the advice of what the session collected. */
  private complete(s: Session): void {
    if (s.state !== 'scheduled') return;
    s.startTime = this.now();
    s.results = [this.advise(s)];
    s.state = 'completed';
    s.stopTime = this.now();
    s.timer = undefined;
  }

  private advise(s: Session): Value {
    // As system:completed_requests rows give them: {statement, queryContext}.
    const given = s.collected.map((c): Value => (c.queryContext ? { statement: c.statement, queryContext: c.queryContext } : c.statement));
    const out = given.length ? s.analyze(given) : {};
    // The advisor gives an empty array when none of the statements could be advised on.
    return Array.isArray(out) ? {} : out;
  }

  /**
   * `stop`, and DELETE FROM system:tasks_cache: a running session ends now keeping its advice
   * (the task is cancelled); a finished one is forgotten. Whether there was such a session.
   */
  stop(name: string): boolean {
    const s = this.sessions.get(name);
    if (!s) return false;
    if (s.state !== 'scheduled') return this.sessions.delete(name);
    clearTimeout(s.timer);
    s.timer = undefined;
    s.results = [this.advise(s)];
    s.state = 'cancelled';
    return true;
  }

  /** `abort` / `purge`: the session ends (if it runs) and is forgotten. */
  forget(name: string): void {
    const s = this.sessions.get(name);
    if (!s) return;
    clearTimeout(s.timer);
    this.sessions.delete(name);
  }

  /** `get`: the session's results when it has advice, else nothing. */
  get(name: string): Value[] {
    const s = this.sessions.get(name);
    if (!s?.results || !s.results.some((r) => !(isObject(r) && Object.keys(r).length === 0))) return [];
    return [s.results];
  }

  /** The sessions as system:tasks_cache rows. */
  rows(): ObjectValue[] {
    return [...this.sessions.values()].map((s) => {
      const row: ObjectValue = {
        class: CLASS,
        delay: formatDuration(s.delayNs),
        id: s.id,
        name: s.name,
        node: s.node,
        queryContext: s.queryContext,
        state: s.state,
        subClass: SUB_CLASS,
        submitTime: taskTime(s.submitTime),
      };
      if (s.results) row.results = s.results;
      if (s.startTime !== undefined) row.startTime = taskTime(s.startTime);
      if (s.stopTime !== undefined) row.stopTime = taskTime(s.stopTime);
      return row;
    });
  }

  /** `list`: the sessions of a status as `{tasks_cache: row}`. */
  list(status: 'active' | 'completed' | 'all'): Value[] {
    return this.rows()
      .filter((r) => status === 'all' || (status === 'active' ? r.state === 'scheduled' : r.state === 'completed'))
      .map((r) => ({ tasks_cache: r }));
  }

}

const byLog = new WeakMap<RequestLog, AdvisorSessions>();

/** The advisor sessions of a query service (kept beside its request log, created on first use). */
export function sessionsFor(log: RequestLog, now: () => number = Date.now): AdvisorSessions {
  let s = byLog.get(log);
  if (!s) byLog.set(log, (s = new AdvisorSessions(log, now)));
  return s;
}

/** What a session action needs of the caller. */
export interface SessionHost {
  sessions: AdvisorSessions;
  node: string;
  queryContext: string;
  analyze: Analyzer;
}

const notValid = (field: string): Error => new Error(`advisor() not valid argument for '${field}'`);

function sessionName(arg: ObjectValue): string {
  const v = arg.session;
  if (typeof v !== 'string') throw notValid('session');
  return v.toLowerCase();
}

/** ADVISOR({action: ...}): checks the argument as the server does, then runs the action. */
export function runSessionAction(arg: ObjectValue, host: SessionHost | undefined): Value {
  const unknown = Object.keys(arg).filter((k) => !ARGUMENTS.has(k.toLowerCase()));
  if (unknown.length) throw new Error(`Invalid arguments to Advisor() function: [${unknown.join(' ')}]`);
  if (!('action' in arg)) throw new Error("advisor() missing argument for 'action'");
  const action = typeof arg.action === 'string' ? arg.action.toLowerCase() : undefined;
  if (action === undefined || !['start', 'get', 'list', 'stop', 'abort', 'purge'].includes(action)) throw notValid('action');
  const sessions = host?.sessions;
  switch (action) {
    case 'start': {
      if ('profile' in arg && typeof arg.profile !== 'string') throw notValid('profile');
      if (typeof arg.duration !== 'string') throw notValid('duration');
      const duration = durationNs(arg.duration);
      let responseMs: number | undefined;
      if ('response' in arg) {
        if (typeof arg.response !== 'string') throw notValid('response');
        responseMs = Math.round(durationNs(arg.response) / 1e6);
      }
      if ('query_count' in arg && typeof arg.query_count !== 'number') throw notValid('query_count');
      const queryCount = typeof arg.query_count === 'number' ? arg.query_count : MAX_COUNT;
      if (!host || !sessions) throw new Error('advisor() sessions need the query service (its completed requests)');
      const profile = typeof arg.profile === 'string' && arg.profile !== '' ? arg.profile : undefined;
      return { session: sessions.start({ profile, responseMs, durationNs: duration, queryCount }, host.node, host.queryContext, host.analyze) };
    }
    case 'list': {
      let status: 'active' | 'completed' | 'all' = 'all';
      if ('status' in arg) {
        const v = typeof arg.status === 'string' ? arg.status.toLowerCase() : undefined;
        if (v !== 'active' && v !== 'completed' && v !== 'all') throw notValid('status');
        status = v;
      }
      return sessions?.list(status) ?? [];
    }
    case 'get':
      return sessions?.get(sessionName(arg)) ?? [];
    case 'stop':
      sessions?.stop(sessionName(arg));
      return [];
    default:
      // abort and purge
      sessions?.forget(sessionName(arg));
      return [];
  }
}
