// The JavaScript sandbox of one design document: its map and reduce functions compiled once in
// their own node:vm context, with Couchbase's helpers (emit, sum, dateToArray, decodeBase64,
// isArray, toJSON, log) and nothing of the process.
//
// Only strings cross the boundary. The host writes a batch as one JSON text into `__input`, one
// script run maps the whole batch inside the context and returns one JSON text, which the host
// parses with its own JSON. So no host object is ever reachable from user code (the sandbox
// global has a null prototype, which closes the `this.constructor.constructor` escape) and no
// context object is ever touched by the host outside the time limit.
//
// Time limit: a batch runs under one per-document limit. A healthy batch takes milliseconds; if a
// batch overruns, it is re-run one document at a time, each under the same limit, so the slow
// document is found, skipped and reported while the others are indexed.
import vm from 'node:vm';
import { ViewFunctionError } from './errors';

/** What a map function sees of one document. */
export interface MapInput {
  readonly id: string;
  /** The document as JSON text, or undefined for a binary document (then `base64` is set). */
  readonly json: string | undefined;
  readonly base64: string | undefined;
  readonly rev: string;
  readonly seq: number;
  readonly vb: number;
  readonly expiration: number;
  readonly flags: number;
}

/** Rows one document produced: `rows[viewIndex]` is a flat [key, value, key, value, ...] list. */
export type MapOutput = { readonly ok: true; readonly rows: unknown[][] } | { readonly ok: false; readonly view: number; readonly reason: string };

export interface SandboxOptions {
  /** Milliseconds one document may spend in the map functions (and one reduce call in a reduce). */
  timeoutMs?: number;
  /** Name used in stack traces. */
  name?: string;
}

export const DEFAULT_FUNCTION_TIMEOUT_MS = 5000;

/** Largest batch text handed to the sandbox at once (characters of document bodies). */
const MAX_BATCH_CHARS = 32 * 1024 * 1024;

// The helpers follow Couchbase's builtin.js in behaviour; written here from its documented contract.
const BOOTSTRAP = String.raw`
(function (g) {
  'use strict';
  var parse = JSON.parse, stringify = JSON.stringify, isArr = Array.isArray;
  var out = null;
  var maps = [], reduces = [];

  function enc(v) {
    var s = stringify(v);
    return s === undefined ? 'null' : s;
  }
  function describe(e) {
    try {
      if (e !== null && typeof e === 'object' && typeof e.name === 'string' && typeof e.message === 'string') {
        return e.name + ': ' + e.message;
      }
      return String(e);
    } catch (x) {
      return 'unprintable exception';
    }
  }
  function def(name, value) {
    Object.defineProperty(g, name, { value: value, writable: false, enumerable: false, configurable: false });
  }

  // Rows go straight into the batch output, prefixed with 'docIndex,viewIndex,'.
  var prefix = '';
  def('emit', function emit(key, value) {
    if (out === null) throw new Error('emit() may only be called from a map function');
    out.push(prefix + enc(key) + ',' + enc(value));
  });
  g.sum = function sum(values) {
    var total = 0;
    for (var i = 0; i < values.length; i++) total += values[i];
    return total;
  };
  g.isArray = function isArray(v) { return isArr(v); };
  g.toJSON = function toJSON(v) { return enc(v); };
  g.log = function log() {};
  g.dateToArray = function dateToArray(date) {
    var d = date instanceof Date ? date : new Date(date);
    var t = d.valueOf();
    if (!isFinite(t)) return null;
    return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
  };
  var B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  g.decodeBase64 = function decodeBase64(b64) {
    if (typeof b64 !== 'string') throw 'Input is not a string';
    if (b64.length % 4 !== 0) throw 'Invalid base64 source.';
    var bytes = [], bits = 0, acc = 0;
    for (var i = 0; i < b64.length; i++) {
      var c = b64.charAt(i);
      if (c === '=') break;
      var v = B64.indexOf(c);
      if (v < 0) throw 'Invalid base64 source.';
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        bytes.push((acc >> bits) & 0xff);
      }
    }
    return bytes;
  };

  def('__register', function (kind, fn) {
    if (typeof fn !== 'function') return 'not a function';
    (kind === 'map' ? maps : reduces).push(fn);
    return '';
  });

  // __input: [[id, rev, seq, vb, expiration, flags, type], doc, ...]
  // result: JSON [docIndex, viewIndex, key, value, ...]; a failed document is
  // [docIndex, -1, reason, viewIndex] and none of its rows are kept.
  def('__runMaps', function () {
    try {
      var input = parse(g.__input);
      var parts = [];
      out = parts;
      for (var i = 0, d = 0; i < input.length; i += 2, d++) {
        var m = input[i];
        var meta = { id: m[0], rev: m[1], seq: m[2], vb: m[3], expiration: m[4], flags: m[5], type: m[6] };
        var doc = input[i + 1];
        var mark = parts.length;
        for (var f = 0; f < maps.length; f++) {
          prefix = d + ',' + f + ',';
          try {
            maps[f](doc, meta);
          } catch (e) {
            // A failing document keeps none of its rows.
            parts.length = mark;
            parts.push(d + ',-1,' + enc(describe(e)) + ',' + f);
            break;
          }
        }
      }
      out = null;
      return '[' + parts.join(',') + ']';
    } catch (e) {
      out = null;
      return '!' + describe(e);
    }
  });

  // __input: [reduceIndex, [[keys or null, values, rereduce], ...]]; result: JSON list of reductions.
  def('__runReduces', function () {
    try {
      var input = parse(g.__input);
      var fn = reduces[input[0]];
      var jobs = input[1];
      var res = [];
      for (var j = 0; j < jobs.length; j++) {
        var job = jobs[j];
        res.push(enc(fn(job[0], job[1], job[2])));
      }
      return '[' + res.join(',') + ']';
    } catch (e) {
      return '!' + describe(e);
    }
  });
})(this);
`;

const RUN_MAPS = new vm.Script('__runMaps()', { filename: 'deferbase-views-runner.js' });
const RUN_REDUCES = new vm.Script('__runReduces()', { filename: 'deferbase-views-runner.js' });

function isTimeout(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
}

/** Compiles a function's source the way Couchbase's engine checks it; returns the error text or ''. */
function compileInto(context: vm.Context, kind: 'map' | 'reduce', source: string, filename: string, timeoutMs: number): string {
  let script: vm.Script;
  try {
    // A trailing ';' is common in hand-written ddocs and harmless to Couchbase; it would break the wrapper.
    const body = source.replace(/[\s;]+$/, '');
    script = new vm.Script(`__register(${JSON.stringify(kind)}, (${body}\n))`, { filename });
  } catch (err) {
    const e = err as Error;
    return `${e.name ?? 'SyntaxError'}: ${e.message}`;
  }
  let result: unknown;
  try {
    result = script.runInContext(context, { timeout: timeoutMs });
  } catch (err) {
    if (isTimeout(err)) return 'timeout';
    return 'Invalid function: ' + source;
  }
  if (result !== '') return 'Invalid function: ' + source;
  return '';
}

/** Checks that `source` compiles to a function; returns Couchbase's reason text, or '' when fine. */
export function checkFunctionSource(kind: 'map' | 'reduce', source: string): string {
  const context = newContext();
  return compileInto(context, kind, source, `check.${kind}.js`, 1000);
}

function newContext(): vm.Context {
  const sandbox = Object.create(null) as Record<string, unknown>;
  // Declared from the host as non-configurable, so user code cannot turn it into an accessor.
  Object.defineProperty(sandbox, '__input', { value: '', writable: true, enumerable: false, configurable: false });
  const context = vm.createContext(sandbox, {
    name: 'deferbase views',
    microtaskMode: 'afterEvaluate',
    codeGeneration: { strings: true, wasm: false },
  });
  new vm.Script(BOOTSTRAP, { filename: 'deferbase-views-builtins.js' }).runInContext(context, { timeout: 1000 });
  return context;
}

function metaTuple(doc: MapInput): string {
  return `[${JSON.stringify(doc.id)},${JSON.stringify(doc.rev)},${doc.seq},${doc.vb},${doc.expiration},${doc.flags},${doc.json === undefined ? '"base64"' : '"json"'}]`;
}

export class ViewSandbox {
  private readonly context: vm.Context;
  private readonly sandbox: Record<string, unknown>;
  readonly timeoutMs: number;
  readonly mapCount: number;
  private readonly reduceIndex = new Map<string, number>();

  /**
   * Compiles `maps` (in view order) and the JS `reduces` (source -> index); throws
   * ViewFunctionError with Couchbase's text when one does not compile.
   */
  constructor(maps: readonly string[], reduces: readonly string[], options: SandboxOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_FUNCTION_TIMEOUT_MS;
    this.context = newContext();
    this.sandbox = this.context as Record<string, unknown>;
    const name = options.name ?? 'design';
    maps.forEach((src, i) => {
      const err = compileInto(this.context, 'map', src, `${name}.map${i}.js`, this.timeoutMs);
      if (err) throw new ViewFunctionError(err);
    });
    this.mapCount = maps.length;
    for (const src of reduces) {
      if (this.reduceIndex.has(src)) continue;
      const err = compileInto(this.context, 'reduce', src, `${name}.reduce${this.reduceIndex.size}.js`, this.timeoutMs);
      if (err) throw new ViewFunctionError(err);
      this.reduceIndex.set(src, this.reduceIndex.size);
    }
  }

  /** Runs every map function over `docs`; one MapOutput per document, in order. */
  map(docs: readonly MapInput[]): MapOutput[] {
    // Keep each batch text well under V8's string limit, whatever the document sizes.
    let size = 0;
    for (let i = 0; i < docs.length; i++) {
      size += (docs[i].json ?? docs[i].base64 ?? '').length;
      if (size > MAX_BATCH_CHARS && i > 0) return [...this.mapBatch(docs.slice(0, i)), ...this.map(docs.slice(i))];
    }
    return this.mapBatch(docs);
  }

  private mapBatch(docs: readonly MapInput[]): MapOutput[] {
    if (docs.length === 0) return [];
    const text = this.runBatch(docs, false);
    if (text !== undefined) {
      const parsed = this.decodeMapResult(text, docs.length);
      if (parsed) return parsed;
    }
    // The batch overran the limit or its input did not parse: one document at a time.
    return docs.map((doc) => this.mapOne(doc));
  }

  private mapOne(doc: MapInput): MapOutput {
    let text = this.runBatch([doc], false);
    if (text === undefined) return { ok: false, view: 0, reason: 'timeout' };
    if (text.startsWith('!') && doc.json !== undefined) {
      // Flagged JSON that does not parse: Couchbase hands such a body to the map as base64.
      text = this.runBatch([doc], true);
      if (text === undefined) return { ok: false, view: 0, reason: 'timeout' };
    }
    const parsed = this.decodeMapResult(text, 1);
    if (parsed) return parsed[0];
    return { ok: false, view: 0, reason: text.startsWith('!') ? text.slice(1) : 'invalid map output' };
  }

  /** Returns the runner's text, or undefined on timeout. */
  private runBatch(docs: readonly MapInput[], forceBase64: boolean): string | undefined {
    const parts: string[] = new Array(docs.length * 2);
    for (let i = 0; i < docs.length; i++) {
      const d = docs[i];
      if (forceBase64 || d.json === undefined) {
        const b64 = d.base64 ?? Buffer.from(d.json ?? '', 'utf8').toString('base64');
        parts[2 * i] = metaTuple({ ...d, json: undefined });
        parts[2 * i + 1] = `"${b64}"`;
      } else {
        parts[2 * i] = metaTuple(d);
        parts[2 * i + 1] = d.json;
      }
    }
    this.sandbox.__input = '[' + parts.join(',') + ']';
    try {
      const out = RUN_MAPS.runInContext(this.context, { timeout: this.timeoutMs });
      return typeof out === 'string' ? out : '!invalid map output';
    } catch (err) {
      if (isTimeout(err)) return undefined;
      return '!' + String((err as Error)?.message ?? err);
    } finally {
      this.sandbox.__input = '';
    }
  }

  private decodeMapResult(text: string, n: number): MapOutput[] | undefined {
    if (text.startsWith('!')) return undefined;
    let flat: unknown[];
    try {
      flat = JSON.parse(text) as unknown[];
    } catch {
      return undefined;
    }
    const res: Array<{ ok: true; rows: unknown[][] } | MapOutput> = new Array(n);
    for (let i = 0; i < n; i++) res[i] = { ok: true, rows: emptyRows(this.mapCount) };
    for (let i = 0; i < flat.length; i += 4) {
      const d = flat[i] as number;
      const v = flat[i + 1] as number;
      if (v < 0) {
        res[d] = { ok: false, view: flat[i + 3] as number, reason: String(flat[i + 2]) };
        continue;
      }
      const slot = res[d];
      if (slot.ok) {
        const list = slot.rows[v];
        list.push(flat[i + 2], flat[i + 3]);
      }
    }
    return res;
  }

  /**
   * Runs the JS reduce `source` over `jobs` ([keys | null, values, rereduce] each) in one vm call;
   * throws ViewFunctionError with the exception text (or 'timeout').
   */
  reduce(source: string, jobs: ReadonlyArray<readonly [unknown[] | null, unknown[], boolean]>): unknown[] {
    const idx = this.reduceIndex.get(source);
    if (idx === undefined) throw new ViewFunctionError(`reduce function not compiled: ${source.slice(0, 40)}`);
    this.sandbox.__input = JSON.stringify([idx, jobs]);
    let out: unknown;
    try {
      out = RUN_REDUCES.runInContext(this.context, { timeout: this.timeoutMs });
    } catch (err) {
      if (isTimeout(err)) throw new ViewFunctionError('timeout');
      throw new ViewFunctionError(String((err as Error)?.message ?? err));
    } finally {
      this.sandbox.__input = '';
    }
    if (typeof out !== 'string') throw new ViewFunctionError('invalid reduce output');
    if (out.startsWith('!')) throw new ViewFunctionError(out.slice(1));
    return JSON.parse(out) as unknown[];
  }
}

function emptyRows(n: number): unknown[][] {
  const rows: unknown[][] = new Array(n);
  for (let i = 0; i < n; i++) rows[i] = [];
  return rows;
}
