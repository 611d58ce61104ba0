// Date functions (see ./datetime for dates, zones and formats). *_MILLIS functions take epoch
// milliseconds and work in the local zone (UTC here) unless given a zone; *_STR functions keep
// the offset and the format of the date string they are given.
import { formatDuration, parseDuration } from '../duration';
import { family, def, isInt, isNum, isStr, type FunctionContext, type FunctionDef } from './registry';
import { DEFAULT_FORMAT, fields, formatDate, formatOf, formatTokens, inZone, isoWeek, LOCAL_ZONE, parseDate, parseWithFormat, utcFields, WEEKDAYS, zoneOffset, type DateTime, type Tok } from './datetime';
import { QueryError, ErrorCode } from '../errors';
import type { Value } from '../value';

family({ floatArgs: true });

const PART_ALIASES: Record<string, string> = {
  doy: 'day_of_year', dow: 'day_of_week', ms: 'millisecond', milliseconds: 'millisecond', seconds: 'second', minutes: 'minute',
  hours: 'hour', days: 'day', weeks: 'week', months: 'month', years: 'year', quarters: 'quarter', decades: 'decade', centuries: 'century',
  millennia: 'millennium', millenium: 'millennium', calendar_month: 'month',
};
const part = (p: string): string => {
  const l = p.toLowerCase();
  return PART_ALIASES[l] ?? l;
};

const FIXED: Record<string, number> = { millisecond: 1, second: 1000, minute: 60000, hour: 3600000, day: 86400000, week: 7 * 86400000 };
const MONTHS_IN: Record<string, number> = { month: 1, quarter: 3, year: 12, decade: 120, century: 1200, millennium: 12000 };

/** `d` moved by n parts on its own wall clock (Go's AddDate rules for calendar parts). */
export function addTo(d: DateTime, n: number, p: string): DateTime | undefined {
  if (p.toLowerCase() === 'calendar_month') return addCalendarMonths(d, n);
  const q = part(p);
  if (FIXED[q]) return { ...d, ms: d.ms + n * FIXED[q] };
  const months = MONTHS_IN[q];
  if (!months) return undefined;
  const t = new Date(d.ms + d.offset * 60000);
  t.setUTCMonth(t.getUTCMonth() + n * months);
  const ms = t.getTime() - d.offset * 60000;
  if (d.zone) return inZone(ms, d.zone);
  return { ...d, ms };
}

const daysIn = (year: number, month0: number): number => new Date(utcFields(year, month0 + 1, 0, 0, 0, 0, 0)).getUTCDate();

/**
 * 'calendar_month': months that stay inside the month they land in, where 'month' overflows as
 * Go's AddDate does (Jan 31 + 1 month is Mar 3). The day is clamped to the target month's length,
 * and the last day of a month stays the last day (Apr 30 + 1 is May 31).
 */
function addCalendarMonths(d: DateTime, n: number): DateTime | undefined {
  const f = fields(d);
  const m = f.year * 12 + f.month - 1 + n;
  const year = Math.floor(m / 12);
  const month0 = m - year * 12;
  const last = daysIn(year, month0);
  const day = f.day === daysIn(f.year, f.month - 1) ? last : Math.min(f.day, last);
  const ms = utcFields(year, month0, day, f.hour, f.minute, f.second, f.milli) - d.offset * 60000;
  return d.zone ? inZone(ms, d.zone) : { ...d, ms };
}

export function partOf(d: DateTime, p: string): number | undefined {
  const f = fields(d);
  switch (part(p)) {
    case 'millennium': return Math.floor(f.year / 1000) + 1;
    case 'century': return Math.floor(f.year / 100) + 1;
    case 'decade': return Math.floor(f.year / 10);
    case 'year': return f.year;
    case 'quarter': return Math.floor((f.month - 1) / 3) + 1;
    case 'month': return f.month;
    case 'week': return Math.ceil(f.yday / 7);
    case 'day': return f.day;
    case 'hour': return f.hour;
    case 'minute': return f.minute;
    case 'second': return f.second;
    case 'millisecond': return f.milli;
    case 'day_of_year': return f.yday;
    case 'day_of_week': return f.weekday;
    case 'iso_week': return isoWeek(f).week;
    case 'iso_year': return isoWeek(f).year;
    case 'iso_dow': return f.weekday || 7;
    case 'timezone': return d.offset * 60;
    case 'timezone_hour': return Math.trunc(d.offset / 60);
    case 'timezone_minute': return d.offset % 60;
  }
  return undefined;
}

export function truncTo(d: DateTime, p: string): DateTime | undefined {
  const f = fields(d);
  let wall: number;
  switch (part(p)) {
    case 'millisecond': return d;
    case 'second': wall = utcFields(f.year, f.month - 1, f.day, f.hour, f.minute, f.second, 0); break;
    case 'minute': wall = utcFields(f.year, f.month - 1, f.day, f.hour, f.minute, 0, 0); break;
    case 'hour': wall = utcFields(f.year, f.month - 1, f.day, f.hour, 0, 0, 0); break;
    case 'day': wall = utcFields(f.year, f.month - 1, f.day, 0, 0, 0, 0); break;
    case 'week': wall = utcFields(f.year, f.month - 1, f.day - f.weekday, 0, 0, 0, 0); break;
    case 'iso_week': wall = utcFields(f.year, f.month - 1, f.day - ((f.weekday + 6) % 7), 0, 0, 0, 0); break;
    case 'month': wall = utcFields(f.year, f.month - 1, 1, 0, 0, 0, 0); break;
    case 'quarter': wall = utcFields(f.year, f.month - 1 - ((f.month - 1) % 3), 1, 0, 0, 0, 0); break;
    case 'year': wall = utcFields(f.year, 0, 1, 0, 0, 0, 0); break;
    case 'decade': wall = utcFields(f.year - (((f.year % 10) + 10) % 10), 0, 1, 0, 0, 0, 0); break;
    case 'century': wall = utcFields(f.year - (((f.year % 100) + 100) % 100), 0, 1, 0, 0, 0, 0); break;
    case 'millennium': wall = utcFields(f.year - (((f.year % 1000) + 1000) % 1000), 0, 1, 0, 0, 0, 0); break;
    default: return undefined;
  }
  return { ...d, ms: wall - d.offset * 60000 };
}

/** a - b counted in whole parts, each date read on its own wall clock. */
export function diff(a: DateTime, b: DateTime, p: string): number | undefined {
  const q = part(p);
  if (FIXED[q]) {
    const ta = truncTo(a, q);
    const tb = truncTo(b, q);
    if (!ta || !tb) return undefined;
    return Math.round((ta.ms + a.offset * 60000 - (tb.ms + b.offset * 60000)) / FIXED[q]);
  }
  const fa = fields(a);
  const fb = fields(b);
  const ma = fa.year * 12 + fa.month - 1;
  const mb = fb.year * 12 + fb.month - 1;
  switch (q) {
    case 'month': return ma - mb;
    case 'quarter': return Math.floor(ma / 3) - Math.floor(mb / 3);
    case 'year': return fa.year - fb.year;
    case 'decade': return Math.floor(fa.year / 10) - Math.floor(fb.year / 10);
    case 'century': return Math.floor(fa.year / 100) - Math.floor(fb.year / 100);
    case 'millennium': return Math.floor(fa.year / 1000) - Math.floor(fb.year / 1000);
  }
  return undefined;
}

// ---- argument helpers ----

/** The date of a *_MILLIS argument, in `zone` when one is given (else the local zone). */
function fromMillis(ms: Value, zone?: Value): DateTime | undefined | null {
  if (!isNum(ms) || (zone !== undefined && !isStr(zone))) return null;
  return inZone(Math.trunc(ms), zone ?? LOCAL_ZONE) ?? undefined;
}

/** The date of a *_STR argument (with the optional explicit input format). */
function fromStr(s: Value, fmt?: Value): DateTime | undefined | null {
  if (!isStr(s) || (fmt !== undefined && !isStr(fmt))) return null;
  return fmt === undefined ? parseDate(s) : parseWithFormat(s, fmt);
}

/** `d` written with a user-given format argument (NULL when the format is not a string). */
const out = (d: DateTime | undefined, fmt: Value): Value => (d !== undefined && isStr(fmt) ? formatDate(d, fmt) : null);
/** `d` written in the layout of an input date string. */
const outLike = (d: DateTime | undefined, toks: Tok[]): Value => (d === undefined ? null : formatTokens(d, toks));

function zoneArg(z: Value): string | undefined {
  return isStr(z) && zoneOffset(z, 0) !== undefined ? z : undefined;
}

// ---- clock ----
const nowOf = (ctx: FunctionContext, clock: boolean): number => (clock ? Date.now() : ctx.now);
for (const clock of [false, true]) {
  const p = clock ? 'clock' : 'now';
  def(`${p}_millis`, 0, 0, (_, ctx) => nowOf(ctx, clock), true, clock);
  def(`${p}_str,${p}_local`, 0, 1, ([fmt], ctx) => out(inZone(nowOf(ctx, clock), LOCAL_ZONE), fmt ?? DEFAULT_FORMAT), true, clock);
  def(`${p}_utc`, 0, 1, ([fmt], ctx) => out(inZone(nowOf(ctx, clock), 'UTC'), fmt ?? DEFAULT_FORMAT), true, clock);
  def(`${p}_tz`, 1, 2, ([z, fmt], ctx) => {
    const zone = zoneArg(z);
    return zone === undefined ? null : out(inZone(nowOf(ctx, clock), zone), fmt ?? DEFAULT_FORMAT);
  }, true, clock);
}

// ---- conversions ----
def('millis,str_to_millis', 1, 2, ([s, fmt]) => {
  const d = fromStr(s, fmt);
  return d ? d.ms : null;
});
def('millis_to_str,millis_to_local', 1, 2, ([ms, fmt]) => out(fromMillis(ms) ?? undefined, fmt ?? DEFAULT_FORMAT));
def('millis_to_utc', 1, 2, ([ms, fmt]) => out(fromMillis(ms, 'UTC') ?? undefined, fmt ?? DEFAULT_FORMAT));
def('millis_to_zone_name,millis_to_tz', 2, 3, ([ms, z, fmt]) => {
  const zone = zoneArg(z);
  return zone === undefined ? null : out(fromMillis(ms, zone) ?? undefined, fmt ?? DEFAULT_FORMAT);
});
def('str_to_utc', 1, 2, ([s, fmt]) => {
  const d = fromStr(s, fmt);
  return d ? (fmt === undefined ? outLike(inZone(d.ms, 'UTC'), formatOf(s as string)) : out(inZone(d.ms, 'UTC'), fmt)) : null;
});
def('str_to_zone_name,str_to_tz', 2, 3, ([s, z, fmt]) => {
  const zone = zoneArg(z);
  const d = fromStr(s);
  return d && zone !== undefined ? (fmt === undefined ? outLike(inZone(d.ms, zone), formatOf(s as string)) : out(inZone(d.ms, zone), fmt)) : null;
});
def('date_format_str', 2, 2, ([s, fmt]) => {
  const d = fromStr(s);
  return d && isStr(fmt) ? formatDate(d, fmt) : null;
});
def('weekday_millis', 1, 2, ([ms, z]) => {
  const d = fromMillis(ms, z);
  return d ? WEEKDAYS[fields(d).weekday] : null;
});
def('weekday_str', 1, 1, ([s]) => {
  const d = fromStr(s);
  return d ? WEEKDAYS[fields(d).weekday] : null;
});

// ---- arithmetic ----
def('date_add_millis', 3, 3, ([ms, n, p]) => {
  const d = fromMillis(ms);
  if (!d || !isInt(n) || !isStr(p)) return null;
  return addTo(d, n, p)?.ms ?? null;
});
def('date_add_str', 3, 3, ([s, n, p]) => {
  const d = fromStr(s);
  if (!d || !isInt(n) || !isStr(p)) return null;
  return outLike(addTo(d, n, p), formatOf(s as string));
});
function diffFn(abs: boolean, millis: boolean): FunctionDef['fn'] {
  return ([a, b, p]) => {
    const x = millis ? fromMillis(a) : fromStr(a);
    const y = millis ? fromMillis(b) : fromStr(b);
    if (!x || !y || !isStr(p)) return null;
    const r = diff(x, y, p);
    return r === undefined ? null : abs ? Math.abs(r) : r;
  };
}
def('date_diff_millis', 3, 3, diffFn(false, true));
def('date_diff_str', 3, 3, diffFn(false, false));
def('date_diff_abs_millis', 3, 3, diffFn(true, true));
def('date_diff_abs_str', 3, 3, diffFn(true, false));
def('date_part_millis', 2, 3, ([ms, p, z]) => {
  const d = fromMillis(ms, z);
  return d && isStr(p) ? partOf(d, p) ?? null : null;
});
def('date_part_str', 2, 2, ([s, p]) => {
  const d = fromStr(s);
  return d && isStr(p) ? partOf(d, p) ?? null : null;
});
def('date_trunc_millis', 2, 3, ([ms, p, z]) => {
  const d = fromMillis(ms, z);
  return d && isStr(p) ? truncTo(d, p)?.ms ?? null : null;
});
def('date_trunc_str', 2, 2, ([s, p]) => {
  const d = fromStr(s);
  return d && isStr(p) ? outLike(truncTo(d, p), formatOf(s as string)) : null;
});

/** The most elements a DATE_RANGE_* builds (the query service's RANGE_LIMIT, as ARRAY_RANGE's). */
const RANGE_LIMIT = 1 << 20;

/**
 * DATE_RANGE_*: from start (inclusive) towards end (exclusive) in steps of n parts. Each element is
 * the previous one moved by n parts (so 'month' drifts as AddDate overflows: Jan 31, Mar 2, Apr 2),
 * except 'calendar_month', whose k-th element is start moved by k*n months (Jan 30, Feb 29, Mar 30).
 * The size is checked before anything is built: a range over RANGE_LIMIT elements is error 5035.
 */
function range(start: DateTime, end: DateTime, p: string, n: number, fn: string, ctx: FunctionContext): DateTime[] | undefined {
  if (start.ms === end.ms) return [];
  if (n === 0) return [start];
  if (n > 0 ? start.ms > end.ms : start.ms < end.ms) return [];
  const span = diff(start, end, p);
  if (span === undefined) return undefined;
  const outOfRange = () => new QueryError(ErrorCode.RANGE, `Out of range evaluating ${fn}().`);
  if (Math.abs(span) / Math.abs(n) > RANGE_LIMIT) throw outOfRange();
  const fromStart = p.toLowerCase() === 'calendar_month';
  const outList: DateTime[] = [];
  for (let d: DateTime | undefined = start, k = 1; n > 0 ? d.ms < end.ms : d.ms > end.ms; k++) {
    ctx.checkDeadline();
    // diff counts whole parts on the wall clock, so an offset change can add an element or two.
    if (outList.length > RANGE_LIMIT) throw outOfRange();
    outList.push(d);
    d = fromStart ? addTo(start, n * k, p) : addTo(d, n, p);
    if (!d) return undefined;
  }
  return outList;
}
def('date_range_millis', 3, 4, ([a, b, p, n], ctx) => {
  const x = fromMillis(a);
  const y = fromMillis(b);
  if (!x || !y || !isStr(p) || (n !== undefined && !isInt(n))) return null;
  return range(x, y, p, n ?? 1, 'DATE_RANGE_MILLIS', ctx)?.map((d) => d.ms) ?? null;
});
def('date_range_str', 3, 4, ([a, b, p, n], ctx) => {
  const x = fromStr(a);
  const y = fromStr(b);
  if (!x || !y || !isStr(p) || (n !== undefined && !isInt(n))) return null;
  const fmt = formatOf(a as string);
  return range(x, y, p, n ?? 1, 'DATE_RANGE_STR', ctx)?.map((d) => formatTokens(d, fmt)) ?? null;
});

// ---- durations (Go's time.Duration, in nanoseconds) ----
def('duration_to_str', 1, 1, ([ns]) => (isNum(ns) ? formatDuration(ns) : null));
def('str_to_duration', 1, 1, ([s]) => {
  if (!isStr(s)) return null;
  const ms = parseDuration(s);
  return ms === undefined ? null : Math.round(ms * 1e6);
});
