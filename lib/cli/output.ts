// JSON output: results carry bigints (CAS, seqnos) and Buffers that JSON.stringify rejects or
// mangles; these helpers turn them into plain JSON values first. Indentation follows cbq (4).

export interface Writable {
  write(text: string): unknown;
}

/** A JSON-safe copy: bigint -> decimal string, Buffer -> {base64}, Map -> object, Error -> fields. */
export function toJsonValue(v: unknown, seen = new Set<object>()): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v === null || typeof v !== 'object') return typeof v === 'function' || typeof v === 'symbol' ? undefined : v;
  if (seen.has(v)) return '[circular]';
  seen.add(v);
  try {
    if (Buffer.isBuffer(v)) return { base64: v.toString('base64') };
    if (v instanceof Map) return Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), toJsonValue(x, seen)]));
    if (Array.isArray(v)) return v.map((x) => toJsonValue(x, seen) ?? null);
    if (v instanceof Error) return errorJson(v);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const j = toJsonValue(x, seen);
      if (j !== undefined) out[k] = j;
    }
    return out;
  } finally {
    seen.delete(v);
  }
}

/** `indent` null: one line. */
export function stringifyJson(v: unknown, indent: number | null = 4): string {
  return JSON.stringify(toJsonValue(v), null, indent ?? undefined);
}

export function printJson(out: Writable, v: unknown, indent: number | null = 4): void {
  out.write(stringifyJson(v, indent) + '\n');
}

/** What an error looks like in JSON output: its class name, code(s) and message. */
export function errorJson(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const e = err as Error & Record<string, unknown>;
  const out: Record<string, unknown> = { name: e.name };
  for (const k of ['rc', 'code', 'status', 'httpStatus', 'key', 'context', 'ref', 'error', 'reason']) {
    if (e[k] !== undefined && e[k] !== '' && !(k === 'code' && e[k] === 0) && !(k === 'httpStatus' && e[k] === 0)) out[k] = toJsonValue(e[k]);
  }
  out.message = e.message;
  return out;
}

/** One line for people: `NotFoundError (rc 13): the document does not exist...`. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as Error & { rc?: number; code?: unknown };
  const codes: string[] = [];
  if (typeof e.code === 'number' && e.code !== 0) codes.push(`code ${e.code}`);
  else if (typeof e.code === 'string') codes.push(e.code);
  if (typeof e.rc === 'number') codes.push(`rc ${e.rc}`);
  return `${e.name}${codes.length ? ` (${codes.join(', ')})` : ''}: ${e.message}`;
}
