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
    expect(r.stderr).to.contain('Usage: deferbase pillowfight [CONNSTR] [options]');
    expect(r.stderr).to.match(/--flavour <engine\|deferred\|promise\|blocking>/);
  });

  it('exits 2 on a bad value, a missing argument or an unknown command', async () => {
    const [badValue, missing, unknown, replicas] = await Promise.all([
      runCli(['pillowfight', '--set-pct', '150']),
      runCli(['get']),
      runCli(['fetch', 'k']),
      runCli(['serve', '--nodes', '1', '--replicas', '1']),
    ]);
    expect(badValue.code).to.equal(2);
    expect(badValue.stderr).to.match(/--set-pct: must be at most 100 \(got "150"\)/);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.match(/^deferbase get: missing KEY\n\nUsage: deferbase get KEY \[options\]/);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.match(/unknown command "fetch"[\s\S]*commands:[\s\S]*pillowfight/);
    expect(replicas.code).to.equal(2);
    expect(replicas.stderr).to.contain('--replicas 1 needs at least 2 nodes');
  });

  it('prints a command\'s usage on --help and exits 0', async () => {
    const r = await runCli(['view', '--help']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain('Usage: deferbase view DDOC VIEW [options]');
    expect(r.stdout).to.match(/--group-level <N>/);
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
    // The 10 default-collection def_* indexes and the 13 def_inventory_* ones of 7.x.
    // Documents written: each once in the default collection and once in inventory.<its type>.
    const inventory = docs.filter((d) => ['airline', 'airport', 'hotel', 'landmark', 'route'].includes((d.value as { type: string }).type)).length;
    expect(report).to.deep.include({ sample: 'travel-sample', bucket: 'travel-sample', docs: docs.length + inventory, indexes: 23, warnings: [] });
    expect(r.stderr).to.match(/loading travel-sample: 100% \d+\/\d+/);
    const airlines = docs.filter((d) => (d.value as { type: string }).type === 'airline').length;
    const q = await cli('query', 'SELECT COUNT(*) AS n FROM `travel-sample` WHERE type = "airline"');
    expect(q.code, q.stdout).to.equal(0);
    expect(jsonOf(q.stdout).results).to.deep.equal([{ n: airlines }]);
    // 7.x: the inventory scope's collections hold the documents of their type, with their def_inventory_* indexes.
    const inv = await cli('query', 'SELECT COUNT(*) AS n FROM `travel-sample`.inventory.airline');
    expect(jsonOf(inv.stdout).results).to.deep.equal([{ n: airlines }]);
    const ix = await cli('query', 'SELECT RAW name FROM system:indexes WHERE bucket_id = "travel-sample" AND scope_id = "inventory" ORDER BY name');
    expect(jsonOf(ix.stdout).results).to.deep.equal([
      'def_inventory_airline_primary',
      'def_inventory_airport_airportname',
      'def_inventory_airport_city',
      'def_inventory_airport_faa',
      'def_inventory_airport_primary',
      'def_inventory_hotel_city',
      'def_inventory_hotel_primary',
      'def_inventory_landmark_city',
      'def_inventory_landmark_primary',
      'def_inventory_route_primary',
      'def_inventory_route_route_src_dst_day',
      'def_inventory_route_schedule_utc',
      'def_inventory_route_sourceairport',
    ]);
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

  it('shell completes \\ commands, keywords and keyspaces with Tab, and prints a table after \\SET -format table', async () => {
    const r = await runInPty(
      ['shell', served.connstr],
      [
        ['expect', 'deferbase> '],
        ['sleep', '0.5'],
        ['send', '\\SE\t'],
        ['expect', '\\SET'],
        ['send', ' -for\t'],
        ['expect', '-format'],
        ['send', ' table\r'],
        ['expect', 'deferbase> '],
        ['send', 'SELE\t'],
        ['expect', 'SELECT'],
        ['send', ' name FR\t'],
        ['expect', 'FROM'],
        ['send', ' trav\t'],
        ['expect', '`travel-sample`'],
        ['send', ' WHERE type = "airline" ORDER BY name LIMIT 2;\r'],
        ['expect', 'status: success'],
        ['expect', 'deferbase> '],
        ['send', '\\SET -timeout 1m30s\r'],
        ['expect', 'deferbase> '],
        ['send', '\\SET\r'],
        ['expect', '"-timeout": "90s"'],
        ['expect', 'deferbase> '],
        ['send', '\x04'],
      ],
      { HOME: home },
    );
    expect(r.code, r.stdout).to.equal(0);
    const text = r.stdout.replace(/\r\n/g, '\n');
    expect(text).to.match(/^\| name +\|$/m);
    expect(text).to.match(/^\+-+\+$/m);
    expect(text).to.match(/status: success {2}elapsedTime: \S+/);
  });

  it('shell \\SET -timeout reaches the query service, which times the statement out', async () => {
    const r = await runCli(['shell', served.connstr, '--format', 'table'], {
      input: '\\SET -timeout 1ms\nSELECT COUNT(*) AS n FROM `travel-sample` a UNNEST ARRAY_RANGE(0, 50000) AS x;\n\\SET -timeout soon\n\\UNSET -timeout\nSELECT COUNT(*) AS n FROM `travel-sample` a UNNEST ARRAY_RANGE(0, 10) AS x;\n',
    });
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/^error 1080: Timeout 1ms exceeded/m);
    expect(r.stderr).to.contain('\\SET -timeout needs a duration');
    // Without the timeout the same kind of statement runs to the end.
    expect(r.stdout).to.match(/status: success/);
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
    it(`pillowfight (${flavour}) runs its cycles and reports HDR latency percentiles`, async () => {
      const cycles = flavour === 'blocking' ? '300' : '30';
      const r = await runCli(['pillowfight', served.connstr, '--flavour', flavour, '-c', cycles, ...(flavour === 'blocking' ? [] : ['-B', '10']), '-I', '20', '-r', '30', '-m', '100', '-M', '100', '--json']);
      expect(r.code, r.stderr).to.equal(0);
      const report = jsonOf(r.stdout);
      expect(report).to.deep.include({ flavour, ops: 300, errors: 0, minSize: 100, maxSize: 100, numItems: 20, threads: 1, batchSize: flavour === 'blocking' ? 1 : 10 });
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

  it('pillowfight runs --num-threads connections of --batch-size operations for --num-cycles each', async () => {
    const r = await runCli(['pillowfight', served.connstr, '-t', '3', '-B', '4', '-c', '10', '-I', '30', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    expect(jsonOf(r.stdout)).to.deep.include({ ops: 120, threads: 3, batchSize: 4, errors: 0 });
  });

  it('pillowfight --populate-only stores --num-items keys with sizes between --min-size and --max-size', async () => {
    const r = await runCli(['pillowfight', served.connstr, '--populate-only', '-I', '40', '-m', '30', '-M', '300', '-p', 'pf-seq:', '--start-at', '5']);
    expect(r.code, r.stderr).to.equal(0);
    const sizes: number[] = [];
    for (const key of ['pf-seq:5', 'pf-seq:20', 'pf-seq:44']) {
      const got = await cli('get', key);
      expect(got.code, got.stderr).to.equal(0);
      sizes.push(JSON.stringify(jsonOf(got.stdout).value).length);
    }
    for (const n of sizes) expect(n).to.be.within(30, 300);
    expect(new Set(sizes).size).to.be.greaterThan(1);
    expect((await cli('get', 'pf-seq:45')).code).to.equal(1);
    expect((await cli('get', 'pf-seq:4')).code).to.equal(1);
  });

  it('pillowfight --rate-limit holds the whole run to that many operations per second', async () => {
    const r = await runCli(['pillowfight', served.connstr, '-t', '2', '-B', '5', '-c', '10', '--rate-limit', '200', '--no-population', '-r', '100', '--sequential', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const report = jsonOf(r.stdout);
    expect(report.ops).to.equal(100);
    // 100 operations at 200/s: the last batch may not start before 0.5 s.
    expect(report.seconds).to.be.at.least(0.45);
    expect(report.opsPerSecond).to.be.at.most(225);
  });

  it('pillowfight prints a readable summary and percentiles, and --timings adds the bars', async () => {
    const r = await runCli(['pillowfight', served.connstr, '-c', '20', '-B', '10', '-I', '10', '--no-population', '-r', '100', '-T']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^200 ops \(0 gets, 200 sets\) in [\d.]+s: [\d.]+ ops\/s, 1 connection x 10 in flight, flavour engine\n/);
    expect(r.stdout).to.match(/^p50 \S+ {2}p90 \S+ {2}p99 \S+ {2}p99\.9 \S+$/m);
    expect(r.stdout).to.match(/^\[\S+ - \S+\]\s+\|#+ *\| \d+$/m);
    const plain = await runCli(['pillowfight', served.connstr, '-c', '2', '-B', '5', '--no-population', '-r', '100']);
    expect(plain.stdout).to.not.match(/\|#+/);
  });

  it('serve takes the same -U/-u/-P/-b as every command, and prints the web console address', async () => {
    const other = await startServe(['-U', 'couchbase://127.0.0.1:0/orders', '-u', 'bob', '-P', 'pw', '-b', 'default,logs']);
    try {
      expect(other.stdout).to.contain('buckets: default, logs, orders');
      const url = /^web console: (http:\/\/127\.0\.0\.1:\d+\/ui\/)$/m.exec(other.stdout)?.[1];
      expect(url, other.stdout).to.be.a('string');
      const page = await fetch(url!);
      expect(page.status).to.equal(200);
      expect(await page.text()).to.contain('<div id="app">');
      const pools = await fetch(url!.replace('/ui/', '/pools'), { headers: { authorization: 'Basic ' + Buffer.from('bob:pw').toString('base64') } });
      expect(pools.status).to.equal(200);
      const got = await runCli(['upsert', 'k', '{"a":1}', '-U', other.connstr, '-u', 'bob', '-P', 'pw', '-b', 'orders']);
      expect(got.code, got.stderr).to.equal(0);
    } finally {
      await other.stop();
    }
    const both = await runCli(['serve', '-U', 'couchbase://127.0.0.1:0', '--port', '0']);
    expect(both.code).to.equal(2);
    expect(both.stderr).to.contain('give either --connstr or --host/--port');
    const old = await runCli(['serve', '--user', 'x']);
    expect(old.code).to.equal(2);
    expect(old.stderr).to.contain('unknown flag --user; did you mean --username?');
  });

  it('pillowfight refuses contradictory options', async () => {
    const [sizes, blocking, cycles] = await Promise.all([
      runCli(['pillowfight', served.connstr, '-m', '500', '-M', '100']),
      runCli(['pillowfight', served.connstr, '--flavour', 'blocking', '-t', '2']),
      runCli(['pillowfight', served.connstr, '-c', '0']),
    ]);
    expect(sizes.code).to.equal(2);
    expect(sizes.stderr).to.contain('--min-size 500 is larger than --max-size 100');
    expect(blocking.code).to.equal(2);
    expect(blocking.stderr).to.contain('--num-threads: the blocking flavour');
    expect(cycles.code).to.equal(2);
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
      const first = await startServe(['--data-dir', dataDir, '-u', 'alice', '-P', 's3cret']);
      const creds = ['-u', 'alice', '-P', 's3cret'];
      const up = await runCli(['upsert', 'kept', '{"v":42}', '-U', first.connstr, ...creds]);
      expect(up.code, up.stderr).to.equal(0);
      const denied = await runCli(['get', 'kept', '-U', first.connstr]);
      expect(denied.code).to.equal(1);
      const stopped = await first.stop('SIGTERM');
      expect(stopped.code).to.equal(0);
      expect(stopped.stderr).to.contain('deferbase serve: SIGTERM, stopping...');
      expect(stopped.stderr).to.contain(`stopped; data flushed to ${dataDir}`);
      const second = await startServe(['--data-dir', dataDir, '-u', 'alice', '-P', 's3cret']);
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
