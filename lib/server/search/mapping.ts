// SEARCH()'s `index` option given as an object: an example index mapping (the Search service's
// JSON), which decides which documents the search sees and with which analyzer. The reference
// allows a default mapping with no type mapping, or one type mapping with the default mapping
// disabled; per-field mappings (`properties`) are not applied: every field is indexed
// dynamically with the mapping's analyzer.
import { analyzerNamed, DEFAULT_ANALYZER } from './analysis';
import { SearchError } from './errors';

type Json = Record<string, unknown>;

export interface IndexMapping {
  /** The analyzer of every field. */
  analyzer: string;
  /** Whether the mapping indexes this document at all (its type is mapped and enabled). */
  indexes(doc: unknown): boolean;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function analyzerIn(m: Json, fallback: string): string {
  const a = m.default_analyzer;
  if (a === undefined || a === null || a === '') return fallback;
  if (typeof a !== 'string') throw new SearchError('index mapping: "default_analyzer" must be a string');
  analyzerNamed(a);
  return a;
}

export function indexMapping(m: unknown): IndexMapping {
  if (!isObject(m)) throw new SearchError('index object not a valid mapping');
  const typeField = typeof m.type_field === 'string' ? m.type_field : 'type';
  const base = analyzerIn(m, DEFAULT_ANALYZER);
  const types = isObject(m.types) ? m.types : {};
  const enabled = (t: unknown): t is Json => isObject(t) && t.enabled !== false;
  const byType = new Map<string, Json>();
  for (const [name, t] of Object.entries(types)) if (enabled(t)) byType.set(name, t);
  const def = m.default_mapping === undefined ? {} : m.default_mapping;
  const defaultMapping = enabled(def) ? def : undefined;
  const chosen = byType.size ? [...byType.values()][0] : defaultMapping;
  return {
    analyzer: chosen ? analyzerIn(chosen, base) : base,
    indexes(doc) {
      if (!isObject(doc)) return false;
      const t = doc[typeField];
      if (typeof t === 'string' && byType.has(t)) return true;
      return defaultMapping !== undefined;
    },
  };
}
