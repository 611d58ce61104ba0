// ping() and diagnostics() (Python's Bucket.ping / Bucket.diagnostics, libcouchbase's ping and
// diag reports): ping sends a NOOP to every KV node and a request to every query and views node
// and reports each latency; diagnostics reports the state of the KV connections without sending.
import { Opcode } from '../protocol/opcodes';
import { Status } from '../protocol/status';
import { encodeRequest } from './connection';
import { secondsToMs } from './connstr';
import type { CouchbaseError } from './errors';
import { httpGetJson } from './http';
import { sendToServer, type NodeRequestHost } from './kv/node-request';
import type { ServiceHost } from './services/host';

export interface PingEntry {
  id: string;
  latency_us: number;
  remote: string;
  local?: string;
  status: 'ok' | 'timeout' | 'error';
  scope?: string;
  error?: string;
}

export interface PingReport {
  version: 1;
  sdk: string;
  id: string;
  config_rev: number;
  services: { kv: PingEntry[]; n1ql: PingEntry[]; views: PingEntry[] };
}

export interface DiagnosticsEntry {
  id: string;
  last_activity_us: number;
  remote: string;
  local: string;
  status: 'connected' | 'connecting' | 'disconnected';
}

export interface DiagnosticsReport {
  version: 1;
  sdk: string;
  id: string;
  kv: DiagnosticsEntry[];
}

export interface HealthHost extends NodeRequestHost, ServiceHost {
  /** This client's id in reports. */
  readonly clientId: string;
}

export const SDK_NAME = 'deferbase';

const microsSince = (t0: bigint): number => Number((process.hrtime.bigint() - t0) / 1000n);

function statusOf(err: CouchbaseError | null): 'ok' | 'timeout' | 'error' {
  return err === null ? 'ok' : err.name === 'TimeoutError' ? 'timeout' : 'error';
}

export function ping(host: HealthHost, cb: (err: CouchbaseError | null, report: PingReport | null) => void): void {
  host.whenConnected((err) => {
    if (err) return cb(err, null);
    const topo = host.topology!;
    const report: PingReport = { version: 1, sdk: SDK_NAME, id: host.clientId, config_rev: topo.rev, services: { kv: [], n1ql: [], views: [] } };
    const timeoutMs = secondsToMs(host.options.operation_timeout);
    let left = topo.servers.length;
    const one = (): void => {
      if (--left === 0) cb(null, report);
    };
    const http = (kind: 'n1ql' | 'views', service: 'n1ql' | 'capi', path: string): void => {
      for (const node of topo.nodesWith(service, !!host.serviceTarget(service)?.tls)) {
        left++;
        const t0 = process.hrtime.bigint();
        const remote = `${node.host}:${node.port}`;
        httpGetJson(host.agents, { host: node.host, port: node.port, tls: host.serviceTarget(service)?.tls ?? null }, path, host.auth, timeoutMs, (e, status) => {
          const entry: PingEntry = { id: remote, latency_us: microsSince(t0), remote, status: e ? statusOf(e) : status >= 200 && status < 300 ? 'ok' : 'error' };
          if (e) entry.error = e.message;
          report.services[kind].push(entry);
          one();
        });
      }
    };
    topo.servers.forEach((server, i) => {
      const t0 = process.hrtime.bigint();
      const conn = host.nodes.get(server.id)?.conn;
      sendToServer(host, i, (opaque) => encodeRequest(Opcode.NOOP, '', '', opaque), timeoutMs, (e, p) => {
        const failed = e ?? null;
        const entry: PingEntry = { id: server.id, latency_us: microsSince(t0), remote: server.id, status: failed ? statusOf(failed) : p!.status === Status.SUCCESS ? 'ok' : 'error', scope: host.bucket };
        if (conn) entry.local = conn.addresses.local;
        if (failed) entry.error = failed.message;
        report.services.kv.push(entry);
        one();
        return true;
      });
    });
    http('n1ql', 'n1ql', '/admin/ping');
    http('views', 'capi', '/');
    if (left === 0) process.nextTick(cb, null, report);
  });
}

export function diagnostics(host: HealthHost): DiagnosticsReport {
  const now = Date.now();
  const kv: DiagnosticsEntry[] = [];
  for (const node of host.nodes.values()) {
    const conn = node.conn;
    kv.push({
      id: node.id,
      last_activity_us: conn && conn.lastActivity ? (now - conn.lastActivity) * 1000 : 0,
      remote: `${node.host}:${node.port}`,
      local: conn ? conn.addresses.local : '',
      status: conn === null ? 'disconnected' : conn.ready ? 'connected' : 'connecting',
    });
  }
  return { version: 1, sdk: SDK_NAME, id: host.clientId, kv };
}
