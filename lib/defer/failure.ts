// Twisted's Failure: an error travelling down a Deferred's errback path.
// JavaScript can throw anything, so a Failure always holds an Error: a
// non-Error value is wrapped in NonErrorValue, whose message says what it was.

import { inspect } from 'node:util';

/** Raised in place of a thrown or errback()ed value that is not an Error. */
export class NonErrorValue extends Error {
  /** The value that was thrown or passed to errback(). */
  readonly original: unknown;
  constructor(original: unknown, context = 'Failure() was given') {
    super(`${context} a non-Error value: ${describeValue(original)}; throw or pass an Error (or a Failure) instead`);
    this.name = 'NonErrorValue';
    this.original = original;
  }
}

/** A short description of any value for error messages: `'boom' (string)`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  const t = typeof value;
  if (t === 'function') return `function ${(value as { name?: string }).name || '(anonymous)'}`;
  let shown = inspect(value, { depth: 1, breakLength: Infinity });
  if (shown.length > 80) shown = shown.slice(0, 77) + '...';
  if (t === 'object') {
    const ctor = (value as object).constructor;
    const kind = ctor && ctor.name ? ctor.name : 'object';
    return `${shown} (${kind})`;
  }
  return `${shown} (${t})`;
}

/** A type to trap or check: an error class, or the error's name as a string. */
export type ErrorType = (abstract new (...args: any[]) => unknown) | string;

export class Failure {
  /** The error (always an Error; see NonErrorValue). */
  readonly value: Error;
  /**
   * @internal
   * Set when this Failure was handed to a Promise (Deferred.then/asPromise):
   * the Promise side owns it now, so the Deferred does not report it again
   * as unhandled when garbage-collected.
   */
  _observed = false;

  constructor(value: unknown, context?: string) {
    if (value instanceof Failure) this.value = value.value;
    else if (value instanceof Error) this.value = value;
    else this.value = new NonErrorValue(value, context);
  }

  /** The error's class (its constructor). */
  get type(): Function {
    return this.value.constructor;
  }

  /**
   * The first of `types` the error is an instance of (or whose name matches),
   * or null. Mirrors Twisted's Failure.check.
   */
  check<E extends ErrorType[]>(...types: E): E[number] | null {
    const v = this.value;
    for (const t of types) {
      if (typeof t === 'string') {
        if (v.name === t || (v.constructor && v.constructor.name === t)) return t;
      } else if (v instanceof (t as Function)) {
        return t;
      }
    }
    return null;
  }

  /**
   * Return the matching type, or rethrow this Failure itself so the errback
   * chain continues with the same Failure (Twisted's trap).
   */
  trap<E extends ErrorType[]>(...types: E): E[number] {
    const found = this.check(...types);
    if (found === null) throw this;
    return found;
  }

  /** Throw the wrapped error. */
  raiseException(): never {
    throw this.value;
  }

  getErrorMessage(): string {
    const v = this.value;
    if (v instanceof NonErrorValue) return v.message;
    return v.message !== undefined ? String(v.message) : String(v);
  }

  /** The error's name, message and stack, as Node prints them. */
  getTraceback(): string {
    const v = this.value;
    const head = `${v.name || this.type.name}: ${this.getErrorMessage()}`;
    const stack = typeof v.stack === 'string' ? v.stack : '';
    const body = stack.startsWith(head) ? stack : stack ? `${head}\n${stack.split('\n').filter((l) => /^\s+at /.test(l)).join('\n')}` : head;
    return `Traceback (most recent call last):\n${body}`;
  }

  /**
   * Drop references to stack frames (as Twisted's cleanFailure does): V8
   * keeps the frames' functions and receivers alive until the stack is
   * formatted, which would keep the very Deferred that holds this Failure
   * from being garbage-collected (and so from being reported as unhandled).
   */
  cleanFailure(): void {
    void this.value.stack;
  }

  /** Throw the error into a generator (used by inlineCallbacks). */
  throwExceptionIntoGenerator<T>(g: Generator<unknown, T, unknown>): IteratorResult<unknown, T> {
    return g.throw(this.value);
  }

  toString(): string {
    return `[Failure instance: ${this.value.name || this.type.name}: ${this.getErrorMessage()}]`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
