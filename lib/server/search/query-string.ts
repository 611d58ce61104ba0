// The Search service's query string syntax, turned into the query objects it stands for:
//   +term (must)  -term (must not)  term (should)  field:term  "a phrase"  /regexp/
//   wild*card?  term~ / term~2 (fuzzy)  term^3 (boost)  field:>5  field:<="2024-01-01"
// A plain term is a match query (analyzed); a number is also a numeric equality; a term with
// `*` or `?` is a wildcard query; a backslash escapes the next character.
import { SearchError } from './errors';

type Json = Record<string, unknown>;

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The query object (a boolean query, or match none for an empty string) of `text`. */
export function queryStringToQuery(text: string, defaultField: string): Json {
  const must: Json[] = [];
  const should: Json[] = [];
  const mustNot: Json[] = [];
  const s = text;
  let i = 0;
  const fail = (why: string): never => {
    throw new SearchError(`parse error: ${why} in query string '${text}'`);
  };
  const isSpace = (c: string | undefined): boolean => c !== undefined && /\s/.test(c);

  /** A term up to whitespace or one of `stops`: its text (escapes applied) and whether it holds a wildcard. */
  const readTerm = (stops: string): { text: string; wild: boolean } => {
    let out = '';
    let wild = false;
    while (i < s.length && !isSpace(s[i]) && !stops.includes(s[i])) {
      let c = s[i++];
      if (c === '\\') {
        if (i >= s.length) fail('dangling escape');
        c = s[i++];
      } else if (c === '*' || c === '?') wild = true;
      out += c;
    }
    return { text: out, wild };
  };
  const readDelimited = (close: string): string => {
    let out = '';
    i++;
    while (i < s.length && s[i] !== close) {
      if (s[i] === '\\' && i + 1 < s.length) {
        out += close === '/' && s[i + 1] !== '/' ? '\\' + s[i + 1] : s[i + 1];
        i += 2;
      } else out += s[i++];
    }
    if (i >= s.length) fail(`unterminated ${close === '"' ? 'phrase' : 'regexp'}`);
    i++;
    return out;
  };
  /** `~N` and `^N` after a clause: the fuzziness (undefined without `~`). */
  const readSuffixes = (): number | undefined => {
    let fuzziness: number | undefined;
    for (;;) {
      if (s[i] === '~') {
        i++;
        const m = /^\d+/.exec(s.slice(i));
        fuzziness = m ? Number(m[0]) : 1;
        i += m ? m[0].length : 0;
      } else if (s[i] === '^') {
        i++;
        const m = /^\d*\.?\d+/.exec(s.slice(i));
        if (!m) fail('boost without a number');
        i += m![0].length;
      } else return fuzziness;
    }
  };

  while (i < s.length) {
    if (isSpace(s[i])) {
      i++;
      continue;
    }
    let list = should;
    if (s[i] === '+' || s[i] === '-') {
      list = s[i] === '+' ? must : mustNot;
      i++;
    }
    let field = defaultField;
    const start = i;
    const name = readTerm(':^~"/<>');
    if (s[i] === ':' && name.text && !name.wild) {
      field = name.text;
      i++;
    } else i = start;

    let q: Json;
    const c: string | undefined = s[i];
    if (c === '"') {
      q = { match_phrase: readDelimited('"'), field };
      readSuffixes();
    } else if (c === '/') {
      q = { regexp: readDelimited('/'), field };
      readSuffixes();
    } else if (c === '>' || c === '<') {
      i++;
      const inclusive = s[i] === '=';
      if (inclusive) i++;
      const bound = c === '>' ? ['min', 'inclusive_min'] : ['max', 'inclusive_max'];
      if (s[i] === '"') {
        const date = readDelimited('"');
        q = { [c === '>' ? 'start' : 'end']: date, [c === '>' ? 'inclusive_start' : 'inclusive_end']: inclusive, field };
      } else {
        const n = readTerm('^~');
        if (!NUMBER.test(n.text)) fail(`'${c}' needs a number or a quoted date`);
        q = { [bound[0]]: Number(n.text), [bound[1]]: inclusive, field };
      }
      readSuffixes();
    } else {
      const term = readTerm('^~');
      if (!term.text) fail(`unexpected '${s[i] ?? 'end of input'}'`);
      const fuzziness = readSuffixes();
      if (term.wild) q = { wildcard: term.text, field };
      else {
        const match: Json = { match: term.text, field };
        if (fuzziness !== undefined) match.fuzziness = fuzziness;
        q = NUMBER.test(term.text) && fuzziness === undefined
          ? { disjuncts: [match, { min: Number(term.text), max: Number(term.text), inclusive_min: true, inclusive_max: true, field }] }
          : match;
      }
    }
    list.push(q);
  }
  if (!must.length && !should.length && !mustNot.length) return { match_none: {} };
  const parts: [string, Json][] = [];
  if (must.length) parts.push(['must', { conjuncts: must }]);
  if (should.length) parts.push(['should', { disjuncts: should, min: 0 }]);
  if (mustNot.length) parts.push(['must_not', { disjuncts: mustNot }]);
  return Object.fromEntries(parts);
}
