// `npm start`: starts an embedded cluster, loads the beer-sample and travel-sample buckets with a
// progress bar, then runs every example of the Python SDK's async guide in each flavour and
// prints what each did. Exits non-zero if any example failed.
import { startEmbedded, type SampleName } from '../adapters/blocking';
import type { Example, ExampleEnv } from './env';
import * as deferredKv from './deferred/kv';
import * as deferredN1qlAll from './deferred/n1ql-all';
import * as deferredN1qlStreamed from './deferred/n1ql-streamed';
import * as deferredViewsAll from './deferred/views-all';
import * as deferredViewsStreamed from './deferred/views-streamed';
import * as promiseKv from './promise/kv';
import * as promiseN1qlAll from './promise/n1ql-all';
import * as promiseN1qlStreamed from './promise/n1ql-streamed';
import * as promiseViewsAll from './promise/views-all';
import * as promiseViewsStreamed from './promise/views-streamed';
import * as blockingKv from './blocking/kv';
import * as blockingN1qlAll from './blocking/n1ql-all';
import * as blockingN1qlStreamed from './blocking/n1ql-streamed';
import * as blockingViewsAll from './blocking/views-all';
import * as blockingViewsStreamed from './blocking/views-streamed';

interface Entry {
  flavour: 'deferred' | 'promise' | 'blocking';
  title: string;
  run: Example;
}

const EXAMPLES: Entry[] = [
  { flavour: 'deferred', title: 'KV: upsert + get with callbacks/errbacks', run: deferredKv.kvExample },
  { flavour: 'deferred', title: 'N1QL: n1qlQueryAll', run: deferredN1qlAll.n1qlAllExample },
  { flavour: 'deferred', title: 'N1QL: n1qlQueryEx with a RowsHandler', run: deferredN1qlStreamed.n1qlStreamedExample },
  { flavour: 'deferred', title: 'Views: queryAll', run: deferredViewsAll.viewsAllExample },
  { flavour: 'deferred', title: 'Views: queryEx with includeDocs', run: deferredViewsStreamed.viewsStreamedExample },
  { flavour: 'promise', title: 'KV: await upsert + get', run: promiseKv.kvExample },
  { flavour: 'promise', title: 'N1QL: n1qlQueryAll', run: promiseN1qlAll.n1qlAllExample },
  { flavour: 'promise', title: 'N1QL: for await over n1qlQuery', run: promiseN1qlStreamed.n1qlStreamedExample },
  { flavour: 'promise', title: 'Views: queryAll', run: promiseViewsAll.viewsAllExample },
  { flavour: 'promise', title: 'Views: for await over query with includeDocs', run: promiseViewsStreamed.viewsStreamedExample },
  { flavour: 'blocking', title: 'KV: upsert + get as plain calls', run: blockingKv.kvExample },
  { flavour: 'blocking', title: 'N1QL: n1qlQueryAll', run: blockingN1qlAll.n1qlAllExample },
  { flavour: 'blocking', title: 'N1QL: for...of over n1qlQuery', run: blockingN1qlStreamed.n1qlStreamedExample },
  { flavour: 'blocking', title: 'Views: queryAll', run: blockingViewsAll.viewsAllExample },
  { flavour: 'blocking', title: 'Views: for...of over query with includeDocs', run: blockingViewsStreamed.viewsStreamedExample },
];

const SHOW_LINES = 5;
const FAILURE_LINE = /^(Got error|Operation failed)/;

function progressBar(sample: SampleName, loaded: number, total: number): void {
  const width = 30;
  const filled = Math.round((loaded / total) * width);
  const line = `  loading ${sample.padEnd(13)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${loaded}/${total}`;
  if (process.stdout.isTTY) process.stdout.write(`\r${line}${loaded === total ? '\n' : ''}`);
  else if (loaded === total) console.log(line);
}

function format(part: unknown): string {
  if (typeof part === 'string') return part;
  return JSON.stringify(part, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

async function main(): Promise<number> {
  const t0 = Date.now();
  console.log('deferbase demo: starting an embedded cluster (its own thread, so the blocking flavour works too)');
  const cluster = startEmbedded({ samples: ['beer-sample', 'travel-sample'], buckets: [{ name: 'default' }], onProgress: progressBar });
  console.log(`  cluster up at ${cluster.connectionString} (${Date.now() - t0} ms)\n`);
  let failed = 0;
  try {
    for (const ex of EXAMPLES) {
      const lines: string[] = [];
      const env: ExampleEnv = {
        connstr: (bucket) => cluster.bucketConnstr(bucket),
        credentials: { username: 'Administrator', password: 'password' },
        log: (...parts) => lines.push(parts.map(format).join(' ')),
      };
      const started = Date.now();
      let error: unknown;
      try {
        await ex.run(env);
      } catch (err) {
        error = err;
      }
      const bad = error !== undefined || lines.some((l) => FAILURE_LINE.test(l)) || lines.length === 0;
      if (bad) failed++;
      console.log(`${bad ? 'FAIL' : ' ok '} [${ex.flavour}] ${ex.title} — ${lines.length} line(s), ${Date.now() - started} ms`);
      for (const l of lines.slice(0, SHOW_LINES)) console.log(`       ${l}`);
      if (lines.length > SHOW_LINES) console.log(`       ... ${lines.length - SHOW_LINES} more`);
      if (error !== undefined) console.log(`       error: ${(error as Error).stack ?? String(error)}`);
    }
  } finally {
    cluster.stop();
  }
  console.log(`\n${EXAMPLES.length - failed} of ${EXAMPLES.length} examples ran cleanly in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
