// Requests to an HTTP service of the cluster (the query service): how many, how many failed, and
// how long each took, measured from the request's arrival to the end of its response, so a
// streamed result counts its whole stream. Latencies go into an HDR histogram (3 significant
// digits) that the sampler reads and resets once per interval, so percentiles are per interval.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { build, type Histogram } from 'hdr-histogram-js';
import type { HttpServiceHandler } from '../service-types';

export class ServiceCounters {
  requests = 0;
  /** Answers with an HTTP status of 400 or above, or requests whose connection closed first. */
  errors = 0;
  /** Sum of request times, microseconds. */
  totalMicros = 0;
  /** Requests that took longer than 250 ms, 500 ms, 1 s and 5 s (ns_server's query_requests_Nms). */
  readonly slower = { 250: 0, 500: 0, 1000: 0, 5000: 0 };
  /** Latencies (microseconds) since the sampler last took them. */
  readonly interval: Histogram = build({ numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, useWebAssembly: false });

  record(micros: number, failed: boolean): void {
    this.requests++;
    if (failed) this.errors++;
    this.totalMicros += micros;
    const ms = micros / 1000;
    if (ms > 250) this.slower[250]++;
    if (ms > 500) this.slower[500]++;
    if (ms > 1000) this.slower[1000]++;
    if (ms > 5000) this.slower[5000]++;
    this.interval.recordValue(Math.max(1, Math.round(micros)));
  }
}

/** Wraps a service handler so every request it serves is counted in `counters`. */
export function countedService(handler: HttpServiceHandler, counters: ServiceCounters): HttpServiceHandler {
  return {
    handle(req: IncomingMessage, res: ServerResponse): void {
      const t0 = process.hrtime.bigint();
      let done = false;
      const end = (failed: boolean): void => {
        if (done) return;
        done = true;
        counters.record(Number(process.hrtime.bigint() - t0) / 1000, failed || res.statusCode >= 400);
      };
      res.once('finish', () => end(false));
      res.once('close', () => end(true));
      handler.handle(req, res);
    },
    close: handler.close === undefined ? undefined : () => handler.close!(),
  };
}
