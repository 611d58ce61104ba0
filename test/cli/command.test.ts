import { expect } from 'chai';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { beerSampleDocs } from '../../lib/server/samples/beer-sample';
import { travelSampleDocs } from '../../lib/server/samples/travel-sample';
import { jsonDocuments, jsonOf, runCli, runInPty, startServe, type Served } from './helpers';

describe('deferbase command: argument errors', () => {
  it('exits 2 with the message and the usage on an unknown flag', async () => {
    const r = await runCli(['pillowfight', '--flavor', 'promise']);
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.match(/^deferbase pillowfight: unknown flag --flavor; did you mean --flavour\?\n/);
    expect(r.stderr).to.contain('usage: deferbase pillowfight [CONNSTR] [options]');
    expect(r.stderr).to.match(/--flavour engine\|deferred\|promise\|blocking/);
  });

  it('exits 2 on a bad value, a missing argument or an unknown command', async () => {
    const [badValue, missing, unknown, replicas] = await Promise.all([
      runCli(['pillowfight', '--set-ratio', '1.5']),
      runCli(['get']),
      runCli(['fetch', 'k']),
      runCli(['serve', '--nodes', '1', '--replicas', '1']),
    ]);
    expect(badValue.code).to.equal(2);
    expect(badValue.stderr).to.match(/--set-ratio: must be at most 1 \(got "1.5"\)/);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.match(/^deferbase get: missing KEY\n\nusage: deferbase get KEY \[options\]/);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.match(/unknown command "fetch"[\s\S]*commands:[\s\S]*pillowfight/);
    expect(replicas.code).to.equal(2);
    expect(replicas.stderr).to.contain('--replicas 1 needs at least 2 nodes');
  });

  it('prints a command\'s usage on --help and exits 0', async () => {
    const r = await runCli(['view', '--help']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain('usage: deferbase view DDOC VIEW [options]');
    expect(r.stdout).to.match(/--group-level N/);
  });
});

describe('deferbase command against `deferbase serve`', function () {
  this.timeout(60000);
  let served: Served;
  let dataDir: string;
  let home: string;
  const scale = 0.02;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-cli-data-'));
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-cli-home-'));
    served = await startServe(['--nodes', '2', '--replicas', '1', '--sample', 'beer-sample', '--scale', String(scale), '--bucket', 'default,travel-sample', '--data-dir', dataDir]);
  });

  after(async () => {
    if (served) await served.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => runCli([...args, '-U', served.connstr]);

  it('prints the connection string and every node\'s ports', () => {
    expect(served.connstr).to.match(/^couchbase:\/\/127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/);
    expect(served.stdout).to.match(/^node 0: kv 127\.0\.0\.1:\d+ {2}mgmt \d+ {2}n1ql \d+ {2}capi \d+$/m);
    expect(served.stdout).to.match(/^node 1: kv 127\.0\.0\.1:\d+ {2}mgmt \d+ {2}n1ql \d+ {2}capi \d+$/m);
    expect(served.stdout).to.contain('buckets: default, travel-sample, beer-sample');
  });

  it('runs one-shot KV operations and prints their results as JSON', async () => {
    const up = await cli('upsert', 'cli:doc', '{"name":"deferbase","n":1}');
    expect(up.code, up.stderr).to.equal(0);
    expect(jsonOf(up.stdout).cas).to.match(/^\d+$/);
    const got = await cli('get', 'cli:doc');
    expect(got.code).to.equal(0);
    expect(jsonOf(got.stdout)).to.deep.include({ key: 'cli:doc', value: { name: 'deferbase', n: 1 }, cas: jsonOf(up.stdout).cas });
    const c1 = await cli('counter', 'cli:count', '--initial', '10');
    const c2 = await cli('counter', 'cli:count', '--delta', '-3');
    expect([jsonOf(c1.stdout).value, jsonOf(c2.stdout).value]).to.deep.equal([10, 7]);
    const rm = await cli('remove', 'cli:doc');
    expect(rm.code).to.equal(0);
    const missing = await cli('get', 'cli:doc');
    expect(missing.code).to.equal(1);
    expect(jsonOf(missing.stderr).error).to.deep.include({ name: 'NotFoundError', rc: 13, key: 'cli:doc' });
  });

  it('loaded the generated beer-sample, the same documents for the same seed', async () => {
    const expected = [...beerSampleDocs({ seed: 1, scale })];
    const first = expected[0];
    const got = await runCli(['get', first.id, '-U', `${served.connstr}/beer-sample`]);
    expect(got.code, got.stderr).to.equal(0);
    expect(jsonOf(got.stdout).value).to.deep.equal(first.value);
    const view = await cli('view', 'beer', 'brewery_beers', '-b', 'beer-sample', '--limit', '3');
    expect(view.code, view.stderr).to.equal(0);
    const out = jsonOf(view.stdout);
    expect(out.total_rows).to.equal(expected.length);
    expect(out.rows).to.have.length(3);
    expect(out.rows[0]).to.have.keys('id', 'key', 'value');
  });

  it('queries with positional parameters, and reports a syntax error with its code', async () => {
    const ok = await cli('query', 'SELECT $1 + $2 AS sum', '--args', '[40, 2]');
    expect(ok.code, ok.stderr).to.equal(0);
    const doc = jsonOf(ok.stdout);
    expect(doc.results).to.deep.equal([{ sum: 42 }]);
    expect(doc.status).to.equal('success');
    expect(doc.metrics).to.have.property('resultCount', 1);
    const bad = await cli('query', 'SELEC 1');
    expect(bad.code).to.equal(1);
    const err = jsonOf(bad.stdout);
    expect(err.status).to.equal('fatal');
    expect(err.errors[0].code).to.equal(3000);
  });

  it('loads travel-sample with `deferbase sample`, indexes included', async () => {
    const r = await runCli(['sample', 'travel-sample', served.connstr, '--scale', '0.003', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const report = jsonOf(r.stdout);
    const docs = [...travelSampleDocs({ seed: 1, scale: 0.003 })];
    expect(report).to.deep.include({ sample: 'travel-sample', bucket: 'travel-sample', docs: docs.length, indexes: 10, warnings: [] });
    expect(r.stderr).to.match(/loading travel-sample: 100% \d+\/\d+/);
    const airlines = docs.filter((d) => (d.value as { type: string }).type === 'airline').length;
    const q = await cli('query', 'SELECT COUNT(*) AS n FROM `travel-sample` WHERE type = "airline"');
    expect(q.code, q.stdout).to.equal(0);
    expect(jsonOf(q.stdout).results).to.deep.equal([{ n: airlines }]);
  });

  it('runs statements and shell commands from -f and standard input', async () => {
    const file = path.join(home, 'script.n1ql');
    fs.writeFileSync(file, '\\SET -args [2, 3]\nSELECT $1 * $2\n  AS product;\n\\SET -$who "world"\nSELECT "hello " || $who AS greeting;\n\\UNSET -$who\nSELECT $who AS gone;\n');
    const r = await runCli(['shell', served.connstr, '-f', file]);
    const docs = jsonDocuments(r.stdout);
    expect(docs.map((d) => d.results ?? null)).to.deep.equal([[{ product: 6 }], [{ greeting: 'hello world' }], []]);
    expect(docs[2].status).to.equal('fatal');
    expect(r.code).to.equal(1);
    const piped = await runCli(['shell', served.connstr], { input: 'SELECT 1 AS one; SELECT 2 AS two' });
    expect(piped.code, piped.stderr).to.equal(0);
    expect(jsonDocuments(piped.stdout).map((d) => d.results)).to.deep.equal([[{ one: 1 }], [{ two: 2 }]]);
  });

  it('shell under a terminal: prompts, takes a multi-line statement, prints pretty JSON and keeps history', async () => {
    const r = await runInPty(
      ['shell', served.connstr],
      [
        ['expect', 'deferbase> '],
        ['send', 'SELECT "multi" AS kind,\r'],
        ['expect', '> '],
        ['send', '  1 + 1 AS two;\r'],
        ['expect', '"resultCount": 1'],
        ['expect', 'deferbase> '],
        ['send', 'SELECT nope FROM;\r'],
        ['expect', '"code": 3000'],
        ['expect', 'deferbase> '],
        ['send', '\\QUIT\r'],
      ],
      { HOME: home },
    );
    expect(r.code, r.stdout + r.stderr).to.equal(1); // one statement failed
    const text = r.stdout.replace(/\r\n/g, '\n');
    expect(text).to.contain('         > ');
    expect(text).to.contain('{\n    "results": [\n        {\n            "kind": "multi",\n            "two": 2\n        }\n    ],\n');
    expect(text).to.match(/"status": "success",\n {4}"metrics": \{\n {8}"elapsedTime": "[^"]+",/);
    expect(text).to.match(/"errors": \[\n {8}\{\n {12}"code": 3000,/);
    const history = fs.readFileSync(path.join(home, '.deferbase_history'), 'utf8').split('\n');
    // The statement typed over two lines is recalled as one entry, as in cbq.
    expect(history.filter((l) => l.length > 0)).to.deep.equal(['SELECT "multi" AS kind, 1 + 1 AS two;', 'SELECT nope FROM;', '\\QUIT']);
  });

  it('shell recalls statements saved in ~/.deferbase_history with the up arrow', async () => {
    const otherHome = fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-cli-home2-'));
    try {
      fs.writeFileSync(path.join(otherHome, '.deferbase_history'), 'SELECT 1;\nSELECT 99 AS recalled;\n');
      const r = await runInPty(
        ['shell', served.connstr],
        [
          ['expect', 'deferbase> '],
          ['send', '\x1b[A'],
          ['expect', 'SELECT 99 AS recalled;'],
          ['send', '\r'],
          ['expect', '"recalled": 99'],
          ['expect', 'deferbase> '],
          ['send', '\x04'],
        ],
        { HOME: otherHome },
      );
      expect(r.code, r.stdout).to.equal(0);
    } finally {
      fs.rmSync(otherHome, { recursive: true, force: true });
    }
  });

  it('shell still works when HOME is not writable (no history saved)', async () => {
    const r = await runInPty(
      ['shell', served.connstr],
      [
        ['expect', 'deferbase> '],
        ['send', 'SELECT 7 AS seven;\r'],
        ['expect', '"seven": 7'],
        ['expect', 'deferbase> '],
        ['send', '\x04'],
      ],
      { HOME: '/proc/deferbase-no-such-home' },
    );
    expect(r.code, r.stdout).to.equal(0);
  });

  for (const flavour of ['engine', 'promise', 'deferred', 'blocking']) {
    it(`pillowfight (${flavour}) runs the ops and reports a latency histogram`, async () => {
      const r = await runCli(['pillowfight', served.connstr, '--flavour', flavour, '--ops', '300', '--keys', '20', '--set-ratio', '0.3', '--value-size', '100', '--json']);
      expect(r.code, r.stderr).to.equal(0);
      const report = jsonOf(r.stdout);
      expect(report).to.deep.include({ flavour, ops: 300, errors: 0, valueSize: 100, inFlight: flavour === 'blocking' ? 1 : 16 });
      expect(report.gets + report.sets).to.equal(300);
      const l = report.latencyUs;
      expect(l.min).to.be.at.most(l.p50);
      expect(l.p50).to.be.at.most(l.p90);
      expect(l.p90).to.be.at.most(l.p99);
      expect(l.p99).to.be.at.most(l.p999);
      expect(l.p999).to.be.at.most(l.max);
      expect(r.stderr).to.match(new RegExp(`pillowfight ${flavour}: 100% 300/300 [\\d.]+ ops/s`));
    });
  }

  it('pillowfight prints a readable summary and histogram without --json', async () => {
    const r = await runCli(['pillowfight', served.connstr, '--ops', '200', '--keys', '10', '--no-populate', '--set-ratio', '1']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^200 ops \(0 gets, 200 sets\) in [\d.]+s: [\d.]+ ops\/s, 16 in flight, flavour engine\n/);
    expect(r.stdout).to.match(/^p50 \S+ {2}p90 \S+ {2}p99 \S+ {2}p99\.9 \S+$/m);
    expect(r.stdout).to.match(/^\[\S+ - \S+\]\s+\|#+ *\| \d+$/m);
  });
});

describe('deferbase serve shutdown', function () {
  this.timeout(60000);

  it('exits 1 with a hint when the port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as net.AddressInfo).port;
      const r = await runCli(['serve', '--port', String(port)]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/cannot start the cluster: .*EADDRINUSE.*pick another with --port, or --port 0/);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('stops cleanly on SIGTERM with the data flushed, and serves it again after a restart', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deferbase-cli-persist-'));
    try {
      const first = await startServe(['--data-dir', dataDir, '--user', 'alice', '--password', 's3cret']);
      const creds = ['-u', 'alice', '-P', 's3cret'];
      const up = await runCli(['upsert', 'kept', '{"v":42}', '-U', first.connstr, ...creds]);
      expect(up.code, up.stderr).to.equal(0);
      const denied = await runCli(['get', 'kept', '-U', first.connstr]);
      expect(denied.code).to.equal(1);
      const stopped = await first.stop('SIGTERM');
      expect(stopped.code).to.equal(0);
      expect(stopped.stderr).to.contain('deferbase serve: SIGTERM, stopping...');
      expect(stopped.stderr).to.contain(`stopped; data flushed to ${dataDir}`);
      const second = await startServe(['--data-dir', dataDir, '--user', 'alice', '--password', 's3cret']);
      try {
        const got = await runCli(['get', 'kept', '-U', second.connstr, ...creds]);
        expect(got.code, got.stderr).to.equal(0);
        expect(jsonOf(got.stdout).value).to.deep.equal({ v: 42 });
      } finally {
        expect((await second.stop('SIGINT')).code).to.equal(0);
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
