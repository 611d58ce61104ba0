// gevent - N1QL query, rows streamed with a plain for...of (batches cross from the worker thread).
import { Bucket, N1QLQuery, type ExampleEnv, runStandalone } from './common';

export function n1qlStreamedExample(env: ExampleEnv): void {
  const cb = new Bucket(env.connstr('travel-sample'), env.credentials);
  try {
    for (const row of cb.n1qlQuery(new N1QLQuery('SELECT airportname FROM `travel-sample` WHERE city = "San Francisco" AND type = "airport"'))) {
      env.log('Got row', row);
    }
  } finally {
    cb.close();
  }
}

if (require.main === module) void runStandalone(n1qlStreamedExample, ['travel-sample']);
