// Cooperative scheduling of statement execution. The engine is synchronous generators from the
// scan to the projection; a statement that reads many rows between two results (a filter that
// rarely matches, GROUP BY, ORDER BY) would hold the event loop for its whole run, so KV, the
// management API and other queries would wait. Sources therefore yield PAUSE every few
// milliseconds; every stage passes it through unchanged, and the service driving the statement
// gives the event loop a turn before it asks for the next row. Expressions (which cannot pause)
// instead check the statement's deadline in their loops.

export const PAUSE: unique symbol = Symbol('n1ql.pause');
export type Pause = typeof PAUSE;

/** Time slices of one statement: when a source should pause, and the statement's deadline. */
export interface Budget {
  /** Throws the timeout error (1080) once the deadline has passed; cheap enough to call per element. */
  checkDeadline(): void;
  /** Whether the current slice is used up (only a driver that can wait asks for slices). */
  pauseDue?(): boolean;
}


// ---- waiting for a JavaScript function ----------------------------------------------------------
//
// A JavaScript user-defined function runs on a worker thread (./udf-javascript.ts). A call that
// does not answer at once must not hold the event loop, but expressions are synchronous: the call
// throws SUSPENDED instead, with the answer's promise in `waitingFor`. The pipeline stage that was
// evaluating (through `attempt`) catches it and yields PAUSE; the driver awaits the promise before
// it pulls again, and the stage evaluates the same expression once more, now finding the answer in
// `jsAnswers`. Expressions have no side effects, so evaluating one again changes nothing.
//
// Only an evaluation that can be repeated may suspend: `retryable` is set while an `attempt` runs
// and `canWait` says that the PAUSE it yields reaches a driver that awaits `waitingFor` (directly,
// or through a subquery's collector that turns it back into SUSPENDED for an enclosing `attempt`).
// Anywhere else a call waits for its answer synchronously, bounded by its time limit.

/** Thrown by a JavaScript function call whose answer is not there yet. */
export const SUSPENDED: unique symbol = Symbol('n1ql.suspended');
/** Returned by `attempt` when the evaluation suspended: yield PAUSE, then attempt it again. */
export const RETRY: unique symbol = Symbol('n1ql.retry');
export type Retry = typeof RETRY;

export interface Suspension {
  /** The driver awaits `waitingFor` when a PAUSE comes up (absent: it never does). */
  canWait?: boolean;
  /** An `attempt` is running: a SUSPENDED thrown now is caught and the evaluation repeated. */
  retryable?: boolean;
  /** What a suspended evaluation waits for; the driver clears it once it has waited. */
  waitingFor?: Promise<unknown>;
  /** Answers that arrived while an evaluation was suspended, by call, for its next attempt. */
  jsAnswers?: Map<string, unknown>;
}

/**
 * `fn(arg, ctx)`, or RETRY when a JavaScript function suspended it. The answers an evaluation
 * collected are dropped once the outermost attempt completes.
 */
export function attempt<A, T, C extends Suspension>(fn: (arg: A, ctx: C) => T, arg: A, ctx: C): T | Retry {
  if (!ctx.canWait) return fn(arg, ctx);
  const outer = ctx.retryable;
  ctx.retryable = true;
  try {
    const v = fn(arg, ctx);
    if (!outer && ctx.jsAnswers !== undefined) ctx.jsAnswers.clear();
    return v;
  } catch (err) {
    if (err === SUSPENDED) return RETRY;
    if (!outer && ctx.jsAnswers !== undefined) ctx.jsAnswers.clear();
    throw err;
  } finally {
    ctx.retryable = outer;
  }
}

/**
 * Reads a subquery's values for an expression until `take` returns false: PAUSE markers are
 * passed over, except one that stands for a suspended JavaScript call, which suspends the
 * enclosing evaluation too.
 */
function consume<T>(items: Iterable<T | Pause>, ctx: Suspension, take: (v: T) => boolean): void {
  const canWait = ctx.canWait;
  // Stages inside may only suspend when the evaluation that runs this subquery can be repeated.
  ctx.canWait = canWait === true && ctx.retryable === true;
  try {
    for (const x of items) {
      if (x !== PAUSE) {
        if (!take(x)) break;
      } else if (ctx.waitingFor !== undefined && ctx.canWait) throw SUSPENDED;
    }
  } finally {
    ctx.canWait = canWait;
  }
}

/** A subquery's values, for an expression. */
export function collect<T>(items: Iterable<T | Pause>, ctx: Suspension): T[] {
  const out: T[] = [];
  consume(items, ctx, (v) => {
    out.push(v);
    return true;
  });
  return out;
}

/** Whether a subquery has a value (EXISTS), reading no further than the first. */
export function hasValue<T>(items: Iterable<T | Pause>, ctx: Suspension): boolean {
  let found = false;
  consume(items, ctx, () => {
    found = true;
    return false;
  });
  return found;
}
