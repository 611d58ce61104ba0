// The search-query evaluator (lib/server/search): the Search service's query types, query string
// syntax and analyzers, each on one document, as SEARCH() runs them when no Search index serves it.
// Expected values follow the Search service's query reference (query types, query string syntax,
// analyzers) and bleve's documented behaviour.
import { expect } from 'chai';
import { analyzerNamed, compileSearch, DocView, SearchError, type SearchOptions } from '../../lib/server/search/index';
import { stemEnglish } from '../../lib/server/search/stemmer';
import { fuzzyMatch } from '../../lib/server/search/terms';
import { segmenterTokens, unicodeTokens } from '../../lib/server/search/analysis';

const hotel = {
  type: 'hotel',
  name: 'Marina del Rey Marriott',
  country: 'United States',
  city: 'Marina del Rey',
  description: '370 guest rooms offering both water and mountain view.',
  reviews: [
    { author: 'Ozella Sipes', content: 'This was our 2nd trip here and we enjoyed it more than the first. The bathrobes were great.', ratings: { Overall: 4, Cleanliness: 5 } },
    { author: 'Barton Marks', content: 'Very nice staff, but the rooms were not cleaned daily.', ratings: { Overall: 2, Cleanliness: 1 } },
  ],
  free_breakfast: true,
  price: 150,
  tags: ['pool', 'Sea View'],
  geo: { lat: 33.98, lon: -118.45 },
  updated: '2021-05-01T10:00:00Z',
};
const view = (): DocView => new DocView(hotel, 'hotel_17598');
const search = (q: unknown, opts?: SearchOptions, doc?: object): boolean => compileSearch(q, opts)(doc ? new DocView(doc, 'k') : view());
const refused = (q: unknown): string => {
  try {
    compileSearch(q);
  } catch (err) {
    expect(err).to.be.instanceOf(SearchError);
    return (err as Error).message;
  }
  throw new Error(`${JSON.stringify(q)} was accepted`);
};

describe('search queries: analyzers', () => {
  const terms = (name: string, text: string): string[] => analyzerNamed(name)(text).map((t) => t.term);

  it('standard: Unicode words, lower case, English stop words dropped (positions keep the gap)', () => {
    expect(terms('standard', "The Hotel's 2nd-floor café, can't miss it!")).to.deep.equal(["hotel's", '2nd', 'floor', 'café', 'miss']);
    expect(analyzerNamed('standard')('over the hill').map((t) => t.pos)).to.deep.equal([3]);
    expect(terms('standard', 'e.g. 3.5 stars')).to.deep.equal(['e.g', '3.5', 'stars']);
    // Han and Hiragana: a word per character; Katakana and Hangul runs stay whole.
    expect(terms('standard', '東京都に カタカナ 한국어')).to.deep.equal(['東', '京', '都', 'に', 'カタカナ', '한국어']);
  });

  it('ASCII text is split without Intl.Segmenter, at the same boundaries', () => {
    const alphabet = "aZk09_.:',; -@\n";
    let seed = 7;
    const next = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let k = 0; k < 20000; k++) {
      let s = '';
      for (let i = 1 + Math.floor(next() * 10); i > 0; i--) s += alphabet[Math.floor(next() * alphabet.length)];
      expect(unicodeTokens(s).map((t) => t.term), JSON.stringify(s)).to.deep.equal(segmenterTokens(s));
    }
    expect(unicodeTokens("U.S.A. 1,000.50 a:1 it's __ a_b").map((t) => t.term)).to.deep.equal(['U.S.A', '1,000.50', 'a', '1', "it's", 'a_b']);
  });

  it('simple: runs of letters, lower case, no stop words', () => {
    expect(terms('simple', 'The 2nd-Floor Café')).to.deep.equal(['the', 'nd', 'floor', 'café']);
  });

  it('web: e-mail addresses, URLs, @handles and #hashtags stay whole; the rest as standard', () => {
    expect(terms('web', 'Mail Jim@Example.com or see http://www.yha.org.uk/hostels?x=1, @yha_uk #travel and the www.foo.com site.')).to.deep.equal([
      'mail', 'jim@example.com', 'see', 'http://www.yha.org.uk/hostels?x=1', '@yha_uk', '#travel', 'www.foo.com', 'site',
    ]);
    expect(search({ match: 'jim@example.com', field: 'contact', analyzer: 'web' }, {}, { contact: 'write to JIM@example.com' })).to.equal(true);
    expect(search({ match: 'jim@example.com', field: 'contact' }, {}, { contact: 'write to JIM@example.com' })).to.equal(true); // standard: jim, example.com
    expect(search({ match_phrase: 'jim example.com', field: 'contact', analyzer: 'web' }, {}, { contact: 'write to JIM@example.com' })).to.equal(false);
  });

  it('keyword: the whole text as one term', () => {
    expect(terms('keyword', 'United States')).to.deep.equal(['United States']);
  });

  it('en: possessives removed and words stemmed (Snowball English)', () => {
    expect(terms('en', "The hotel's running generously")).to.deep.equal(['hotel', 'run', 'generous']);
    const stems = ['caresses', 'cries', 'happily', 'relational', 'hopeful', 'agreed', 'mountains', 'skies', 'knightly'].map(stemEnglish);
    expect(stems).to.deep.equal(['caress', 'cri', 'happili', 'relat', 'hope', 'agre', 'mountain', 'sky', 'knight']);
  });

  it('an unknown analyzer is refused', () => {
    expect(refused({ match: 'x', analyzer: 'klingon' })).to.equal("no analyzer with name or type 'klingon' registered");
  });
});

describe('search queries: query types', () => {
  it('match: analyzed like the field, any term (or every term with operator "and"), fuzziness and prefix_length', () => {
    expect(search({ match: 'bathrobes', field: 'reviews.content', analyzer: 'standard' })).to.equal(true);
    expect(search({ match: 'BATHROBES slippers', field: 'reviews.content' })).to.equal(true);
    expect(search({ match: 'bathrobes slippers', field: 'reviews.content', operator: 'and' })).to.equal(false);
    expect(search({ match: 'bathrobe', field: 'reviews.content' })).to.equal(false);
    expect(search({ match: 'bathrobe', field: 'reviews.content', analyzer: 'en' })).to.equal(true);
    expect(search({ match: 'bathrobe', field: 'reviews.content', fuzziness: 1 })).to.equal(true);
    expect(search({ match: 'xathrobes', field: 'reviews.content', fuzziness: 1, prefix_length: 1 })).to.equal(false);
    expect(search({ match: 'the of', field: 'reviews.content' })).to.equal(false); // only stop words: matches nothing
    expect(search({ match: 'marriott' })).to.equal(true); // no field: _all
    expect(search({ match: 'marriott', field: 'country' })).to.equal(false);
    // Many terms: looked up in the field's term set.
    expect(search({ match: 'lake desert forest bathrobes', field: 'reviews.content' })).to.equal(true);
    expect(search({ match: 'lake desert forest bathrobes', field: 'reviews.content', operator: 'and' })).to.equal(false);
    expect(search({ match: 'daily trip staff bathrobes', field: 'reviews.content', operator: 'and' })).to.equal(true);
  });

  it('match_phrase and phrase: terms at consecutive positions within one value', () => {
    expect(search({ match_phrase: 'bathrobes were great', field: 'reviews.content' })).to.equal(true);
    expect(search({ match_phrase: 'great bathrobes', field: 'reviews.content' })).to.equal(false);
    expect(search({ match_phrase: 'enjoyed it more', field: 'reviews.content' })).to.equal(true); // "it" is a stop word: any term there
    expect(search({ match_phrase: 'bathrobes were very nice', field: 'reviews.content' })).to.equal(false); // across two reviews
    expect(search({ terms: ['water', 'mountain'], field: 'description' })).to.equal(false);
    expect(search({ terms: ['mountain', 'view'], field: 'description' })).to.equal(true);
    expect(search({ terms: [['lake', 'mountain'], ['view']], field: 'description' })).to.equal(true);
  });

  it('term, fuzzy, prefix, wildcard and regexp: exact terms, not analyzed', () => {
    expect(search({ term: 'united', field: 'country' })).to.equal(true);
    expect(search({ term: 'United', field: 'country' })).to.equal(false);
    expect(search({ term: 'unted', field: 'country', fuzziness: 1 })).to.equal(true);
    expect(search({ term: 'untd', field: 'country', fuzziness: 1 })).to.equal(false);
    expect(search({ term: 'untd', field: 'country', fuzziness: 2 })).to.equal(true);
    expect(search({ prefix: 'marr', field: 'name' })).to.equal(true);
    expect(search({ prefix: 'Marr', field: 'name' })).to.equal(false);
    expect(search({ wildcard: 'm?r*t', field: 'name' })).to.equal(true);
    expect(search({ wildcard: 'mar', field: 'name' })).to.equal(false);
    expect(search({ regexp: 'mar.+', field: 'name' })).to.equal(true);
    expect(search({ regexp: 'arr', field: 'name' })).to.equal(false); // the whole term must match
  });

  it('numeric_range, date_range and term_range: min inclusive and max exclusive unless told', () => {
    expect(search({ min: 100, max: 150, field: 'price' })).to.equal(false);
    expect(search({ min: 100, max: 150, inclusive_max: true, field: 'price' })).to.equal(true);
    expect(search({ min: 150, inclusive_min: false, field: 'price' })).to.equal(false);
    expect(search({ min: 4, field: 'reviews.ratings.Overall' })).to.equal(true);
    expect(search({ start: '2021-01-01', end: '2022-01-01', field: 'updated' })).to.equal(true);
    expect(search({ start: '2021-05-01T10:00:00Z', inclusive_start: false, field: 'updated' })).to.equal(false);
    expect(search({ end: '2021-05-01 12:00:00', field: 'updated' })).to.equal(true);
    expect(search({ min: 'mar', max: 'mas', field: 'name' })).to.equal(true);
    expect(search({ min: 'rez', field: 'name' })).to.equal(false); // its terms: marina, del, rey, marriott
  });

  it('conjuncts, disjuncts with min, and boolean must / should / must_not', () => {
    expect(search({ conjuncts: [{ match: 'water', field: 'description' }, { bool: true, field: 'free_breakfast' }] })).to.equal(true);
    expect(search({ conjuncts: [{ match: 'water', field: 'description' }, { bool: false, field: 'free_breakfast' }] })).to.equal(false);
    expect(search({ disjuncts: [{ match: 'lake' }, { match: 'water' }, { match: 'pool' }], min: 2 })).to.equal(true);
    expect(search({ disjuncts: [{ match: 'lake' }, { match: 'water' }, { match: 'desert' }], min: 2 })).to.equal(false);
    const must = { conjuncts: [{ match: 'water' }] };
    expect(search({ must, must_not: { disjuncts: [{ match: 'rooms' }] } })).to.equal(false);
    expect(search({ must, should: { disjuncts: [{ match: 'desert' }] } })).to.equal(true); // should without min only scores
    expect(search({ must, should: { disjuncts: [{ match: 'desert' }], min: 1 } })).to.equal(false);
    expect(search({ should: { disjuncts: [{ match: 'desert' }, { match: 'water' }] } })).to.equal(true);
    expect(search({ must_not: { disjuncts: [{ match: 'desert' }] } })).to.equal(true);
    expect(refused({ must: { match: 'x' } })).to.equal('must clause must be conjunction');
  });

  it('match_all, match_none, docid, bool_field and geo', () => {
    expect(search({ match_all: {} })).to.equal(true);
    expect(search({ match_none: {} })).to.equal(false);
    expect(search({ ids: ['hotel_1', 'hotel_17598'] })).to.equal(true);
    expect(search({ ids: ['hotel_1'] })).to.equal(false);
    expect(search({ bool: true, field: 'free_breakfast' })).to.equal(true);
    expect(search({ location: { lon: -118.4, lat: 34 }, distance: '10km', field: 'geo' })).to.equal(true);
    expect(search({ location: '34,-118.4', distance: '1mi', field: 'geo' })).to.equal(false);
    expect(search({ top_left: [-119, 35], bottom_right: [-118, 33], field: 'geo' })).to.equal(true);
    expect(search({ top_left: [-118, 35], bottom_right: [-117, 33], field: 'geo' })).to.equal(false);
    expect(search({ polygon_points: ['35,-119', '35,-118', '33,-118', '33,-119'], field: 'geo' })).to.equal(true);
    expect(search({ polygon_points: [{ lat: 35, lon: -119 }, { lat: 35, lon: -118.5 }, { lat: 33, lon: -119 }], field: 'geo' })).to.equal(false);
  });

  it('an index mapping object: the type mapping decides which documents are indexed, and the analyzer', () => {
    const hotelsOnly = { default_mapping: { enabled: false }, types: { hotel: { enabled: true, dynamic: true } } };
    expect(search('marriott', { mapping: hotelsOnly })).to.equal(true);
    expect(compileSearch('marriott', { mapping: hotelsOnly })(new DocView({ ...hotel, type: 'landmark' }, 'l'))).to.equal(false);
    expect(compileSearch({ match_all: {} }, { mapping: { ...hotelsOnly, type_field: 'kind' } })(view())).to.equal(false);
    expect(search({ match: 'United States', field: 'country' }, { mapping: { default_analyzer: 'keyword' } })).to.equal(true);
    expect(search({ match: 'united', field: 'country' }, { mapping: { default_analyzer: 'keyword' } })).to.equal(false);
    expect(search({ match: 'bathrobe', field: 'reviews.content' }, { mapping: { types: { hotel: { default_analyzer: 'en' } }, default_mapping: { enabled: false } } })).to.equal(true);
    expect(() => compileSearch('x', { mapping: { default_analyzer: 'nope' } })).to.throw(SearchError, "no analyzer with name or type 'nope' registered");
  });

  it('_all indexes a date string as a date, not as text (a dynamic mapping); a named field as the query asks', () => {
    expect(search('2021')).to.equal(false);
    expect(search('updated:2021')).to.equal(true);
    expect(search({ start: '2021-01-01', end: '2022-01-01' })).to.equal(true);
  });

  it('a document that is not an object has no fields', () => {
    expect(compileSearch('hello')(new DocView('hello', 'k'))).to.equal(false);
    expect(compileSearch({ match_all: {} })(new DocView('hello', 'k'))).to.equal(true);
  });

  it('a whole search request: only its query decides one document', () => {
    const req = { explain: false, fields: ['*'], highlight: {}, size: 0, sort: [{ by: 'field', field: 'reviews.ratings.Overall' }] };
    expect(search({ ...req, query: { match: 'bathrobes', field: 'reviews.content', analyzer: 'standard' } })).to.equal(true);
    expect(search({ ...req, query: { match: 'slippers', field: 'reviews.content' } })).to.equal(false);
  });

  it('refuses what the Search service refuses', () => {
    expect(refused({ foo: 1 })).to.equal('unknown query type');
    expect(refused({ term: 'x', fuzziness: 3 })).to.equal('fuzziness exceeds max (2)');
    expect(refused({ match: 'x', operator: 'xor' })).to.equal("cannot unmarshal match operator 'xor' from JSON");
    expect(refused({ regexp: '(' })).to.match(/missing closing \)/);
    expect(refused({ start: 'yesterday' })).to.match(/unable to parse datetime/);
    expect(refused({ disjuncts: [{ match: 'x' }], min: 2 })).to.equal('disjunction query has fewer than the minimum number of clauses to satisfy');
  });
});

describe('search queries: query string syntax', () => {
  it('+ must, - must not, plain terms should (one of them when nothing is required)', () => {
    expect(search('+United +States', { defaultField: 'country' })).to.equal(true);
    expect(search('+United +Kingdom', { defaultField: 'country' })).to.equal(false);
    expect(search('Kingdom States', { defaultField: 'country' })).to.equal(true);
    expect(search('Kingdom France', { defaultField: 'country' })).to.equal(false);
    expect(search('+water -mountain')).to.equal(false);
    expect(search('+water desert')).to.equal(true);
    expect(search('-desert')).to.equal(true);
    expect(search('')).to.equal(false);
  });

  it('field:term, field:"phrase", field:/regexp/, wildcards, fuzzy and boosts', () => {
    expect(search('country:"United States"')).to.equal(true);
    expect(search('country:"States United"')).to.equal(false);
    expect(search('name:marriott')).to.equal(true);
    expect(search('country:marriott')).to.equal(false);
    expect(search('reviews.content:bathrobes')).to.equal(true);
    expect(search('name:/mar.*/')).to.equal(true);
    expect(search('name:marr*')).to.equal(true);
    expect(search('name:m?rina')).to.equal(true);
    expect(search('description:mountian~')).to.equal(false); // a transposition is two edits
    expect(search('description:mountian~2')).to.equal(true);
    expect(search('description:montain~')).to.equal(true);
    expect(search('water^5 desert^2')).to.equal(true);
    expect(search('tags:"sea view"')).to.equal(true);
    expect(search('country:United\\ Kingdom')).to.equal(true); // one term (escaped space), analyzed into two: either matches
  });

  it('numeric and date ranges, and numbers as terms', () => {
    expect(search('price:>100')).to.equal(true);
    expect(search('price:>150')).to.equal(false);
    expect(search('price:>=150')).to.equal(true);
    expect(search('price:<150 name:marriott')).to.equal(true);
    expect(search('+price:<150 +name:marriott')).to.equal(false);
    expect(search('updated:>"2021-01-01"')).to.equal(true);
    expect(search('updated:<"2021-01-01"')).to.equal(false);
    expect(search('price:150')).to.equal(true);
    expect(search('370')).to.equal(true); // the text "370" in the description
  });

  it('refuses a malformed query string', () => {
    expect(refused('"unterminated')).to.match(/^parse error: unterminated phrase/);
    expect(refused('price:>abc')).to.match(/^parse error: '>' needs a number/);
  });
});

describe('search queries: fuzzy matching', () => {
  const levenshtein = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
    for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    return d[a.length][b.length];
  };

  it('agrees with the edit distance for every fuzziness', () => {
    let seed = 3;
    const next = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const word = (): string => Array.from({ length: Math.floor(next() * 8) }, () => 'abc'[Math.floor(next() * 3)]).join('');
    for (let k = 0; k < 5000; k++) {
      const [a, b] = [word(), word()];
      for (const max of [0, 1, 2]) expect(fuzzyMatch(Array.from(b), a, max, 0), `${a} ~${max} ${b}`).to.equal(levenshtein(a, b) <= max);
    }
  });

  it('takes time linear in a long term (only the band of the table within the fuzziness)', () => {
    const long = 'a'.repeat(200000);
    expect(fuzzyMatch(Array.from(long), long.slice(1) + 'b', 2, 0)).to.equal(true);
    expect(fuzzyMatch(Array.from(long), 'b' + long.slice(3) + 'bb', 2, 0)).to.equal(false);
  });
});

describe('search queries: one analysis per document', () => {
  it('a DocView analyzes a field once, whatever number of queries read it', () => {
    const v = view();
    const first = v.tokens('reviews.content', 'standard');
    for (const q of [{ match: 'bathrobes', field: 'reviews.content' }, { match_phrase: 'very nice', field: 'reviews.content' }, { prefix: 'bath', field: 'reviews.content' }]) {
      expect(compileSearch(q)(v)).to.equal(true);
    }
    expect(v.tokens('reviews.content', 'standard')).to.equal(first);
  });
});
