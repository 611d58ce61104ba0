// Failure (twisted.python.failure) as used by Deferreds.

import { expect } from 'chai';
import { Failure, NonErrorValue } from '../../lib/defer';

class AppError extends Error {
  constructor(m: string) {
    super(m);
    this.name = 'AppError';
  }
}

describe('defer: Failure', () => {
  it('value and type are the error and its class', () => {
    const e = new AppError('x');
    const f = new Failure(e);
    expect(f.value).to.equal(e);
    expect(f.type).to.equal(AppError);
  });

  it('check() returns the first matching type (class or name) or null', () => {
    const f = new Failure(new AppError('x'));
    expect(f.check(RangeError, AppError)).to.equal(AppError);
    expect(f.check(Error)).to.equal(Error);
    expect(f.check('AppError')).to.equal('AppError');
    expect(f.check(RangeError, TypeError)).to.equal(null);
  });

  it('trap() returns the match, or throws the Failure itself', () => {
    const f = new Failure(new AppError('x'));
    expect(f.trap(AppError)).to.equal(AppError);
    let thrown: unknown;
    try {
      f.trap(RangeError);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).to.equal(f);
  });

  it('raiseException() throws the wrapped error', () => {
    const e = new AppError('raise me');
    expect(() => new Failure(e).raiseException()).to.throw(AppError, 'raise me');
  });

  it('getErrorMessage() and getTraceback() describe the error', () => {
    const f = new Failure(new AppError('the message'));
    expect(f.getErrorMessage()).to.equal('the message');
    const tb = f.getTraceback();
    expect(tb.startsWith('Traceback (most recent call last):\nAppError: the message')).to.equal(true);
    expect(tb).to.match(/\n\s+at /);
    expect(String(f)).to.equal('[Failure instance: AppError: the message]');
  });

  it('a non-Error value is wrapped in NonErrorValue, keeping the original', () => {
    const f = new Failure(42);
    expect(f.value).to.be.instanceOf(NonErrorValue);
    expect((f.value as NonErrorValue).original).to.equal(42);
    expect(f.getErrorMessage()).to.equal(
      'Failure() was given a non-Error value: 42 (number); throw or pass an Error (or a Failure) instead',
    );
    expect(new Failure(undefined).getErrorMessage()).to.match(/non-Error value: undefined;/);
  });

  it('new Failure(failure) shares the same error', () => {
    const f = new Failure(new AppError('x'));
    expect(new Failure(f).value).to.equal(f.value);
  });

  it('throwExceptionIntoGenerator throws the error into a generator', () => {
    function* g(): Generator<number, string, unknown> {
      try {
        yield 1;
      } catch (e) {
        return `caught ${(e as Error).message}`;
      }
      return 'not caught';
    }
    const gen = g();
    gen.next();
    const r = new Failure(new AppError('in')).throwExceptionIntoGenerator(gen);
    expect(r).to.deep.equal({ value: 'caught in', done: true });
  });
});
