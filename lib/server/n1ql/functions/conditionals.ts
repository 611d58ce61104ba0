// Conditional functions for unknowns (MISSING and NULL), comparison functions and DECODE. These
// are not strict: they look at MISSING and NULL themselves.
import { collate, equality, type Value } from '../value';
import { extreme } from './arrays';
import { family, def, INF } from './registry';

family({ floatArgs: false });

const unknown = (v: Value): boolean => v === undefined || v === null;

def('ifmissing,if_missing', 2, INF, (args) => args.find((a) => a !== undefined) ?? null, false);
def('ifmissingornull,if_missing_or_null,coalesce', 2, INF, (args) => args.find((a) => !unknown(a)) ?? null, false);
def('ifnull,if_null', 2, INF, (args) => {
  for (const a of args) if (a !== null) return a;
  return null;
}, false);
// MISSINGIF / NULLIF: an equality that is itself MISSING or NULL (`[1, null]` twice) is the result.
function unlessEqual(then: Value): (args: Value[]) => Value {
  return ([a, b]) => {
    const same = equality(a, b);
    return same === true ? then : same === false ? a : same;
  };
}
def('missingif,missing_if', 2, 2, unlessEqual(undefined), false);
def('nullif,null_if', 2, 2, unlessEqual(null), false);
// NVL(e, r): r when e is MISSING or NULL; NVL2(e, a, b): a when e has a value, else b.
def('nvl', 2, 2, ([e, r]) => (unknown(e) ? r : e), false);
def('nvl2', 3, 3, ([e, a, b]) => (unknown(e) ? b : a), false);
// DECODE(e, s1, r1, ..., [default]): MISSING matches MISSING and NULL matches NULL.
def('decode', 3, INF, (args) => {
  const [e, ...rest] = args;
  for (let i = 0; i + 1 < rest.length; i += 2) {
    const s = rest[i];
    if (e === undefined || s === undefined ? e === s : collate(e, s) === 0) return rest[i + 1];
  }
  return rest.length % 2 === 1 ? rest[rest.length - 1] : null;
}, false);
// GREATEST / LEAST: the extreme of the valued arguments; NULL when none has a value.
def('greatest', 2, INF, (args) => extreme(args, 1), false);
def('least', 2, INF, (args) => extreme(args, -1), false);
