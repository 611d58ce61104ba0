// Scopes, collections and their documents across a restart with `dataDir`; logs written before
// collections still read (their records are the default collection's).
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cluster } from '../../lib/server';
import { LogFormat, encodeSet, encodeVbseqnos, scanLog, type LogRecord } from '../../lib/server/log-format';

describe('server collections with dataDir', function () {
  this.timeout(20000);
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-coll-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function start(): Promise<Cluster> {
    return Cluster.start({ dataDir: dir, numVBuckets: 16, queryService: null, viewsService: null, consoleDir: null });
  }

  it('the manifest and every collection\'s documents come back; a dropped collection\'s do not', async () => {
    let cluster = await start();
    const bucket = cluster.bucket('default');
    cluster.changeCollections('default', { op: 'createScope', scope: 'app' });
    cluster.changeCollections('default', { op: 'createCollection', scope: 'app', collection: 'users', props: { maxTTL: 3600 } });
    cluster.changeCollections('default', { op: 'createCollection', scope: 'app', collection: 'gone', props: {} });
    bucket.write('k', Buffer.from('{"in":"default"}'), 'upsert');
    bucket.collectionNamed('app', 'users')!.write('k', Buffer.from('{"in":"users"}'), 'upsert');
    bucket.collectionNamed('app', 'users')!.write('deleted', Buffer.from('1'), 'upsert');
    bucket.collectionNamed('app', 'users')!.remove('deleted');
    bucket.collectionNamed('app', 'gone')!.write('k', Buffer.from('{"in":"gone"}'), 'upsert');
    const usersId = bucket.manifest.collection('app', 'users')!.uid;
    const goneId = bucket.manifest.collection('app', 'gone')!.uid;
    cluster.changeCollections('default', { op: 'dropCollection', scope: 'app', collection: 'gone' });
    const uid = bucket.manifest.uid;
    const seqno = bucket.highSeqno;
    await cluster.stop();

    cluster = await start();
    try {
      const back = cluster.bucket('default');
      expect(back.manifest.uid).to.equal(uid);
      expect(back.manifest.collection('app', 'users')).to.deep.equal({ name: 'users', uid: usersId, maxTTL: 3600, history: false });
      expect(back.manifest.collection('app', 'gone')).to.equal(undefined);
      expect(back.get('k')!.value.toString()).to.equal('{"in":"default"}');
      const users = back.collectionNamed('app', 'users')!;
      expect(users.get('k')!.value.toString()).to.equal('{"in":"users"}');
      expect(users.meta('deleted')!.deleted).to.equal(true);
      expect(users.collectionMaxTtl).to.equal(3600);
      expect(back.collection(goneId)).to.equal(undefined);
      expect(back.highSeqno).to.equal(seqno);
      // Ids are never reused: the next collection gets a new one.
      cluster.changeCollections('default', { op: 'createCollection', scope: 'app', collection: 'gone', props: {} });
      expect(back.manifest.collection('app', 'gone')!.uid).to.be.greaterThan(goneId);
      expect(back.collectionNamed('app', 'gone')!.size).to.equal(0);
    } finally {
      await cluster.stop();
    }
  });

  it('a log written before collections is the default collection\'s', async () => {
    const fmt = LogFormat.fresh();
    const doc = { id: 'old', value: Buffer.from('{"v":1}'), flags: 0, datatype: 1, cas: 5n, expiry: 0, seqno: 1n };
    fs.writeFileSync(path.join(dir, 'default.dblog'), Buffer.concat([fmt.fileHeader(), encodeSet(doc, fmt)]));
    const cluster = await start();
    try {
      const bucket = cluster.bucket('default');
      expect(bucket.get('old')!.value.toString()).to.equal('{"v":1}');
      // A new bucket's manifest: nothing saved yet.
      expect(bucket.manifest.uid).to.equal(1);
    } finally {
      await cluster.stop();
    }
  });

  it('records of a named collection carry its id as a LEB128 key prefix', () => {
    const fmt = LogFormat.fresh();
    const doc = { id: 'k', value: Buffer.from('x'), flags: 0, datatype: 0, cas: 1n, expiry: 0, seqno: 2n };
    const records: LogRecord[] = [];
    scanLog(Buffer.concat([fmt.fileHeader(), encodeSet(doc, fmt, 0x80), encodeSet(doc, fmt)]), (r) => records.push(r));
    expect(records.map((r) => (r.kind === 'set' ? [r.cid, r.doc.id] : []))).to.deep.equal([
      [0x80, 'k'],
      [0, 'k'],
    ]);
  });

  it('a dropped collection\'s seqnos still count after compaction and restarts: no vBucket\'s high seqno goes backwards', async () => {
    let cluster = await start();
    let bucket = cluster.bucket('default');
    cluster.changeCollections('default', { op: 'createScope', scope: 'app' });
    cluster.changeCollections('default', { op: 'createCollection', scope: 'app', collection: 'gone', props: {} });
    bucket.write('kept', Buffer.from('1'), 'upsert');
    const gone = bucket.collectionNamed('app', 'gone')!;
    // Written last, in other vBuckets than `kept`'s: their seqnos are the high ones.
    for (let i = 0; i < 20; i++) gone.write(`g${i}`, Buffer.from('2'), 'upsert');
    cluster.changeCollections('default', { op: 'dropCollection', scope: 'app', collection: 'gone' });
    const seqnos = bucket.vbucketSeqnos();
    const high = bucket.highSeqno;
    await cluster.stop();
    // Each start compacts the log to the live data: the second start reads a log without the dropped collection's records.
    for (let run = 0; run < 2; run++) {
      cluster = await start();
      bucket = cluster.bucket('default');
      try {
        expect(bucket.vbucketSeqnos()).to.deep.equal(seqnos);
        expect(bucket.highSeqno).to.equal(high);
      } finally {
        await cluster.stop();
      }
    }
    cluster = await start();
    try {
      bucket = cluster.bucket('default');
      const vb = bucket.vbucketOf('g0');
      expect(bucket.write('g0', Buffer.from('3'), 'upsert').seqno).to.equal(high + 1n);
      expect(bucket.vbucketSeqno(vb)).to.equal(high + 1n);
    } finally {
      await cluster.stop();
    }
  });

  it('vBucket high seqnos are a record of their own', () => {
    const fmt = LogFormat.fresh();
    const records: LogRecord[] = [];
    scanLog(Buffer.concat([fmt.fileHeader(), encodeVbseqnos([3n, 0n, 2n ** 63n], fmt)]), (r) => records.push(r));
    expect(records).to.deep.equal([{ kind: 'vbseqnos', seqnos: [3n, 0n, 2n ** 63n] }]);
  });
});
