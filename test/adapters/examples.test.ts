// The KV examples of the async guide, in each flavour, run against an embedded cluster started
// in this process (the query and view examples need the sample buckets; `npm start` runs all 15).
import { expect } from 'chai';
import { startEmbedded, type EmbeddedClusterThread } from '../../adapters/blocking';
import type { ExampleEnv } from '../../examples/env';
import { kvExample as deferredKv } from '../../examples/deferred/kv';
import { kvExample as promiseKv } from '../../examples/promise/kv';
import { kvExample as blockingKv } from '../../examples/blocking/kv';

describe('guide examples (KV) in each flavour', function () {
  let cluster: EmbeddedClusterThread;
  before(function () {
    this.timeout(30_000);
    cluster = startEmbedded();
  });
  after(function () {
    cluster.stop();
  });
  const env = (lines: string[]): ExampleEnv => ({
    connstr: (b) => cluster.bucketConnstr(b),
    credentials: { username: 'Administrator', password: 'password' },
    log: (...parts) => lines.push(parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ')),
  });

  it('Twisted: upsert then get report success and the value', async function () {
    const lines: string[] = [];
    await deferredKv(env(lines));
    expect(lines).to.deep.equal(['Operation succeeded', 'Operation succeeded', 'Value is {"some":["value"]}']);
  });

  it('asyncio: write_and_read prints the value', async function () {
    const lines: string[] = [];
    await promiseKv(env(lines));
    expect(lines).to.deep.equal(['bar']);
  });

  it('gevent: plain calls print the value', function () {
    const lines: string[] = [];
    blockingKv(env(lines));
    expect(lines).to.deep.equal(['bar']);
  });
});
