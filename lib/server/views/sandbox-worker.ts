// The thread one design document's map and reduce functions run in. The host starts it with a
// heap limit (resourceLimits), so a function that allocates without end ends this thread only,
// and it runs every batch under node:vm's time limit, so a function that spins is stopped here
// without the host's event loop ever waiting. The functions live in their own realm inside this
// thread (see sandbox-runner.ts); this file is the only code that talks to that realm, and it
// hands it strings, takes strings back, and never reads a property of an object user code made.
import { parentPort } from 'node:worker_threads';
import vm from 'node:vm';
import { createRealm as hardenedRealm, isOwnError, isTimeout, scriptOptions, stripThreadGlobals, type Realm } from '../sandbox/realm';
import { RUNNER_SOURCE } from './sandbox-runner';
import { functionExpression, TIMEOUT_REASON, type InitRequest, type MapRequest, type ReduceRequest, type SandboxReply, type SandboxRequest } from './sandbox-protocol';
import { MAP_OUTPUT_BUDGET_CHARS } from './sandbox-limits';

const port = parentPort;
if (port === null) throw new Error('sandbox-worker.js runs as a worker thread of the views service');
const BufferOf = Buffer;

// A map function that leaves a rejected promise behind must not end the thread (Node's default
// for an unhandled rejection); the rejection is the function's own business.
process.on('unhandledRejection', () => undefined);

stripThreadGlobals();

const SCRIPT_OPTIONS = scriptOptions('design document functions');

const MIN_COMPILE_LIMIT_MS = 1000;

const TIMEOUT = Symbol('timeout');
const BROKEN = Symbol('broken');
type RunResult = string | typeof TIMEOUT | typeof BROKEN;

const RUN_MAPS = new vm.Script('__runMaps()', { ...SCRIPT_OPTIONS, filename: 'deferbase-views-runner.js' });
const RUN_REDUCES = new vm.Script('__runReduces()', { ...SCRIPT_OPTIONS, filename: 'deferbase-views-runner.js' });
const SEAL = new vm.Script('__seal()', { ...SCRIPT_OPTIONS, filename: 'deferbase-views-runner.js' });

let context: vm.Context | undefined;
let sandbox: Realm['global'] | undefined;
let setup: InitRequest | undefined;

/**
 * Runs one runner script. A run stopped at the time limit leaves the realm as it was at that
 * instant (the runner's own state included: a terminated script runs no finally block), so the
 * realm is rebuilt from scratch before the next run.
 */
function run(script: vm.Script, input: string): RunResult {
  sandbox!.__input = input;
  const limit = setup!.timeoutMs;
  const started = performance.now();
  let result: RunResult;
  try {
    const out: unknown = script.runInContext(context!, { timeout: limit });
    result = typeof out === 'string' ? out : BROKEN;
  } catch (err) {
    result = isTimeout(err, performance.now() - started, limit) ? TIMEOUT : BROKEN;
  }
  sandbox!.__input = '';
  if (result === TIMEOUT) createRealm(setup!);
  return result;
}

/** Compiles one function into its slot; returns '' or Couchbase's reason text. */
function compile(kind: 'map' | 'reduce', index: number, source: string, filename: string, timeoutMs: number): string {
  let script: vm.Script;
  try {
    script = new vm.Script(`__register(${JSON.stringify(kind)}, ${index}, (${functionExpression(source)}\n))`, { ...SCRIPT_OPTIONS, filename });
  } catch (err) {
    // Thrown by V8's parser in this thread's realm, not by user code.
    const e = err as Error;
    return `${e.name ?? 'SyntaxError'}: ${e.message}`;
  }
  const started = performance.now();
  try {
    const result: unknown = script.runInContext(context!, { timeout: timeoutMs });
    return result === '' ? '' : 'Invalid function: ' + source;
  } catch (err) {
    return isTimeout(err, performance.now() - started, timeoutMs) ? TIMEOUT_REASON : 'Invalid function: ' + source;
  }
}

/** A fresh realm with the runner and the design document's functions; returns each function's compile error or ''. */
function createRealm(msg: InitRequest): string[] {
  const realm = hardenedRealm(msg.name);
  sandbox = realm.global;
  context = realm.context;
  new vm.Script(RUNNER_SOURCE, { ...SCRIPT_OPTIONS, filename: 'deferbase-views-builtins.js' }).runInContext(context, { timeout: 5000 });
  const errors: string[] = [];
  // Defining a function takes microseconds; the limit is the wall clock, though, so a short one
  // (tests use 100 ms) gets room for a loaded machine here.
  const limit = Math.max(msg.timeoutMs, MIN_COMPILE_LIMIT_MS);
  msg.maps.forEach((src, i) => errors.push(compile('map', i, src, `${msg.name}.map${i}.js`, limit)));
  msg.reduces.forEach((src, i) => errors.push(compile('reduce', i, src, `${msg.name}.reduce${i}.js`, limit)));
  SEAL.runInContext(context, { timeout: 1000 });
  return errors;
}

function init(msg: InitRequest): SandboxReply {
  setup = msg;
  return { id: msg.id, errors: createRealm(msg) };
}

/** A map request's documents as the runner takes them: meta, type and body text, decoded once. */
class Batch {
  private readonly bytes: Buffer;
  private readonly texts: string[];

  constructor(private readonly msg: MapRequest) {
    this.bytes = BufferOf.from(msg.bodies.buffer, msg.bodies.byteOffset, msg.bodies.byteLength);
    this.texts = new Array(msg.metas.length);
    for (let i = 0; i < this.texts.length; i++) this.texts[i] = this.text(i, msg.types[i] === 1);
  }

  get length(): number {
    return this.msg.metas.length;
  }

  isJson(i: number): boolean {
    return this.msg.types[i] === 0;
  }

  private text(i: number, asBase64: boolean): string {
    const start = i === 0 ? 0 : this.msg.ends[i - 1];
    const end = this.msg.ends[i];
    return asBase64 ? '"' + this.bytes.toString('base64', start, end) + '"' : this.bytes.toString('utf8', start, end);
  }

  /** The runner's input for documents [from, to); `asBase64` hands a JSON body over as base64 instead. */
  input(from: number, to: number, asBase64 = false): string {
    let out = '[' + from;
    for (let i = from; i < to; i++) {
      if (asBase64) out += ',' + this.msg.metas[i] + ',1,' + this.text(i, true);
      else out += ',' + this.msg.metas[i] + ',' + this.msg.types[i] + ',' + this.texts[i];
    }
    return out + ']';
  }
}

function failedDoc(index: number, reason: string): string {
  return `,${index},-1,${JSON.stringify(reason)},0`;
}

function map(msg: MapRequest): SandboxReply {
  const batch = new Batch(msg);
  const n = batch.length;
  const whole = run(RUN_MAPS, batch.input(0, n));
  if (typeof whole === 'string' && !whole.startsWith('!')) return { id: msg.id, text: whole, timeouts: 0 };
  // The batch overran the limit or a body did not parse: one document at a time, so the slow
  // document is found, skipped and reported while the others are indexed.
  let out = '';
  let timeouts = 0;
  let processed = 0;
  for (let i = 0; i < n && out.length <= MAP_OUTPUT_BUDGET_CHARS; i++) {
    processed = i + 1;
    let r = run(RUN_MAPS, batch.input(i, i + 1));
    // Flagged JSON that does not parse: Couchbase hands such a body to the map as base64.
    if (typeof r === 'string' && r.startsWith('!') && batch.isJson(i)) r = run(RUN_MAPS, batch.input(i, i + 1, true));
    if (r === TIMEOUT) {
      out += failedDoc(i, TIMEOUT_REASON);
      if (++timeouts >= msg.timeoutsLeft) break;
    } else if (r === BROKEN) {
      out += failedDoc(i, 'the map function broke the view runner');
    } else if (r.startsWith('!')) {
      out += failedDoc(i, r.slice(1));
    } else {
      // r is "[i + 1,<rows of document i>]".
      const comma = r.indexOf(',');
      if (comma >= 0) out += r.slice(comma, -1);
    }
  }
  return { id: msg.id, text: `[${processed}${out}]`, timeouts };
}

function reduce(msg: ReduceRequest): SandboxReply {
  const r = run(RUN_REDUCES, msg.input);
  if (r === TIMEOUT) return { id: msg.id, text: '!' + TIMEOUT_REASON };
  if (r === BROKEN) return { id: msg.id, text: '!the reduce function broke the view runner' };
  return { id: msg.id, text: r };
}

port.on('message', (msg: SandboxRequest) => {
  let reply: SandboxReply;
  try {
    if (msg.t === 'init') reply = init(msg);
    else if (context === undefined) reply = { id: msg.id, fault: 'the sandbox was not initialised' };
    else reply = msg.t === 'map' ? map(msg) : reduce(msg);
  } catch (err) {
    reply = { id: msg.id, fault: isOwnError(err) ? err.message : 'unexpected failure in the sandbox thread' };
  }
  port.postMessage(reply);
});
