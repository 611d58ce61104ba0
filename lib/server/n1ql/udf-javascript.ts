// JavaScript user-defined functions (CREATE FUNCTION f(a) LANGUAGE JAVASCRIPT AS "function f(a)
// {...}"): the code runs in its own node:vm context, one per function definition, under a time
// limit. Only JSON text crosses the boundary (arguments in, the result out), so no object of the
// server is reachable from the function, and the context's global has no prototype to climb.
// Functions kept in external libraries (`AS "obj" AT "lib"`) need the library service, which the
// embedded cluster does not have: calling one reports that the library is missing.
import vm from 'node:vm';
import { QueryError } from './errors';
import type { ExecContext } from './expr';
import { jsonText, parseJson } from './json';
import type { FunctionDefinition } from './udf';
import type { Value } from './value';

/** Milliseconds one call may run (Couchbase's default JavaScript function timeout is far longer; a test cluster wants an answer). */
const CALL_TIMEOUT_MS = 10_000;

const contexts = new Map<string, vm.Context>();
const MAX_CONTEXTS = 256;

function executionError(def: FunctionDefinition, why: string): QueryError {
  return new QueryError(10109, `Error executing function ${def.name} : ${why} - cause: ${why}`);
}

function contextFor(def: FunctionDefinition): vm.Context {
  let ctx = contexts.get(def.text);
  if (ctx) return ctx;
  ctx = vm.createContext(Object.create(null) as object, { codeGeneration: { strings: false, wasm: false } });
  try {
    vm.runInContext(def.text, ctx, { timeout: CALL_TIMEOUT_MS, filename: `${def.name}.js` });
  } catch (err) {
    throw executionError(def, `(javascript) ${(err as Error)?.message ?? String(err)}`);
  }
  if (contexts.size >= MAX_CONTEXTS) contexts.delete(contexts.keys().next().value as string);
  contexts.set(def.text, ctx);
  return ctx;
}

/** A JavaScript function definition as a function of its argument values. */
export function javascriptFunction(def: FunctionDefinition): (args: Value[], ctx: ExecContext) => Value {
  return (args) => {
    if (def.object !== undefined) throw executionError(def, `library ${def.library} not found`);
    const context = contextFor(def);
    context.__in = jsonText(args.map((a) => (a === undefined ? null : a)))!;
    let out: unknown;
    try {
      out = vm.runInContext(
        `(function () { var f = globalThis[${JSON.stringify(def.name)}]; if (typeof f !== 'function') throw new Error('function ${def.name.replace(/[^\w$]/g, '')} is not defined in its code'); var r = f.apply(null, JSON.parse(globalThis.__in)); return r === undefined ? undefined : JSON.stringify(r); })()`,
        context,
        { timeout: CALL_TIMEOUT_MS },
      );
    } catch (err) {
      throw executionError(def, `(javascript) ${(err as Error)?.message ?? String(err)}`);
    }
    return typeof out === 'string' ? parseJson(out) : undefined;
  };
}
