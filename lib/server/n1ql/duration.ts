// Go's time.Duration text format, which Couchbase uses for `timeout` and the metrics.

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };

/** Milliseconds in a Go duration string ("1m30s", "75000ms", "1.5s"); undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  let m: RegExpExecArray | null;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    sign = s[0] === '-' ? -1 : 1;
    at = 1;
  }
  re.lastIndex = at;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * UNITS[m[2]];
    at = re.lastIndex;
  }
  if (at !== s.length || at === 0) return undefined;
  return sign * total;
}

/** A duration in nanoseconds as Go prints it ("1.234567ms", "12.5µs", "2.000001s"). */
export function formatDuration(ns: number): string {
  if (ns < 0) return '-' + formatDuration(-ns);
  if (ns === 0) return '0s';
  if (ns < 1e3) return `${Math.round(ns)}ns`;
  if (ns < 1e6) return `${trim(ns / 1e3)}µs`;
  if (ns < 1e9) return `${trim(ns / 1e6)}ms`;
  let rest = ns / 1e9;
  let out = '';
  if (rest >= 3600) {
    const h = Math.floor(rest / 3600);
    out += `${h}h`;
    rest -= h * 3600;
  }
  if (rest >= 60 || out) {
    const m = Math.floor(rest / 60);
    out += `${m}m`;
    rest -= m * 60;
  }
  return `${out}${trim(rest)}s`;
}

function trim(x: number): string {
  return x.toFixed(6).replace(/\.?0+$/, '');
}
