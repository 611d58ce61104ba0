// Runs an embedded cluster inside a worker thread for the blocking flavour: a caller that
// blocks in Atomics.wait cannot also serve the cluster's sockets, so the cluster must live on
// a thread that never blocks. Requests arrive through the channel (lib/sync-rpc); this module
// only knows how to answer them.
import type { Reply } from '../../lib/sync-rpc';
import { clusterOptionsFor, SampleLoader, type EmbeddedOptions, type SampleName } from '../common/embedded';
import type { Cluster } from '../../lib/server';

export function createClusterHost(): { handle(method: string, args: unknown[], reply: Reply): void; stop(cb: () => void): void } {
  let cluster: Cluster | undefined;
  const loaders = new Map<SampleName, SampleLoader>();
  const fail = (reply: Reply) => (err: unknown) => reply(err instanceof Error ? err : new Error(String(err)));
  return {
    handle(method, args, reply) {
      switch (method) {
        case 'start': {
          if (cluster) return reply(new Error('the embedded cluster is already started'));
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          const { Cluster: ClusterClass } = require('../../lib/server') as typeof import('../../lib/server');
          ClusterClass.start(clusterOptionsFor((args[0] ?? {}) as EmbeddedOptions)).then((c) => {
            cluster = c;
            reply(null, { connectionString: c.connectionString, nodes: c.nodes });
          }, fail(reply));
          return;
        }
        case 'sampleTotal': {
          if (!cluster) return reply(new Error('the embedded cluster is not started'));
          const name = args[0] as SampleName;
          let loader = loaders.get(name);
          if (!loader) loaders.set(name, (loader = new SampleLoader(cluster, name)));
          return reply(null, loader.total);
        }
        case 'sampleStep': {
          const loader = loaders.get(args[0] as SampleName);
          if (!loader) return reply(new Error(`call sampleTotal("${String(args[0])}") first`));
          return reply(null, loader.step(args[1] as number));
        }
        case 'sampleFinish': {
          const loader = loaders.get(args[0] as SampleName);
          if (!loader) return reply(new Error(`sample ${String(args[0])} was not loaded`));
          loader.finish().then(() => reply(null, loader.loaded), fail(reply));
          return;
        }
        case 'exec': {
          // A small escape hatch for tests and the demo: failover / addBack / rebalance by name.
          if (!cluster) return reply(new Error('the embedded cluster is not started'));
          const op = args[0] as 'failover' | 'addBack' | 'rebalance';
          if (op !== 'failover' && op !== 'addBack' && op !== 'rebalance') return reply(new Error(`unknown cluster operation ${String(op)}`));
          (cluster[op] as (n?: number) => void).call(cluster, args[1] as number);
          return reply(null);
        }
        default:
          reply(new Error(`unknown embedded cluster request "${method}"`));
      }
    },
    stop(cb) {
      const c = cluster;
      cluster = undefined;
      if (!c) return cb();
      c.stop().then(cb, cb);
    },
  };
}
