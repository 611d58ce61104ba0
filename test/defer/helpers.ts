// Twisted trial's successResultOf / failureResultOf / assertNoResult, for mocha.
// Like trial's, they consume the result (the Deferred is left with undefined).

import { Deferred, Failure, type ErrorType } from '../../lib/defer';

export function successResultOf<T>(d: Deferred<T>): T {
  const seen: unknown[] = [];
  d.addBoth((r: unknown) => {
    seen.push(r);
  });
  if (seen.length === 0) throw new Error(`successResultOf: ${d} has no result`);
  if (seen[0] instanceof Failure) throw new Error(`successResultOf: ${d} failed: ${(seen[0] as Failure).getTraceback()}`);
  return seen[0] as T;
}

export function failureResultOf(d: Deferred<any>, ...types: ErrorType[]): Failure {
  const seen: unknown[] = [];
  d.addBoth((r: unknown) => {
    seen.push(r);
  });
  if (seen.length === 0) throw new Error(`failureResultOf: ${d} has no result`);
  const f = seen[0];
  if (!(f instanceof Failure)) throw new Error(`failureResultOf: ${d} succeeded with ${String(f)}`);
  if (types.length > 0 && f.check(...types) === null) {
    throw new Error(`failureResultOf: expected one of ${types.map(String).join(', ')}, got ${f}`);
  }
  return f;
}

export function assertNoResult(d: Deferred<any>): void {
  const seen: unknown[] = [];
  d.addBoth((r: unknown) => {
    seen.push(r);
    return r;
  });
  if (seen.length > 0) {
    // Consume a failure so it is not reported, then complain.
    d.addErrback(() => undefined);
    throw new Error(`assertNoResult: ${d} has a result: ${String(seen[0])}`);
  }
}

export class GenericError extends Error {
  constructor(message?: string) {
    super(message);
    this.name = 'GenericError';
  }
}

/** A canceller that fires the Deferred with "Callback Result". */
export function fakeCallbackCanceller(d: Deferred<any>): void {
  d.callback('Callback Result');
}
