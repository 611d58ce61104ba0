// asyncio - KV operations: connect, upsert, then read back.
import { Bucket, type ExampleEnv, runStandalone } from './common';

export async function kvExample(env: ExampleEnv): Promise<void> {
  async function writeAndRead(key: string, value: unknown) {
    const cb = new Bucket(env.connstr('default'), env.credentials);
    await cb.connect();
    try {
      await cb.upsert(key, value);
      return await cb.get(key);
    } finally {
      await cb.close();
    }
  }

  const rv = await writeAndRead('foo', 'bar');
  env.log(rv.value);
}

if (require.main === module) void runStandalone(kvExample, []);
