// Reading back a damaged write-ahead log: a torn last record is cut off quietly; damage anywhere
// else is skipped to the next good record, reported (how many records, which keys), and the
// damaged original kept as *.corrupt — or, with strict recovery, the cluster refuses to start.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { Cluster, DocumentStore } from '../../lib/server';
import { DiskLog, LogDamagedError } from '../../lib/server/persistence';
import { encodeSet, LogFormat, scanLog, type DocRecord } from '../../lib/server/log-format';
import { runCli, startServe } from '../cli/helpers';

/** Format 2's record header (marker, length, checksum) and a document payload's fixed part (with its revision). */
const HEAD = 12;
const SET_FIXED = 36;
/** The same without a revision (logs written before revisions). */
const SET_FIXED_NO_REV = 28;

describe('server persistence: damaged logs', function () {
  this.timeout(30000);
  let dir: string;
  let warnings: string[];
  const file = (): string => path.join(dir, 'default.dblog');

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-recovery-'));
    warnings = [];
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function write(docs: Array<[string, string | Buffer]>): void {
    const store = new DocumentStore({ name: 'default', numVBuckets: 16 });
    const log = DiskLog.open(dir, [store], { fsync: 'none', intervalMs: 1 });
    for (const [id, value] of docs) store.write(id, Buffer.from(value), 'upsert');
    log.close();
  }

  function open(strictRecovery = false): DocumentStore {
    const store = new DocumentStore({ name: 'default', numVBuckets: 16 });
    DiskLog.open(dir, [store], { fsync: 'none', intervalMs: 1, strictRecovery, warn: (m) => warnings.push(m) }).close();
    return store;
  }

  /** Offset of the record that holds the n-th document record written for `key` (format 2). */
  function recordOf(buf: Buffer, key: string, n = 0): number {
    let at = -1;
    for (let i = 0; i <= n; i++) at = buf.indexOf(Buffer.from(key + '"'), at + 1);
    expect(at, key).to.be.greaterThan(0);
    // The key is followed by the value, which starts with its quote; step back to the key.
    return at - HEAD - SET_FIXED;
  }

  function damage(edit: (buf: Buffer) => void): Buffer {
    const buf = fs.readFileSync(file());
    edit(buf);
    fs.writeFileSync(file(), buf);
    return buf;
  }

  const docs = (n: number): Array<[string, string]> => Array.from({ length: n }, (_, i) => [`k${i}`, `"value ${i}"`]);

  it('damage in the middle: every good record after it is recovered, the loss is reported by key, the original kept as .corrupt', () => {
    write(docs(10));
    const damaged = damage((buf) => {
      buf[recordOf(buf, 'k4') + HEAD + SET_FIXED + 4] ^= 0xff; // a byte of k4's value
    });
    const store = open();
    for (let i = 0; i < 10; i++) {
      if (i === 4) expect(store.get('k4')).to.equal(undefined);
      else expect(store.get(`k${i}`)!.value.toString(), `k${i}`).to.equal(`"value ${i}"`);
    }
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(/default\.dblog is damaged: 1 record lost \(bytes \d+-\d+\); every other record was recovered/);
    expect(warnings[0]).to.contain('these keys may be missing or hold an older version: "k4"');
    expect(warnings[0]).to.contain(`kept as ${file()}.corrupt`);
    expect(fs.readFileSync(`${file()}.corrupt`).equals(damaged)).to.equal(true);
    // The log itself was rewritten from what was recovered: clean from now on.
    warnings = [];
    expect(open().get('k9')!.value.toString()).to.equal('"value 9"');
    expect(warnings).to.deep.equal([]);
  });

  it('a damaged record header (marker, length) is skipped too, and several spans are counted', () => {
    write(docs(12));
    damage((buf) => {
      buf.writeUInt32BE(0xffffff00, recordOf(buf, 'k2') + 4); // k2's length
      buf[recordOf(buf, 'k7')] ^= 0x55; // k7's marker
      buf[recordOf(buf, 'k8') + 9] ^= 0x01; // k8's checksum
    });
    const store = open();
    expect(['k2', 'k7', 'k8'].map((k) => store.get(k))).to.deep.equal([undefined, undefined, undefined]);
    for (const i of [0, 1, 3, 4, 5, 6, 9, 10, 11]) expect(store.get(`k${i}`), `k${i}`).to.not.equal(undefined);
    expect(warnings[0]).to.match(/3 records lost \(bytes \d+-\d+, \d+-\d+\)/);
    expect(warnings[0]).to.contain('"k2", "k7", "k8"');
  });

  it('a damaged marker in the file header is recovered from the records themselves', () => {
    write(docs(3));
    damage((buf) => {
      buf[9] ^= 0xff; // inside the header's copy of the marker
    });
    const store = open();
    for (let i = 0; i < 3; i++) expect(store.get(`k${i}`), `k${i}`).to.not.equal(undefined);
    expect(warnings).to.deep.equal([]);
  });

  it('a lost record whose key was written again later is reported as intact', () => {
    write([
      ['a', '"a1"'],
      ['b', '"b1"'],
      ['a', '"a2"'],
    ]);
    damage((buf) => {
      buf[recordOf(buf, 'a', 0) + HEAD + SET_FIXED + 3] ^= 0xff;
    });
    const store = open();
    expect(store.get('a')!.value.toString()).to.equal('"a2"');
    expect(warnings[0]).to.contain('these were written again later and are intact: "a"');
    expect(warnings[0]).to.not.contain('older version');
  });

  it('damage at the very end that is not a torn append (a complete record with a bad checksum) is reported', () => {
    write(docs(3));
    damage((buf) => {
      buf[buf.length - 2] ^= 0xff;
    });
    const store = open();
    expect(store.get('k2')).to.equal(undefined);
    expect(store.get('k1')).to.not.equal(undefined);
    expect(warnings[0]).to.contain('1 record lost');
    expect(warnings[0]).to.contain('"k2"');
  });

  it('a torn last record (or a zero-filled tail) is cut off quietly, as a crash in the middle of an append leaves it', () => {
    write(docs(3));
    const whole = fs.readFileSync(file());
    fs.writeFileSync(file(), whole.subarray(0, whole.length - 5));
    let store = open();
    expect(store.get('k1')!.value.toString()).to.equal('"value 1"');
    expect(store.get('k2')).to.equal(undefined);
    expect(warnings).to.deep.equal([]);
    expect(fs.readdirSync(dir).filter((n) => n.includes('corrupt'))).to.deep.equal([]);

    fs.appendFileSync(file(), Buffer.alloc(4096));
    store = open();
    expect(store.get('k1')!.value.toString()).to.equal('"value 1"');
    expect(warnings).to.deep.equal([]);
  });

  it('a value holding a copy of a log file cannot pass for records when the reader resynchronises', () => {
    // Another log (its own marker) with a record for "evil", stored as a document's value.
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-recovery-other-'));
    const s = new DocumentStore({ name: 'default', numVBuckets: 16 });
    const l = DiskLog.open(other, [s], { fsync: 'none', intervalMs: 1 });
    s.write('evil', Buffer.from('"planted"'), 'upsert');
    l.close();
    const copy = fs.readFileSync(path.join(other, 'default.dblog'));
    fs.rmSync(other, { recursive: true, force: true });
    write([
      ['before', '"1"'],
      ['carrier', Buffer.concat([Buffer.from('"'), copy])],
      ['after', '"2"'],
    ]);
    damage((buf) => {
      buf[recordOf(buf, 'carrier')] ^= 0xff; // the carrier's own header: the reader must scan through its value
    });
    const store = open();
    expect(store.get('evil')).to.equal(undefined);
    expect(store.get('before')!.value.toString()).to.equal('"1"');
    expect(store.get('after')!.value.toString()).to.equal('"2"');
    expect(warnings[0]).to.contain('1 record lost');
    expect(warnings[0]).to.contain('"carrier"');
  });

  it('logs in the previous format (no sync marker) are read, resynchronised, and rewritten in the new format', () => {
    const v1 = (payload: Buffer): Buffer => {
      const h = Buffer.alloc(8);
      h.writeUInt32BE(payload.length, 0);
      h.writeUInt32BE(crc32(payload), 4);
      return Buffer.concat([h, payload]);
    };
    const set = (id: string, value: string, seqno: number): Buffer => {
      const fixed = Buffer.alloc(SET_FIXED_NO_REV);
      fixed[0] = 1;
      fixed.writeBigUInt64BE(BigInt(seqno) * 1000n, 1);
      fixed.writeBigUInt64BE(BigInt(seqno), 9);
      fixed[25] = 1;
      fixed.writeUInt16BE(id.length, 26);
      return v1(Buffer.concat([fixed, Buffer.from(id), Buffer.from(value)]));
    };
    const records = [set('x', '"1"', 1), set('y', '"2"', 2), set('z', '"3"', 3)];
    records[1][20] ^= 0xff; // y's record is damaged
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(file(), Buffer.concat(records));
    const store = open();
    expect(store.get('x')!.value.toString()).to.equal('"1"');
    expect(store.get('y')).to.equal(undefined);
    expect(store.get('z')!.value.toString()).to.equal('"3"');
    expect(warnings[0]).to.contain('"y"');
    expect(fs.readFileSync(file()).subarray(0, 8).toString('latin1')).to.equal('DBLOG\0\x02\n');
  });

  it('random damage (seeded) never throws, never invents a record, and loses only the records it touched; random cuts are torn tails', () => {
    let seed = 0x5eed;
    const rand = (n: number): number => {
      // mulberry32
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (((t ^ (t >>> 14)) >>> 0) % n) | 0;
    };
    for (let round = 0; round < 300; round++) {
      const fmt = LogFormat.fresh();
      const written: DocRecord[] = [];
      const parts = [fmt.fileHeader()];
      const ranges: Array<[number, number]> = [];
      let at = parts[0].length;
      for (let i = 0; i < 40; i++) {
        const doc: DocRecord = { id: `d${i}`, value: Buffer.alloc(rand(300), 0x61 + (i % 26)), flags: i, datatype: 0, cas: BigInt(i + 1), expiry: 0, seqno: BigInt(i + 1) };
        const rec = encodeSet(doc, fmt);
        written.push(doc);
        parts.push(rec);
        ranges.push([at, at + rec.length]);
        at += rec.length;
      }
      if (round % 4 === 3) {
        // A torn append: the file ends inside a record. Every record before it is kept, quietly.
        const cut = parts[0].length + 1 + rand(at - parts[0].length - 1);
        const got: string[] = [];
        const scan = scanLog(Buffer.concat(parts).subarray(0, cut), (rec) => rec.kind === 'set' && got.push(rec.doc.id));
        expect(scan.damage, `round ${round}`).to.deep.equal([]);
        expect(got, `round ${round}`).to.deep.equal(written.filter((_, i) => ranges[i][1] <= cut).map((d) => d.id));
        continue;
      }
      const buf = Buffer.concat(parts);
      const touched = new Set<number>();
      /** Touched records the report must count: their marker is intact, or their damage starts a span. */
      const countable = new Set<number>();
      const markerHit = new Set<number>();
      for (let k = 1 + rand(4); k > 0; k--) {
        const p = fmt.head + 4 + rand(buf.length - 16); // anywhere past the file header
        buf[p] ^= 1 + rand(255);
        const r = ranges.findIndex(([a, b]) => p >= a && p < b);
        touched.add(r);
        if (p < ranges[r][0] + 4) markerHit.add(r);
      }
      for (const r of touched) if (!markerHit.has(r) || !touched.has(r - 1)) countable.add(r);
      const got: DocRecord[] = [];
      const scan = scanLog(buf, (rec) => {
        if (rec.kind === 'set') got.push(rec.doc);
      });
      const ids = got.map((d) => Number(d.id.slice(1)));
      for (const d of got) expect(written[Number(d.id.slice(1))], `round ${round}`).to.deep.equal(d);
      for (let i = 0; i < written.length; i++) expect(ids.includes(i), `round ${round}: d${i}`).to.equal(!touched.has(i));
      const lost = scan.damage.reduce((n, d) => n + d.lost.length, 0);
      if (touched.has(written.length - 1) && scan.damage.length === 0) expect(scan.tornBytes, `round ${round}`).to.be.greaterThan(0);
      else expect(lost, `round ${round}`).to.be.at.least(countable.size - (touched.has(written.length - 1) ? 1 : 0));
    }
  });

  it('strict recovery refuses to start with a clear error and changes nothing on disk', async () => {
    write(docs(6));
    const damaged = damage((buf) => {
      buf[recordOf(buf, 'k3') + HEAD + SET_FIXED + 2] ^= 0xff;
    });
    let err: unknown;
    try {
      await Cluster.start({ dataDir: dir, numVBuckets: 16, strictRecovery: true, queryService: null, viewsService: null });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(LogDamagedError);
    expect((err as Error).message).to.contain('1 record lost');
    expect((err as Error).message).to.contain('"k3"');
    expect((err as Error).message).to.contain('strict recovery is on');
    expect(fs.readFileSync(file()).equals(damaged)).to.equal(true);
    expect(fs.readdirSync(dir).filter((n) => n.includes('corrupt'))).to.deep.equal([]);
    expect(() => open(true)).to.throw(LogDamagedError);
  });

  it('`deferbase serve --strict-recovery` refuses a damaged data dir; without it, it starts and reports the loss on stderr', async () => {
    write(docs(4));
    damage((buf) => {
      buf[recordOf(buf, 'k1') + HEAD + SET_FIXED + 2] ^= 0xff;
    });
    const usage = await runCli(['serve', '--port', '0', '--strict-recovery']);
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.contain('--strict-recovery needs --data-dir');
    const refused = await runCli(['serve', '--port', '0', '--data-dir', dir, '--strict-recovery']);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/cannot start the cluster: persistence: .*default\.dblog is damaged: 1 record lost .*"k1".*strict recovery is on/);
    const served = await startServe(['--data-dir', dir]);
    const out = await served.stop();
    expect(out.stderr).to.match(/deferbase: persistence: .*default\.dblog is damaged: 1 record lost .*"k1".*kept as .*default\.dblog\.corrupt/);
    expect(fs.existsSync(`${file()}.corrupt`)).to.equal(true);
  });
});
