import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Engine } from '../../lib/engine/engine';
import { FakeCluster } from './helpers/fake-kv';
import { TEST_CERT, TEST_KEY } from './helpers/tls-fixture';
import { run, fails, connect, close } from './helpers/engine';
import { NetworkError } from '../../lib/engine/errors';
import type { ValueResult } from '../../lib/engine/results';

const AUTH = { username: 'Administrator', password: 'password' };

describe('engine over TLS (couchbases://)', () => {
  let cluster: FakeCluster;
  let caFile: string;
  before(() => {
    caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-tls-')), 'ca.pem');
    fs.writeFileSync(caFile, TEST_CERT);
  });
  after(() => fs.rmSync(path.dirname(caFile), { recursive: true, force: true }));
  afterEach(async () => cluster && (await cluster.stop()));

  it('connects with the CA from certpath and authenticates with PLAIN', async () => {
    cluster = await FakeCluster.start({ tls: { key: TEST_KEY, cert: TEST_CERT }, mechs: ['PLAIN'] });
    const e = new Engine(`${cluster.connectionString}?certpath=${encodeURIComponent(caFile)}`, AUTH);
    await connect(e);
    await run(e, 'upsert', 'secure', { value: { s: 1 } });
    expect((await run<ValueResult>(e, 'get', 'secure')).value).to.deep.equal({ s: 1 });
    await close(e);
  });

  it('refuses a server whose certificate the CA does not vouch for', async () => {
    cluster = await FakeCluster.start({ tls: { key: TEST_KEY, cert: TEST_CERT } });
    const e = new Engine(`${cluster.connectionString}?bootstrap_on=cccp`, AUTH);
    const err = await fails(connect(e));
    expect(err).to.be.instanceOf(NetworkError);
    await close(e);
  });
});
