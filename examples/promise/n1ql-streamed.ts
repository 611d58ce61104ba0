// asyncio - N1QL query, rows streamed with `for await` (the socket is read as you iterate).
import { Bucket, N1QLQuery, type ExampleEnv, runStandalone } from './common';

export async function n1qlStreamedExample(env: ExampleEnv): Promise<void> {
  const cb = new Bucket(env.connstr('travel-sample'), env.credentials);
  await cb.connect();
  try {
    const it = cb.n1qlQuery(new N1QLQuery('SELECT airportname FROM `travel-sample` WHERE city = "San Francisco" AND type = "airport"'));
    for await (const row of it) env.log('Got row', row);
    env.log('Query status', (it.meta as { status?: string }).status);
  } finally {
    await cb.close();
  }
}

if (require.main === module) void runStandalone(n1qlStreamedExample, ['travel-sample']);
