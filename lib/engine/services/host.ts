// What the HTTP services (N1QL, views) need from the engine: its settings, a node running the
// service, the connection state, and KV reads for views' include_docs. Types only: the services
// import this, never the engine.
import type { ConnOptions } from '../connstr';
import type { CouchbaseError } from '../errors';
import type { HttpAgents, HttpAuth, HttpTarget } from '../http';
import type { MultiResult } from '../results';
import type { Topology } from '../topology';
import type { ThresholdTracer } from '../tracing';

/** A service a node of the map may run, as the map names it. */
export type ServiceName = Parameters<Topology['nodesWith']>[0];

export interface ServiceHost {
  readonly options: ConnOptions;
  readonly bucket: string;
  readonly auth: HttpAuth;
  readonly agents: HttpAgents;
  readonly topology: Topology | null;
  /** The threshold logging tracer, while tracing is on. */
  readonly tracer?: ThresholdTracer | null;
  /** Runs `fn` once a map is known (connecting first if needed). */
  whenConnected(fn: (err: CouchbaseError | null) => void): void;
  /** A node offering `service` (round robin), or null when none does. */
  serviceTarget(service: ServiceName): HttpTarget | null;
  /** Registers a running stream so close() cancels it; returns the unregister function. */
  trackStream(s: { cancel(): void }): () => void;
  /** The credentials a cross-bucket N1QL query carries (`creds`). */
  crossBucketCreds(): Array<{ user: string; pass: string }>;
  /** Reads many documents at once (views' include_docs). */
  kvMulti(op: 'get', keys: string[], options: { quiet: boolean }, cb: (err: CouchbaseError | null, result: MultiResult | null) => void): void;
}
