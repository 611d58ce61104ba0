// TOKENS and the CONTAINS_TOKEN family: the distinct atomic values of a JSON value, strings split
// into words. Options: `names` (default true: object field names are tokens too), `case`
// ("lower" / "upper") and `specials` (also keep whitespace-separated words with their inner
// punctuation, such as e-mail addresses and URLs, less trailing punctuation).
import { compileLike } from '../like';
import { compileRegexp } from '../regexp';
import { equals, isObject, valueKey, type Value } from '../value';
import { family, def, isStr } from './registry';

family({ floatArgs: true });

interface TokenOptions {
  names: boolean;
  lower: boolean;
  upper: boolean;
  specials: boolean;
}

function options(o: Value): TokenOptions | undefined {
  if (o === undefined) return { names: true, lower: false, upper: false, specials: false };
  if (!isObject(o)) return undefined;
  const c = isStr(o.case) ? o.case.toLowerCase() : '';
  return { names: o.names !== false && o.name !== false, lower: c === 'lower', upper: c === 'upper', specials: o.specials === true };
}

export function tokens(v: Value, opt: TokenOptions): Value[] {
  const out = new Map<string, Value>();
  const add = (x: Value): void => {
    const k = valueKey(x);
    if (!out.has(k)) out.set(k, x);
  };
  const word = (w: string): void => {
    if (w) add(opt.lower ? w.toLowerCase() : opt.upper ? w.toUpperCase() : w);
  };
  const walk = (x: Value): void => {
    if (x === undefined) return;
    if (isStr(x)) {
      for (const w of x.split(/[^\p{L}\p{N}]+/u)) word(w);
      if (opt.specials) for (const w of x.split(/\s+/u)) word(w.replace(/[^\p{L}\p{N}]+$/u, ''));
    } else if (Array.isArray(x)) x.forEach(walk);
    else if (isObject(x)) {
      for (const k of Object.keys(x)) {
        if (opt.names) word(k);
        walk(x[k]);
      }
    } else add(x);
  };
  walk(v);
  return [...out.values()];
}

def('tokens', 1, 2, ([v, o]) => {
  if (v === undefined) return undefined;
  const opt = options(o);
  return opt ? tokens(v, opt) : null;
}, false);

function containsToken(test: (token: Value, wanted: Value) => boolean): (args: Value[]) => Value {
  return ([v, t, o]) => {
    const opt = options(o);
    if (!opt) return null;
    return tokens(v, opt).some((x) => test(x, t));
  };
}
def('contains_token,has_token', 2, 3, containsToken((x, t) => equals(x, t)));
def('contains_token_like', 2, 3, (args) => {
  if (!isStr(args[1])) return null;
  const m = compileLike(args[1]);
  return containsToken((x) => isStr(x) && m.test(x))(args);
});
def('contains_token_regexp,contains_token_regex', 2, 3, (args) => {
  if (!isStr(args[1])) return null;
  const re = compileRegexp(args[1]);
  return containsToken((x) => isStr(x) && re.matchesAll(x))(args);
});
