// A thread that runs N1QL JavaScript functions. Each function's code gets a hardened realm of its
// own (../sandbox/realm.ts), made at its first call and kept for the next ones; a call runs under
// node:vm's time limit and its realm is thrown away when it passes it. The host starts the thread
// with a heap limit and watches the clock from outside too (udf-javascript.ts).
//
// The realm's runner (RUNNER_SOURCE) captures the built-ins it uses before the function's code
// runs, so code that replaces JSON, Reflect or a prototype method changes nothing of the call
// protocol; it takes the arguments from `__input` and answers with a string. This thread never
// reads a property of an object the function made.
import { workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import vm from 'node:vm';
import { createRealm, isOwnError, isTimeout, scriptOptions, stripThreadGlobals, type Realm } from '../sandbox/realm';
import { DESCRIBE_SOURCE } from '../sandbox/realm-source';
import { MAX_REASON_CHARS, MAX_RESULT_CHARS, type CallReply, type CallRequest, type ThreadMemory } from './udf-javascript-protocol';

const { port, memory } = workerData as { port: MessagePort; memory: ThreadMemory };
const signal = new Int32Array(memory.signal);
const started = new Float64Array(memory.started);

// A function that leaves a rejected promise behind must not end the thread.
process.on('unhandledRejection', () => undefined);
stripThreadGlobals();

const SCRIPT_OPTIONS = scriptOptions('N1QL functions');

/** Realms kept per thread; the least recently used goes first. */
const MAX_REALMS = 64;
const MIN_COMPILE_LIMIT_MS = 1000;

const RUNNER_SOURCE = String.raw`
(function (g) {
  'use strict';
  var parse = JSON.parse, stringify = JSON.stringify, apply = Reflect.apply;
  var defineProperty = Object.defineProperty;
  var fn;
  var describe = ${DESCRIBE_SOURCE};
  defineProperty(g, '__bind', { value: function (name) {
    var f = g[name];
    if (typeof f !== 'function') return 'function ' + name + ' is not defined in its code';
    fn = f;
    return '';
  } });
  defineProperty(g, '__call', { value: function () {
    if (fn === undefined) return '!the function is not defined in its code';
    try {
      var s = stringify(apply(fn, undefined, parse(g.__input)));
      return s === undefined ? '' : '=' + s;
    } catch (e) {
      return '!' + describe(e);
    }
  } });
})(this);
`;

const CALL = new vm.Script('__call()', { ...SCRIPT_OPTIONS, filename: 'deferbase-n1ql-function-runner.js' });

interface Loaded {
  readonly realm: Realm;
  /** '' when the function is ready, else why it is not. */
  readonly error: string;
}

const realms = new Map<string, Loaded>();

function reasonOf(err: unknown): string {
  return isOwnError(err) ? `${err.name}: ${err.message}` : 'the function failed';
}

/** A realm with the runner and the function's code, bound to its name. */
function load(req: CallRequest, limitMs: number): Loaded {
  const key = `${req.name}\u0000${req.code}`;
  const kept = realms.get(key);
  if (kept !== undefined) {
    realms.delete(key);
    realms.set(key, kept);
    return kept;
  }
  const realm = createRealm(`n1ql function ${req.name}`);
  new vm.Script(RUNNER_SOURCE, { ...SCRIPT_OPTIONS, filename: 'deferbase-n1ql-function-runner.js' }).runInContext(realm.context, { timeout: 5000 });
  let error = '';
  let script: vm.Script | undefined;
  try {
    script = new vm.Script(req.code, { ...SCRIPT_OPTIONS, filename: `${req.name}.js` });
  } catch (err) {
    // V8's parser throws in this thread's realm, not user code.
    error = reasonOf(err);
  }
  if (script !== undefined) {
    const t0 = performance.now();
    try {
      script.runInContext(realm.context, { timeout: limitMs });
      const bound: unknown = new vm.Script(`__bind(${JSON.stringify(req.name)})`, SCRIPT_OPTIONS).runInContext(realm.context, { timeout: limitMs });
      error = typeof bound === 'string' ? bound : 'the function broke its runner';
    } catch (err) {
      error = isTimeout(err, performance.now() - t0, limitMs) ? 'timeout' : 'its code threw while it was loaded';
    }
  }
  const loaded = { realm, error };
  // A realm whose code did not load is not kept: the next call tries again.
  if (error === '') {
    if (realms.size >= MAX_REALMS) realms.delete(realms.keys().next().value as string);
    realms.set(key, loaded);
  }
  return loaded;
}

function call(req: CallRequest): CallReply {
  const loaded = load(req, Math.max(req.timeoutMs, MIN_COMPILE_LIMIT_MS));
  if (loaded.error === 'timeout') return { id: req.id, error: 'timeout', timeout: true };
  if (loaded.error !== '') return { id: req.id, error: loaded.error };
  const { realm } = loaded;
  realm.global.__input = req.args;
  const t0 = performance.now();
  let out: unknown;
  try {
    out = CALL.runInContext(realm.context, { timeout: req.timeoutMs });
  } catch (err) {
    // A script stopped at the limit runs no finally block: its realm is in whatever state it was.
    realms.delete(`${req.name}\u0000${req.code}`);
    if (isTimeout(err, performance.now() - t0, req.timeoutMs)) return { id: req.id, error: 'timeout', timeout: true };
    return { id: req.id, error: 'the function broke its runner' };
  } finally {
    realm.global.__input = '';
  }
  if (typeof out !== 'string') return { id: req.id, error: 'the function broke its runner' };
  if (out.startsWith('!')) return { id: req.id, error: out.length > MAX_REASON_CHARS ? out.slice(1, MAX_REASON_CHARS) + '...' : out.slice(1) };
  if (out.length > MAX_RESULT_CHARS) return { id: req.id, error: `its result is larger than ${MAX_RESULT_CHARS} characters` };
  return { id: req.id, result: out };
}

port.on('message', (req: CallRequest) => {
  started[0] = Date.now();
  let reply: CallReply;
  try {
    reply = call(req);
  } catch (err) {
    reply = { id: req.id, error: reasonOf(err) };
  }
  started[0] = 0;
  port.postMessage(reply);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
});
