// Compile-time checks of the public types (tsc fails the build if they regress), plus a run.

import { expect } from 'chai';
import { Deferred, Failure, gatherResults, inlineCallbacks, succeed } from '../../lib/defer';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_v?: T): void {}

describe('defer: public types', () => {
  it('callbacks returning values, Deferreds, Promises and Failures give the unwrapped result type', async () => {
    const a = succeed(1).addCallback((x) => x + 1);
    assertType<Equal<typeof a, Deferred<number>>>();
    const b = succeed(1).addCallback(() => succeed('s'));
    assertType<Equal<typeof b, Deferred<string>>>();
    const c = succeed(1).addCallback(async () => true);
    assertType<Equal<typeof c, Deferred<boolean>>>();
    const e = succeed(1).addErrback((f: Failure) => f.getErrorMessage());
    assertType<Equal<typeof e, Deferred<number | string>>>();
    const g = gatherResults([succeed(1), succeed(2)]);
    assertType<Equal<typeof g, Deferred<number[]>>>();
    const ic = inlineCallbacks(function* (n: number) {
      yield succeed(n);
      return 'done';
    });
    assertType<Equal<ReturnType<typeof ic>, Deferred<string>>>();
    const v: number = await a;
    expect(v).to.equal(2);
    expect(await c).to.equal(true);
  });
});
