import { expect } from 'chai';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cluster, DocumentStore, type FsyncPolicy } from '../../lib/server';
import { DiskLog } from '../../lib/server/persistence';
import { Opcode, Status } from '../../lib/protocol';
import { RawClient } from './raw-client';

const CHILD = path.join(__dirname, 'fixtures', 'persistent-node.js');

function startChild(
  dataDir: string,
  fsync: FsyncPolicy,
  services = false,
): Promise<{ port: number; n1ql: number; capi: number; kill: () => Promise<void> }> {
  const child = spawn(process.execPath, [CHILD, dataDir, fsync, ...(services ? ['services'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /READY (\d+)(?: (\d+) (\d+))?\n/.exec(out);
      if (m) {
        resolve({
          port: Number(m[1]),
          n1ql: Number(m[2] ?? 0),
          capi: Number(m[3] ?? 0),
          kill: async () => {
            child.kill('SIGKILL');
            await exited;
          },
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
  });
}

describe('server persistence (dataDir)', function () {
  this.timeout(20000);
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-persist-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const policy of ['batch', 'always', 'none'] as const) {
    it(`fsync '${policy}': every write acknowledged before a kill -9 is there after a restart`, async () => {
      const child = await startChild(dir, policy);
      const c = await RawClient.connect(child.port);
      c.numVBuckets = 64;
      await c.login('Administrator', 'password', 'default');
      await c.set('to-delete', 'x');
      expect((await c.request({ opcode: Opcode.DELETE, key: 'to-delete', vbucket: c.vb('to-delete') })).status).to.equal(Status.SUCCESS);
      // Pipeline a burst of writes, then kill the server while responses are still arriving.
      const n = policy === 'always' ? 60 : 300;
      const frames: Buffer[] = [];
      const opaqueToKey = new Map<number, string>();
      for (let i = 0; i < n; i++) {
        const key = `doc-${i}`;
        const extras = Buffer.alloc(8);
        extras.writeUInt32BE(i, 0);
        const f = c.frame({ opcode: Opcode.SET, key, extras, value: JSON.stringify({ i }), vbucket: c.vb(key) });
        opaqueToKey.set(f.readUInt32BE(12), key);
        frames.push(f);
      }
      c.write(Buffer.concat(frames));
      const acked = await c.take(n / 3);
      await child.kill();
      c.close();
      for (const p of acked) expect(p.status).to.equal(Status.SUCCESS);

      const restarted = await Cluster.start({ dataDir: dir, numVBuckets: 64, queryService: null, viewsService: null });
      try {
        const store = restarted.bucket('default');
        for (const p of acked) {
          const key = opaqueToKey.get(p.opaque)!;
          const doc = store.get(key);
          expect(doc, key).to.not.equal(undefined);
          expect(JSON.parse(doc!.value.toString()).i).to.equal(Number(key.slice(4)));
          expect(doc!.flags).to.equal(Number(key.slice(4)));
          expect(doc!.cas).to.equal(p.cas);
        }
        expect(store.get('to-delete')).to.equal(undefined);
        expect(store.meta('to-delete')!.deleted).to.equal(true);
        // New mutations keep CAS and seqno moving forward from what was on disk.
        const before = store.highSeqno;
        const next = store.write('after', Buffer.from('1'), 'upsert');
        expect(next.seqno > before).to.equal(true);
      } finally {
        await restarted.stop();
      }
    });
  }

  it('design documents and index definitions acknowledged before a kill -9 are there after a restart', async () => {
    const child = await startChild(dir, 'batch', true);
    const auth = { authorization: 'Basic ' + Buffer.from('Administrator:password').toString('base64') };
    const c = await RawClient.connect(child.port);
    c.numVBuckets = 64;
    await c.login('Administrator', 'password', 'default');
    for (const [id, city] of [['a', 'Oslo'], ['b', 'Rome'], ['c', 'Oslo']]) await c.set(id, JSON.stringify({ city }));
    c.close();
    const put = await fetch(`http://127.0.0.1:${child.capi}/default/_design/geo`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ views: { by_city: { map: 'function (doc) { emit(doc.city, null); }', reduce: '_count' } } }),
    });
    expect(put.status).to.equal(201);
    for (const statement of ['CREATE INDEX ix_city ON default(city)', 'CREATE PRIMARY INDEX ON default']) {
      const r = await fetch(`http://127.0.0.1:${child.n1ql}/query/service`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ statement }) });
      expect(((await r.json()) as { status: string }).status).to.equal('success');
    }
    await child.kill();

    const restarted = await Cluster.start({ dataDir: dir, numVBuckets: 64 });
    try {
      const { n1ql, capi } = restarted.nodes[0].ports;
      const view = await fetch(`http://127.0.0.1:${capi}/default/_design/geo/_view/by_city?stale=false&group=true`, { headers: auth });
      expect(((await view.json()) as { rows: unknown[] }).rows).to.deep.equal([
        { key: 'Oslo', value: 2 },
        { key: 'Rome', value: 1 },
      ]);
      const q = async (statement: string): Promise<unknown[]> => {
        const r = await fetch(`http://127.0.0.1:${n1ql}/query/service`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ statement }) });
        return ((await r.json()) as { results: unknown[] }).results;
      };
      expect(JSON.stringify(await q('EXPLAIN SELECT RAW META().id FROM default WHERE city = "Oslo"'))).to.contain('"index":"ix_city"');
      expect(await q('SELECT RAW META().id FROM default WHERE city = "Oslo" ORDER BY META().id')).to.deep.equal(['a', 'c']);
      expect(await q('SELECT RAW META().id FROM default')).to.deep.equal(['a', 'b', 'c']);
    } finally {
      await restarted.stop();
    }
  });

  it('a clean stop and two restarts (with compaction in between) keep data, expiry and vBucket UUIDs', async () => {
    const a = await Cluster.start({ dataDir: dir, numVBuckets: 16, queryService: null, viewsService: null });
    const store = a.bucket('default');
    store.write('k1', Buffer.from('{"a":1}'), 'upsert', { expiry: 3600, flags: 9 });
    for (let i = 0; i < 50; i++) store.write('churn', Buffer.from(String(i)), 'upsert');
    const uuid = store.vbucketUuid(store.vbucketOf('k1'));
    await a.stop();
    for (let round = 0; round < 2; round++) {
      const b = await Cluster.start({ dataDir: dir, numVBuckets: 16, queryService: null, viewsService: null });
      const s = b.bucket('default');
      expect(s.get('k1')!.flags).to.equal(9);
      expect(s.get('k1')!.expiry).to.be.greaterThan(0);
      expect(s.get('churn')!.value.toString()).to.equal('49');
      expect(s.vbucketUuid(s.vbucketOf('k1'))).to.equal(uuid);
      await b.stop();
    }
    const size = fs.statSync(path.join(dir, 'default.dblog')).size;
    expect(size).to.be.lessThan(600); // compacted: two documents, not 51 records
  });

  it('a torn record at the end of the log is dropped, the rest is kept', async () => {
    const a = await Cluster.start({ dataDir: dir, numVBuckets: 16, queryService: null, viewsService: null });
    a.bucket('default').write('kept', Buffer.from('1'), 'upsert');
    a.bucket('default').write('torn', Buffer.from('2'), 'upsert');
    await a.stop();
    const file = path.join(dir, 'default.dblog');
    fs.truncateSync(file, fs.statSync(file).size - 3); // the process died while appending 'torn'
    const b = await Cluster.start({ dataDir: dir, numVBuckets: 16, queryService: null, viewsService: null });
    expect(b.bucket('default').get('kept')!.value.toString()).to.equal('1');
    expect(b.bucket('default').get('torn')).to.equal(undefined);
    await b.stop();
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.corrupt'))).to.deep.equal([]);
  });

  it('rewrites a growing log as a snapshot while running, without losing anything', async () => {
    const store = new DocumentStore({ name: 'default', numVBuckets: 16 });
    const log = DiskLog.open(dir, [store], { fsync: 'none', intervalMs: 0, compactMinBytes: 4096 });
    for (let i = 0; i < 2000; i++) store.write(`k${i % 10}`, Buffer.from(`value-${i}`), 'upsert');
    store.remove('k3');
    log.close();
    const file = path.join(dir, 'default.dblog');
    expect(fs.statSync(file).size).to.be.lessThan(8192);
    const again = new DocumentStore({ name: 'default', numVBuckets: 16 });
    DiskLog.open(dir, [again], { fsync: 'none', intervalMs: 0 }).close();
    for (let i = 0; i < 10; i++) {
      if (i === 3) expect(again.get('k3')).to.equal(undefined);
      else expect(again.get(`k${i}`)!.value.toString()).to.equal(`value-${1990 + i}`);
    }
  });
});
