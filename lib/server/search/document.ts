// One document as a search query reads it: the values at a field path (arrays flattened, as the
// Search service indexes each element), and their tokens under an analyzer. Everything is
// computed once per document and kept, so however many queries (and SEARCH() calls) read a
// field, the document is walked and analyzed once.
import { analyzerNamed, type Token } from './analysis';
import { parseDate } from './terms';

/** Every field of the document: the Search service's default field, `_all`. */
export const ALL_FIELDS = '_all';

export class DocView {
  private readonly valuesByField = new Map<string, unknown[]>();
  private readonly tokensByField = new Map<string, Token[][]>();
  private readonly termsByField = new Map<string, Set<string>>();

  /** `id`: the document's key (what a docid query matches). */
  constructor(
    readonly doc: unknown,
    readonly id: string | undefined,
  ) {}

  /** The values at `field` ("reviews.content"), each array element its own value; `_all`: every leaf. */
  values(field: string): unknown[] {
    let out = this.valuesByField.get(field);
    if (!out) {
      out = [];
      // A document that is not an object (a string, a number) has no fields to search.
      if (typeof this.doc === 'object' && this.doc !== null) {
        if (field === ALL_FIELDS) leaves(this.doc, out);
        else collect(this.doc, field.split('.'), 0, out);
      }
      this.valuesByField.set(field, out);
    }
    return out;
  }

  /** The distinct terms of `field` under `analyzer`: an exact term is looked up, not searched for. */
  terms(field: string, analyzer: string): Set<string> {
    const key = analyzer + '\u0000' + field;
    let out = this.termsByField.get(key);
    if (!out) {
      out = new Set();
      for (const ts of this.tokens(field, analyzer)) for (const t of ts) out.add(t.term);
      this.termsByField.set(key, out);
    }
    return out;
  }

  /** The strings at `field`, each analyzed by `analyzer` (one token list per string). */
  tokens(field: string, analyzer: string): Token[][] {
    const key = analyzer + '\u0000' + field;
    let out = this.tokensByField.get(key);
    if (!out) {
      const analyze = analyzerNamed(analyzer);
      out = [];
      // `_all` holds the fields a dynamic mapping indexes, which indexes a string the default
      // datetime parser reads as a date, not as text.
      const dynamic = field === ALL_FIELDS;
      for (const v of this.values(field)) if (typeof v === 'string' && !(dynamic && parseDate(v) !== undefined)) out.push(analyze(v));
      this.tokensByField.set(key, out);
    }
    return out;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function collect(v: unknown, path: string[], i: number, out: unknown[]): void {
  if (Array.isArray(v)) {
    for (const x of v) collect(x, path, i, out);
    return;
  }
  if (i === path.length) {
    if (v !== undefined && v !== null) out.push(v);
    return;
  }
  if (isPlainObject(v) && Object.hasOwn(v, path[i])) collect(v[path[i]], path, i + 1, out);
}

function leaves(v: unknown, out: unknown[]): void {
  if (Array.isArray(v)) for (const x of v) leaves(x, out);
  else if (isPlainObject(v)) for (const k of Object.keys(v)) leaves(v[k], out);
  else if (v !== undefined && v !== null) out.push(v);
}
