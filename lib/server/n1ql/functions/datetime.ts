// Dates as Couchbase's date functions see them: an instant (epoch milliseconds) together with the
// UTC offset it is written in, so results keep the input's offset. Time zones are IANA names
// resolved through Intl (case-sensitive, as Couchbase has them). Format strings come in the four
// styles of the Date Functions reference: ISO-8601 example dates (`1111-11-11T11:11:11Z`), date
// string codes (`YYYY-MM-DD`), Go reference layouts (`2006-01-02 15:04`) and percent specifiers
// (`%Y-%m-%d`); each is compiled once into a list of tokens that both formats and parses.

export interface DateTime {
  /** Epoch milliseconds. */
  ms: number;
  /** Minutes east of UTC the date is written in. */
  offset: number;
  /** IANA zone the date belongs to, when known (for %Z and TZN). */
  zone?: string;
}

/** The server's local zone: the embedded cluster runs in UTC. */
export const LOCAL_ZONE = 'UTC';

// ---- time zones ----

const zoneFormats = new Map<string, Intl.DateTimeFormat | null>();

function zoneFormat(zone: string): Intl.DateTimeFormat | null {
  let f = zoneFormats.get(zone);
  if (f === undefined) {
    f = null;
    // Couchbase's zone names are case-sensitive: every part of an IANA name starts upper case.
    if (zone === 'UTC' || zone === 'Local' || /^[A-Z][A-Za-z0-9+_-]*(\/[A-Z0-9][A-Za-z0-9+_-]*)*$/.test(zone)) {
      try {
        f = new Intl.DateTimeFormat('en-US', { timeZone: zone === 'Local' ? LOCAL_ZONE : zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', era: 'short' });
      } catch {
        f = null;
      }
    }
    if (zoneFormats.size > 1000) zoneFormats.clear();
    zoneFormats.set(zone, f);
  }
  return f;
}

export function isZone(zone: string): boolean {
  return zoneFormat(zone) !== null;
}

/** Offset of `zone` at the instant `ms`, in minutes east of UTC; undefined for an unknown zone. */
export function zoneOffset(zone: string, ms: number): number | undefined {
  if (zone === 'UTC') return 0;
  const f = zoneFormat(zone);
  if (!f) return undefined;
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(ms)) p[part.type] = part.value;
  let year = +p.year;
  if (p.era === 'BC') year = 1 - year;
  const wall = utcFields(year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second, 0);
  const base = Math.floor(ms / 1000) * 1000;
  return Math.round((wall - base) / 60000);
}

/** The instant at which the wall clock of `zone` shows `wall` (wall-clock fields read as UTC). */
export function fromWall(wall: number, zone: string): number | undefined {
  const o1 = zoneOffset(zone, wall);
  if (o1 === undefined) return undefined;
  const guess = wall - o1 * 60000;
  const o2 = zoneOffset(zone, guess)!;
  return wall - o2 * 60000;
}

export function inZone(ms: number, zone: string): DateTime | undefined {
  const offset = zoneOffset(zone, ms);
  return offset === undefined ? undefined : { ms, offset, zone };
}

/** Date.UTC without its two-digit-year quirk. */
export function utcFields(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number {
  const t = new Date(0);
  t.setUTCFullYear(y, mo, d);
  t.setUTCHours(h, mi, s, ms);
  return t.getTime();
}

// ---- fields of a date as its own offset shows them ----

export interface Fields {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  milli: number;
  weekday: number; // 0 = Sunday
  yday: number; // 1-366
}

export function fields(d: DateTime): Fields {
  const t = new Date(d.ms + d.offset * 60000);
  const year = t.getUTCFullYear();
  return {
    year,
    month: t.getUTCMonth() + 1,
    day: t.getUTCDate(),
    hour: t.getUTCHours(),
    minute: t.getUTCMinutes(),
    second: t.getUTCSeconds(),
    milli: t.getUTCMilliseconds(),
    weekday: t.getUTCDay(),
    yday: Math.floor((t.getTime() - utcFields(year, 0, 1, 0, 0, 0, 0)) / 86400000) + 1,
  };
}

export function isoWeek(f: Fields): { week: number; year: number } {
  const t = new Date(utcFields(f.year, f.month - 1, f.day, 0, 0, 0, 0));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const yearStart = utcFields(t.getUTCFullYear(), 0, 1, 0, 0, 0, 0);
  return { week: Math.ceil(((t.getTime() - yearStart) / 86400000 + 1) / 7), year: t.getUTCFullYear() };
}

// ---- format tokens ----

export type Tok =
  | { t: 'lit'; s: string }
  | { t: 'any' } // a space: any one character when parsing, itself on output
  | { t: 'year'; w: number } // 4 digits; w 2 = two-digit year
  | { t: 'century' }
  | { t: 'month'; pad: string; w: number } // pad '' none, '0' zeros, ' ' spaces
  | { t: 'monthName'; short: boolean; upper?: boolean }
  | { t: 'day'; pad: string; w: number }
  | { t: 'yday'; pad: string }
  | { t: 'dayName'; short: boolean; upper?: boolean }
  | { t: 'hour'; h12: boolean; pad: string }
  | { t: 'ampm'; lower: boolean }
  | { t: 'minute'; pad: string }
  | { t: 'second'; pad: string }
  | { t: 'frac'; n: number; trim: boolean; sep: string } // sep '' for percent %N, '.' or ','
  | { t: 'offset'; style: 'hh' | 'hhmm' | 'hh:mm' | 'hh:mm:ss' | 'min'; z: boolean }
  | { t: 'zoneName' }
  | { t: 'zoneAbbr' }
  | { t: 'epochSec' }
  | { t: 'suffix' }
  | { t: 'isoWeek' }
  | { t: 'isoYear' }
  | { t: 'quarter' }
  | { t: 'wdaySun' }
  | { t: 'wdayMon' }
  | { t: 'weekSun' }
  | { t: 'weekMon' }
  | { t: 'epochHours'; frac: boolean };

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
export const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const compiled = new Map<string, Tok[]>();

/** The tokens of a format string in any of the four styles. */
export function compileFormat(fmt: string): Tok[] {
  let toks = compiled.get(fmt);
  if (!toks) {
    toks = fmt.includes('%') ? percentTokens(fmt) : isIsoExample(fmt) ? isoTokens(fmt) : hasCodes(fmt) ? codeTokens(fmt) : goTokens(fmt);
    if (compiled.size > 1000) compiled.clear();
    compiled.set(fmt, toks);
  }
  return toks;
}

const GO_HINT = /2006|Jan|Mon|MST|Z07|-07|15:04|PM|pm/;
const ISO_EXAMPLE = /^(\d{4}-\d{2}-\d{2})?([T ]?)(\d{2}:\d{2}(:\d{2})?(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/;

function isIsoExample(fmt: string): boolean {
  const m = ISO_EXAMPLE.exec(fmt.trim());
  return !!m && (m[1] !== undefined || m[3] !== undefined) && !GO_HINT.test(fmt) && !/^\d{4}-01-02/.test(fmt);
}

function hasCodes(fmt: string): boolean {
  return /YYYY|YY|CC|MM|DD|hh|HH|mm|ss|TZD|TZN/.test(fmt);
}

function isoTokens(fmt: string): Tok[] {
  const m = ISO_EXAMPLE.exec(fmt.trim())!;
  const out: Tok[] = [];
  if (m[1]) out.push({ t: 'year', w: 4 }, { t: 'lit', s: '-' }, { t: 'month', pad: '0', w: 2 }, { t: 'lit', s: '-' }, { t: 'day', pad: '0', w: 2 });
  if (m[3]) {
    if (m[1]) out.push({ t: 'lit', s: m[2] || 'T' });
    out.push({ t: 'hour', h12: false, pad: '0' }, { t: 'lit', s: ':' }, { t: 'minute', pad: '0' });
    if (m[4]) out.push({ t: 'lit', s: ':' }, { t: 'second', pad: '0' });
    if (m[5]) out.push({ t: 'frac', n: m[5].length - 1, trim: false, sep: '.' });
    if (m[6]) out.push({ t: 'offset', style: m[6] === 'Z' || m[6].includes(':') ? 'hh:mm' : 'hhmm', z: true });
  }
  return out;
}

function codeTokens(fmt: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const table: [string, Tok][] = [
    ['TZD', { t: 'offset', style: 'hh:mm', z: true }],
    ['TZN', { t: 'zoneAbbr' }],
    ['YYYY', { t: 'year', w: 4 }],
    ['CC', { t: 'century' }],
    ['YY', { t: 'year', w: 2 }],
    ['MM', { t: 'month', pad: '0', w: 2 }],
    ['DD', { t: 'day', pad: '0', w: 2 }],
    ['hh', { t: 'hour', h12: false, pad: '0' }],
    ['HH', { t: 'hour', h12: false, pad: '0' }],
    ['mm', { t: 'minute', pad: '0' }],
    ['ss', { t: 'second', pad: '0' }],
    ['s', { t: 'frac', n: 3, trim: false, sep: '' }],
  ];
  outer: while (i < fmt.length) {
    for (const [code, tok] of table) {
      if (fmt.startsWith(code, i)) {
        out.push(tok);
        i += code.length;
        continue outer;
      }
    }
    pushLit(out, fmt[i++]);
  }
  return out;
}

function pushLit(out: Tok[], c: string): void {
  if (c === ' ') out.push({ t: 'any' });
  else {
    const last = out[out.length - 1];
    if (last && last.t === 'lit') last.s += c;
    else out.push({ t: 'lit', s: c });
  }
}

function goTokens(fmt: string): Tok[] {
  const out: Tok[] = [];
  const table: [string, Tok][] = [
    ['January', { t: 'monthName', short: false }],
    ['Jan', { t: 'monthName', short: true }],
    ['Monday', { t: 'dayName', short: false }],
    ['Mon', { t: 'dayName', short: true }],
    ['MST', { t: 'zoneAbbr' }],
    ['2006', { t: 'year', w: 4 }],
    ['Z07:00:00', { t: 'offset', style: 'hh:mm:ss', z: true }],
    ['Z07:00', { t: 'offset', style: 'hh:mm', z: true }],
    ['Z0700', { t: 'offset', style: 'hhmm', z: true }],
    ['Z07', { t: 'offset', style: 'hh', z: true }],
    ['-07:00:00', { t: 'offset', style: 'hh:mm:ss', z: false }],
    ['-07:00', { t: 'offset', style: 'hh:mm', z: false }],
    ['-0700', { t: 'offset', style: 'hhmm', z: false }],
    ['-07', { t: 'offset', style: 'hh', z: false }],
    ['__2', { t: 'yday', pad: ' ' }],
    ['002', { t: 'yday', pad: '0' }],
    ['_2', { t: 'day', pad: ' ', w: 2 }],
    ['06', { t: 'year', w: 2 }],
    ['01', { t: 'month', pad: '0', w: 2 }],
    ['02', { t: 'day', pad: '0', w: 2 }],
    ['15', { t: 'hour', h12: false, pad: '0' }],
    ['03', { t: 'hour', h12: true, pad: '0' }],
    ['04', { t: 'minute', pad: '0' }],
    ['05', { t: 'second', pad: '0' }],
    ['PM', { t: 'ampm', lower: false }],
    ['pm', { t: 'ampm', lower: true }],
    ['1', { t: 'month', pad: '', w: 1 }],
    ['2', { t: 'day', pad: '', w: 1 }],
    ['3', { t: 'hour', h12: true, pad: '' }],
    ['4', { t: 'minute', pad: '' }],
    ['5', { t: 'second', pad: '' }],
  ];
  let i = 0;
  outer: while (i < fmt.length) {
    const frac = /^[.,](0+|9+)(?!\d)/.exec(fmt.slice(i));
    if (frac) {
      out.push({ t: 'frac', n: frac[1].length, trim: frac[1][0] === '9', sep: frac[0][0] });
      i += frac[0].length;
      continue;
    }
    for (const [code, tok] of table) {
      if (fmt.startsWith(code, i)) {
        out.push(tok);
        i += code.length;
        continue outer;
      }
    }
    pushLit(out, fmt[i++]);
  }
  return out;
}

function percentTokens(fmt: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < fmt.length) {
    const c = fmt[i];
    if (c !== '%') {
      pushLit(out, c);
      i++;
      continue;
    }
    const m = /^%([-_0^]?)(\d*)(:{0,3}z|.)/.exec(fmt.slice(i));
    if (!m) {
      pushLit(out, c);
      i++;
      continue;
    }
    i += m[0].length;
    const flag = m[1];
    const pad = flag === '-' ? '' : flag === '_' ? ' ' : '0';
    const upper = flag === '^';
    const width = m[2] ? +m[2] : 0;
    switch (m[3]) {
      case '%': pushLit(out, '%'); break;
      case 'D': case 'x': out.push(...percentTokens('%Y-%m-%d')); break;
      case 'F': out.push(...percentTokens('%Y-%m-%dT%H:%M:%S.%N%:z')); break;
      case 'T': case 'X': out.push(...percentTokens('%H:%M:%S')); break;
      case 'R': out.push(...percentTokens('%H:%M')); break;
      case 'r': out.push(...percentTokens('%I:%M:%S %p')); break;
      case 'Y': out.push({ t: 'year', w: 4 }); break;
      case 'C': out.push({ t: 'century' }); break;
      case 'y': out.push({ t: 'year', w: 2 }); break;
      case 'm': out.push({ t: 'month', pad, w: 2 }); break;
      case 'B': out.push({ t: 'monthName', short: false, upper }); break;
      case 'b': case 'h': out.push({ t: 'monthName', short: true, upper }); break;
      case 'd': out.push({ t: 'day', pad, w: 2 }); break;
      case 'e': out.push({ t: 'day', pad: ' ', w: 2 }); break;
      case 'A': out.push({ t: 'dayName', short: false, upper }); break;
      case 'a': out.push({ t: 'dayName', short: true, upper }); break;
      case 'f': out.push({ t: 'suffix' }); break;
      case 'H': out.push({ t: 'hour', h12: false, pad }); break;
      case 'I': out.push({ t: 'hour', h12: true, pad }); break;
      case 'p': out.push({ t: 'ampm', lower: false }); break;
      case 'P': out.push({ t: 'ampm', lower: true }); break;
      case 'M': out.push({ t: 'minute', pad }); break;
      case 'S': out.push({ t: 'second', pad }); break;
      case 'N': out.push({ t: 'frac', n: width || 3, trim: false, sep: '' }); break;
      case 'z': out.push({ t: 'offset', style: 'hh:mm', z: false }); break;
      case ':z': out.push({ t: 'offset', style: 'hh:mm', z: false }); break;
      case '::z': out.push({ t: 'offset', style: 'hh:mm:ss', z: false }); break;
      case ':::z': out.push({ t: 'offset', style: 'min', z: false }); break;
      case 'Z': out.push({ t: 'zoneName' }); break;
      case 's': out.push({ t: 'epochSec' }); break;
      case 'V': out.push({ t: 'isoWeek' }); break;
      case 'G': out.push({ t: 'isoYear' }); break;
      case 'j': out.push({ t: 'yday', pad }); break;
      case 'q': out.push({ t: 'quarter' }); break;
      case 'w': out.push({ t: 'wdaySun' }); break;
      case 'u': out.push({ t: 'wdayMon' }); break;
      case 'U': out.push({ t: 'weekSun' }); break;
      case 'W': out.push({ t: 'weekMon' }); break;
      case '#': out.push({ t: 'epochHours', frac: false }); break;
      case '@': out.push({ t: 'epochHours', frac: true }); break;
      default: pushLit(out, m[0]);
    }
  }
  return out;
}

// ---- output ----

const padTo = (n: number, w: number, pad: string): string => (pad ? String(n).padStart(w, pad) : String(n));

function offsetText(min: number, style: string, z: boolean): string {
  if (z && min === 0) return 'Z';
  const sign = min < 0 ? '-' : '+';
  const a = Math.abs(min);
  const hh = String(Math.floor(a / 60)).padStart(2, '0');
  const mm = String(a % 60).padStart(2, '0');
  switch (style) {
    case 'hh': return sign + hh;
    case 'hhmm': return sign + hh + mm;
    case 'hh:mm:ss': return `${sign}${hh}:${mm}:00`;
    default: return `${sign}${hh}:${mm}`;
  }
}

function zoneAbbr(d: DateTime): string {
  if (!d.zone || d.zone === 'UTC') return d.offset === 0 ? 'UTC' : offsetText(d.offset, 'hh:mm', false);
  try {
    const p = new Intl.DateTimeFormat('en-US', { timeZone: d.zone, timeZoneName: 'short' }).formatToParts(d.ms).find((x) => x.type === 'timeZoneName');
    return p?.value ?? d.zone;
  } catch {
    return d.zone;
  }
}

export function formatDate(d: DateTime, fmt: string): string {
  return formatTokens(d, compileFormat(fmt));
}

/** The layout of an input date string, for results written "in the input's format". */
export function formatOf(s: string): Tok[] {
  return ISO_EXAMPLE.test(s.trim()) ? isoTokens(s) : compileFormat(DEFAULT_FORMAT);
}

export function formatTokens(d: DateTime, toks: Tok[]): string {
  const f = fields(d);
  let out = '';
  for (const k of toks) {
    switch (k.t) {
      case 'lit': out += k.s; break;
      case 'any': out += ' '; break;
      case 'year': out += k.w === 2 ? String(((f.year % 100) + 100) % 100).padStart(2, '0') : f.year < 0 ? '-' + String(-f.year).padStart(4, '0') : String(f.year).padStart(4, '0'); break;
      case 'century': out += String(Math.floor(f.year / 100)).padStart(2, '0'); break;
      case 'month': out += padTo(f.month, 2, k.pad); break;
      case 'monthName': { const n = k.short ? MONTHS[f.month - 1].slice(0, 3) : MONTHS[f.month - 1]; out += k.upper ? n.toUpperCase() : n; break; }
      case 'day': out += padTo(f.day, 2, k.pad); break;
      case 'yday': out += padTo(f.yday, 3, k.pad); break;
      case 'dayName': { const n = k.short ? WEEKDAYS[f.weekday].slice(0, 3) : WEEKDAYS[f.weekday]; out += k.upper ? n.toUpperCase() : n; break; }
      case 'hour': out += padTo(k.h12 ? f.hour % 12 || 12 : f.hour, 2, k.pad); break;
      case 'ampm': out += f.hour < 12 ? (k.lower ? 'am' : 'AM') : k.lower ? 'pm' : 'PM'; break;
      case 'minute': out += padTo(f.minute, 2, k.pad); break;
      case 'second': out += padTo(f.second, 2, k.pad); break;
      case 'frac': {
        let digits = String(f.milli).padStart(3, '0').padEnd(k.n, '0').slice(0, k.n);
        if (k.trim) digits = digits.replace(/0+$/, '');
        if (digits || !k.trim) out += (digits ? k.sep : '') + digits;
        break;
      }
      case 'offset': out += offsetText(d.offset, k.style === 'min' ? 'hh:mm' : k.style, k.z); break;
      case 'zoneName': out += d.zone ?? offsetText(d.offset, 'hh:mm', false); break;
      case 'zoneAbbr': out += zoneAbbr(d); break;
      case 'epochSec': out += String(Math.floor(d.ms / 1000)); break;
      case 'suffix': out += f.day % 10 === 1 && f.day !== 11 ? 'st' : f.day % 10 === 2 && f.day !== 12 ? 'nd' : f.day % 10 === 3 && f.day !== 13 ? 'rd' : 'th'; break;
      case 'isoWeek': out += String(isoWeek(f).week).padStart(2, '0'); break;
      case 'isoYear': out += String(isoWeek(f).year); break;
      case 'quarter': out += String(Math.ceil(f.month / 3)); break;
      case 'wdaySun': out += String(f.weekday); break;
      case 'wdayMon': out += String(f.weekday || 7); break;
      case 'weekSun': out += String(Math.floor((f.yday - 1 - f.weekday + 7) / 7)).padStart(2, '0'); break;
      case 'weekMon': out += String(Math.floor((f.yday - 1 - ((f.weekday + 6) % 7) + 7) / 7)).padStart(2, '0'); break;
      case 'epochHours': {
        const s = Math.floor(d.ms / 1000);
        out += `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
        if (k.frac) out += '.' + String(((d.ms % 1000) + 1000) % 1000).padStart(3, '0');
        break;
      }
    }
  }
  return out;
}

/** Couchbase's default output layout (Go's 2006-01-02T15:04:05.999Z07:00). */
export const DEFAULT_FORMAT = '2006-01-02T15:04:05.999Z07:00';

// ---- input ----

const ISO_INPUT = /^(?:([+-]?\d{4,})-(\d{1,2})-(\d{1,2}))?(?:(?:^|[T ])(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Parses a date string in one of the standard ISO-8601 formats; without an offset, the date is
 * read in `zone` (the local zone by default). Undefined when it is not a date.
 */
export function parseDate(s: string, zone = LOCAL_ZONE): DateTime | undefined {
  const m = ISO_INPUT.exec(s.trim());
  if (!m || (m[1] === undefined && m[4] === undefined)) return undefined;
  const y = m[1] !== undefined ? +m[1] : 1970;
  const mo = m[2] !== undefined ? +m[2] : 1;
  const d = m[3] !== undefined ? +m[3] : 1;
  const h = m[4] !== undefined ? +m[4] : 0;
  const mi = m[5] !== undefined ? +m[5] : 0;
  const sec = m[6] !== undefined ? +m[6] : 0;
  const milli = m[7] ? Math.floor(Number('0.' + m[7]) * 1000) : 0;
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || sec > 59) return undefined;
  const wall = utcFields(y, mo - 1, d, h, mi, sec, milli);
  return withZone(wall, m[8], zone);
}

function daysIn(y: number, mo: number): number {
  return new Date(utcFields(y, mo, 0, 0, 0, 0, 0)).getUTCDate();
}

function withZone(wall: number, off: string | undefined, zone: string): DateTime | undefined {
  if (off !== undefined) {
    const offset = parseOffset(off);
    if (offset === undefined) return undefined;
    return { ms: wall - offset * 60000, offset };
  }
  const ms = fromWall(wall, zone);
  if (ms === undefined) return undefined;
  return { ms, offset: zoneOffset(zone, ms)!, zone: zone === LOCAL_ZONE ? undefined : zone };
}

function parseOffset(off: string): number | undefined {
  if (off === 'Z') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?(?::?(\d{2}))?$/.exec(off);
  if (!m) return undefined;
  return (m[1] === '-' ? -1 : 1) * (+m[2] * 60 + +(m[3] ?? 0));
}

/** Parses `s` with an explicit format (any style); undefined when it does not match. */
export function parseWithFormat(s: string, fmt: string, zone = LOCAL_ZONE): DateTime | undefined {
  const toks = compileFormat(fmt);
  if (toks.length && isIsoExample(fmt)) return parseDate(s, zone);
  let i = 0;
  let year = 1970;
  let century: number | undefined;
  let yy: number | undefined;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let milli = 0;
  let pm: boolean | undefined;
  let off: string | undefined;
  let zoneName: string | undefined;
  let epoch: number | undefined;
  const num = (max: number): number | undefined => {
    const m = new RegExp(`^\\s*[+-]?\\d{1,${max}}`).exec(s.slice(i));
    if (!m) return undefined;
    i += m[0].length;
    return parseInt(m[0], 10);
  };
  const word = (list: string[], short: boolean): number | undefined => {
    for (let k = 0; k < list.length; k++) {
      const w = short ? list[k].slice(0, 3) : list[k];
      if (s.slice(i, i + w.length).toLowerCase() === w.toLowerCase()) {
        i += w.length;
        return k;
      }
    }
    return undefined;
  };
  for (const k of toks) {
    let v: number | undefined = 0;
    switch (k.t) {
      case 'lit':
        if (!s.startsWith(k.s, i)) return undefined;
        i += k.s.length;
        break;
      case 'any':
        if (i >= s.length) return undefined;
        i++;
        break;
      case 'year':
        v = num(k.w === 2 ? 2 : 6);
        if (k.w === 2) yy = v;
        else if (v !== undefined) year = v;
        break;
      case 'century': v = century = num(2); break;
      case 'month': v = num(2); if (v !== undefined) month = v; break;
      case 'monthName': v = word(MONTHS, k.short); if (v !== undefined) month = v + 1; break;
      case 'day': v = num(2); if (v !== undefined) day = v; break;
      case 'yday': v = num(3); if (v !== undefined) { month = 1; day = v; } break;
      case 'dayName': v = word(WEEKDAYS, k.short); break;
      case 'hour': v = num(2); if (v !== undefined) hour = v; break;
      case 'ampm': {
        const w = s.slice(i, i + 2).toUpperCase();
        if (w !== 'AM' && w !== 'PM') return undefined;
        pm = w === 'PM';
        i += 2;
        break;
      }
      case 'minute': v = num(2); if (v !== undefined) minute = v; break;
      case 'second': v = num(2); if (v !== undefined) second = v; break;
      case 'frac': {
        if (k.sep && (s[i] === '.' || s[i] === ',')) i++;
        const m = /^\d+/.exec(s.slice(i));
        if (m) {
          milli = Math.floor(Number('0.' + m[0]) * 1000);
          i += m[0].length;
        } else if (!k.trim) return undefined;
        break;
      }
      case 'offset':
      case 'zoneName':
      case 'zoneAbbr': {
        const m = /^(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?|[A-Za-z_]+(?:\/[A-Za-z0-9_+-]+)*)/.exec(s.slice(i));
        if (!m) return undefined;
        i += m[0].length;
        if (/^(Z|[+-])/.test(m[0])) off = m[0];
        else zoneName = m[0];
        break;
      }
      case 'epochSec': v = num(15); epoch = v; break;
      default:
        // Output-only components (week numbers, quarter, ...) consume digits when parsing.
        v = num(4);
    }
    if (v === undefined) return undefined;
  }
  if (i !== s.length) return undefined;
  if (epoch !== undefined) return { ms: epoch * 1000, offset: 0 };
  if (yy !== undefined) year = (century !== undefined ? century : yy >= 69 ? 19 : 20) * 100 + yy;
  else if (century !== undefined && year === 1970) year = century * 100;
  if (pm !== undefined) hour = (hour % 12) + (pm ? 12 : 0);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const wall = utcFields(year, month - 1, day, hour, minute, second, milli);
  if (zoneName !== undefined) {
    if (!isZone(zoneName)) return undefined;
    return withZone(wall, undefined, zoneName);
  }
  return withZone(wall, off, zone);
}
