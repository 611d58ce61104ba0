// Object functions. Results are built in field-name order, as Couchbase writes objects. OBJECT_PATHS,
// OBJECT_PAIRS_NESTED and OBJECT_FILTER walk nested fields and share the pattern options
// (pattern, regex, patternspace, exact, ignorecase) of the Object Functions reference.
import { compileRegexp } from '../regexp';
import { equals, getField, isObject, sortedObject, typeName, type ObjectValue, type Value } from '../value';
import { family, def, INF, isArr, isStr, type FunctionDef } from './registry';

family({ floatArgs: false });

const sortedKeys = (o: ObjectValue): string[] => Object.keys(o).filter((k) => o[k] !== undefined).sort();

/** MISSING object -> MISSING, non-object -> NULL, bad options -> NULL; `f` sees the object and options. */
function obj(f: (o: ObjectValue, rest: Value[]) => Value, optionsAt = -1): FunctionDef['fn'] {
  return (args) => {
    if (args[0] === undefined) return undefined;
    if (!isObject(args[0])) return null;
    if (optionsAt > 0 && args[optionsAt] !== undefined && !isObject(args[optionsAt])) return null;
    return f(args[0], args.slice(1));
  };
}

def('object_length', 1, 1, obj((o) => sortedKeys(o).length));
def('object_names', 1, 1, obj((o) => sortedKeys(o)));
def('object_values,object_outer_values,object_outervalues', 1, 1, obj((o) => sortedKeys(o).map((k) => o[k])));
def('object_pairs,object_outer_pairs,object_outerpairs', 1, 2, obj((o, [opt]) => {
  const types = isObject(opt) && opt.types === true;
  return sortedKeys(o).map((k) => (types ? { name: k, type: typeName(o[k]) } : { name: k, val: o[k] }));
}, 1), false);

/** The "inner" view of a collated field (from `arr[*]`): NULLs dropped, a single survivor unwrapped. */
function inner(v: Value): Value {
  if (!isArr(v)) return v;
  const kept = v.filter((x) => x !== null && x !== undefined);
  return kept.length === 1 ? kept[0] : kept;
}
def('object_inner_pairs,object_innerpairs', 1, 1, obj((o) => sortedKeys(o).map((k) => ({ name: k, val: inner(o[k]) }))));
def('object_inner_values,object_innervalues', 1, 1, obj((o) => sortedKeys(o).map((k) => inner(o[k]))));

def('object_add', 3, 3, ([o, k, v]) => {
  if (o === undefined || k === undefined) return undefined;
  if (!isObject(o) || !isStr(k)) return null;
  if (getField(o, k) !== undefined || v === undefined) return o;
  return sortedObject([...Object.entries(o), [k, v]]);
}, false);
def('object_put', 3, 3, ([o, k, v]) => {
  if (o === undefined || k === undefined) return undefined;
  if (!isObject(o) || !isStr(k)) return null;
  return sortedObject([...Object.entries(o).filter(([n]) => n !== k), [k, v]]);
}, false);
def('object_remove', 2, INF, obj((o, names) => {
  const drop = new Set(names.flatMap((n) => (isArr(n) ? n : [n])).filter(isStr));
  return sortedObject(Object.entries(o).filter(([n]) => !drop.has(n)));
}));
def('object_rename', 3, 3, obj((o, [from, to]) => (isStr(from) && isStr(to) ? sortedObject(Object.entries(o).map(([n, v]) => [n === from ? to : n, v])) : null)));
def('object_replace', 3, 3, ([o, from, to]) => {
  if (o === undefined || from === undefined) return undefined;
  if (!isObject(o)) return null;
  return sortedObject(Object.entries(o).map(([n, v]) => [n, from !== null && v !== null && equals(v, from) ? to : v]));
}, false);
def('object_unwrap', 1, 1, obj((o) => {
  const keys = sortedKeys(o);
  return keys.length === 1 ? o[keys[0]] : null;
}));
def('object_concat', 2, INF, (args) => (args.every(isObject) ? sortedObject((args as ObjectValue[]).flatMap((o) => Object.entries(o))) : null));
def('object_field', 2, 2, ([o, k]) => (isObject(o) && isStr(k) ? getField(o, k) : null));

// ---- nested paths ----

interface PathEntry {
  path: string;
  field: string;
  value: Value;
  /** An object, or an array holding objects or arrays: a node with fields below it. */
  composite: boolean;
}

const PLAIN = /^[\p{L}_][\p{L}\p{N}_-]*$/u;
const quoteName = (n: string): string => (PLAIN.test(n) ? n : '`' + n.replace(/`/g, '``') + '`');

/**
 * Every field below `v`: object fields always; array elements only when `elements` (their
 * subscripts as [i], or [*] without `subscripts`).
 */
function walk(v: Value, prefix: string, elements: boolean, subscripts: boolean, out: PathEntry[]): void {
  if (isObject(v)) {
    for (const k of sortedKeys(v)) {
      const path = prefix ? `${prefix}.${quoteName(k)}` : quoteName(k);
      const x = v[k];
      out.push({ path, field: k, value: x, composite: isObject(x) || (isArr(x) && x.some((e) => isObject(e) || isArr(e))) });
      walk(x, path, elements, subscripts, out);
    }
  } else if (isArr(v)) {
    v.forEach((x, i) => {
      const path = `${prefix}[${subscripts ? i : '*'}]`;
      if (elements) out.push({ path, field: prefix, value: x, composite: isObject(x) || isArr(x) });
      walk(x, path, elements, subscripts, out);
    });
  }
}

/** The options' pattern as a predicate on an entry (undefined: every entry), or null when malformed. */
function patternFilter(opt: ObjectValue, regexDefault: boolean): ((e: PathEntry) => boolean) | undefined | null {
  const p = opt.pattern;
  if (p === undefined) return undefined;
  if (!isStr(p)) return null;
  const regex = opt.regex === undefined ? regexDefault : opt.regex === true;
  let src = regex ? p : p.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
  if (opt.exact === true) src = `^(?:${src})$`;
  if (opt.ignorecase === true) src = '(?i)' + src;
  const re = compileRegexp(src);
  const onField = opt.patternspace === 'field';
  return (e) => re.contains(onField ? e.field : e.path);
}

def('object_paths', 1, 2, obj((o, [o2]) => {
  const opt = (o2 ?? {}) as ObjectValue;
  const entries: PathEntry[] = [];
  walk(o, '', false, opt.arraysubscript !== false, entries);
  const match = patternFilter(opt, true);
  if (match === null) return null;
  const composites = opt.composites !== false;
  const paths = entries.filter((e) => (composites || !e.composite) && (!match || match(e))).map((e) => e.path);
  return opt.unique === false ? paths : [...new Set(paths)];
}, 1), false);

def('object_pairs_nested', 1, 2, obj((o, [o2]) => {
  const opt = (o2 ?? {}) as ObjectValue;
  const entries: PathEntry[] = [];
  walk(o, '', true, true, entries);
  const match = patternFilter(opt, true);
  if (match === null) return null;
  const composites = opt.composites === true;
  const types = opt.types === true;
  const byField = opt.report === 'field';
  return entries
    // With composites, objects and arrays reached by a field are listed too, but not the
    // elements of an array (c.a[0]): only the fields inside them (c.a[0].b).
    .filter((e) => (isObject(e.value) || isArr(e.value) ? composites && !e.path.endsWith(']') : true) && (!match || match(e)))
    .map((e) => {
      const name = byField ? e.field : e.path;
      return types ? { name, type: typeName(e.value) } : { name, val: e.value };
    });
}, 1), false);

// OBJECT_FILTER: the object with only the fields whose path (or name) matches the pattern.
def('object_filter', 2, 2, obj((o, [o2]) => {
  const opt: ObjectValue = isStr(o2) ? { pattern: o2 } : (o2 as ObjectValue);
  const match = patternFilter(opt, true);
  if (match === null) return null;
  const keep = (v: ObjectValue, prefix: string): ObjectValue | undefined => {
    const out: [string, Value][] = [];
    for (const k of sortedKeys(v)) {
      const path = prefix ? `${prefix}.${quoteName(k)}` : quoteName(k);
      const x = v[k];
      if (!match || match({ path, field: k, value: x, composite: isObject(x) })) out.push([k, x]);
      else if (isObject(x)) {
        const sub = keep(x, path);
        if (sub) out.push([k, sub]);
      }
    }
    return out.length ? sortedObject(out) : undefined;
  };
  return keep(o, '') ?? {};
}, 1), false);

// PAIRS(obj): [name, value] for every field at any depth, and [name, element] for each element
// of an array value; an array explores its elements; anything else is NULL (Miscellaneous
// Utility Functions).
def('pairs', 1, 1, ([v]) => {
  if (v === undefined) return undefined;
  if (!isObject(v) && !isArr(v)) return null;
  const out: Value[] = [];
  const visit = (x: Value): void => {
    if (isObject(x)) {
      for (const k of sortedKeys(x)) {
        const val = x[k];
        out.push([k, val]);
        if (isArr(val)) for (const e of val) out.push([k, e]);
        visit(val);
      }
    } else if (isArr(x)) x.forEach(visit);
  };
  visit(v);
  return out;
}, false);
