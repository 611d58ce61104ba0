// Small shared pieces: loading state for async calls, error boxes, the bucket picker, a table
// of JSON rows.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { getJson } from './api';

export interface Async<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload(): void;
}

/** Runs `load` now, again whenever `deps` change or `reload()` is called, and every `pollMs`. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[], pollMs?: number): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const loader = useRef(load);
  loader.current = load;
  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    loader.current(ctl.signal).then(
      (data) => !ctl.signal.aborted && setState({ data, loading: false }),
      (err: Error) => !ctl.signal.aborted && setState((s) => ({ data: s.data, error: err.message, loading: false })),
    );
    let timer: number | undefined;
    if (pollMs !== undefined) timer = window.setTimeout(() => setTick((t) => t + 1), pollMs);
    return () => {
      ctl.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export function ErrorBox({ error, testId }: { error: string | undefined; testId?: string }) {
  if (!error) return null;
  return (
    <div class="error" role="alert" data-testid={testId ?? 'error'}>
      {error}
    </div>
  );
}

export function Notice({ text, testId }: { text: string | undefined; testId?: string }) {
  if (!text) return null;
  return (
    <div class="notice" role="status" data-testid={testId ?? 'notice'}>
      {text}
    </div>
  );
}

export interface BucketInfo {
  name: string;
  bucketType: string;
  replicaNumber: number;
  basicStats: { itemCount: number; memUsed?: number; opsPerSec?: number };
  quota: { rawRAM: number };
  controllers: { flush?: string };
}

export function useBuckets(pollMs?: number): Async<BucketInfo[]> {
  return useAsync((signal) => getJson<BucketInfo[]>('/pools/default/buckets?skipMap=true', signal), [], pollMs);
}

const LAST_BUCKET = 'deferbase.console.bucket';

/** The bucket the user worked with last (kept across pages and reloads). */
export function useBucketChoice(buckets: BucketInfo[] | undefined, filter: (b: BucketInfo) => boolean = () => true): [string | undefined, (b: string) => void] {
  const [chosen, setChosen] = useState<string | undefined>(() => localStorage.getItem(LAST_BUCKET) ?? undefined);
  const usable = (buckets ?? []).filter(filter);
  const current = usable.some((b) => b.name === chosen) ? chosen : usable[0]?.name;
  const choose = (b: string) => {
    localStorage.setItem(LAST_BUCKET, b);
    setChosen(b);
  };
  return [current, choose];
}

export function BucketPicker({ buckets, value, onChange, testId }: { buckets: BucketInfo[]; value: string | undefined; onChange: (b: string) => void; testId?: string }) {
  return (
    <label class="picker">
      Bucket{' '}
      <select value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)} data-testid={testId ?? 'bucket-picker'}>
        {buckets.map((b) => (
          <option value={b.name}>{b.name}</option>
        ))}
      </select>
    </label>
  );
}

export function formatBytes(n: number | undefined): string {
  if (n === undefined) return '-';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

function cell(v: unknown): string {
  if (v === undefined) return '';
  if (v === null) return 'null';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Rows of JSON objects as a table: one column per field seen (in first-seen order). */
export function JsonTable({ rows, testId }: { rows: unknown[]; testId?: string }) {
  const columns: string[] = [];
  const seen = new Set<string>();
  const objects = rows.map((r) => (r !== null && typeof r === 'object' && !Array.isArray(r) ? (r as Record<string, unknown>) : { $1: r }));
  for (const o of objects) for (const k of Object.keys(o)) if (!seen.has(k)) (seen.add(k), columns.push(k));
  return (
    <div class="table-wrap">
      <table class="grid" data-testid={testId}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th>{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {objects.slice(0, 2000).map((o) => (
            <tr>
              {columns.map((c) => (
                <td>{cell(o[c])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {objects.length > 2000 && <p class="muted">First 2,000 of {objects.length} rows shown; the JSON tab has them all.</p>}
    </div>
  );
}

export function Section({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="card">
      <header>
        <h2>{title}</h2>
        <div class="actions">{actions}</div>
      </header>
      {children}
    </section>
  );
}
