// Twisted - view query, all rows at once (queryAll).
import { Bucket, type Failure, type ExampleEnv, runStandalone } from './common';

export function viewsAllExample(env: ExampleEnv) {
  const cb = new Bucket(env.connstr('beer-sample'), env.credentials);

  function onOk(rows: Array<{ key: unknown; id?: string }>): void {
    for (const row of rows) env.log('Got row', row.key, row.id);
  }

  function onErr(err: Failure): void {
    env.log('Got error', err.getErrorMessage());
  }

  return cb
    .queryAll('beer', 'brewery_beers', { limit: 20 })
    .addCallback(onOk)
    .addErrback(onErr)
    .addBoth(() => cb.close());
}

if (require.main === module) void runStandalone(viewsAllExample, ['beer-sample']);
