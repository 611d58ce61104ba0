// asyncio - view query, rows streamed with `for await`, each with its document.
import { Bucket, type ExampleEnv, runStandalone } from './common';

export async function viewsStreamedExample(env: ExampleEnv): Promise<void> {
  const cb = new Bucket(env.connstr('beer-sample'), env.credentials);
  await cb.connect();
  try {
    for await (const row of cb.query('beer', 'brewery_beers', { limit: 20, includeDocs: true })) {
      const doc = row.doc?.value as { name?: string } | undefined;
      env.log('Got row', row.key, doc?.name ?? '');
    }
  } finally {
    await cb.close();
  }
}

if (require.main === module) void runStandalone(viewsStreamedExample, ['beer-sample']);
