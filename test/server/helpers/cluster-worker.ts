// An embedded cluster on a worker thread of its own, for tests that drive it with the blocking
// flavour (whose calls block this thread): started with the options it is given, it reports
// where it listens, and stops when told to.
import { parentPort, workerData, Worker } from 'node:worker_threads';
import * as path from 'node:path';
import type { ClusterOptions } from '../../../lib/server';

export interface ClusterInfo {
  connectionString: string;
  tlsConnectionString?: string;
  alternateConnectionString?: string;
  certificate?: string;
  kvPorts: number[];
}

export interface ClusterThread extends ClusterInfo {
  stop(): Promise<void>;
}

/** Starts a cluster with `options` on a new worker thread. */
export function startClusterThread(options: ClusterOptions): Promise<ClusterThread> {
  const worker = new Worker(path.join(__dirname, 'cluster-worker.js'), { workerData: options });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (info: ClusterInfo | { error: string }) => {
      if ('error' in info) return reject(new Error(info.error));
      resolve({
        ...info,
        stop: () =>
          new Promise<void>((done) => {
            worker.once('exit', () => done());
            worker.postMessage('stop');
          }),
      });
    });
  });
}

if (parentPort !== null && workerData !== undefined) {
  const port = parentPort;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Cluster } = require('../../../lib/server') as typeof import('../../../lib/server');
  const opts = workerData as ClusterOptions;
  Cluster.start(opts).then(
    (cluster) => {
      port.postMessage({
        connectionString: cluster.connectionString,
        tlsConnectionString: opts.tls ? cluster.tlsConnectionString : undefined,
        alternateConnectionString: opts.alternateAddresses ? cluster.alternateConnectionString() : undefined,
        certificate: cluster.certificate,
        kvPorts: cluster.nodes.map((n) => n.ports.kv),
      } satisfies ClusterInfo);
      port.on('message', (m) => {
        if (m === 'stop') void cluster.stop().then(() => process.exit(0));
      });
    },
    (err: Error) => port.postMessage({ error: err.message }),
  );
}
