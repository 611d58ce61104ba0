// The realm untrusted JavaScript runs in (view map/reduce functions, N1QL JavaScript functions),
// inside a sandbox thread (see ./thread.ts). Everything here runs in that thread: the context is
// created without the globals that could run code outside a time limit or hold memory outside the
// thread's heap limit, with string compilation off, import() refused and Error locked down; and
// the thread's own globals that would matter should code ever get out of the realm are removed.
//
// User code shares the realm with whatever runner a service puts there, and can replace any
// global or prototype method: a runner captures the built-ins it needs before user code runs and
// hands back strings only. The thread never reads a property of an object user code made.
import vm from 'node:vm';
import { types } from 'node:util';

/**
 * Globals of a fresh V8 realm that user code must not have: weak references and finalizers run
 * code later (outside the limit), Atomics.wait blocks the thread, and array buffers, typed arrays,
 * WebAssembly memory and Intl's ICU objects live outside the V8 heap the memory limit caps (a loop
 * of `new Intl.DateTimeFormat()` grew a 32 MB sandbox past 300 MB). `eval` is removed and string
 * compilation is disabled for the context as well.
 */
export const REMOVED_GLOBALS = [
  'FinalizationRegistry',
  'WeakRef',
  'SharedArrayBuffer',
  'Atomics',
  'WebAssembly',
  'ArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  'Intl',
  'console',
  'eval',
] as const;

/** Runs first in every realm, before any runner or user code. */
const HARDENING_SOURCE = String.raw`
(function (g) {
  'use strict';
  var removed = ${JSON.stringify(REMOVED_GLOBALS)};
  for (var r = 0; r < removed.length; r++) delete g[removed[r]];
  var defineProperty = Object.defineProperty, Err = Error;
  function def(obj, name, value) {
    defineProperty(obj, name, { value: value, writable: false, enumerable: false, configurable: false });
  }
  // Node formats stack traces through the realm's Error.prepareStackTrace when one is set; its
  // call sites could reach functions of the host's frames, so it stays undefined.
  def(Err, 'prepareStackTrace', undefined);
  def(g, 'Error', Err);
  // When the time limit stops a script, Node builds its timeout error in this realm and assigns
  // its 'code' with an ordinary [[Set]]: a setter planted for 'code' on Error.prototype (or on
  // a prototype put under it) would run there, and one that throws aborts the whole process.
  // A writable data property that cannot be removed, on a prototype whose chain cannot change,
  // makes that assignment plain.
  defineProperty(Err.prototype, 'code', { value: undefined, writable: true, enumerable: false, configurable: false });
  Object.preventExtensions(Err.prototype);
})(this);
`;

/**
 * Script options for everything compiled for a realm. import() in user code would reject with an
 * error object of this thread's realm (whose constructor chain reaches this realm's Function);
 * refusing it here with a primitive keeps every object of this realm out of the sandbox. (Node
 * needs --experimental-vm-modules for the hook; ./thread.ts starts the thread with it.) `what`
 * names the functions in the refusal: "import() is not available in <what>".
 */
export function scriptOptions(what: string): vm.ScriptOptions {
  const refusal = `import() is not available in ${what}`;
  return {
    importModuleDynamically: (): never => {
      throw refusal;
    },
  } as unknown as vm.ScriptOptions;
}

const HARDENING = new vm.Script(HARDENING_SOURCE, { ...scriptOptions('the sandbox'), filename: 'deferbase-sandbox-hardening.js' });

export interface Realm {
  readonly context: vm.Context;
  /** The realm's global object as this thread sees it; `__input` is the one way in for data. */
  readonly global: Record<string, unknown> & { __input: string };
}

/**
 * A fresh hardened realm. Its global has `__input`, a string property user code cannot turn into
 * an accessor, through which a runner takes its input. Promise jobs run inside the time limit of
 * the script that queued them (microtaskMode), not after it.
 */
export function createRealm(name: string): Realm {
  const global = Object.create(null) as Realm['global'];
  Object.defineProperty(global, '__input', { value: '', writable: true, enumerable: false, configurable: false });
  const context = vm.createContext(global, {
    name,
    microtaskMode: 'afterEvaluate',
    codeGeneration: { strings: false, wasm: false },
  });
  HARDENING.runInContext(context, { timeout: 5000 });
  return { context, global };
}

/** Should code ever get out of the sandbox realm into the thread's own, it finds no process, no Buffer and no network there. */
export function stripThreadGlobals(): void {
  for (const name of ['process', 'Buffer', 'fetch', 'WebSocket', 'BroadcastChannel', 'MessageChannel', 'MessagePort', 'crypto']) {
    try {
      delete (globalThis as Record<string, unknown>)[name];
    } catch {
      // A global that cannot be removed stays; the realm boundary is the real wall.
    }
  }
}

/**
 * An error of this thread's realm. A value thrown by user code belongs to the sandbox realm and
 * is never inspected: the walk up its prototypes stops at the first proxy, whose traps would run
 * user code here, outside the time limit.
 */
export function isOwnError(err: unknown): err is Error {
  let o: unknown = err;
  for (let depth = 0; depth < 64 && (typeof o === 'object' || typeof o === 'function') && o !== null; depth++) {
    if (types.isProxy(o)) return false;
    if (o === Error.prototype) return true;
    o = Object.getPrototypeOf(o);
  }
  return false;
}

/**
 * node:vm's timeout error. Node builds it in the sandbox realm, so it is recognised without
 * running anything of that realm: an own data property read from a non-proxy object, and the
 * time spent (a function cannot pass off its own exception as a timeout).
 */
export function isTimeout(err: unknown, elapsedMs: number, limitMs: number): boolean {
  if (elapsedMs + 1 < limitMs || typeof err !== 'object' || err === null || types.isProxy(err)) return false;
  const code = Object.getOwnPropertyDescriptor(err, 'code');
  return code !== undefined && 'value' in code && code.value === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
}
