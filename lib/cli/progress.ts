// A progress bar that knows where it is drawn: on a TTY it redraws one line in place (at most
// every `redrawMs`); anywhere else (a pipe, a CI log) it prints a plain line every `lineMs`, so
// logs stay readable. Redraws are driven by update() calls, never by a timer: a synchronous loop
// (the blocking flavour) still gets its progress shown, and nothing keeps the process alive.

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  label: string;
  /** Expected final count; 0 or undefined: unknown (no bar, no percentage). */
  total?: number;
  stream: ProgressStream;
  /** Overrides stream.isTTY. */
  tty?: boolean;
  /** Minimum time between redraws on a TTY (default 100 ms). */
  redrawMs?: number;
  /** Time between plain lines off a TTY (default 1000 ms). */
  lineMs?: number;
  /** Unit shown with the rate (default "ops"). */
  unit?: string;
  /** Time source in ms (tests). */
  now?: () => number;
}

export class ProgressBar {
  readonly label: string;
  total: number;
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly redrawMs: number;
  private readonly lineMs: number;
  private readonly unit: string;
  private readonly now: () => number;
  private readonly startedAt: number;
  private lastDraw = -Infinity;
  private drawnWidth = 0;
  private current = 0;
  private extra = '';
  private finished = false;
  /** Rate over the last window, so the live figure follows changes quickly. */
  private windowStart: number;
  private windowCount = 0;
  private rate = 0;

  constructor(opts: ProgressOptions) {
    this.label = opts.label;
    this.total = opts.total ?? 0;
    this.stream = opts.stream;
    this.tty = opts.tty ?? opts.stream.isTTY === true;
    this.redrawMs = opts.redrawMs ?? 100;
    this.lineMs = opts.lineMs ?? 1000;
    this.unit = opts.unit ?? 'ops';
    this.now = opts.now ?? (() => performance.now());
    this.startedAt = this.now();
    this.windowStart = this.startedAt;
  }

  get value(): number {
    return this.current;
  }

  /** Sets the count done so far (and an optional note shown after the figures). */
  update(done: number, note?: string): void {
    if (this.finished) return;
    this.current = done;
    if (note !== undefined) this.extra = note;
    const t = this.now();
    if (t - this.lastDraw < (this.tty ? this.redrawMs : this.lineMs)) return;
    this.draw(t);
  }

  /** Draws the final state and ends the line. Safe to call twice. */
  finish(note?: string): void {
    if (this.finished) return;
    if (note !== undefined) this.extra = note;
    this.draw(this.now(), true);
    this.finished = true;
  }

  /** Overall rate since the start, per second. */
  averageRate(t = this.now()): number {
    const secs = (t - this.startedAt) / 1000;
    return secs > 0 ? this.current / secs : 0;
  }

  /** The text of the line as it would be drawn now (without control characters). */
  render(t = this.now(), final = false): string {
    const secs = (t - this.startedAt) / 1000;
    const rate = final ? this.averageRate(t) : this.rate || this.averageRate(t);
    const figures = `${this.current}${this.total > 0 ? `/${this.total}` : ''} ${formatRate(rate)} ${this.unit}/s ${secs.toFixed(1)}s`;
    const note = this.extra ? ` ${this.extra}` : '';
    if (this.total <= 0) return `${this.label}: ${figures}${note}`;
    const frac = Math.min(1, this.current / this.total);
    const pct = `${Math.floor(frac * 100)}%`.padStart(4);
    if (!this.tty) return `${this.label}: ${pct} ${figures}${note}`;
    const cols = this.stream.columns || 80;
    const width = Math.max(10, Math.min(40, cols - this.label.length - figures.length - note.length - 12));
    const filled = Math.round(frac * width);
    return `${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${pct} ${figures}${note}`;
  }

  private draw(t: number, final = false): void {
    const elapsed = t - this.windowStart;
    if (elapsed >= 250) {
      this.rate = ((this.current - this.windowCount) * 1000) / elapsed;
      this.windowStart = t;
      this.windowCount = this.current;
    }
    this.lastDraw = t;
    const text = this.render(t, final);
    if (this.tty) {
      // Pad over the previous, possibly longer, line instead of relying on terminal erase codes.
      const pad = this.drawnWidth > text.length ? ' '.repeat(this.drawnWidth - text.length) : '';
      this.drawnWidth = text.length;
      this.stream.write(`\r${text}${pad}${final ? '\n' : ''}`);
    } else {
      this.stream.write(text + '\n');
    }
  }
}

export function formatRate(r: number): string {
  if (r >= 100) return String(Math.round(r));
  return r.toFixed(1);
}
