// gevent - N1QL query, all rows at once.
import { Bucket, N1QLQuery, type ExampleEnv, runStandalone } from './common';

export function n1qlAllExample(env: ExampleEnv): void {
  const cb = new Bucket(env.connstr('travel-sample'), env.credentials);
  try {
    const rows = cb.n1qlQueryAll(new N1QLQuery('SELECT airportname FROM `travel-sample` WHERE city = "San Francisco" AND type = "airport"'));
    for (const row of rows) env.log('Got row', row);
  } finally {
    cb.close();
  }
}

if (require.main === module) void runStandalone(n1qlAllExample, ['travel-sample']);
