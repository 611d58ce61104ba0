// Twisted - N1QL query, all rows at once (n1qlQueryAll).
import { Bucket, N1QLQuery, type Failure, type ExampleEnv, runStandalone } from './common';

export function n1qlAllExample(env: ExampleEnv) {
  const cb = new Bucket(env.connstr('travel-sample'), env.credentials);

  function onOk(rows: unknown[]): void {
    for (const row of rows) env.log('Got row', row);
  }

  function onErr(err: Failure): void {
    env.log('Got error', err.getErrorMessage());
  }

  const d = cb.n1qlQueryAll(new N1QLQuery('SELECT airportname FROM `travel-sample` WHERE city = "San Francisco" AND type = "airport"'));
  return d
    .addCallback(onOk)
    .addErrback(onErr)
    .addBoth(() => cb.close());
}

if (require.main === module) void runStandalone(n1qlAllExample, ['travel-sample']);
