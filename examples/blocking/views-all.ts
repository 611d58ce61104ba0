// gevent - view query, all rows at once.
import { Bucket, type ExampleEnv, runStandalone } from './common';

export function viewsAllExample(env: ExampleEnv): void {
  const cb = new Bucket(env.connstr('beer-sample'), env.credentials);
  try {
    for (const row of cb.queryAll('beer', 'brewery_beers', { limit: 20 })) env.log('Got row', row.key, row.id);
  } finally {
    cb.close();
  }
}

if (require.main === module) void runStandalone(viewsAllExample, ['beer-sample']);
