// Disk full and failing disks under the write-ahead log: the process stays up, a write the log
// cannot take or keep fails with a temporary failure and leaves memory as it was, and writes
// succeed again once there is room.
import { expect } from 'chai';
import sinon from 'sinon';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cluster, DocumentStore, ManualClock, StoreError, type FsyncPolicy, type MutationEvent } from '../../lib/server';
import { DiskLog } from '../../lib/server/persistence';
import { Opcode, Status } from '../../lib/protocol';
import { FaultyDisk, faultyDir } from './fixtures/faulty-disk';
import { RawClient } from './raw-client';

const ETMPFAIL = 0x86;

function tmpfail(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(StoreError);
    expect((err as StoreError).status).to.equal(ETMPFAIL);
    return err as StoreError;
  }
  throw new Error('expected a temporary failure');
}

/** A child process we talk to in lines: commands on stdin, answers on stdout. */
class LineChild {
  private out = '';
  private readonly waiters: Array<() => void> = [];
  readonly exited: Promise<number | null>;
  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => {
      this.out += d.toString();
      for (const w of this.waiters.splice(0)) w();
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }
  async expectLine(re: RegExp, timeoutMs = 10000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.out);
      if (m) {
        this.out = this.out.slice(m.index + m[0].length);
        return m;
      }
      if (this.child.exitCode !== null) throw new Error(`child exited (${this.child.exitCode}) before ${re}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}; have ${JSON.stringify(this.out)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
  send(line: string): void {
    this.child.stdin!.write(line + '\n');
  }
}

function durable(log: DiskLog): Promise<Error | undefined> {
  return new Promise((resolve) => log.whenDurable((err) => resolve(err)));
}

describe('server persistence under a full or failing disk', function () {
  this.timeout(20000);
  let dir: string;
  let disk: FaultyDisk;
  let warnings: string[];
  const file = (): string => path.join(dir, 'default.dblog');

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-faults-'));
    disk = new FaultyDisk();
    warnings = [];
  });
  afterEach(() => {
    disk.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function open(fsync: FsyncPolicy, store = new DocumentStore({ name: 'default', numVBuckets: 16 }), extra: { compactMinBytes?: number } = {}): { store: DocumentStore; log: DiskLog } {
    const log = DiskLog.open(dir, [store], { fsync, intervalMs: 1, io: disk, warn: (m) => warnings.push(m), ...extra });
    return { store, log };
  }

  function reopen(): DocumentStore {
    const again = new DocumentStore({ name: 'default', numVBuckets: 16 });
    DiskLog.open(dir, [again], { fsync: 'none', intervalMs: 1, warn: (m) => warnings.push(m) }).close();
    return again;
  }

  for (const fsync of ['always', 'none'] as const) {
    it(`fsync '${fsync}': ENOSPC in the middle of a record fails the write, changes nothing, and the log takes writes again once there is room`, () => {
      const { store, log } = open(fsync);
      const events: MutationEvent[] = [];
      store.onMutation((e) => events.push(e));
      const first = store.write('k', Buffer.from('"one"'), 'upsert');
      const size = fs.statSync(file()).size;
      const seqno = store.highSeqno;

      disk.room = 10; // the disk fills ten bytes into the next record
      const err = tmpfail(() => store.write('k', Buffer.from(`"${'x'.repeat(1000)}"`), 'upsert'));
      expect(err.message).to.contain('ENOSPC');
      tmpfail(() => store.write('new', Buffer.from('1'), 'insert'));
      tmpfail(() => store.remove('k'));
      tmpfail(() => store.counter('n', 1n, 5n, 0, false));
      expect(disk.failedWrites).to.be.greaterThan(0);
      expect(store.get('k')).to.equal(first);
      expect(store.get('new')).to.equal(undefined);
      expect(store.get('n')).to.equal(undefined);
      expect(store.highSeqno).to.equal(seqno);
      expect(events).to.have.length(1);
      expect(fs.statSync(file()).size, 'the torn bytes are cut off').to.equal(size);
      expect(warnings.join('\n')).to.match(/cannot write to .*ENOSPC/);

      disk.heal();
      const second = store.write('k', Buffer.from('"two"'), 'upsert');
      expect(second.seqno).to.equal(seqno + 1n);
      expect(warnings.at(-1)).to.match(/writing to .* again/);
      log.close();
      const again = reopen();
      expect(again.get('k')!.value.toString()).to.equal('"two"');
      expect(again.get('new')).to.equal(undefined);
      expect(warnings.filter((w) => /damaged/.test(w))).to.deep.equal([]);
    });
  }

  it("fsync 'always': a failed fdatasync fails the write and cuts its record off", () => {
    const { store, log } = open('always');
    store.write('k', Buffer.from('1'), 'upsert');
    const size = fs.statSync(file()).size;
    disk.syncError = 'EIO';
    expect(tmpfail(() => store.write('k', Buffer.from('2'), 'upsert')).message).to.contain('EIO');
    expect(store.get('k')!.value.toString()).to.equal('1');
    expect(fs.statSync(file()).size).to.equal(size);
    disk.heal();
    store.write('k', Buffer.from('3'), 'upsert');
    log.close();
    expect(reopen().get('k')!.value.toString()).to.equal('3');
  });

  it("fsync 'batch': a failed group write or fdatasync fails every write it covers, and undoes them in memory and for listeners", async () => {
    const { store, log } = open('batch');
    store.write('a', Buffer.from('"a1"'), 'upsert');
    store.write('gone', Buffer.from('1'), 'upsert');
    expect(await durable(log)).to.equal(undefined);
    const size = fs.statSync(file()).size;
    const live = new Map<string, string>();
    store.onMutation((e) => {
      if (e.kind === 'set') live.set(e.doc.id, e.doc.value.toString());
      else live.delete(e.id);
    });

    for (const fault of ['ENOSPC', 'EIO'] as const) {
      if (fault === 'ENOSPC') disk.room = 0;
      else disk.syncError = 'EIO';
      store.write('a', Buffer.from('"a2"'), 'upsert');
      store.write('b', Buffer.from('"b"'), 'insert');
      store.remove('gone');
      store.counter('n', 1n, 10n, 0, false);
      // Readers see the writes until the group fails (as in Couchbase before persistence)...
      expect(store.get('a')!.value.toString()).to.equal('"a2"');
      const err = await durable(log);
      expect(err, fault).to.be.instanceOf(StoreError);
      expect((err as StoreError).status).to.equal(ETMPFAIL);
      expect(err!.message).to.contain(fault);
      // ...and after it, none of them: memory and listeners are back where the disk is.
      expect(store.get('a')!.value.toString()).to.equal('"a1"');
      expect(store.get('b')).to.equal(undefined);
      expect(store.meta('b')).to.equal(undefined);
      expect(store.get('gone')!.value.toString()).to.equal('1');
      expect(store.get('n')).to.equal(undefined);
      expect([...live]).to.deep.equal([
        ['a', '"a1"'],
        ['gone', '1'],
      ]);
      expect(fs.statSync(file()).size).to.equal(size);
      disk.heal();
      live.clear();
      live.set('a', '"a1"').set('gone', '1');
    }
    expect(disk.failedSyncs).to.be.greaterThan(0);

    // Room again: the same writes go through, and a CAS from before the failure still matches.
    const cas = store.get('a')!.cas;
    store.write('a', Buffer.from('"a3"'), 'replace', { cas });
    store.write('b', Buffer.from('"b"'), 'insert');
    expect(await durable(log)).to.equal(undefined);
    log.close();
    const again = reopen();
    expect(again.get('a')!.value.toString()).to.equal('"a3"');
    expect(again.get('b')!.value.toString()).to.equal('"b"');
    expect(again.get('gone')!.value.toString()).to.equal('1');
    expect(again.get('n')).to.equal(undefined);
  });

  it("fsync 'batch': writes made while a failing fdatasync runs are undone with it (they may build on it)", async () => {
    const { store, log } = open('batch');
    store.counter('n', 1n, 0n, 0, false);
    expect(await durable(log)).to.equal(undefined);
    disk.syncError = 'EIO';
    store.counter('n', 1n, 0n, 0, false); // n = 1, in the failing group
    const first = durable(log);
    await new Promise((r) => setTimeout(r, 5)); // the group is being synced
    store.counter('n', 1n, 0n, 0, false); // n = 2, built on the failing write
    const second = durable(log);
    expect((await first) as StoreError).to.have.property('status', ETMPFAIL);
    expect((await second) as StoreError).to.have.property('status', ETMPFAIL);
    expect(store.get('n')!.value.toString()).to.equal('0');
    disk.heal();
    log.close();
    expect(reopen().get('n')!.value.toString()).to.equal('0');
  });

  it("fsync 'batch': a writer spanning several groups (a N1QL statement) hears of a failed group even when its last one succeeded", async () => {
    const { store, log } = open('batch');
    const clean = log.track();
    store.write('a', Buffer.from('1'), 'upsert');
    await durable(log);
    store.write('b', Buffer.from('1'), 'upsert');
    await clean();

    const spanning = log.track();
    disk.syncError = 'EIO';
    store.write('a', Buffer.from('2'), 'upsert');
    expect(await durable(log)).to.be.instanceOf(StoreError);
    disk.heal();
    store.write('b', Buffer.from('2'), 'upsert');
    let err: unknown;
    await spanning().catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(StoreError);
    expect((err as StoreError).message).to.contain('EIO');
    expect(store.get('a')!.value.toString()).to.equal('1');
    expect(store.get('b')!.value.toString()).to.equal('2');
    log.close();
  });

  it('the expiry pass and lazy expiry keep going on a full disk, and delete once there is room', async () => {
    const clock = new ManualClock();
    for (const fsync of ['always', 'batch'] as const) {
      const store = new DocumentStore({ name: 'default', numVBuckets: 16, clock });
      const { log } = open(fsync, store);
      store.write('temp', Buffer.from('1'), 'upsert', { expiry: 10 });
      store.write('kept', Buffer.from('1'), 'upsert');
      if (fsync === 'batch') await durable(log);
      disk.room = 0;
      clock.advance(11_000);
      expect(() => store.expirePass()).to.not.throw();
      expect(store.get('temp'), 'expired even though the deletion is not logged').to.equal(undefined);
      if (fsync === 'batch') expect(await durable(log)).to.be.instanceOf(StoreError);
      expect(store.get('temp')).to.equal(undefined);
      disk.heal();
      if (fsync === 'always') expect(store.expirePass()).to.equal(1);
      else {
        store.expirePass();
        expect(await durable(log)).to.equal(undefined);
      }
      expect(store.meta('temp')!.deleted).to.equal(true);
      log.close();
      const again = new DocumentStore({ name: 'default', numVBuckets: 16, clock });
      DiskLog.open(dir, [again], { fsync: 'none', intervalMs: 1 }).close();
      expect(again.meta('temp')!.deleted, fsync).to.equal(true);
      fs.rmSync(file());
    }
  });

  it('compaction on open and while running: a full disk leaves the log as it was, and nothing is lost', () => {
    const { store, log } = open('none');
    for (let i = 0; i < 20; i++) store.write(`k${i}`, Buffer.from(`v${i}`), 'upsert');
    log.close();
    const before = fs.readFileSync(file());

    disk.room = 0;
    const s2 = new DocumentStore({ name: 'default', numVBuckets: 16 });
    const log2 = DiskLog.open(dir, [s2], { fsync: 'none', intervalMs: 1, io: disk, warn: (m) => warnings.push(m), compactMinBytes: 512 });
    expect(warnings.join('\n')).to.match(/could not compact .*ENOSPC/);
    expect(fs.readFileSync(file()).equals(before)).to.equal(true);
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).to.deep.equal([]);
    expect(s2.get('k7')!.value.toString()).to.equal('v7');
    disk.heal();
    // Enough writes for the log to compact while running.
    for (let i = 0; i < 200; i++) s2.write(`k${i % 20}`, Buffer.from(`w${i % 20}`.padEnd(100)), 'upsert');
    expect(fs.statSync(file()).size).to.be.lessThan(20 * 200);
    disk.room = 0;
    tmpfail(() => s2.write('k0', Buffer.from('lost'), 'upsert'));
    disk.heal();
    log2.close();
    const again = reopen();
    for (let i = 0; i < 20; i++) expect(again.get(`k${i}`)!.value.toString().trim()).to.equal(`w${i}`);
  });

  it('design documents and index definitions: a full disk fails the change, which is not made, and leaves no temp file', () => {
    const { store, log } = open('batch');
    store.metadata.set('views', { a: 1 });
    disk.room = 0;
    tmpfail(() => store.metadata.set('views', { a: 2 }));
    expect(store.metadata.get('views')).to.deep.equal({ a: 1 });
    expect(fs.readdirSync(dir).sort()).to.deep.equal(['default.dblog', 'default.meta.json']);
    disk.heal();
    store.metadata.set('views', { a: 3 });
    log.close();
    expect(reopen().metadata.get('views')).to.deep.equal({ a: 3 });
  });

  describe('through the KV front end and N1QL (a whole cluster)', () => {
    let restore: (() => void) | undefined;
    /** What the cluster reported on stderr. */
    let stderr: string[];
    afterEach(() => restore?.());

    async function start(fsync: FsyncPolicy, services = false): Promise<{ cluster: Cluster; c: RawClient; disk: FaultyDisk }> {
      const faulty = faultyDir(dir);
      stderr = [];
      const write = process.stderr.write.bind(process.stderr);
      const capture = sinon.stub(process.stderr, 'write').callsFake(((chunk: string | Uint8Array, ...rest: unknown[]) => {
        if (String(chunk).startsWith('deferbase: persistence')) stderr.push(String(chunk));
        else return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
        return true;
      }) as typeof process.stderr.write);
      restore = () => {
        capture.restore();
        faulty.restore();
      };
      const cluster = await Cluster.start({ dataDir: dir, fsync, numVBuckets: 64, ...(services ? {} : { queryService: null, viewsService: null }) });
      const c = await RawClient.connect(cluster.nodes[0].ports.kv);
      c.numVBuckets = 64;
      await c.login('Administrator', 'password', 'default');
      return { cluster, c, disk: faulty.disk };
    }

    for (const fsync of ['batch', 'always'] as const) {
      it(`fsync '${fsync}': a KV client gets ETMPFAIL (quiet writes too, in order), the server stays up, and later writes succeed`, async () => {
        const { cluster, c, disk: d } = await start(fsync);
        try {
          expect((await c.set('k', '"one"')).status).to.equal(Status.SUCCESS);
          // Answers with values this large are queued by reference, between the slab's: the
          // failed answers must still land in their place.
          const big = `"${'b'.repeat(40000)}"`;
          expect((await c.set('big', big)).status).to.equal(Status.SUCCESS);
          for (const fault of fsync === 'batch' ? ['ENOSPC', 'EIO'] : ['ENOSPC']) {
            if (fault === 'ENOSPC') d.room = 0;
            else d.syncError = 'EIO';
            const extras = Buffer.alloc(8);
            c.write(
              Buffer.concat([
                c.frame({ opcode: Opcode.GET, key: 'big', vbucket: c.vb('big'), opaque: 5 }),
                c.frame({ opcode: Opcode.SET, key: 'k', extras, value: '"two"', vbucket: c.vb('k'), opaque: 1 }),
                c.frame({ opcode: Opcode.GET, key: 'big', vbucket: c.vb('big'), opaque: 6 }),
                c.frame({ opcode: Opcode.SETQ, key: 'q', extras, value: '"q"', vbucket: c.vb('q'), opaque: 2 }),
                c.frame({ opcode: Opcode.GET, key: 'k', vbucket: c.vb('k'), opaque: 3 }),
                c.frame({ opcode: Opcode.NOOP, opaque: 4 }),
              ]),
            );
            const [big1, set, big2, setq, get, noop] = await c.take(6);
            for (const [p, opaque] of [
              [big1, 5],
              [big2, 6],
            ] as const) {
              expect([p.opaque, p.status]).to.deep.equal([opaque, Status.SUCCESS]);
              expect(p.value.toString()).to.equal(big);
            }
            expect([set.opaque, set.status], fault).to.deep.equal([1, ETMPFAIL]);
            expect(set.cas).to.equal(0n);
            expect([setq.opaque, setq.opcode, setq.status]).to.deep.equal([2, Opcode.SETQ, ETMPFAIL]);
            expect([get.opaque, get.status]).to.deep.equal([3, Status.SUCCESS]);
            expect([noop.opaque, noop.status]).to.deep.equal([4, Status.SUCCESS]);
            expect((await c.get('k')).value.toString()).to.equal('"one"');
            expect((await c.get('q')).status).to.equal(Status.KEY_ENOENT);
            d.heal();
          }
          expect((await c.set('k', '"three"')).status).to.equal(Status.SUCCESS);
          expect(stderr.join('')).to.match(/^deferbase: persistence: cannot write to .* \(ENOSPC: no space left on device, write\); writes fail with a temporary failure \(KV: ETMPFAIL\) until it can\n/);
          expect(stderr.at(-1)).to.match(/^deferbase: persistence: writing to .* again\n$/);
        } finally {
          c.close();
          await cluster.stop();
        }
        restore!();
        restore = undefined;
        const again = await Cluster.start({ dataDir: dir, numVBuckets: 64, queryService: null, viewsService: null });
        expect(again.bucket('default').get('k')!.value.toString()).to.equal('"three"');
        expect(again.bucket('default').get('q')).to.equal(undefined);
        await again.stop();
      });
    }

    it("fsync 'batch': a SET pipelined with QUIT is answered only after its group commit (ETMPFAIL when that fails)", async () => {
      const { cluster, c, disk: d } = await start('batch');
      try {
        d.syncError = 'EIO';
        c.write(Buffer.concat([c.frame({ opcode: Opcode.SET, key: 'k', extras: Buffer.alloc(8), value: '1', vbucket: c.vb('k'), opaque: 7 }), c.frame({ opcode: Opcode.QUIT, opaque: 8 })]));
        const [set, quit] = await c.take(2);
        expect([set.opaque, set.status]).to.deep.equal([7, ETMPFAIL]);
        expect([quit.opaque, quit.status]).to.deep.equal([8, Status.SUCCESS]);
        await c.waitClosed();
        expect(cluster.bucket('default').get('k')).to.equal(undefined);
        d.heal();
      } finally {
        c.close();
        await cluster.stop();
      }
    });

    it("fsync 'batch': N1QL DML reports the failure of a group commit and its writes are undone", async () => {
      const { cluster, c, disk: d } = await start('batch', true);
      c.close();
      const auth = { authorization: 'Basic ' + Buffer.from('Administrator:password').toString('base64'), 'content-type': 'application/json' };
      const q = async (statement: string): Promise<{ status: string; errors?: Array<{ code: number; msg: string }>; results: unknown[] }> => {
        const r = await fetch(`http://127.0.0.1:${cluster.nodes[0].ports.n1ql}/query/service`, { method: 'POST', headers: auth, body: JSON.stringify({ statement }) });
        return (await r.json()) as { status: string; errors?: Array<{ code: number; msg: string }>; results: unknown[] };
      };
      try {
        expect((await q('UPSERT INTO default (KEY, VALUE) VALUES ("a", {"n": 1})')).status).to.equal('success');
        d.syncError = 'EIO';
        const failed = await q('UPDATE default USE KEYS "a" SET n = 2');
        expect(failed.status).to.equal('errors');
        expect(failed.errors![0].code).to.equal(12009);
        expect(failed.errors![0].msg).to.match(/undone.*EIO/);
        expect(cluster.bucket('default').get('a')!.value.toString()).to.equal('{"n":1}');
        d.room = 0;
        d.syncError = undefined;
        const full = await q('UPSERT INTO default (KEY, VALUE) VALUES ("b", {"n": 1})');
        expect(full.errors![0].code).to.equal(12009);
        expect(full.errors![0].msg).to.contain('ENOSPC');
        d.heal();
        expect((await q('UPDATE default USE KEYS "a" SET n = 3')).status).to.equal('success');
        expect(cluster.bucket('default').get('a')!.value.toString()).to.equal('{"n":3}');
      } finally {
        await cluster.stop();
      }
    });
  });

  describe('on a file system that is really full (a small tmpfs in a private mount namespace)', function () {
    const FIXTURE = path.join(__dirname, 'fixtures', 'full-disk-node.js');
    before(function () {
      // Needs unprivileged user namespaces (or root); without them there is no real full disk to test on.
      if (spawnSync('unshare', ['-rm', 'true']).status !== 0) this.skip();
    });

    for (const fsync of ['batch', 'always'] as const) {
      it(`fsync '${fsync}': ENOSPC from the kernel fails writes with ETMPFAIL, expiry keeps running, and writes work again once there is room`, async () => {
        const mount = path.join(dir, 'mnt');
        fs.mkdirSync(mount);
        const script = 'mount -t tmpfs -o size=512k deferbase-test "$1" && shift && exec "$@"';
        const child = new LineChild(spawn('unshare', ['-rm', 'sh', '-c', script, 'sh', mount, process.execPath, FIXTURE, mount, fsync], { stdio: ['pipe', 'pipe', 'pipe'] }));
        let stderr = '';
        child.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        let c: RawClient | undefined;
        const connect = async (port: number): Promise<RawClient> => {
          c?.close();
          c = await RawClient.connect(port);
          c.numVBuckets = 64;
          await c.login('Administrator', 'password', 'default');
          return c;
        };
        try {
          let kv = await connect(Number((await child.expectLine(/READY (\d+)\n/))[1]));
          expect((await kv.set('k', '"one"')).status).to.equal(Status.SUCCESS);
          const temp = 'an-expiring-document-with-a-long-key-so-its-deletion-is-a-long-record';
          expect((await kv.set(temp, '1', { expiry: 1 })).status).to.equal(Status.SUCCESS);
          child.send('fill');
          await child.expectLine(/FILLED\n/);
          // The log's last page may still have a few bytes free: small writes use them up first.
          let status: number = Status.SUCCESS;
          for (let i = 0; i < 200 && status === Status.SUCCESS; i++) status = (await kv.set('pad', 'x')).status;
          expect(status).to.equal(ETMPFAIL);

          const extras = Buffer.alloc(8);
          kv.write(
            Buffer.concat([
              kv.frame({ opcode: Opcode.SET, key: 'k', extras, value: `"${'two'.repeat(6000)}"`, vbucket: kv.vb('k'), opaque: 1 }),
              kv.frame({ opcode: Opcode.SETQ, key: 'q', extras, value: '"q"', vbucket: kv.vb('q'), opaque: 2 }),
              kv.frame({ opcode: Opcode.NOOP, opaque: 3 }),
            ]),
          );
          const answers = await kv.take(3);
          expect(answers.map((p) => [p.opaque, p.status])).to.deep.equal([
            [1, ETMPFAIL],
            [2, ETMPFAIL],
            [3, Status.SUCCESS],
          ]);
          expect((await kv.get('k')).value.toString()).to.equal('"one"');
          expect((await kv.get('q')).status).to.equal(Status.KEY_ENOENT);
          // Expiry passes run (and cannot log their deletion) without ending the process.
          await new Promise((r) => setTimeout(r, 2200));
          expect(child.child.exitCode).to.equal(null);
          expect((await kv.get(temp)).status).to.equal(Status.KEY_ENOENT);

          child.send('free');
          await child.expectLine(/FREED\n/);
          expect((await kv.set('k', '"three"')).status).to.equal(Status.SUCCESS);
          child.send('restart');
          kv = await connect(Number((await child.expectLine(/READY (\d+)\n/))[1]));
          expect((await kv.get('k')).value.toString()).to.equal('"three"');
          expect((await kv.get('q')).status).to.equal(Status.KEY_ENOENT);
          expect(stderr).to.match(/cannot write to .*ENOSPC/);
          expect(stderr).to.match(/writing to .* again/);
          expect(stderr).to.not.match(/damaged/);
        } finally {
          c?.close();
          child.child.kill('SIGKILL');
          await child.exited;
        }
      });
    }
  });
});
