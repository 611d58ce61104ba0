// Text analysis as the Search service's built-in analyzers (bleve's) do it: a tokenizer, then
// token filters. Positions count the tokenizer's tokens, so a stop word a filter removes leaves a
// gap a phrase still has to span.
import { RE2JS } from 're2js';
import { SearchError } from './errors';
import { stemEnglish } from './stemmer';

export interface Token {
  term: string;
  /** 1-based position among the tokenizer's tokens. */
  pos: number;
}

export type Analyzer = (text: string) => Token[];

// Unicode word boundaries (UAX #29), as bleve's "unicode" tokenizer splits: "can't", "3.5" and
// "hello_world" are one word each; spaces and punctuation are none.
const WORDS = new Intl.Segmenter('und', { granularity: 'word' });

export function unicodeTokens(text: string): Token[] {
  if (/^[\x00-\x7f]*$/.test(text)) return asciiTokens(text);
  const out: Token[] = [];
  let pos = 0;
  for (const s of WORDS.segment(text)) {
    if (!isWord(s)) continue;
    // ICU joins ideographs by dictionary ("東京"); UAX #29, which the Search service follows, makes
    // each Han or Hiragana character a word of its own.
    if (IDEOGRAPHIC.test(s.segment)) for (const m of s.segment.matchAll(IDEOGRAPHIC_SPLIT)) out.push({ term: m[0], pos: ++pos });
    else out.push({ term: s.segment, pos: ++pos });
  }
  return out;
}

const IDEOGRAPHIC = /[\p{Script=Han}\p{Script=Hiragana}]/u;
const IDEOGRAPHIC_SPLIT = /[\p{Script=Han}\p{Script=Hiragana}]|[^\p{Script=Han}\p{Script=Hiragana}]+/gu;

// A word holds a letter or a digit (ICU also calls a run of underscores word-like; a Search
// index keeps no such token).
const isWord = (s: Intl.SegmentData): boolean => !!s.isWordLike && /[\p{L}\p{N}]/u.test(s.segment);

// The same boundaries for ASCII text without Intl.Segmenter (a tenth of the time). Letters,
// digits and `_` join; a letter, `:`, `.` or `'`, letter joins; a digit, `.`, `'`, `,` or `;`,
// digit joins (UAX #29 rules WB5-WB13b).
const LETTER = 1;
const DIGIT = 2;
const UNDERSCORE = 4;
const MID_LETTER = 8;
const MID_NUM = 16;
const ASCII_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z]/.test(ch)) ASCII_CLASS[c] = LETTER;
  else if (/[0-9]/.test(ch)) ASCII_CLASS[c] = DIGIT;
  else if (ch === '_') ASCII_CLASS[c] = UNDERSCORE;
  else if (ch === ':') ASCII_CLASS[c] = MID_LETTER;
  else if (ch === '.' || ch === "'") ASCII_CLASS[c] = MID_LETTER | MID_NUM;
  else if (ch === ',' || ch === ';') ASCII_CLASS[c] = MID_NUM;
}

function asciiTokens(text: string): Token[] {
  const out: Token[] = [];
  const n = text.length;
  const cls = (i: number): number => (i < n ? ASCII_CLASS[text.charCodeAt(i)] : 0);
  let pos = 0;
  let i = 0;
  while (i < n) {
    if (!(cls(i) & (LETTER | DIGIT | UNDERSCORE))) {
      i++;
      continue;
    }
    const start = i;
    let wordLike = false;
    for (;;) {
      const c = cls(i);
      if (c & (LETTER | DIGIT)) wordLike = true;
      if (c & (LETTER | DIGIT | UNDERSCORE)) {
        i++;
        continue;
      }
      const before = cls(i - 1);
      const after = cls(i + 1);
      if ((c & MID_LETTER && before === LETTER && after === LETTER) || (c & MID_NUM && before === DIGIT && after === DIGIT)) {
        i += 2;
        continue;
      }
      break;
    }
    if (wordLike) out.push({ term: text.slice(start, i), pos: ++pos });
  }
  return out;
}

/** Tokens by Intl.Segmenter alone (what the ASCII path must agree with). */
export function segmenterTokens(text: string): string[] {
  return [...WORDS.segment(text)].filter(isWord).map((s) => s.segment);
}

/** The "letter" tokenizer: runs of letters. */
function letterTokens(text: string): Token[] {
  const out: Token[] = [];
  let pos = 0;
  for (const m of text.matchAll(/\p{L}+/gu)) out.push({ term: m[0], pos: ++pos });
  return out;
}

// The "web" tokenizer keeps e-mail addresses, URLs, @handles and #hashtags whole and splits the
// rest as the unicode tokenizer does. RE2 (linear time): document text is untrusted.
const WEB_EXCEPTIONS = RE2JS.compile(
  [
    "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?\\.)+[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?",
    '(?i)\\b(?:[a-z][\\w-]+:(?:/{1,3}|[a-z0-9%])|www\\d{0,3}[.]|[a-z0-9.\\-]+[.][a-z]{2,4}/)(?:[^\\s()<>]+|\\((?:[^\\s()<>]+|\\([^\\s()<>]+\\))*\\))+(?:\\((?:[^\\s()<>]+|\\([^\\s()<>]+\\))*\\)|[^\\s`!()\\[\\]{};:\'".,<>?«»“”‘’])',
    '@\\w{1,15}',
    '#\\w+',
  ].join('|'),
);

function webTokens(text: string): Token[] {
  const out: Token[] = [];
  let pos = 0;
  let from = 0;
  const plain = (end: number): void => {
    for (const t of unicodeTokens(text.slice(from, end))) out.push({ term: t.term, pos: ++pos });
  };
  const m = WEB_EXCEPTIONS.matcher(text);
  while (m.find()) {
    plain(m.start());
    out.push({ term: m.group()!, pos: ++pos });
    from = m.end();
  }
  plain(text.length);
  return out;
}

function lower(tokens: Token[]): Token[] {
  for (const t of tokens) t.term = t.term.toLowerCase();
  return tokens;
}

// bleve's stop_en: the Snowball project's English stop word list.
const STOP_EN = new Set(
  (
    'i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers herself it its itself ' +
    'they them their theirs themselves what which who whom this that these those am is are was were be been being have has had ' +
    'having do does did doing would should could ought i\'m you\'re he\'s she\'s it\'s we\'re they\'re i\'ve you\'ve we\'ve they\'ve ' +
    'i\'d you\'d he\'d she\'d we\'d they\'d i\'ll you\'ll he\'ll she\'ll we\'ll they\'ll isn\'t aren\'t wasn\'t weren\'t hasn\'t ' +
    'haven\'t hadn\'t doesn\'t don\'t didn\'t won\'t wouldn\'t shan\'t shouldn\'t can\'t cannot couldn\'t mustn\'t let\'s that\'s ' +
    'who\'s what\'s here\'s there\'s when\'s where\'s why\'s how\'s a an the and but if or because as until while of at by for ' +
    'with about against between into through during before after above below to from up down in out on off over under again ' +
    'further then once here there when where why how all any both each few more most other some such no nor not only own same so ' +
    'than too very'
  ).split(' '),
);

function withoutStopWords(tokens: Token[]): Token[] {
  return tokens.filter((t) => !STOP_EN.has(t.term));
}

/** possessive_en: "Neil's" -> "Neil" (any of the apostrophes). */
function withoutPossessive(tokens: Token[]): Token[] {
  for (const t of tokens) if (/['\u2019\uFF07][sS]$/.test(t.term)) t.term = t.term.slice(0, -2);
  return tokens;
}

function stemmed(tokens: Token[]): Token[] {
  for (const t of tokens) t.term = stemEnglish(t.term);
  return tokens;
}

const ANALYZERS: Record<string, Analyzer> = {
  standard: (text) => withoutStopWords(lower(unicodeTokens(text))),
  simple: (text) => lower(letterTokens(text)),
  keyword: (text) => [{ term: text, pos: 1 }],
  web: (text) => withoutStopWords(lower(webTokens(text))),
  en: (text) => stemmed(withoutStopWords(lower(withoutPossessive(unicodeTokens(text))))),
};

/** The analyzer registered under `name`; an unknown name fails as the Search service does. */
export function analyzerNamed(name: string): Analyzer {
  const a = Object.hasOwn(ANALYZERS, name) ? ANALYZERS[name] : undefined;
  if (!a) throw new SearchError(`no analyzer with name or type '${name}' registered`);
  return a;
}

export const DEFAULT_ANALYZER = 'standard';
