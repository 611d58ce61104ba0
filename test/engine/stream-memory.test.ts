import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { FakeCluster } from './helpers/fake-kv';
import { startFakeHttp, type FakeHttp } from './helpers/fake-http';

const ROWS = 1_000_000;

describe('engine N1QL streaming memory', function () {
  this.timeout(120000);
  let cluster: FakeCluster;
  let svc: FakeHttp;

  after(async () => {
    await svc?.close();
    await cluster?.stop();
  });

  it('streams 1,000,000 rows through engine.n1ql holding under 24 MB of live heap, peak RSS under 150 MB', async () => {
    cluster = await FakeCluster.start();
    svc = await startFakeHttp((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"requestID":"big","signature":{"*":"*"},"results":[');
      let i = 0;
      const pump = (): void => {
        while (i < ROWS) {
          const parts: string[] = [];
          const end = Math.min(ROWS, i + 500);
          for (; i < end; i++) parts.push(`${i === 0 ? '' : ','}{"id":"row-${i}","n":${i},"name":"user number ${i}","tags":["a","b",{"deep":[${i % 7}]}]}`);
          if (!res.write(parts.join(''))) return void res.once('drain', pump);
        }
        res.end(`],"status":"success","metrics":{"resultCount":${ROWS},"resultSize":0,"elapsedTime":"1s","executionTime":"1s"}}`);
      };
      pump();
    });
    cluster.extraServices[0] = { n1ql: svc.port };
    const child = path.join(__dirname, 'helpers', 'stream-child.js');
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--expose-gc', '--max-old-space-size=64', child, cluster.connectionString], { timeout: 110000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout))),
    );
    const r = JSON.parse(out.trim()) as { rows: number; batches: number; maxRssMB: number; maxLiveMB: number; status: string };
    console.log(`      ${r.rows} rows in ${r.batches} batches, peak RSS ${r.maxRssMB.toFixed(1)} MB, live heap after GC at most ${r.maxLiveMB.toFixed(1)} MB`);
    expect(r.rows).to.equal(ROWS);
    expect(r.status).to.equal('success');
    expect(r.batches).to.be.greaterThan(100);
    expect(r.maxLiveMB).to.be.greaterThan(0);
    expect(r.maxLiveMB).to.be.below(24);
    expect(r.maxRssMB).to.be.below(150);
  });
});
