// The published entry point: require('deferbase/defer') resolves (package self-reference) to dist.

import { expect } from 'chai';
import * as path from 'node:path';

describe('defer: CommonJS entry point', () => {
  it("require('deferbase/defer') gives the whole API, the same module as the build", () => {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const api = require('deferbase/defer');
    const names = [
      'Deferred', 'Failure', 'succeed', 'fail', 'maybeDeferred', 'DeferredList', 'gatherResults',
      'inlineCallbacks', 'ensureDeferred', 'AlreadyCalledError', 'CancelledError', 'TimeoutError', 'FirstError',
      'DeferredLock', 'DeferredSemaphore', 'DeferredQueue', 'QueueOverflow', 'QueueUnderflow',
      'Clock', 'deferLater', 'setDebugging', 'getDebugging', 'setUnhandledErrorHandler',
    ];
    for (const n of names) expect(api[n], n).to.not.equal(undefined);
    expect(require.resolve('deferbase/defer')).to.equal(path.resolve(__dirname, '../../lib/defer/index.js'));
    const d = new api.Deferred();
    d.addCallback((x: number) => x + 1);
    d.callback(1);
    expect(d.result).to.equal(2);
  });
});
