// Search queries compiled into tests on one document: the query types of the Search service's
// JSON query language, recognised by their keys as the service recognises them, each a closure
// over a DocView. A query that the service would refuse throws SearchError here, once, before
// any document is read.
import { RE2JS, RE2JSException } from 're2js';
import { analyzerNamed, DEFAULT_ANALYZER } from './analysis';
import { ALL_FIELDS, type DocView } from './document';
import { SearchError } from './errors';
import { indexMapping } from './mapping';
import { queryStringToQuery } from './query-string';
import { distance, geoPoint, MAX_FUZZINESS, parseDate, parseDistance, phraseIn, termTest, type GeoPoint } from './terms';

export type Matcher = (doc: DocView) => boolean;

type Json = Record<string, unknown>;

/** A compiled query; conjunction and disjunction queries keep their clauses for a boolean query. */
interface Node {
  test: Matcher;
  kind?: 'conjunction' | 'disjunction';
  clauses?: Matcher[];
  min?: number;
}

interface Defaults {
  /** The analyzer of every field (the documents' and a query's text unless it names one). */
  analyzer: string;
}

const NONE: Node = { test: () => false };
const ALL: Node = { test: () => true };

// ---- reading a query object's properties --------------------------------------------------

function str(o: Json, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new SearchError(`${what} query: "${key}" must be a string`);
  return v;
}

function optional<T>(o: Json, key: string, type: 'string' | 'number' | 'boolean', what: string): T | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== type) throw new SearchError(`${what} query: "${key}" must be a ${type}`);
  return v as T;
}

function fieldOf(o: Json, what: string): string {
  return optional<string>(o, 'field', 'string', what) || ALL_FIELDS;
}

/** `fuzziness`: 0 to 2, or "auto" (by the term's length, as the service chooses). */
function fuzzinessOf(o: Json, what: string): (term: string) => number {
  const v = o.fuzziness;
  if (v === undefined || v === null) return () => 0;
  if (v === 'auto') return (t) => (Array.from(t).length <= 2 ? 0 : Array.from(t).length <= 5 ? 1 : 2);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new SearchError(`${what} query: "fuzziness" must be a non-negative integer or "auto"`);
  if (v > MAX_FUZZINESS) throw new SearchError(`fuzziness exceeds max (${MAX_FUZZINESS})`);
  return () => v;
}

function prefixLengthOf(o: Json, what: string): number {
  const v = optional<number>(o, 'prefix_length', 'number', what) ?? 0;
  if (!Number.isInteger(v) || v < 0) throw new SearchError(`${what} query: "prefix_length" must be a non-negative integer`);
  return v;
}

function analyzerOf(o: Json, d: Defaults, what: string): string {
  const name = optional<string>(o, 'analyzer', 'string', what) || d.analyzer;
  analyzerNamed(name); // an unknown analyzer fails here, before any document
  return name;
}

/** Whether any token of `field` (analyzed by `analyzer`) passes `test`. */
function anyToken(field: string, analyzer: string, test: (t: string) => boolean): Matcher {
  return (doc) => doc.tokens(field, analyzer).some((ts) => ts.some((t) => test(t.term)));
}

/**
 * Whether `field` (analyzed by `analyzer`) has `term`, or a term within `fuzziness` edits of it.
 * `many`: one of many terms the query looks for, looked up in the field's term set (built once
 * per document) rather than each scanning its tokens.
 */
function hasTerm(field: string, analyzer: string, term: string, fuzziness: number, prefix: number, many = false): Matcher {
  if (fuzziness > 0 || !many) return anyToken(field, analyzer, termTest(term, fuzziness, prefix));
  return (doc) => doc.terms(field, analyzer).has(term);
}

/** From this many terms on, a match query looks its terms up in a set. */
const MANY_TERMS = 4;

function regexpTest(pattern: string): (t: string) => boolean {
  try {
    // The whole term must match, as the service runs a regexp over its term dictionary.
    const re = RE2JS.compile(pattern);
    return (t) => re.matches(t);
  } catch (err) {
    if (err instanceof RE2JSException) throw new SearchError(err.message);
    throw err;
  }
}

function wildcardPattern(w: string): string {
  let out = '';
  for (const c of w) out += c === '*' ? '.*' : c === '?' ? '.' : /[\\^$.|+()[\]{}]/.test(c) ? '\\' + c : c;
  return out;
}

// ---- the query types ----------------------------------------------------------------------

function match(o: Json, d: Defaults): Node {
  const field = fieldOf(o, 'match');
  const analyzer = analyzerOf(o, d, 'match');
  const operator = o.operator ?? 'or';
  if (operator !== 'or' && operator !== 'and') throw new SearchError(`cannot unmarshal match operator '${String(operator)}' from JSON`);
  const fuzziness = fuzzinessOf(o, 'match');
  const prefix = prefixLengthOf(o, 'match');
  const tokens = analyzerNamed(analyzer)(str(o, 'match', 'match'));
  if (!tokens.length) return NONE;
  // The documents' text is analyzed as the field is: `_all` by the default analyzer.
  const docAnalyzer = field === ALL_FIELDS ? d.analyzer : analyzer;
  const tests = tokens.map((t) => hasTerm(field, docAnalyzer, t.term, fuzziness(t.term), prefix, tokens.length >= MANY_TERMS));
  if (tests.length === 1) return { test: tests[0] };
  return operator === 'and' ? { test: (doc) => tests.every((t) => t(doc)) } : { test: (doc) => tests.some((t) => t(doc)) };
}

/** A phrase over slots (term tests, or undefined for any term) on `field`'s values, each value on its own. */
function phraseNode(field: string, analyzer: string, slots: (((t: string) => boolean) | undefined)[]): Node {
  if (!slots.some(Boolean)) return NONE;
  return { test: (doc) => doc.tokens(field, analyzer).some((ts) => phraseIn(ts, slots)) };
}

function matchPhrase(o: Json, d: Defaults): Node {
  const field = fieldOf(o, 'match_phrase');
  const analyzer = analyzerOf(o, d, 'match_phrase');
  const fuzziness = fuzzinessOf(o, 'match_phrase');
  const tokens = analyzerNamed(analyzer)(str(o, 'match_phrase', 'match_phrase'));
  if (!tokens.length) return NONE;
  const first = tokens[0].pos;
  const slots: (((t: string) => boolean) | undefined)[] = new Array(tokens[tokens.length - 1].pos - first + 1).fill(undefined);
  for (const t of tokens) {
    const test = termTest(t.term, fuzziness(t.term), 0);
    const prev = slots[t.pos - first];
    slots[t.pos - first] = prev ? (x) => prev(x) || test(x) : test;
  }
  return phraseNode(field, field === ALL_FIELDS ? d.analyzer : analyzer, slots);
}

/** `terms`: a phrase of exact terms, or (an array of arrays) of alternatives at each position. */
function phrase(o: Json, d: Defaults): Node {
  const terms = o.terms;
  if (!Array.isArray(terms) || !terms.length) throw new SearchError('phrase query must contain at least one term');
  const slots = terms.map((t) => {
    const alts = Array.isArray(t) ? t : [t];
    if (!alts.every((a) => typeof a === 'string')) throw new SearchError('phrase query: "terms" must hold strings');
    const set = new Set(alts as string[]);
    return set.has('') ? undefined : (x: string) => set.has(x);
  });
  return phraseNode(fieldOf(o, 'phrase'), d.analyzer, slots);
}

function term(o: Json, d: Defaults): Node {
  return { test: hasTerm(fieldOf(o, 'term'), d.analyzer, str(o, 'term', 'term'), 0, 0) };
}

function fuzzy(o: Json, d: Defaults): Node {
  const t = str(o, 'term', 'fuzzy');
  const fuzziness = fuzzinessOf(o, 'fuzzy')(t);
  return { test: hasTerm(fieldOf(o, 'fuzzy'), d.analyzer, t, fuzziness, prefixLengthOf(o, 'fuzzy')) };
}

function prefix(o: Json, d: Defaults): Node {
  const p = str(o, 'prefix', 'prefix');
  return { test: anyToken(fieldOf(o, 'prefix'), d.analyzer, (x) => x.startsWith(p)) };
}

function regexp(o: Json, d: Defaults): Node {
  return { test: anyToken(fieldOf(o, 'regexp'), d.analyzer, regexpTest(str(o, 'regexp', 'regexp'))) };
}

function wildcard(o: Json, d: Defaults): Node {
  return { test: anyToken(fieldOf(o, 'wildcard'), d.analyzer, regexpTest(wildcardPattern(str(o, 'wildcard', 'wildcard')))) };
}

/** A range test: `min`/`max` (either may be absent), inclusive at the bottom unless told, exclusive at the top. */
function within<T extends number | string>(min: T | undefined, max: T | undefined, incMin: boolean, incMax: boolean): (v: T) => boolean {
  return (v) => (min === undefined || (incMin ? v >= min : v > min)) && (max === undefined || (incMax ? v <= max : v < max));
}

function numericRange(o: Json): Node {
  const min = optional<number>(o, 'min', 'number', 'numeric range');
  const max = optional<number>(o, 'max', 'number', 'numeric range');
  if (min === undefined && max === undefined) throw new SearchError('numeric range query must specify min or max');
  const test = within(min, max, optional<boolean>(o, 'inclusive_min', 'boolean', 'numeric range') ?? true, optional<boolean>(o, 'inclusive_max', 'boolean', 'numeric range') ?? false);
  const field = fieldOf(o, 'numeric range');
  return {
    test: (doc) => doc.values(field).some((v) => (typeof v === 'number' || typeof v === 'bigint') && test(Number(v))),
  };
}

function termRange(o: Json, d: Defaults): Node {
  const min = optional<string>(o, 'min', 'string', 'term range');
  const max = optional<string>(o, 'max', 'string', 'term range');
  const test = within(min, max, optional<boolean>(o, 'inclusive_min', 'boolean', 'term range') ?? true, optional<boolean>(o, 'inclusive_max', 'boolean', 'term range') ?? false);
  return { test: anyToken(fieldOf(o, 'term range'), d.analyzer, test) };
}

function dateRange(o: Json): Node {
  const parser = optional<string>(o, 'datetime_parser', 'string', 'date range');
  if (parser !== undefined && parser !== 'dateTimeOptional') throw new SearchError(`no datetime parser named '${parser}' registered`);
  const bound = (key: string): number | undefined => {
    const s = optional<string>(o, key, 'string', 'date range');
    if (s === undefined) return undefined;
    const ms = parseDate(s);
    if (ms === undefined) throw new SearchError(`unable to parse datetime with any of the layouts, date: ${s}`);
    return ms;
  };
  const start = bound('start');
  const end = bound('end');
  if (start === undefined && end === undefined) throw new SearchError('date range query must specify at least one of start/end');
  const test = within(start, end, optional<boolean>(o, 'inclusive_start', 'boolean', 'date range') ?? true, optional<boolean>(o, 'inclusive_end', 'boolean', 'date range') ?? false);
  const field = fieldOf(o, 'date range');
  return {
    test: (doc) =>
      doc.values(field).some((v) => {
        const ms = typeof v === 'string' ? parseDate(v) : undefined;
        return ms !== undefined && test(ms);
      }),
  };
}

function clauseList(o: Json, key: string, what: string, d: Defaults): Matcher[] {
  const list = o[key];
  if (!Array.isArray(list)) throw new SearchError(`${what} query: "${key}" must be an array of queries`);
  return list.map((q) => compileNode(q, d).test);
}

function conjunction(o: Json, d: Defaults): Node {
  const clauses = clauseList(o, 'conjuncts', 'conjunction', d);
  return { kind: 'conjunction', clauses, test: clauses.length ? (doc) => clauses.every((c) => c(doc)) : NONE.test };
}

function disjunction(o: Json, d: Defaults): Node {
  const clauses = clauseList(o, 'disjuncts', 'disjunction', d);
  const min = optional<number>(o, 'min', 'number', 'disjunction') ?? 0;
  if (min > clauses.length) throw new SearchError('disjunction query has fewer than the minimum number of clauses to satisfy');
  // A document is a candidate once one clause matches; `min` may ask for more.
  const need = Math.max(min, 1);
  return {
    kind: 'disjunction',
    clauses,
    min,
    test: (doc) => {
      let n = 0;
      for (const c of clauses) if (c(doc) && ++n >= need) return true;
      return false;
    },
  };
}

/**
 * must (a conjunction) and must_not (a disjunction) filter; should (a disjunction) filters when
 * its `min` says so, or when there is no must clause (then one should clause must match).
 */
function boolean(o: Json, d: Defaults): Node {
  const part = (key: string, kind: Node['kind'], name: string): Node | undefined => {
    if (o[key] === undefined || o[key] === null) return undefined;
    const n = compileNode(o[key], d);
    if (n.kind !== kind) throw new SearchError(`${name} clause must be ${kind}`);
    return n;
  };
  const must = part('must', 'conjunction', 'must');
  const should = part('should', 'disjunction', 'should');
  const mustNot = part('must_not', 'disjunction', 'must not');
  if (!must && !should && !mustNot) return NONE;
  const shouldCounts = should && (should.min! > 0 || !must) && should.clauses!.length > 0;
  return {
    test: (doc) => {
      if (must && !must.test(doc)) return false;
      if (mustNot && mustNot.clauses!.some((c) => c(doc))) return false;
      if (should && !must && should.clauses!.length === 0) return false;
      return !shouldCounts || should!.test(doc);
    },
  };
}

function queryString(o: Json, d: Defaults): Node {
  return compileNode(queryStringToQuery(str(o, 'query', 'query string'), ALL_FIELDS), d);
}

function docId(o: Json): Node {
  const ids = o.ids;
  if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string')) throw new SearchError('docid query: "ids" must be an array of strings');
  const set = new Set(ids as string[]);
  return { test: (doc) => doc.id !== undefined && set.has(doc.id) };
}

function boolField(o: Json): Node {
  const want = optional<boolean>(o, 'bool', 'boolean', 'boolean field');
  const field = fieldOf(o, 'boolean field');
  return { test: (doc) => doc.values(field).some((v) => v === want) };
}

function point(o: Json, key: string, what: string): GeoPoint {
  const p = geoPoint(o[key]);
  if (!p) throw new SearchError(`${what} query: "${key}" must be a geo point`);
  return p;
}

function geoDistance(o: Json): Node {
  const center = point(o, 'location', 'geo distance');
  const meters = parseDistance(str(o, 'distance', 'geo distance'));
  const field = fieldOf(o, 'geo distance');
  return { test: (doc) => doc.values(field).some((v) => { const p = geoPoint(v); return p !== undefined && distance(center, p) <= meters; }) };
}

function geoBoundingBox(o: Json): Node {
  const tl = point(o, 'top_left', 'geo bounding box');
  const br = point(o, 'bottom_right', 'geo bounding box');
  const field = fieldOf(o, 'geo bounding box');
  // A box may cross the antimeridian (its left edge east of its right).
  const inLon = (lon: number): boolean => (tl.lon <= br.lon ? lon >= tl.lon && lon <= br.lon : lon >= tl.lon || lon <= br.lon);
  return { test: (doc) => doc.values(field).some((v) => { const p = geoPoint(v); return p !== undefined && p.lat <= tl.lat && p.lat >= br.lat && inLon(p.lon); }) };
}

function geoPolygon(o: Json): Node {
  const pts = o.polygon_points;
  if (!Array.isArray(pts) || pts.length < 3) throw new SearchError('geo polygon query: "polygon_points" must hold at least 3 points');
  const poly = pts.map((p) => {
    const g = geoPoint(p);
    if (!g) throw new SearchError('geo polygon query: "polygon_points" must hold geo points');
    return g;
  });
  const field = fieldOf(o, 'geo polygon');
  // Ray casting on the lon/lat plane: a point is inside when a ray from it crosses the edges an odd number of times.
  const inside = (p: GeoPoint): boolean => {
    let odd = false;
    for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      const [a, b] = [poly[i], poly[j]];
      if (a.lat > p.lat !== b.lat > p.lat && p.lon < ((b.lon - a.lon) * (p.lat - a.lat)) / (b.lat - a.lat) + a.lon) odd = !odd;
    }
    return odd;
  };
  return { test: (doc) => doc.values(field).some((v) => { const p = geoPoint(v); return p !== undefined && inside(p); }) };
}

/** The query types, tried in the order the Search service tries them (so `term` with `fuzziness` is fuzzy). */
const TYPES: [(o: Json) => boolean, (o: Json, d: Defaults) => Node][] = [
  [(o) => 'fuzziness' in o && !('match' in o) && !('match_phrase' in o), fuzzy],
  [(o) => 'term' in o, term],
  [(o) => 'match' in o, match],
  [(o) => 'match_phrase' in o, matchPhrase],
  [(o) => 'must' in o || 'should' in o || 'must_not' in o, boolean],
  [(o) => 'terms' in o, phrase],
  [(o) => 'conjuncts' in o, conjunction],
  [(o) => 'disjuncts' in o, disjunction],
  [(o) => 'query' in o, queryString],
  [(o) => typeof o.min === 'number' || typeof o.max === 'number', numericRange],
  [(o) => typeof o.min === 'string' || typeof o.max === 'string', termRange],
  [(o) => 'start' in o || 'end' in o, dateRange],
  [(o) => 'prefix' in o, prefix],
  [(o) => 'regexp' in o, regexp],
  [(o) => 'wildcard' in o, wildcard],
  [(o) => 'match_all' in o, () => ALL],
  [(o) => 'match_none' in o, () => NONE],
  [(o) => 'ids' in o, docId],
  [(o) => 'bool' in o, boolField],
  [(o) => 'location' in o && 'distance' in o, geoDistance],
  [(o) => 'top_left' in o && 'bottom_right' in o, geoBoundingBox],
  [(o) => 'polygon_points' in o, geoPolygon],
];

function compileNode(q: unknown, d: Defaults): Node {
  if (typeof q !== 'object' || q === null || Array.isArray(q)) throw new SearchError('a query must be an object');
  const o = q as Json;
  for (const [is, build] of TYPES) if (is(o)) return build(o, d);
  throw new SearchError('unknown query type');
}

export interface SearchOptions {
  /** The field a query string's unqualified terms search (SEARCH()'s path); default `_all`. */
  defaultField?: string;
  /** An index mapping object (SEARCH()'s `index` option): the documents it indexes and their analyzer. */
  mapping?: unknown;
}

/**
 * Compiles what SEARCH() takes as its query: a query string, a query object, or a whole search
 * request (`{"query": {...}, "size": ..., "sort": ...}`, of which one document's verdict needs
 * only the query).
 */
export function compileSearch(query: unknown, opts: SearchOptions = {}): Matcher {
  const mapping = opts.mapping === undefined ? undefined : indexMapping(opts.mapping);
  const test = compileQuery(query, opts.defaultField || ALL_FIELDS, { analyzer: mapping?.analyzer ?? DEFAULT_ANALYZER });
  return mapping ? (doc) => mapping.indexes(doc.doc) && test(doc) : test;
}

function compileQuery(query: unknown, defaultField: string, d: Defaults): Matcher {
  if (typeof query === 'string') return compileNode(queryStringToQuery(query, defaultField), d).test;
  if (typeof query === 'object' && query !== null && !Array.isArray(query)) {
    const inner = (query as Json).query;
    if (typeof inner === 'object' && inner !== null && !Array.isArray(inner)) return compileNode(inner, d).test;
  }
  return compileNode(query, d).test;
}
