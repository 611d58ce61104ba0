// Twisted - KV operation (txcouchbase). In an application: import { Bucket } from 'deferbase/deferred'.
import { Bucket, gatherResults, type Failure, type ExampleEnv, runStandalone } from './common';

export function kvExample(env: ExampleEnv) {
  const bucket = new Bucket(env.connstr('default'), env.credentials);

  function onOk(result: object): void {
    env.log('Operation succeeded');
    if ('value' in result) env.log('Value is', result.value);
  }

  function onErr(err: Failure): void {
    env.log('Operation failed', err.getErrorMessage());
  }

  const upserted = bucket.upsert('id', { some: ['value'] }).addCallback(onOk).addErrback(onErr);
  const got = bucket.get('id').addCallback(onOk).addErrback(onErr);

  // Twisted's version stops the reactor after 3 seconds; here we close once both have fired.
  return gatherResults([upserted, got]).addBoth(() => bucket.close());
}

if (require.main === module) void runStandalone(kvExample, []);
