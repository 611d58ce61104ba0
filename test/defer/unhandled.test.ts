// Ports of test_defer.py LogTests: unhandled failures are reported when the
// Deferred is garbage-collected. GC is driven in-process (v8 flag + vm), and
// the default stderr report is checked in a child `node --expose-gc`.

import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import {
  Deferred,
  DeferredList,
  Failure,
  fail,
  getDebugging,
  inlineCallbacks,
  setDebugging,
  setUnhandledErrorHandler,
} from '../../lib/defer';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

async function collectGarbage(): Promise<void> {
  for (let i = 0; i < 6; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
}

interface Report {
  failure: Failure;
  text: string;
}

describe('defer: unhandled errors on garbage collection (test_defer.LogTests)', function () {
  this.timeout(20000);
  let reports: Report[];
  let previous: ReturnType<typeof setUnhandledErrorHandler>;
  let wasDebugging: boolean;

  beforeEach(() => {
    reports = [];
    wasDebugging = getDebugging();
    previous = setUnhandledErrorHandler((failure, text) => reports.push({ failure, text }));
  });
  afterEach(() => {
    setUnhandledErrorHandler(previous);
    setDebugging(wasDebugging);
  });

  const mine = (marker: string) => reports.filter((r) => r.failure.getErrorMessage() === marker);

  it('test_errorLog: a collected Deferred whose chain ended in a Failure is reported with its traceback', async () => {
    (function () {
      const d = new Deferred<number>();
      d.addCallback(() => {
        throw new RangeError('errorLog marker');
      });
      d.callback(1);
    })();
    await collectGarbage();
    const got = mine('errorLog marker');
    expect(got).to.have.length(1);
    expect(got[0].failure.type).to.equal(RangeError);
    expect(got[0].text.startsWith('Unhandled error in Deferred:\n')).to.equal(true);
    expect(got[0].text).to.include('Traceback (most recent call last):');
    expect(got[0].text).to.include('RangeError: errorLog marker');
  });

  it('test_errorLogWithInnerFrameCycle: a Deferred in a reference cycle is reported too', async () => {
    (function () {
      const d = new Deferred<number>();
      (d as any).self = d;
      d.addCallback(() => {
        throw new RangeError('cycle marker');
      });
      d.callback(1);
    })();
    await collectGarbage();
    expect(mine('cycle marker')).to.have.length(1);
  });

  it('test_errorLogDebugInfo: with debugging the report says where the Deferred was created and fired', async () => {
    setDebugging(true);
    (function createdHere() {
      const d = new Deferred<number>();
      d.addCallback(() => {
        throw new RangeError('debug marker');
      });
      (function firedHere() {
        d.callback(1);
      })();
    })();
    setDebugging(false);
    await collectGarbage();
    const got = mine('debug marker');
    expect(got).to.have.length(1);
    expect(got[0].text).to.include('(debug:  C: Deferred was created:');
    expect(got[0].text).to.match(/ C:\s+at createdHere /);
    expect(got[0].text).to.include(' I: First Invoker was:');
    expect(got[0].text).to.match(/ I:\s+at firedHere /);
  });

  it('a handled failure is not reported', async () => {
    (function () {
      fail(new RangeError('handled marker')).addErrback(() => undefined);
    })();
    await collectGarbage();
    expect(mine('handled marker')).to.have.length(0);
  });

  it('test_chainedErrorCleanup: a failed Deferred returned from a callback is not reported itself', async () => {
    (function () {
      const d = new Deferred<number>();
      d.addCallback(() => fail(new RangeError('chained marker')));
      d.callback(1);
      d.addErrback(() => undefined);
    })();
    await collectGarbage();
    expect(mine('chained marker')).to.have.length(0);
  });

  it('test_errorClearedByChaining: an errback chaining to another Deferred clears the failure', async () => {
    (function () {
      const bad = fail(new RangeError('cleared marker'));
      const good = new Deferred<void>();
      bad.addErrback(() => good);
    })();
    await collectGarbage();
    expect(mine('cleared marker')).to.have.length(0);
  });

  it('testDeferredListConsumeErrors: consumeErrors keeps the inputs from being reported', async () => {
    (function () {
      const d1 = new Deferred<void>();
      const dl = new DeferredList([d1], { consumeErrors: true });
      dl.addCallback(() => undefined);
      d1.errback(new RangeError('consumed marker'));
    })();
    await collectGarbage();
    expect(mine('consumed marker')).to.have.length(0);
  });

  it('a failure yielded to inlineCallbacks and caught there is not reported', async () => {
    (function () {
      inlineCallbacks(function* () {
        try {
          yield fail(new RangeError('yield marker'));
        } catch {
          /* handled */
        }
      })();
    })();
    await collectGarbage();
    expect(mine('yield marker')).to.have.length(0);
  });

  it('a handler that throws falls back to stderr instead of crashing', async () => {
    setUnhandledErrorHandler(() => {
      throw new Error('broken handler');
    });
    const writes: string[] = [];
    const origWrite = process.stderr.write;
    (process.stderr as any).write = (chunk: string) => {
      writes.push(String(chunk));
      return true;
    };
    try {
      (function () {
        fail(new RangeError('fallback marker'));
      })();
      await collectGarbage();
    } finally {
      (process.stderr as any).write = origWrite;
    }
    const text = writes.join('');
    expect(text).to.include('fallback marker');
    expect(text).to.include('the unhandled-error handler itself threw');
  });

  it('by default the report goes to stderr (child node --expose-gc)', () => {
    const lib = path.resolve(__dirname, '../../lib/defer');
    const script = `
      const { Deferred } = require(${JSON.stringify(lib)});
      (function () {
        const d = new Deferred();
        d.addCallback(() => { throw new TypeError('child marker'); });
        d.callback(1);
      })();
      (async () => { for (let i = 0; i < 5; i++) { gc(); await new Promise((r) => setImmediate(r)); } })();
    `;
    const out = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 15000 });
    expect(out.status).to.equal(0);
    expect(out.stderr).to.include('Unhandled error in Deferred:');
    expect(out.stderr).to.include('TypeError: child marker');
    expect(out.stderr).to.include('Traceback (most recent call last):');
  });
});
