// Debugging switches and unhandled-error reporting.
//
// Twisted logs "Unhandled error in Deferred:" when a Deferred whose chain
// ended in a Failure is garbage-collected. We do the same with a
// FinalizationRegistry. To keep every Deferred small, nothing is registered
// until a chain actually ends in a Failure; the record lives in a side table
// keyed by the Deferred (a flag bit on the Deferred says whether it has one).

import { Failure } from './failure';

let debugging = false;

/**
 * Turn Deferred debugging on or off. With debugging on, each Deferred records
 * the stack where it was created and where it was first fired; the records
 * appear in AlreadyCalledError messages and unhandled-error reports.
 */
export function setDebugging(on: boolean): void {
  debugging = !!on;
}

export function getDebugging(): boolean {
  return debugging;
}

/** Stacks recorded for a Deferred while debugging was on. */
export interface DebugInfo {
  creator?: string[];
  invoker?: string[];
}

/**
 * Receives every unhandled error: the Failure, and the full report text
 * (headline, debug stacks if any, traceback) that the default handler prints.
 */
export type UnhandledErrorHandler = (failure: Failure, report: string) => void;

const printToStderr: UnhandledErrorHandler = (_failure, report) => {
  process.stderr.write(report.endsWith('\n') ? report : report + '\n');
};

let handler: UnhandledErrorHandler = printToStderr;

/**
 * Replace the unhandled-error handler (default: print to stderr, as Twisted's
 * log does). Pass null to restore the default. Returns the previous handler.
 */
export function setUnhandledErrorHandler(fn: UnhandledErrorHandler | null | undefined): UnhandledErrorHandler {
  if (fn != null && typeof fn !== 'function') {
    throw new TypeError(`setUnhandledErrorHandler: handler must be a function or null, got ${typeof fn}`);
  }
  const previous = handler;
  handler = fn ?? printToStderr;
  return previous;
}

/** Report an error nobody handled (unhandled Deferred failure, failing canceller, timer). */
export function reportError(headline: string, failure: Failure, debug?: DebugInfo): void {
  const debugText = debug ? formatDebugInfo(debug) : '';
  const report = `${headline}\n${debugText ? `(debug: ${debugText})\n` : ''}${failure.getTraceback()}`;
  try {
    handler(failure, report);
  } catch (err) {
    // A broken handler must not take the process down from a GC callback.
    printToStderr(failure, `${report}\n(the unhandled-error handler itself threw: ${String(err)})`);
  }
}

// --- stacks -----------------------------------------------------------------

/** The current stack as "    at ..." lines, without frames above `below`. */
export function captureStack(below: Function): string[] {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, below);
  return (holder.stack ?? '').split('\n').slice(1);
}

/** Twisted's " C: Deferred was created:" / " I: First Invoker was:" text. */
export function formatDebugInfo(info: DebugInfo): string {
  let text = '';
  if (info.creator) text += ` C: Deferred was created:\n${info.creator.map((l) => ` C:${l}`).join('\n')}\n`;
  if (info.invoker) text += ` I: First Invoker was:\n${info.invoker.map((l) => ` I:${l}`).join('\n')}\n`;
  return text;
}

const debugInfos = new WeakMap<object, DebugInfo>();

export function getDebugInfo(d: object): DebugInfo | undefined {
  return debugInfos.get(d);
}

export function debugInfoFor(d: object): DebugInfo {
  let info = debugInfos.get(d);
  if (!info) debugInfos.set(d, (info = {}));
  return info;
}

// --- unhandled failures -----------------------------------------------------

interface Tracker {
  failure: Failure | null;
  debug: DebugInfo | undefined;
}

const registry = new FinalizationRegistry<Tracker>((tracker) => {
  const failure = tracker.failure;
  if (failure !== null && !failure._observed) reportError('Unhandled error in Deferred:', failure, tracker.debug);
});

const trackers = new WeakMap<object, Tracker>();

/** Remember that `d` currently ends in `failure` (register for GC reporting once). */
export function trackFailure(d: object, failure: Failure, alreadyRegistered: boolean): void {
  if (alreadyRegistered) {
    const t = trackers.get(d);
    if (t) {
      t.failure = failure;
      return;
    }
  }
  const t: Tracker = { failure, debug: debugInfos.get(d) };
  trackers.set(d, t);
  registry.register(d, t);
}

/** `d` no longer ends in a Failure. */
export function untrackFailure(d: object): void {
  const t = trackers.get(d);
  if (t) t.failure = null;
}

// --- explicit chains (chainDeferred), for repr ------------------------------

const explicitChains = new WeakMap<object, object>();

export function setExplicitChain(d: object, to: object): void {
  explicitChains.set(d, to);
}

export function getExplicitChain(d: object): object | undefined {
  return explicitChains.get(d);
}

export function clearExplicitChain(d: object): void {
  explicitChains.delete(d);
}
