// gevent - view query, rows streamed with for...of, each with its document.
import { Bucket, type ExampleEnv, runStandalone } from './common';

export function viewsStreamedExample(env: ExampleEnv): void {
  const cb = new Bucket(env.connstr('beer-sample'), env.credentials);
  try {
    for (const row of cb.query('beer', 'brewery_beers', { limit: 20, includeDocs: true })) {
      const doc = row.doc?.value as { name?: string } | undefined;
      env.log('Got row', row.key, doc?.name ?? '');
    }
  } finally {
    cb.close();
  }
}

if (require.main === module) void runStandalone(viewsStreamedExample, ['beer-sample']);
