// Loads a generated sample bucket into a running cluster through the client, as a user's tool
// would: documents over KV (pipelined), design documents over the views (capi) port, indexes as
// N1QL statements. The same code fills the embedded cluster `deferbase serve --sample` starts.
import * as http from 'node:http';
import { beerSampleDesignDocs, beerSampleDocs, beerSampleIndexes } from '../server/samples/beer-sample';
import { travelSampleCollectionOf, travelSampleCollections, travelSampleDocs, travelSampleIndexes, travelSampleInventoryIndexes } from '../server/samples/travel-sample';
import type { Engine } from '../engine';
import type { CouchbaseError } from '../engine/errors';
import { basicAuth } from '../engine/http';
import { ProgressBar, type ProgressStream } from './progress';

export interface SampleDef {
  docs(opts: { seed: number; scale: number }): Iterable<{ id: string; value: unknown }>;
  designDocs: Readonly<Record<string, unknown>>;
  indexes: readonly string[];
  /** Statements making the sample's scopes and collections, run before the documents are loaded. */
  collections?: readonly string[];
  /** The `scope.collection` a document is also loaded into (besides the default collection), if any. */
  collectionOf?(doc: { id: string; value: unknown }): string | undefined;
}

/** One row per sample: what to generate and what else the real sample ships with. */
export const SAMPLES: Readonly<Record<string, SampleDef>> = {
  'beer-sample': { docs: (o) => beerSampleDocs(o), designDocs: beerSampleDesignDocs, indexes: beerSampleIndexes },
  'travel-sample': {
    docs: (o) => travelSampleDocs(o),
    designDocs: {},
    indexes: [...travelSampleIndexes, ...travelSampleInventoryIndexes],
    collections: travelSampleCollections,
    collectionOf: travelSampleCollectionOf,
  },
};
export const SAMPLE_NAMES = Object.keys(SAMPLES);

export interface LoadOptions {
  seed?: number;
  scale?: number;
  /** KV operations kept in flight (default 128). */
  inFlight?: number;
  /** Where the progress bar is drawn; none: no progress. */
  progress?: ProgressStream;
  /** Bucket the statements and design documents go to (default: the engine's bucket). */
  bucket?: string;
}

export interface LoadReport {
  sample: string;
  bucket: string;
  docs: number;
  designDocs: string[];
  indexes: number;
  /** Statements that failed other than for "already exists". */
  warnings: string[];
  seconds: number;
}

/** Upserts every document, keeping `inFlight` in the pipeline; rejects on the first failure. */
function upsertAll(engine: Engine, docs: Array<{ id: string; value: unknown; collection?: string }>, inFlight: number, onProgress: (n: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let next = 0;
    let done = 0;
    let failed = false;
    const pump = (): void => {
      while (next < docs.length && next - done < inFlight) {
        const { id, value, collection } = docs[next++];
        engine.kv('upsert', id, collection === undefined ? { value } : { value, collection }, (err: CouchbaseError | null) => {
          if (failed) return;
          if (err) {
            failed = true;
            return reject(err);
          }
          done++;
          onProgress(done);
          if (done === docs.length) resolve();
          else pump();
        });
      }
    };
    if (docs.length === 0) return resolve();
    pump();
  });
}

function putDesignDoc(engine: Engine, bucket: string, name: string, body: unknown): Promise<void> {
  const target = engine.topology?.nodesWith('capi', false)[0];
  if (target === undefined) return Promise.reject(new Error('no node of the cluster runs the views (capi) service; cannot install design documents'));
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: target.host,
        port: target.port,
        method: 'PUT',
        path: `/${encodeURIComponent(bucket)}/_design/${encodeURIComponent(name)}`,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': payload.length, authorization: basicAuth(engine.auth) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if ((res.statusCode ?? 500) < 300) resolve();
          else reject(new Error(`design document ${name}: HTTP ${res.statusCode} ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`));
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function runStatement(engine: Engine, statement: string): Promise<void> {
  return new Promise((resolve, reject) => {
    engine.n1ql(statement, { onRows() {}, onDone: () => resolve(), onError: reject });
  });
}

/** Generates sample `name` (deterministic for seed and scale) and loads it through `engine`. */
export async function loadSample(engine: Engine, name: string, opts: LoadOptions = {}): Promise<LoadReport> {
  const def = SAMPLES[name];
  if (def === undefined) throw new Error(`unknown sample ${JSON.stringify(name)}; known: ${SAMPLE_NAMES.join(', ')}`);
  const bucket = opts.bucket ?? engine.bucket;
  const started = performance.now();
  const rename = (statement: string): string => statement.split('`' + name + '`').join('`' + bucket.replace(/`/g, '``') + '`');
  for (const statement of def.collections ?? []) {
    try {
      await runStatement(engine, rename(statement));
    } catch (err) {
      if (!/already exists/i.test((err as Error).message)) throw err;
    }
  }
  // Materialised first: the progress bar needs the total, and a sample is a few MB.
  const generated = [...def.docs({ seed: opts.seed ?? 1, scale: opts.scale ?? 1 })];
  const docs: Array<{ id: string; value: unknown; collection?: string }> = [...generated];
  if (def.collectionOf) {
    for (const d of generated) {
      const collection = def.collectionOf(d);
      if (collection !== undefined) docs.push({ ...d, collection });
    }
  }
  const bar = opts.progress ? new ProgressBar({ label: `loading ${name}`, total: docs.length, stream: opts.progress, unit: 'docs' }) : undefined;
  await upsertAll(engine, docs, opts.inFlight ?? 128, (n) => bar?.update(n));
  bar?.finish();
  const report: LoadReport = { sample: name, bucket, docs: docs.length, designDocs: [], indexes: 0, warnings: [], seconds: 0 };
  for (const [ddoc, body] of Object.entries(def.designDocs)) {
    await putDesignDoc(engine, bucket, ddoc, body);
    report.designDocs.push(ddoc);
  }
  for (const statement of def.indexes) {
    // The sample's statements name the sample bucket; point them at the bucket being filled.
    const text = rename(statement);
    try {
      await runStatement(engine, text);
      report.indexes++;
    } catch (err) {
      if (/already exists/i.test((err as Error).message)) report.indexes++;
      else report.warnings.push(`${text}: ${(err as Error).message}`);
    }
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}
