// What N1QL and views share: the handler contract, the control handed back to the caller, and
// the request that wires an HTTP response through the row parser to the handler.
import createDebug from 'debug';
import { CancelledError, CouchbaseError, HTTPError, NetworkError, NotSupportedError } from '../errors';
import { httpStream, type HttpControl, type HttpTarget } from '../http';
import { RowParseError, RowStreamParser } from './row-parser';
import type { ServiceHost } from './host';
import { userData } from '../tracing';

const debug = createDebug('deferbase:engine:stream');

/** Receives a streamed result. Exactly one of onDone / onError is called, last. */
export interface RowsHandler<Row = unknown, Meta = Record<string, unknown>> {
  /** A batch of rows, in order, as they were parsed off the socket. */
  onRows(rows: Row[]): void;
  /** Everything in the response but the rows (status, metrics, signature, requestID, total_rows...). */
  onDone(meta: Meta): void;
  onError(err: CouchbaseError): void;
}

/** Returned by engine.n1ql / engine.view. */
export interface StreamControl {
  /** Stops reading the socket; rows stop arriving (TCP backpressure reaches the server). */
  pause(): void;
  resume(): void;
  /** Aborts the request; the handler then gets onError(CancelledError), unless it already finished. */
  cancel(): void;
  readonly done: boolean;
}

export interface StreamRequestSpec {
  service: 'n1ql' | 'capi';
  method: 'GET' | 'POST';
  path: string;
  body: string | null;
  contentType: string;
  timeoutMs: number;
  rowsKey: string;
  /** Turns the finished body (meta) and HTTP status into the error to report, or null. */
  errorOf(status: number, meta: Record<string, unknown>): CouchbaseError | null;
  /** Error for a non-JSON / unparsable body with this HTTP status. */
  errorForBadBody(status: number, text: string): CouchbaseError;
}

export class StreamRequest implements StreamControl {
  done = false;
  private http: HttpControl | null = null;
  private paused = false;
  private cancelled = false;
  private untrack: (() => void) | null = null;

  constructor(
    private readonly host: ServiceHost,
    private readonly spec: StreamRequestSpec,
    private readonly handler: RowsHandler,
  ) {}

  start(): this {
    this.untrack = this.host.trackStream(this);
    this.host.whenConnected((err) => {
      if (this.done) return;
      if (err) return this.fail(err);
      const target = this.host.serviceTarget(this.spec.service);
      if (!target) {
        return this.fail(new NotSupportedError(`no node of the cluster runs the ${this.spec.service === 'n1ql' ? 'query (n1ql)' : 'views (capi)'} service`));
      }
      this.send(target);
    });
    return this;
  }

  private send(target: HttpTarget): void {
    const spec = this.spec;
    let status = 0;
    let parser: RowStreamParser | null = null;
    let textBody: Buffer[] | null = null;
    let failed = false;
    const deliver = (rows: unknown[]): void => {
      if (!this.done) this.handler.onRows(rows);
    };
    debug('%s %s on %s:%d', spec.method, userData(this.host.options.log_redaction, spec.path), target.host, target.port);
    const started = this.host.tracer ? performance.now() : 0;
    const remote = `${target.host}:${target.port}`;
    this.http = httpStream(this.host.agents, target, spec.method, spec.path, this.host.auth, spec.body, spec.contentType, spec.timeoutMs, {
      onResponse: (s, headers) => {
        status = s;
        const ct = String(headers['content-type'] ?? '');
        if (ct.includes('json') || ct === '') parser = new RowStreamParser(spec.rowsKey, deliver);
        else textBody = [];
      },
      onData: (chunk) => {
        if (failed || this.done) return;
        if (parser) {
          try {
            parser.push(chunk);
          } catch (err) {
            failed = true;
            this.fail(err instanceof RowParseError ? new HTTPError(`malformed ${spec.service} response: ${err.message}`) : (err as CouchbaseError));
          }
        } else if (textBody && textBody.length < 64) textBody.push(chunk);
      },
      onEnd: () => {
        if (failed || this.done) return;
        if (!parser) return this.fail(spec.errorForBadBody(status, textBody ? Buffer.concat(textBody).toString('utf8') : ''));
        let meta: Record<string, unknown>;
        try {
          meta = parser.finish();
        } catch (err) {
          return this.fail(new NetworkError(`${spec.service} response after ${parser.rowCount} rows: ${(err as Error).message}`));
        }
        const err = spec.errorOf(status, meta);
        if (started !== 0) this.traced(started, remote);
        if (err) return this.fail(err);
        this.finishWith(() => this.handler.onDone(meta));
      },
      onError: (err) => {
        if (this.cancelled) return;
        const p = parser as RowStreamParser | null;
        if (p && p.insideRows) err.message += ` (cut off mid-rows after ${p.rowCount} rows)`;
        this.fail(err);
      },
    });
    this.applyPause();
  }

  /** Hands the request's time to the threshold tracer (views and N1QL have thresholds of their own). */
  private traced(started: number, remote: string): void {
    const service = this.spec.service === 'n1ql' ? 'n1ql' : 'view';
    const path = this.spec.path.replace(/\?.*$/, '');
    this.host.tracer?.finished(service, performance.now() - started, {
      operation_name: service === 'n1ql' ? 'n1ql' : userData(this.host.options.log_redaction, path),
      last_operation_id: `${this.spec.method} ${service === 'n1ql' ? path : userData(this.host.options.log_redaction, path)}`,
      last_remote_address: remote,
    });
  }

  private applyPause(): void {
    if (!this.http) return;
    if (this.paused) this.http.pause();
    else this.http.resume();
  }

  pause(): void {
    this.paused = true;
    this.applyPause();
  }

  resume(): void {
    this.paused = false;
    this.applyPause();
  }

  cancel(): void {
    if (this.done) return;
    this.cancelled = true;
    if (this.http) this.http.cancel();
    this.fail(new CancelledError('the request was cancelled'));
  }

  private fail(err: CouchbaseError): void {
    if (this.done) return;
    if (this.http && !this.cancelled) this.http.cancel();
    this.finishWith(() => this.handler.onError(err));
  }

  private finishWith(fn: () => void): void {
    this.done = true;
    if (this.untrack) this.untrack();
    this.untrack = null;
    fn();
  }
}
