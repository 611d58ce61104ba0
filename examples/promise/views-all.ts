// asyncio - view query, all rows at once.
import { Bucket, type ExampleEnv, runStandalone } from './common';

export async function viewsAllExample(env: ExampleEnv): Promise<void> {
  const cb = new Bucket(env.connstr('beer-sample'), env.credentials);
  await cb.connect();
  try {
    const rows = await cb.queryAll('beer', 'brewery_beers', { limit: 20 });
    for (const row of rows) env.log('Got row', row.key, row.id);
  } finally {
    await cb.close();
  }
}

if (require.main === module) void runStandalone(viewsAllExample, ['beer-sample']);
