// asyncio - N1QL query, all rows at once.
import { Bucket, N1QLQuery, type ExampleEnv, runStandalone } from './common';

export async function n1qlAllExample(env: ExampleEnv): Promise<void> {
  const cb = new Bucket(env.connstr('travel-sample'), env.credentials);
  await cb.connect();
  try {
    const rows = await cb.n1qlQueryAll(new N1QLQuery('SELECT airportname FROM `travel-sample` WHERE city = "San Francisco" AND type = "airport"'));
    for (const row of rows) env.log('Got row', row);
  } finally {
    await cb.close();
  }
}

if (require.main === module) void runStandalone(n1qlAllExample, ['travel-sample']);
