import { expect } from 'chai';
import net from 'node:net';
import { Cluster } from '../../lib/server';
import type { HttpServiceFactory } from '../../lib/server';
import { targetProblem } from '../../lib/server/http-guard';

const AUTH = 'Basic ' + Buffer.from('Administrator:password').toString('base64');

interface RawReply {
  status: number;
  body: string;
}

/**
 * Sends one request with exactly this request target (no client-side URL parsing); with
 * `halfClose`, ends its side of the connection right after the request, as some clients do.
 */
function raw(port: number, method: string, target: string, auth = true, send: { body?: string; halfClose?: boolean } = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => (text += d));
    socket.on('error', reject);
    socket.on('end', () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      const split = text.indexOf('\r\n\r\n');
      resolve({ status: m ? Number(m[1]) : 0, body: split < 0 ? '' : text.slice(split + 4) });
    });
    const headers = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
    if (auth) headers.push(`Authorization: ${AUTH}`);
    if (send.body !== undefined) headers.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(send.body)}`);
    const request = headers.join('\r\n') + '\r\n\r\n' + (send.body ?? '');
    if (send.halfClose) socket.end(request);
    else socket.write(request);
  });
}

async function stillServes(cluster: Cluster): Promise<void> {
  const r = await raw(cluster.nodes[0].ports.mgmt, 'GET', '/pools');
  expect(r.status).to.equal(200);
  expect(JSON.parse(r.body).pools[0].name).to.equal('default');
}

describe('server: HTTP request guard', () => {
  describe('targetProblem', () => {
    it('accepts origin-form targets whose segments decode', () => {
      expect(targetProblem('/pools/default')).to.equal(undefined);
      expect(targetProblem('//[')).to.equal(undefined);
      expect(targetProblem('/a%20b?x=%ZZ')).to.equal(undefined); // the query string is the handler's
      expect(targetProblem('*')).to.equal(undefined);
    });
    it('names what is wrong with a target it refuses', () => {
      expect(targetProblem('/pools/%ZZ')).to.match(/percent-escape.*%ZZ/);
      expect(targetProblem('/%')).to.match(/percent-escape/);
      expect(targetProblem('http://evil/')).to.match(/must start with "\/"/);
      expect(targetProblem('')).to.match(/empty/);
    });
  });

  describe('against a running cluster', () => {
    let cluster: Cluster;
    before(async () => {
      cluster = await Cluster.start({ buckets: [{ name: 'default' }] });
    });
    after(() => cluster.stop());

    it('answers "//[" on the management port with no credentials and keeps running', async () => {
      const r = await raw(cluster.nodes[0].ports.mgmt, 'GET', '//[', false);
      // a path like any other: the server asks for credentials instead of crashing
      expect(r.status).to.equal(401);
      const authed = await raw(cluster.nodes[0].ports.mgmt, 'GET', '//[');
      expect(authed.status).to.equal(404);
      await stillServes(cluster);
    });

    it('answers a bad percent-escape with 400 in each service\'s error shape', async () => {
      const { mgmt, n1ql, capi } = cluster.nodes[0].ports;
      const m = await raw(mgmt, 'GET', '/pools/%ZZ', false);
      expect(m.status).to.equal(400);
      expect(JSON.parse(m.body).errors._).to.match(/percent-escape/);

      const q = await raw(n1ql!, 'GET', '/query/%ZZ');
      expect(q.status).to.equal(400);
      const qb = JSON.parse(q.body);
      expect(qb.status).to.equal('fatal');
      expect(qb.errors[0].code).to.equal(1040);

      const v = await raw(capi!, 'GET', '/default/_design/%ZZ');
      expect(v.status).to.equal(400);
      expect(JSON.parse(v.body)).to.include({ error: 'bad_request' });
      await stillServes(cluster);
    });

    it('serves "//[" style targets on the query and views ports without throwing', async () => {
      const { n1ql, capi } = cluster.nodes[0].ports;
      expect((await raw(n1ql!, 'GET', '//[')).status).to.equal(404);
      expect((await raw(capi!, 'GET', '//[')).status).to.be.within(400, 404);
      await stillServes(cluster);
    });
  });

  describe('a handler that throws', () => {
    const throwing: HttpServiceFactory = () => ({
      handle(req) {
        if (req.url === '/sync') throw new Error('sync boom');
        return Promise.reject(new Error('async boom')) as unknown as void;
      },
    });
    let cluster: Cluster;
    before(async () => {
      cluster = await Cluster.start({ queryService: throwing, viewsService: throwing });
    });
    after(() => cluster.stop());

    it('answers 500 in the service\'s shape, synchronously or through a rejected promise', async () => {
      const { n1ql, capi } = cluster.nodes[0].ports;
      const s = await raw(n1ql!, 'GET', '/sync');
      expect(s.status).to.equal(500);
      expect(JSON.parse(s.body).errors[0]).to.deep.equal({ code: 5000, msg: 'sync boom' });
      const a = await raw(capi!, 'GET', '/async');
      expect(a.status).to.equal(500);
      expect(JSON.parse(a.body)).to.deep.equal({ error: 'error', reason: 'async boom' });
      await stillServes(cluster);
    });
  });

  describe('a client that half-closes after its request', () => {
    let cluster: Cluster;
    before(async () => {
      cluster = await Cluster.start({ buckets: [{ name: 'default' }] });
    });
    after(() => cluster.stop());

    it('still gets its answer from the views, query and management services (they used to close without one)', async () => {
      const ports = cluster.nodes[0].ports;
      const ddoc = JSON.stringify({ views: { by_n: { map: 'function (doc, meta) { emit(doc.n, null); }' } } });
      const put = await raw(ports.capi!, 'PUT', '/default/_design/dev_half', true, { body: ddoc, halfClose: true });
      expect(put.status, put.body).to.equal(201);
      const q = await raw(ports.n1ql!, 'POST', '/query/service', true, { body: JSON.stringify({ statement: 'SELECT RAW 1 + 1' }), halfClose: true });
      expect(q.status, q.body).to.equal(200);
      expect(q.body).to.match(/"results":\s*\[\s*2\s*\]/); // a chunked body
      const m = await raw(ports.mgmt, 'GET', '/pools', true, { halfClose: true });
      expect(m.status).to.equal(200);
    });
  });
});
