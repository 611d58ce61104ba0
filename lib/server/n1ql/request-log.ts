// The query service's requests as system:active_requests and system:completed_requests show them
// (SQL++ reference: Monitor Queries): every running request, and the finished ones that ran at
// least `completed-threshold` ms (1000 by default; 0 logs every request), up to
// `completed-limit` of them (4000), the oldest dropped first. DELETE on active_requests cancels
// the request; DELETE on completed_requests forgets the entries.
import { formatDuration } from './duration';
import type { ObjectValue, Value } from './value';

export interface RequestSettings {
  /** `completed-threshold`: ms a request must run for to be kept once it completes (-1 keeps none). */
  completedThreshold: number;
  /** `completed-limit`: how many completed requests are kept. */
  completedLimit: number;
}

export interface RequestStart {
  requestId: string;
  clientContextID?: string;
  statement?: string;
  preparedName?: string;
  /** The request's query_context, as given. */
  queryContext?: string;
  users: string;
  remoteAddr?: string;
  userAgent?: string;
  scanConsistency: string;
  node: string;
  /** Stops the request (DELETE FROM system:active_requests). */
  cancel(): void;
}

export interface RequestOutcome {
  state: 'completed' | 'errors' | 'fatal' | 'timeout' | 'cancelled' | 'closed';
  resultCount: number;
  resultSize: number;
  errorCount: number;
  mutationCount: number;
}

/** A request as it completes, for those watching the log (advisor sessions collect statements so). */
export interface FinishedRequest {
  statement?: string;
  queryContext?: string;
  users: string;
  /** When it started (ms since the epoch). */
  startedAt: number;
  elapsedMs: number;
  state: RequestOutcome['state'];
}

interface Active extends RequestStart {
  startedAt: number;
  started: bigint;
}

/** Go's time layout the query service writes requestTime in: `2006-01-02 15:04:05.999999999 -0700 MST`. */
function requestTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const frac = d.getUTCMilliseconds() === 0 ? '' : `.${p(d.getUTCMilliseconds(), 3).replace(/0+$/, '')}`;
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}${frac} +0000 UTC`;
}

export class RequestLog {
  private readonly active = new Map<string, Active>();
  private readonly completed = new Map<string, ObjectValue>();
  readonly settings: RequestSettings = { completedThreshold: 1000, completedLimit: 4000 };
  private readonly watchers = new Set<(r: FinishedRequest) => void>();

  constructor(private readonly now: () => number) {}

  start(r: RequestStart): void {
    this.active.set(r.requestId, { ...r, startedAt: this.now(), started: process.hrtime.bigint() });
  }

  finish(requestId: string, outcome: RequestOutcome): void {
    const a = this.active.get(requestId);
    if (a === undefined) return;
    this.active.delete(requestId);
    const elapsedNs = Number(process.hrtime.bigint() - a.started);
    for (const w of this.watchers) w({ statement: a.statement, queryContext: a.queryContext, users: a.users, startedAt: a.startedAt, elapsedMs: elapsedNs / 1e6, state: outcome.state });
    const t = this.settings.completedThreshold;
    if (t < 0 || elapsedNs / 1e6 < t || this.settings.completedLimit <= 0) return;
    const row = this.describe(a, elapsedNs);
    row.state = outcome.state;
    row.resultCount = outcome.resultCount;
    row.resultSize = outcome.resultSize;
    row.serviceTime = row.elapsedTime;
    if (outcome.errorCount) row.errorCount = outcome.errorCount;
    if (outcome.mutationCount) row.mutations = outcome.mutationCount;
    this.completed.set(requestId, row);
    while (this.completed.size > this.settings.completedLimit) this.completed.delete(this.completed.keys().next().value!);
  }

  private describe(a: Active, elapsedNs: number): ObjectValue {
    const row: ObjectValue = {
      elapsedTime: formatDuration(elapsedNs),
      executionTime: formatDuration(elapsedNs),
      node: a.node,
      requestId: a.requestId,
      requestTime: requestTime(a.startedAt),
      scanConsistency: a.scanConsistency,
      state: 'running',
      users: a.users,
    };
    if (a.clientContextID !== undefined) row.clientContextID = a.clientContextID;
    if (a.statement !== undefined) row.statement = a.statement;
    if (a.preparedName !== undefined) row.preparedName = a.preparedName;
    if (a.queryContext !== undefined) row.queryContext = a.queryContext;
    if (a.remoteAddr !== undefined) row.remoteAddr = a.remoteAddr;
    if (a.userAgent !== undefined) row.userAgent = a.userAgent;
    return row;
  }

  /** Calls `fn` with every request as it completes, whatever the completed-threshold; returns how to stop. */
  watch(fn: (r: FinishedRequest) => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  /** system:active_requests: every running request (`user` given: only that user's). */
  activeRows(user?: string): Value[] {
    const now = process.hrtime.bigint();
    return [...this.active.values()].filter((a) => user === undefined || a.users === user).map((a) => this.describe(a, Number(now - a.started)));
  }

  /** system:completed_requests, oldest first (`user` given: only that user's). */
  completedRows(user?: string): Value[] {
    return [...this.completed.values()].filter((r) => user === undefined || r.users === user);
  }

  /** DELETE FROM system:active_requests: cancels the request. */
  cancel(requestId: string): boolean {
    const a = this.active.get(requestId);
    if (a === undefined) return false;
    a.cancel();
    return true;
  }

  /** DELETE FROM system:completed_requests: forgets the entry. */
  forget(requestId: string): boolean {
    return this.completed.delete(requestId);
  }
}
