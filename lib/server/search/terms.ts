// Term-level tests the query types share: fuzzy (edit distance) matching, phrases over token
// positions, dates as the default datetime parser reads them, distances on the globe.
import type { Token } from './analysis';
import { SearchError } from './errors';

/** The Search service refuses a fuzziness above 2. */
export const MAX_FUZZINESS = 2;

/** Whether `term` is within `max` edits (Levenshtein, by code point) of `target`, sharing its first `prefix` code points. */
export function fuzzyMatch(target: string[], term: string, max: number, prefix: number): boolean {
  const t = Array.from(term);
  for (let i = 0; i < prefix; i++) if (t[i] !== target[i]) return false;
  if (Math.abs(t.length - target.length) > max) return false;
  // The edit-distance table row by row, only its band |i - j| <= max (cells outside it exceed
  // `max` anyway): linear in the term's length, however long a hostile term is. Two rows are
  // reused; cells never written hold INF.
  const INF = max + 1;
  const m = target.length;
  let prev = new Array<number>(m + 1).fill(INF);
  let row = new Array<number>(m + 1).fill(INF);
  for (let j = 0; j <= Math.min(m, max); j++) prev[j] = j;
  for (let i = 1; i <= t.length; i++) {
    const lo = Math.max(1, i - max);
    const hi = Math.min(m, i + max);
    row[lo - 1] = lo === 1 && i <= max ? i : INF;
    let best = row[lo - 1];
    for (let j = lo; j <= hi; j++) {
      const v = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (t[i - 1] === target[j - 1] ? 0 : 1), INF);
      row[j] = v;
      if (v < best) best = v;
    }
    if (best > max) return false;
    [prev, row] = [row, prev];
  }
  return prev[m] <= max;
}

/** A term test: exact, or fuzzy when `fuzziness` > 0. */
export function termTest(term: string, fuzziness: number, prefix: number): (t: string) => boolean {
  if (fuzziness <= 0) return (t) => t === term;
  const target = Array.from(term);
  return (t) => fuzzyMatch(target, t, fuzziness, prefix);
}

/**
 * Whether one value's tokens hold the phrase: each slot (a set of term tests, or undefined for
 * "any term", where the query's analyzer dropped a stop word) at consecutive positions.
 */
export function phraseIn(tokens: Token[], slots: (((t: string) => boolean) | undefined)[]): boolean {
  if (slots.length === 0) return false;
  const byPos = new Map<number, string[]>();
  for (const t of tokens) {
    const at = byPos.get(t.pos);
    if (at) at.push(t.term);
    else byPos.set(t.pos, [t.term]);
  }
  const first = slots[0];
  for (const t of tokens) {
    if (first && !first(t.term)) continue;
    let ok = true;
    for (let k = 1; k < slots.length && ok; k++) {
      const test = slots[k];
      if (!test) continue;
      ok = (byPos.get(t.pos + k) ?? []).some(test);
    }
    if (ok) return true;
  }
  return false;
}

// dateTimeOptional: RFC 3339 with or without fractions and zone, a space for the T, or a date alone (UTC).
const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?)?$/;

/** Milliseconds since the epoch of a date string the default parser reads, else undefined. */
export function parseDate(s: string): number | undefined {
  const m = DATE.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', se = '0', frac = '', zone = 'Z'] = m;
  const ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +se, frac ? Math.floor(Number(frac) * 1000) : 0);
  if (Number.isNaN(ms) || new Date(Date.UTC(+y, +mo - 1, +d)).getUTCDate() !== +d) return undefined;
  if (zone === 'Z') return ms;
  const sign = zone[0] === '-' ? -1 : 1;
  return ms - sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60000;
}

const UNITS: [string, number][] = [
  ['mm', 0.001], ['cm', 0.01], ['km', 1000], ['nm', 1852], ['mi', 1609.344], ['yd', 0.9144], ['ft', 0.3048], ['in', 0.0254], ['m', 1],
];

/** "10mi", "2.5km", "300m": a distance in meters. */
export function parseDistance(s: string): number {
  const m = /^([0-9]*\.?[0-9]+(?:[eE][+-]?\d+)?)\s*([a-z]*)$/.exec(s.trim());
  const unit = m ? UNITS.find(([u]) => u === (m[2] || 'm')) : undefined;
  if (!m || !unit) throw new SearchError(`unknown distance unit: ${s}`);
  return Number(m[1]) * unit[1];
}

export interface GeoPoint {
  lon: number;
  lat: number;
}

/** A point as documents and queries write it: {lon|lng, lat}, [lon, lat], or "lat,lon". */
export function geoPoint(v: unknown): GeoPoint | undefined {
  if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'number') return { lon: v[0], lat: v[1] };
  if (typeof v === 'string') {
    const m = /^\s*(-?[0-9.]+)\s*,\s*(-?[0-9.]+)\s*$/.exec(v);
    return m ? { lat: Number(m[1]), lon: Number(m[2]) } : undefined;
  }
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    const lon = o.lon ?? o.lng;
    if (typeof lon === 'number' && typeof o.lat === 'number') return { lon, lat: o.lat };
  }
  return undefined;
}

const EARTH_RADIUS_M = 6371008.8;

/** Great-circle distance in meters (haversine). */
export function distance(a: GeoPoint, b: GeoPoint): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}
