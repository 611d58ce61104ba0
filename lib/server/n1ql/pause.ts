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

/** Drops PAUSE markers, for consumers that cannot give the event loop a turn (expression subqueries). */
export function* withoutPauses<T>(items: Iterable<T | Pause>): Generator<T> {
  for (const x of items) if (x !== PAUSE) yield x;
}
