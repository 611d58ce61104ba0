// The host's reading of what a sandbox thread sends back. The texts are parsed with the host's
// own JSON.parse (so every key and value is plain data of the host realm) and checked before
// anything is used: nesting depth (collation and JSON encoding recurse on the host), every
// document and view index in range and in order, every reason a string. A text that fails a
// check means the sandbox misbehaved; the caller stops the design document.
import { ViewFunctionError } from './errors';
import { MAX_EMIT_DEPTH } from './sandbox-limits';

/**
 * Rows one document produced: `rows[viewIndex]` is a flat [key, value, key, value, ...] list. A
 * failed document names the view whose map failed; `limit` is set when what it emitted broke
 * one of Couchbase's limits (key size, bytes or rows per document, nesting).
 */
export type MapOutput =
  | { readonly ok: true; readonly rows: unknown[][] }
  | { readonly ok: false; readonly view: number; readonly reason: string; readonly limit: boolean };

export class InvalidSandboxOutput extends Error {
  constructor(what: string) {
    super(`the sandbox returned invalid output (${what})`);
    this.name = 'InvalidSandboxOutput';
  }
}

/** Whether a JSON text nests deeper than `max` arrays/objects. */
export function nestsDeeperThan(text: string, max: number): boolean {
  if (text.length <= 2 * max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

function parseChecked(text: string, extraDepth: number): unknown {
  if (nestsDeeperThan(text, MAX_EMIT_DEPTH + extraDepth)) throw new InvalidSandboxOutput('nested too deeply');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InvalidSandboxOutput('not JSON');
  }
}

const isIndex = (v: unknown, end: number): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) < end;

/**
 * Decodes a map reply for a batch of `docs` documents and `mapCount` views. Returns one output
 * per document the batch got through (it may stop early when its output is large).
 */
export function decodeMapOutput(text: string, docs: number, mapCount: number): MapOutput[] {
  const flat = parseChecked(text, 1);
  if (!Array.isArray(flat) || flat.length % 4 !== 1) throw new InvalidSandboxOutput('not a row list');
  const processed = flat[0] as unknown;
  if (!Number.isInteger(processed) || (processed as number) < 1 || (processed as number) > docs) throw new InvalidSandboxOutput('document count');
  const out: MapOutput[] = new Array(processed as number);
  for (let d = 0; d < out.length; d++) out[d] = { ok: true, rows: emptyRows(mapCount) };
  let last = 0;
  for (let i = 1; i < flat.length; i += 4) {
    const d = flat[i] as unknown;
    const v = flat[i + 1] as unknown;
    if (!isIndex(d, out.length) || d < last) throw new InvalidSandboxOutput('document index');
    last = d;
    if (v === -1 || v === -2) {
      const reason = flat[i + 2] as unknown;
      const view = flat[i + 3] as unknown;
      if (typeof reason !== 'string' || !isIndex(view, Math.max(1, mapCount))) throw new InvalidSandboxOutput('error entry');
      if (!out[d].ok) throw new InvalidSandboxOutput('two error entries');
      out[d] = { ok: false, view, reason, limit: v === -2 };
      continue;
    }
    if (!isIndex(v, mapCount)) throw new InvalidSandboxOutput('view index');
    const slot = out[d];
    // Rows after a document's error entry cannot happen; a document that failed keeps none.
    if (!slot.ok) throw new InvalidSandboxOutput('rows after an error');
    slot.rows[v].push(flat[i + 2], flat[i + 3]);
  }
  return out;
}

/** Decodes a reduce reply: one reduction per job. Throws ViewFunctionError(reason) for `!reason`. */
export function decodeReduceOutput(text: string, jobs: number): unknown[] {
  if (text.startsWith('!')) throw new ViewFunctionError(text.slice(1));
  const list = parseChecked(text, 1);
  if (!Array.isArray(list) || list.length !== jobs) throw new InvalidSandboxOutput('reduction count');
  return list;
}

function emptyRows(n: number): unknown[][] {
  const rows: unknown[][] = new Array(n);
  for (let i = 0; i < n; i++) rows[i] = [];
  return rows;
}
