// Runs one embedded cluster in its own process for the engine benchmark, so that neither client
// shares an event loop with the server. Prints the connection string, exits when stdin closes.
import { Cluster } from '../../lib/server';

void (async () => {
  const cluster = await Cluster.start({ nodes: 1, replicas: 0, buckets: [{ name: 'default' }], users: [{ username: 'Administrator', password: 'password' }] });
  // The named collection of the named-vs-default comparison.
  cluster.changeCollections('default', { op: 'createScope', scope: 'bench' });
  cluster.changeCollections('default', { op: 'createCollection', scope: 'bench', collection: 'items', props: {} });
  process.stdout.write(cluster.connectionString + '\n');
  const stop = (): void => {
    void cluster.stop().then(() => process.exit(0));
  };
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
  process.on('SIGTERM', stop);
})();
