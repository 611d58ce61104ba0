// Date helpers for the N1QL date functions. The embedded server runs in UTC: strings without a
// zone are read as UTC and results are written in UTC ("Z").

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/;
const TIME_ONLY = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*(Z|[+-]\d{2}:?\d{2})?$/;

export function strToMillis(s: string): number | null {
  let m = ISO.exec(s.trim());
  let y = 1970;
  let mo = 1;
  let d = 1;
  let h = 0;
  let mi = 0;
  let sec = 0;
  let frac = '';
  let zone: string | undefined;
  if (m) {
    y = +m[1];
    mo = +m[2];
    d = +m[3];
    h = +(m[4] ?? 0);
    mi = +(m[5] ?? 0);
    sec = +(m[6] ?? 0);
    frac = m[7] ?? '';
    zone = m[8];
  } else {
    m = TIME_ONLY.exec(s.trim());
    if (!m) return null;
    h = +m[1];
    mi = +m[2];
    sec = +(m[3] ?? 0);
    frac = m[4] ?? '';
    zone = m[5];
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return null;
  let ms = Date.UTC(y, mo - 1, d, h, mi, sec, frac ? Math.floor(Number('0.' + frac) * 1000) : 0);
  if (y < 100) ms = new Date(ms).setUTCFullYear(y);
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (+digits.slice(0, 2) * 60 + +digits.slice(2, 4)) * 60000;
  }
  return ms;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Formats like Couchbase: the format is an example date string (or a Go/strftime-ish layout). */
export function millisToStr(ms: number, fmt?: string): string | null {
  const dt = new Date(ms);
  if (Number.isNaN(dt.getTime())) return null;
  const Y = dt.getUTCFullYear();
  const date = `${pad(Y, 4)}-${pad(dt.getUTCMonth() + 1)}-${pad(dt.getUTCDate())}`;
  const time = `${pad(dt.getUTCHours())}:${pad(dt.getUTCMinutes())}:${pad(dt.getUTCSeconds())}`;
  const millis = dt.getUTCMilliseconds();
  if (fmt === undefined || fmt === '') {
    const frac = millis ? '.' + pad(millis, 3).replace(/0+$/, '') : '';
    return `${date}T${time}${frac}Z`;
  }
  if (/YYYY|hh|HH/.test(fmt)) {
    return fmt
      .replace(/YYYY/g, pad(Y, 4))
      .replace(/MM/g, pad(dt.getUTCMonth() + 1))
      .replace(/DD/g, pad(dt.getUTCDate()))
      .replace(/hh|HH/g, pad(dt.getUTCHours()))
      .replace(/mm/g, pad(dt.getUTCMinutes()))
      .replace(/ss/g, pad(dt.getUTCSeconds()))
      .replace(/s{1,3}/g, pad(millis, 3));
  }
  const hasDate = /\d{4}-\d{2}-\d{2}/.test(fmt);
  const hasTime = /\d{2}:\d{2}(:\d{2})?/.test(fmt);
  const fracMatch = /:\d{2}\.(\d+)/.exec(fmt);
  const zone = /(Z|[+-]\d{2}:?\d{2})$/.test(fmt.trim()) && hasTime;
  let out = '';
  if (hasDate) out += date;
  if (hasTime) {
    if (hasDate) out += fmt.includes('T') ? 'T' : ' ';
    out += time;
    if (fracMatch) out += '.' + pad(millis, 3).slice(0, fracMatch[1].length).padEnd(fracMatch[1].length, '0');
    if (zone) out += 'Z';
  }
  return out || `${date}T${time}Z`;
}

const PART_ALIASES: Record<string, string> = {
  doy: 'day_of_year',
  dow: 'day_of_week',
  ms: 'millisecond',
  milliseconds: 'millisecond',
  seconds: 'second',
  minutes: 'minute',
  hours: 'hour',
  days: 'day',
  weeks: 'week',
  months: 'month',
  years: 'year',
};

function partName(p: string): string {
  const l = p.toLowerCase();
  return PART_ALIASES[l] ?? l;
}

const FIXED: Record<string, number> = { millisecond: 1, second: 1000, minute: 60000, hour: 3600000, day: 86400000, week: 7 * 86400000 };

export function dateAddMillis(ms: number, n: number, part: string): number | null {
  const p = partName(part);
  if (FIXED[p]) return ms + n * FIXED[p];
  const months = { month: 1, quarter: 3, year: 12, decade: 120, century: 1200, millennium: 12000 }[p];
  if (!months) return null;
  const d = new Date(ms);
  d.setUTCMonth(d.getUTCMonth() + n * months);
  return d.getTime();
}

export function dateDiffMillis(a: number, b: number, part: string): number | null {
  const p = partName(part);
  if (FIXED[p]) return Math.trunc(dateTruncMillis(a, p)! / FIXED[p]) - Math.trunc(dateTruncMillis(b, p)! / FIXED[p]);
  const da = new Date(a);
  const db = new Date(b);
  const monthsA = da.getUTCFullYear() * 12 + da.getUTCMonth();
  const monthsB = db.getUTCFullYear() * 12 + db.getUTCMonth();
  switch (p) {
    case 'month':
      return monthsA - monthsB;
    case 'quarter':
      return Math.floor(monthsA / 3) - Math.floor(monthsB / 3);
    case 'year':
      return da.getUTCFullYear() - db.getUTCFullYear();
    case 'decade':
      return Math.floor(da.getUTCFullYear() / 10) - Math.floor(db.getUTCFullYear() / 10);
    case 'century':
      return Math.floor(da.getUTCFullYear() / 100) - Math.floor(db.getUTCFullYear() / 100);
    case 'millennium':
      return Math.floor(da.getUTCFullYear() / 1000) - Math.floor(db.getUTCFullYear() / 1000);
  }
  return null;
}

function isoWeek(d: Date): { week: number; year: number } {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  return { week: Math.ceil(((t.getTime() - yearStart) / 86400000 + 1) / 7), year: t.getUTCFullYear() };
}

export function datePartMillis(ms: number, part: string): number | null {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  switch (partName(part)) {
    case 'millennium':
      return Math.floor(y / 1000) + 1;
    case 'century':
      return Math.floor(y / 100) + 1;
    case 'decade':
      return Math.floor(y / 10);
    case 'year':
      return y;
    case 'quarter':
      return Math.floor(d.getUTCMonth() / 3) + 1;
    case 'month':
      return d.getUTCMonth() + 1;
    case 'week':
      return Math.ceil((Math.floor((ms - Date.UTC(y, 0, 1)) / 86400000) + 1) / 7);
    case 'day':
      return d.getUTCDate();
    case 'hour':
      return d.getUTCHours();
    case 'minute':
      return d.getUTCMinutes();
    case 'second':
      return d.getUTCSeconds();
    case 'millisecond':
      return d.getUTCMilliseconds();
    case 'day_of_year':
      return Math.floor((ms - Date.UTC(y, 0, 1)) / 86400000) + 1;
    case 'day_of_week':
      return d.getUTCDay();
    case 'iso_week':
      return isoWeek(d).week;
    case 'iso_year':
      return isoWeek(d).year;
    case 'iso_dow':
      return d.getUTCDay() || 7;
    case 'timezone':
    case 'timezone_hour':
    case 'timezone_minute':
      return 0;
  }
  return null;
}

export function dateTruncMillis(ms: number, part: string): number | null {
  const p = partName(part);
  if (p === 'millisecond') return ms;
  if (p === 'second' || p === 'minute' || p === 'hour' || p === 'day') return ms - (((ms % FIXED[p]) + FIXED[p]) % FIXED[p]);
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  switch (p) {
    case 'week':
      return Date.UTC(y, d.getUTCMonth(), d.getUTCDate() - d.getUTCDay());
    case 'month':
      return Date.UTC(y, d.getUTCMonth(), 1);
    case 'quarter':
      return Date.UTC(y, d.getUTCMonth() - (d.getUTCMonth() % 3), 1);
    case 'year':
      return Date.UTC(y, 0, 1);
    case 'decade':
      return Date.UTC(y - (y % 10), 0, 1);
    case 'century':
      return Date.UTC(y - (y % 100), 0, 1);
    case 'millennium':
      return Date.UTC(y - (y % 1000), 0, 1);
  }
  return null;
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export function weekdayMillis(ms: number): string {
  return WEEKDAYS[new Date(ms).getUTCDay()];
}
