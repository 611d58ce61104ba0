// gevent - KV operations as plain synchronous calls.
import { Bucket, type ExampleEnv, runStandalone } from './common';

export function kvExample(env: ExampleEnv): void {
  const cb = new Bucket(env.connstr('default'), env.credentials);
  try {
    cb.upsert('foo', 'bar');
    env.log(cb.get('foo').value);
  } finally {
    cb.close();
  }
}

if (require.main === module) void runStandalone(kvExample, []);
