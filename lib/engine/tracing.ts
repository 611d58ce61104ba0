// libcouchbase 2.10's threshold logging tracer (Python SDK 2.5's tracing_* Bucket properties):
// operations slower than their service's threshold, and responses that arrive after their
// operation gave up ("orphans"), are kept per service — the slowest `queue size` of each — and
// reported every flush interval as libcouchbase reports them:
//   Operations over threshold: {"service":"kv","count":N,"top":[{"operation_name":...,"total_us":...}, ...]}
//   Orphan responses observed: {"service":"kv","count":N,"top":[...]}
// through the debug logger `deferbase:tracing` (DEBUG=deferbase:tracing), or the function given.
// With log redaction on, user data in the engine's log lines (keys, view paths) is wrapped
// in <ud>...</ud>, as libcouchbase's LCB_CNTL_LOG_REDACTION does.
import createDebug from 'debug';
import type { ConnOptions } from './connstr';

const debug = createDebug('deferbase:tracing');

export type TracedService = 'kv' | 'n1ql' | 'view' | 'fts' | 'analytics';

/** The tracer's settings: the connection string's tracing_* options (seconds; queue sizes are counts). */
export type TracingSettings = Pick<
  ConnOptions,
  | 'tracing_threshold_kv'
  | 'tracing_threshold_n1ql'
  | 'tracing_threshold_view'
  | 'tracing_threshold_fts'
  | 'tracing_threshold_analytics'
  | 'tracing_threshold_queue_size'
  | 'tracing_threshold_queue_flush_interval'
  | 'tracing_orphaned_queue_size'
  | 'tracing_orphaned_queue_flush_interval'
>;

/** One operation as the report lists it (libcouchbase's field names). */
export interface SpanReport {
  operation_name: string;
  last_operation_id: string;
  last_local_id?: string;
  last_remote_address?: string;
  /** Absent for orphans: their operation is gone. */
  total_us?: number;
  server_us?: number;
}

/** What orders a report: the total time, or (orphans) the server's. */
const weight = (s: SpanReport): number => s.total_us ?? s.server_us ?? 0;

/** The slowest `size` spans of one service since the last flush, and how many there were. */
class TopSpans {
  count = 0;
  readonly spans: SpanReport[] = [];

  add(span: SpanReport, size: number): void {
    this.count++;
    if (size <= 0) return;
    const s = this.spans;
    if (s.length >= size && weight(span) <= weight(s[s.length - 1])) return;
    let i = s.length;
    while (i > 0 && weight(s[i - 1]) < weight(span)) i--;
    s.splice(i, 0, span);
    if (s.length > size) s.pop();
  }

  take(service: TracedService): string | null {
    if (this.count === 0) return null;
    const line = JSON.stringify({ service, count: this.count, top: this.spans.splice(0) });
    this.count = 0;
    return line;
  }
}

const SERVICES: readonly TracedService[] = ['kv', 'n1ql', 'view', 'fts', 'analytics'];

export class ThresholdTracer {
  private readonly over = new Map<TracedService, TopSpans>(SERVICES.map((s) => [s, new TopSpans()]));
  private readonly orphans = new Map<TracedService, TopSpans>(SERVICES.map((s) => [s, new TopSpans()]));
  private overTimer: NodeJS.Timeout | null = null;
  private orphanTimer: NodeJS.Timeout | null = null;
  /** The KV threshold in milliseconds (the hot path compares against it). */
  kvThresholdMs = 0;

  constructor(
    private readonly settings: TracingSettings,
    private readonly log: (line: string) => void = (line) => debug('%s', line),
  ) {
    this.reconfigure();
  }

  /** Takes the settings' current values (called after any of them changed). */
  reconfigure(): void {
    this.kvThresholdMs = this.settings.tracing_threshold_kv * 1000;
    this.stopTimers();
    const every = (seconds: number, fn: () => void): NodeJS.Timeout => {
      const t = setInterval(fn, Math.max(1, seconds * 1000));
      t.unref();
      return t;
    };
    this.overTimer = every(this.settings.tracing_threshold_queue_flush_interval, () => this.flushOver());
    this.orphanTimer = every(this.settings.tracing_orphaned_queue_flush_interval, () => this.flushOrphans());
  }

  thresholdMs(service: TracedService): number {
    return this.settings[`tracing_threshold_${service}`] * 1000;
  }

  /** An operation of `service` that took `totalMs`: kept when over the threshold. */
  finished(service: TracedService, totalMs: number, span: Omit<SpanReport, 'total_us'>): void {
    if (totalMs < this.thresholdMs(service)) return;
    this.over.get(service)!.add({ ...span, total_us: Math.round(totalMs * 1000) }, this.settings.tracing_threshold_queue_size);
  }

  /** A response no operation waited for any more. */
  orphan(service: TracedService, span: SpanReport): void {
    this.orphans.get(service)!.add(span, this.settings.tracing_orphaned_queue_size);
  }

  flushOver(): void {
    for (const [service, q] of this.over) {
      const line = q.take(service);
      if (line !== null) this.log(`Operations over threshold: ${line}`);
    }
  }

  flushOrphans(): void {
    for (const [service, q] of this.orphans) {
      const line = q.take(service);
      if (line !== null) this.log(`Orphan responses observed: ${line}`);
    }
  }

  private stopTimers(): void {
    if (this.overTimer) clearInterval(this.overTimer);
    if (this.orphanTimer) clearInterval(this.orphanTimer);
    this.overTimer = this.orphanTimer = null;
  }

  /** Reports what is queued and stops (the engine closed). */
  stop(): void {
    this.stopTimers();
    this.flushOver();
    this.flushOrphans();
  }
}

/** User data in a log line: wrapped in <ud>...</ud> when redaction is on (libcouchbase's LCB_LOG_UD). */
export function userData(redact: boolean, text: string): string {
  return redact ? `<ud>${text}</ud>` : text;
}
