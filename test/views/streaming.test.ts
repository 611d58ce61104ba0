import { expect } from 'chai';
import { Writable } from 'node:stream';
import type { ServerResponse } from 'node:http';
import { streamQuery } from '../../lib/server/views/http';
import { putDesign, startViewsServer } from './helpers';

/** A response whose socket accepts data only when the test says so. */
class SlowResponse extends Writable {
  chunks: string[] = [];
  statusCode = 0;
  private held: Array<() => void> = [];
  constructor() {
    super({ highWaterMark: 4096, decodeStrings: false });
  }
  writeHead(status: number): this {
    this.statusCode = status;
    return this;
  }
  override _write(chunk: string | Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.chunks.push(String(chunk));
    this.held.push(cb);
  }
  release(): void {
    const held = this.held;
    this.held = [];
    for (const cb of held) cb();
  }
}

describe('views: streamed responses', () => {
  it('pulls rows only as fast as the socket drains them', async () => {
    let pulled = 0;
    function* rows(): Generator<string> {
      for (let i = 0; i < 100_000; i++) {
        pulled++;
        yield `{"id":"doc${i}","key":${i},"value":null}`;
      }
    }
    const res = new SlowResponse();
    const done = streamQuery(res as unknown as ServerResponse, { header: '{"total_rows":100000,"rows":[\r\n', rows: rows(), trailer: () => '\r\n]\r\n}' });
    await new Promise((r) => setTimeout(r, 20));
    // Blocked on the first full chunk: a few hundred rows, not the whole result.
    expect(pulled).to.be.greaterThan(0).and.lessThan(2000);
    const before = pulled;
    await new Promise((r) => setTimeout(r, 20));
    expect(pulled).to.equal(before);
    const pump = setInterval(() => res.release(), 1);
    await done;
    clearInterval(pump);
    res.release();
    const body = JSON.parse(res.chunks.join(''));
    expect(body.total_rows).to.equal(100_000);
    expect(body.rows).to.have.length(100_000);
    expect(body.rows[99_999]).to.deep.equal({ id: 'doc99999', key: 99_999, value: null });
  });

  it('a client that reads slowly still gets every row of a large view', async function () {
    this.timeout(20000);
    const s = await startViewsServer();
    try {
      for (let i = 0; i < 20_000; i++) s.putDoc(`d${String(i).padStart(6, '0')}`, { n: i, pad: 'x'.repeat(200) });
      await putDesign(s, 's', { v: { map: 'function (doc) { emit(doc.n, doc.pad); }' } });
      const http = await import('node:http');
      const text = await new Promise<string>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: s.port, path: '/b/_design/s/_view/v', headers: { authorization: 'Basic ' + Buffer.from('Administrator:password').toString('base64') } }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => {
            parts.push(c);
            res.pause();
            setTimeout(() => res.resume(), 0);
          });
          res.on('end', () => resolve(Buffer.concat(parts).toString()));
        });
        req.on('error', reject);
        req.end();
      });
      const body = JSON.parse(text);
      expect(body.rows).to.have.length(20_000);
      expect(body.rows.map((r: any) => r.key)).to.deep.equal([...Array(20_000).keys()]);
    } finally {
      await s.close();
    }
  });
});

describe('views: a client that disconnects mid-stream', () => {
  it('stops producing rows', async () => {
    let pulled = 0;
    function* rows(): Generator<string> {
      for (let i = 0; i < 1_000_000; i++) {
        pulled++;
        yield `{"id":"doc${i}","key":${i},"value":null}`;
      }
    }
    const res = new SlowResponse();
    const done = streamQuery(res as unknown as ServerResponse, { header: '{"rows":[', rows: rows(), trailer: () => ']}' });
    await new Promise((r) => setTimeout(r, 10));
    res.destroy();
    await done;
    expect(pulled).to.be.lessThan(2000);
  });
});
