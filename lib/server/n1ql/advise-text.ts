// How the index advisor writes what it recommends (couchbase/query's advise test cases show the
// forms): index keys as CREATE INDEX takes them — paths without the parentheses EXPLAIN adds,
// function names in lower case with a field path argument in parentheses, arithmetic without
// spaces, strings in single quotes, array keys as `DISTINCT ARRAY v.f FOR v in arr END` (ANY) or
// `ALL ARRAY v.f FOR v IN arr END` (UNNEST) — and the words an advised index name is made of
// (`adv_` + the keys' fields, functions, operators and array keywords joined by `_`).
import type * as A from './ast';
import { formatExpr } from './format';

const q = (s: string): string => '`' + s.replace(/`/g, '``') + '`';

/** The document itself as an index key (`self`): what an alias alone stands for. */
export const SELF = '\u0000self';

/** Array keys the advisor builds: ANY gives DISTINCT keys, UNNEST gives ALL keys (distinct: false). */
const isUnnestKey = (e: A.Expr): e is A.Expr & { kind: 'collect' } => e.kind === 'collect' && e.distinct === false;

function path(e: A.Expr): string | undefined {
  if (e.kind === 'ident') return e.name === SELF ? 'self' : q(e.name);
  if (e.kind === 'field') {
    const t = path(e.target);
    return t === undefined ? undefined : `${t}.${q(e.name)}`;
  }
  return undefined;
}

const ARITH: Partial<Record<A.BinaryOp, string>> = { '+': 'add', '-': 'sub', '*': 'mult', '/': 'div', '%': 'mod', '||': 'concat' };

function literal(v: unknown): string {
  if (typeof v === 'string') return `'${v.replace(/'/g, "''")}'`;
  return JSON.stringify(v) ?? 'missing';
}

/** An index key (or a partial index condition) as the advisor writes it. */
export function keyText(e: A.Expr): string {
  const p = path(e);
  if (p !== undefined) return p;
  switch (e.kind) {
    case 'lit':
      return literal(e.value);
    case 'call':
      // A path argument keeps the parentheses the server writes around it: length((`a`.`b`)).
      return `${e.name}(${e.args.map((a) => (a.kind === 'field' ? `(${keyText(a)})` : keyText(a))).join(', ')})`;
    case 'binary':
      return ARITH[e.op] !== undefined ? `${keyText(e.left)}${e.op}${keyText(e.right)}` : `${keyText(e.left)} ${e.op} ${keyText(e.right)}`;
    case 'array':
      return `[${e.items.map(keyText).join(', ')}]`;
    case 'index':
      return `${keyText(e.target)}[${keyText(e.index)}]`;
    case 'slice':
      return `${keyText(e.target)}[${e.from ? keyText(e.from) : ''} : ${e.to ? keyText(e.to) : ''}]`;
    case 'is':
      return `${keyText(e.arg)} IS ${e.not ? 'NOT ' : ''}${e.what.toUpperCase()}`;
    case 'param':
      return '$' + e.name;
    case 'collect': {
      const unnest = isUnnestKey(e);
      const value = e.value.kind === 'collect' ? `(${keyText(e.value)})` : keyText(e.value);
      // UNNEST of the array itself: `ALL arr`.
      if (unnest && e.value.kind === 'ident' && e.bindings.length === 1 && e.value.name === e.bindings[0].name) return `ALL ${keyText(e.bindings[0].expr)}`;
      const bindings = e.bindings.map((b) => `${b.name} ${unnest ? 'IN' : 'in'} ${keyText(b.expr)}`).join(', ');
      return `${unnest ? 'ALL' : 'DISTINCT'} ARRAY ${value} FOR ${bindings} END`;
    }
    default:
      return formatExpr(e);
  }
}

/** The words of an index key that go into an advised index name (`geo_alt`, `lower_name`, `c11_add_c12`). */
export function nameWords(e: A.Expr, bound: Set<string> = new Set(), nested = false): string[] {
  switch (e.kind) {
    case 'ident':
      return bound.has(e.name) ? [] : [e.name === SELF ? 'self' : e.name];
    case 'field':
      return [...nameWords(e.target, bound), e.name];
    case 'lit':
      return typeof e.value === 'number' ? [String(e.value)] : [];
    case 'call':
      return [e.name, ...e.args.flatMap((a) => nameWords(a, bound))];
    case 'binary': {
      const op = ARITH[e.op];
      // Comparisons name their operands; a literal compared with is no part of the name.
      if (op === undefined) return [e.left, e.right].filter((x) => x.kind !== 'lit').flatMap((x) => nameWords(x, bound));
      return [...nameWords(e.left, bound), op, ...nameWords(e.right, bound)];
    }
    case 'array':
      return e.items.filter((x) => x.kind !== 'lit').flatMap((x) => nameWords(x, bound));
    case 'index':
    case 'slice': {
      const ends = e.kind === 'index' ? [e.index] : [e.from, e.to].filter((x): x is A.Expr => x !== undefined);
      const tail = ends.map((x) => (x.kind === 'lit' ? String(x.value) : nameWords(x, bound).join(''))).join('');
      const head = nameWords(e.target, bound);
      return head.length ? [...head.slice(0, -1), head[head.length - 1] + tail] : [tail];
    }
    case 'is':
      return nameWords(e.arg, bound);
    case 'and':
    case 'or':
      return e.args.flatMap((x) => nameWords(x, bound));
    case 'not':
    case 'neg':
      return nameWords(e.arg, bound);
    case 'between':
      return nameWords(e.arg, bound);
    case 'like':
    case 'in':
      return nameWords(e.arg, bound);
    case 'quant':
    case 'collect': {
      const inner = new Set([...bound, ...e.bindings.map((b) => b.name)]);
      const src = e.bindings.flatMap((b) => nameWords(b.expr, bound));
      // An UNNEST key names its variable when the value is more than the variable's path: reverse(d.Number) -> reverse_d_Number.
      const path = (x: A.Expr): boolean => x.kind === 'ident' || (x.kind === 'field' && path(x.target));
      const valueBound = e.kind === 'collect' && e.distinct === false && !path(e.value) && e.value.kind !== 'collect' ? bound : inner;
      const body = e.kind === 'quant' ? nameWords(e.satisfies, inner, true) : nameWords(e.value, valueBound, true);
      // The array keyword opens the name of an outermost array key only.
      return e.kind === 'collect' && e.distinct !== undefined && !nested ? [e.distinct ? 'DISTINCT' : 'ALL', ...src, ...body] : [...src, ...body];
    }
    default:
      return [];
  }
}

/** The longest name the advisor writes in full; a longer one ends in a checksum of the whole. */
const NAME_LIMIT = 64;

/** `adv_` and the words, shortened as the server shortens long names. */
export function indexName(words: string[]): string {
  const name = `adv_${words.join('_')}`;
  if (name.length <= NAME_LIMIT) return name;
  return name.slice(0, NAME_LIMIT) + String(crc32(name));
}

let table: Uint32Array | undefined;
function crc32(s: string): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of Buffer.from(s)) c = table[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
