// What every example gets from whoever runs it: where the cluster is and where to print.
// `npm start` (examples/demo.ts) runs them all against one embedded cluster; each example file
// can also be run on its own (node dist/examples/<flavour>/<name>.js), which starts an embedded
// cluster with the samples it needs, or uses CB_CONNSTR / CB_USER / CB_PASSWORD when set.
import { startEmbedded, type SampleName } from '../adapters/blocking';

export interface ExampleEnv {
  /** Connection string of a bucket, e.g. connstr('travel-sample'). */
  connstr(bucket: string): string;
  credentials: { username: string; password: string };
  /** Prints one line (the demo indents and collects them). */
  log(...parts: unknown[]): void;
}

export type Example = (env: ExampleEnv) => unknown;

/** Runs one example file on its own. */
export async function runStandalone(example: Example, samples: SampleName[]): Promise<void> {
  const log = (...parts: unknown[]): void => console.log(...parts);
  if (process.env.CB_CONNSTR) {
    const base = process.env.CB_CONNSTR.replace(/\/+$/, '');
    await example({
      connstr: (bucket) => `${base}/${bucket}`,
      credentials: { username: process.env.CB_USER ?? 'Administrator', password: process.env.CB_PASSWORD ?? 'password' },
      log,
    });
    return;
  }
  // The cluster runs in its own thread, so the blocking examples work too.
  const cluster = startEmbedded({ samples, buckets: [{ name: 'default' }] });
  try {
    await example({
      connstr: (bucket) => cluster.bucketConnstr(bucket),
      credentials: { username: 'Administrator', password: 'password' },
      log,
    });
  } finally {
    cluster.stop();
  }
}
