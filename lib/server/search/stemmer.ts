// The Snowball English ("Porter2") stemmer, which the "en" analyzer's stemmer_en_snowball
// filter applies: "running" -> "run", "generously" -> "generous", "hotels" -> "hotel".
// Written from the algorithm's published description.

const EXCEPTIONS: Record<string, string> = {
  skies: 'sky', dying: 'die', lying: 'lie', tying: 'tie', idly: 'idl', gently: 'gentl', ugly: 'ugli', early: 'earli', only: 'onli', singly: 'singl',
  sky: 'sky', news: 'news', howe: 'howe', atlas: 'atlas', cosmos: 'cosmos', bias: 'bias', andes: 'andes',
};
const AFTER_1A = new Set(['inning', 'outing', 'canning', 'herring', 'earring', 'proceed', 'exceed', 'succeed']);

const isVowel = (c: string | undefined): boolean => c !== undefined && 'aeiouy'.includes(c);

/** Where R1 (region after the first non-vowel following a vowel) starts, from `from`. */
function region(w: string, from: number): number {
  for (let i = from + 1; i < w.length; i++) if (!isVowel(w[i]) && isVowel(w[i - 1])) return i + 1;
  return w.length;
}

function shortSyllableAt(w: string, end: number): boolean {
  // the last syllable ends at `end` (exclusive)
  if (end < 2) return false;
  if (end === 2) return isVowel(w[0]) && !isVowel(w[1]);
  const [a, b, c] = [w[end - 3], w[end - 2], w[end - 1]];
  return !isVowel(a) && isVowel(b) && !isVowel(c) && !'wxY'.includes(c);
}

function longest(w: string, suffixes: string[]): string | undefined {
  let best: string | undefined;
  for (const s of suffixes) if (w.endsWith(s) && (!best || s.length > best.length)) best = s;
  return best;
}

const STEP2: Record<string, string> = {
  tional: 'tion', enci: 'ence', anci: 'ance', abli: 'able', entli: 'ent', izer: 'ize', ization: 'ize', ational: 'ate', ation: 'ate', ator: 'ate',
  alism: 'al', aliti: 'al', alli: 'al', fulness: 'ful', ousli: 'ous', ousness: 'ous', iveness: 'ive', iviti: 'ive', biliti: 'ble', bli: 'ble',
  ogi: 'og', fulli: 'ful', lessli: 'less', li: '',
};
const STEP3: Record<string, string> = { tional: 'tion', ational: 'ate', alize: 'al', icate: 'ic', iciti: 'ic', ical: 'ic', ful: '', ness: '', ative: '' };
const STEP4 = ['al', 'ance', 'ence', 'er', 'ic', 'able', 'ible', 'ant', 'ement', 'ment', 'ent', 'ism', 'ate', 'iti', 'ous', 'ive', 'ize', 'ion'];

export function stemEnglish(word: string): string {
  if (word.length <= 2 || !/^[a-z']+$/.test(word)) return word;
  if (Object.hasOwn(EXCEPTIONS, word)) return EXCEPTIONS[word];
  let w = word.startsWith("'") ? word.slice(1) : word;
  // y at the start or after a vowel is a consonant: mark it Y.
  w = w.replace(/^y/, 'Y').replace(/([aeiouy])y/g, '$1Y');
  const prefix = /^(gener|commun|arsen)/.exec(w);
  const r1 = prefix ? prefix[0].length : region(w, 0);
  const r2 = region(w, r1);
  const inR1 = (s: string): boolean => w.length - s.length >= r1;
  const inR2 = (s: string): boolean => w.length - s.length >= r2;
  const isShort = (): boolean => shortSyllableAt(w, w.length) && r1 >= w.length;

  // Step 0: apostrophe suffixes.
  const s0 = longest(w, ["'s'", "'s", "'"]);
  if (s0) w = w.slice(0, -s0.length);
  // Step 1a.
  const s1a = longest(w, ['sses', 'ied', 'ies', 's', 'us', 'ss']);
  if (s1a === 'sses') w = w.slice(0, -2);
  else if (s1a === 'ied' || s1a === 'ies') w = w.slice(0, -3) + (w.length > 4 ? 'i' : 'ie');
  else if (s1a === 's' && /[aeiouy]/.test(w.slice(0, -2))) w = w.slice(0, -1);
  if (AFTER_1A.has(w)) return w;
  // Step 1b.
  const s1b = longest(w, ['eed', 'eedly', 'ed', 'edly', 'ing', 'ingly']);
  if (s1b === 'eed' || s1b === 'eedly') {
    if (inR1(s1b)) w = w.slice(0, -s1b.length) + 'ee';
  } else if (s1b && /[aeiouy]/.test(w.slice(0, -s1b.length))) {
    w = w.slice(0, -s1b.length);
    if (/(at|bl|iz)$/.test(w)) w += 'e';
    else if (/(bb|dd|ff|gg|mm|nn|pp|rr|tt)$/.test(w)) w = w.slice(0, -1);
    else if (isShort()) w += 'e';
  }
  // Step 1c.
  if (w.length > 2 && /[yY]$/.test(w) && !isVowel(w[w.length - 2])) w = w.slice(0, -1) + 'i';
  // Step 2.
  const s2 = longest(w, Object.keys(STEP2));
  if (s2 && inR1(s2)) {
    if (s2 === 'ogi') {
      if (w[w.length - 4] === 'l') w = w.slice(0, -3) + 'og';
    } else if (s2 === 'li') {
      if ('cdeghkmnrt'.includes(w[w.length - 3] ?? '')) w = w.slice(0, -2);
    } else w = w.slice(0, -s2.length) + STEP2[s2];
  }
  // Step 3.
  const s3 = longest(w, Object.keys(STEP3));
  if (s3 && inR1(s3) && (s3 !== 'ative' || inR2(s3))) w = w.slice(0, -s3.length) + STEP3[s3];
  // Step 4.
  const s4 = longest(w, STEP4);
  if (s4 && inR2(s4) && (s4 !== 'ion' || 'st'.includes(w[w.length - 4] ?? '-'))) w = w.slice(0, -s4.length);
  // Step 5.
  if (w.endsWith('e') && (inR2('e') || (inR1('e') && !shortSyllableAt(w, w.length - 1)))) w = w.slice(0, -1);
  else if (w.endsWith('ll') && inR2('l')) w = w.slice(0, -1);
  return w.replace(/Y/g, 'y');
}
