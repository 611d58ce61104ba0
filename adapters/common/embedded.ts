// Starting an embedded cluster for scripts and tests, and loading the generated sample buckets
// into it. Documents go straight into the bucket's store (they are data, not traffic); design
// documents and indexes go through the cluster's own HTTP services, as a user's would.
import * as http from 'node:http';
import createDebug from 'debug';
import type { Cluster, ClusterOptions } from '../../lib/server';

const debug = createDebug('deferbase:adapters:embedded');

export type SampleName = 'beer-sample' | 'travel-sample';
export const SAMPLE_NAMES: readonly SampleName[] = ['beer-sample', 'travel-sample'];

export interface EmbeddedOptions extends Omit<ClusterOptions, 'clock' | 'services' | 'queryService' | 'viewsService'> {
  /** Sample buckets to create and fill (their buckets are added to `buckets`). */
  samples?: SampleName[];
  /** Bucket a connectEmbedded() bucket opens (default: the first sample, else 'default'). */
  bucket?: string;
}

/** Credentials of the embedded cluster's default administrator. */
export const EMBEDDED_USER = { username: 'Administrator', password: 'password' } as const;

interface SampleModule {
  docs(): Iterable<unknown>;
  designDocs: unknown;
  indexes: unknown;
  /** Statements making the sample's scopes and collections (7.x travel-sample's inventory scope). */
  collections?: unknown;
  /** The `scope.collection` a document is also loaded into, if any. */
  collectionOf?: (doc: { id: string; value: unknown }) => string | undefined;
}

/** Normalises a generator entry: [id, doc] or {id, doc|value|json}. */
function entryOf(e: unknown): [string, unknown] {
  if (Array.isArray(e)) return [String(e[0]), e[1]];
  const o = e as { id?: unknown; key?: unknown; doc?: unknown; value?: unknown; json?: unknown };
  return [String(o.id ?? o.key), o.doc ?? o.value ?? o.json];
}

/** Loads a sample generator module from lib/server/samples. */
export function sampleModule(name: SampleName): SampleModule {
  if (name === 'beer-sample') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const m = require('../../lib/server/samples/beer-sample') as Record<string, unknown>;
    return { docs: m.beerSampleDocs as () => Iterable<unknown>, designDocs: m.beerSampleDesignDocs, indexes: m.beerSampleIndexes ?? [] };
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const m = require('../../lib/server/samples/travel-sample') as Record<string, unknown>;
  return {
    docs: m.travelSampleDocs as () => Iterable<unknown>,
    designDocs: m.travelSampleDesignDocs ?? {},
    indexes: [...((m.travelSampleIndexes as string[] | undefined) ?? []), ...((m.travelSampleInventoryIndexes as string[] | undefined) ?? [])],
    collections: m.travelSampleCollections,
    collectionOf: m.travelSampleCollectionOf as SampleModule['collectionOf'],
  };
}

export function clusterOptionsFor(opts: EmbeddedOptions): ClusterOptions {
  const { samples = [], bucket: _bucket, ...rest } = opts;
  const names = new Set((rest.buckets ?? [{ name: 'default' }]).map((b) => b.name));
  for (const s of samples) names.add(s);
  return { ...rest, buckets: [...names].map((name) => ({ name })) };
}

/** Incremental loader: fills a sample bucket a slice at a time so callers can show progress. */
export class SampleLoader {
  private readonly iter: Iterator<unknown>;
  private readonly all: unknown[];
  loaded = 0;
  readonly total: number;

  constructor(
    private readonly cluster: Cluster,
    readonly name: SampleName,
  ) {
    // Materialise once: the total is needed for a progress bar, and samples are a few MB.
    this.all = [...sampleModule(name).docs()];
    this.total = this.all.length;
    this.iter = this.all[Symbol.iterator]();
  }

  /** Writes up to `n` more documents; returns how many are loaded so far. */
  step(n: number): number {
    const store = this.cluster.bucket(this.name);
    for (let i = 0; i < n; i++) {
      const r = this.iter.next();
      if (r.done) break;
      const [id, doc] = entryOf(r.value);
      const bytes = Buffer.isBuffer(doc) ? doc : Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc));
      store.write(id, bytes, 'upsert', { flags: 0x02000000 });
      this.loaded++;
    }
    return this.loaded;
  }

  get done(): boolean {
    return this.loaded >= this.total;
  }

  /** Installs the sample's design documents and indexes through the HTTP services. */
  async finish(): Promise<void> {
    const mod = sampleModule(this.name);
    const node = this.cluster.nodes[0].ports;
    for (const [ddoc, body] of designDocEntries(mod.designDocs)) {
      if (node.capi === undefined) throw new Error('the embedded cluster has no views service; cannot install design documents');
      await httpJson('PUT', node.capi, `/${encodeURIComponent(this.name)}/_design/${encodeURIComponent(ddoc)}`, body);
    }
    // The sample's scopes and collections, then a copy of each document its collection holds.
    for (const statement of indexStatements(mod.collections)) {
      if (node.n1ql === undefined) throw new Error('the embedded cluster has no query service; cannot create collections');
      await httpJson('POST', node.n1ql, '/query/service', { statement });
    }
    if (mod.collectionOf !== undefined) {
      const store = this.cluster.bucket(this.name);
      for (const entry of this.all) {
        const [id, value] = entryOf(entry);
        const target = mod.collectionOf({ id, value });
        if (target === undefined) continue;
        const dot = target.indexOf('.');
        const coll = store.collectionNamed(target.slice(0, dot), target.slice(dot + 1));
        if (coll === undefined) throw new Error(`sample ${this.name}: collection ${target} was not created`);
        coll.write(id, Buffer.from(JSON.stringify(value)), 'upsert', { flags: 0x02000000 });
      }
    }
    for (const statement of indexStatements(mod.indexes)) {
      if (node.n1ql === undefined) throw new Error('the embedded cluster has no query service; cannot create indexes');
      await httpJson('POST', node.n1ql, '/query/service', { statement });
    }
    debug('sample %s loaded: %d docs', this.name, this.loaded);
  }
}

function designDocEntries(dd: unknown): Array<[string, unknown]> {
  if (!dd) return [];
  if (Array.isArray(dd)) {
    return dd.map((d) => {
      const o = d as { name?: string; id?: string; _id?: string };
      const name = String(o.name ?? o.id ?? o._id).replace(/^_design\//, '');
      return [name, d];
    });
  }
  return Object.entries(dd as Record<string, unknown>).map(([k, v]) => [k.replace(/^_design\//, ''), v]);
}

function indexStatements(ix: unknown): string[] {
  if (!Array.isArray(ix)) return [];
  return ix.map((s) => (typeof s === 'string' ? s : String((s as { statement: string }).statement)));
}

function httpJson(method: string, port: number, path: string, body: unknown): Promise<unknown> {
  const payload = Buffer.from(JSON.stringify(body));
  const auth = Buffer.from(`${EMBEDDED_USER.username}:${EMBEDDED_USER.password}`).toString('base64');
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': payload.length, authorization: `Basic ${auth}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 500) >= 300) reject(new Error(`${method} ${path} -> HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
          else resolve(text ? JSON.parse(text) : null);
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** host:port of every KV listener of clusters running on this thread (see runsOnThisThread). */
const thisThreadEndpoints = new Set<string>();

/** The host:port list of a connection string (`couchbase://a:1,b:2/bucket` -> ['a:1', 'b:2']). */
export function endpointsOf(connstr: string): string[] {
  const m = /^[a-z]+:\/\/([^/?]*)/i.exec(connstr);
  return m ? m[1].split(',').filter(Boolean) : [];
}

/**
 * True when `connstr` names an embedded cluster started on this thread. A blocking caller must
 * not use one: while it waits, the thread that serves the cluster's sockets is the one waiting.
 */
export function runsOnThisThread(connstr: string): boolean {
  return endpointsOf(connstr).some((e) => thisThreadEndpoints.has(e));
}

/** A running embedded cluster, as the deferred and promise flavours hand it out. */
export interface EmbeddedCluster {
  readonly connectionString: string;
  /** The in-process Cluster object (failover, rebalance, stores...). */
  readonly cluster: Cluster;
  stop(): Promise<void>;
}

/** Starts an embedded cluster on this thread and loads the requested samples. */
export async function startEmbeddedCluster(
  opts: EmbeddedOptions = {},
  onProgress?: (sample: SampleName, loaded: number, total: number) => void,
): Promise<EmbeddedCluster> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Cluster: ClusterClass } = require('../../lib/server') as typeof import('../../lib/server');
  const cluster = await ClusterClass.start(clusterOptionsFor(opts));
  try {
    for (const name of opts.samples ?? []) {
      const loader = new SampleLoader(cluster, name);
      while (!loader.done) {
        loader.step(2000);
        onProgress?.(name, loader.loaded, loader.total);
        // Let the cluster's sockets breathe between slices.
        await new Promise((r) => setImmediate(r));
      }
      await loader.finish();
    }
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  const endpoints = endpointsOf(cluster.connectionString);
  for (const e of endpoints) thisThreadEndpoints.add(e);
  return {
    connectionString: cluster.connectionString,
    cluster,
    stop: () => {
      for (const e of endpoints) thisThreadEndpoints.delete(e);
      return cluster.stop();
    },
  };
}

/** The connection string of a bucket on an embedded cluster, with its credentials. */
export function embeddedBucketConnstr(connectionString: string, bucket: string): string {
  return `${connectionString}/${encodeURIComponent(bucket)}`;
}
