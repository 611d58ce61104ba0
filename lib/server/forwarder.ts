// A TCP port that forwards every connection to another address, byte for byte (TLS included):
// what a NAT gateway, a Kubernetes node port or a Docker port mapping does in front of a real
// node. The cluster puts one in front of each service port it advertises as an alternate address.
import net from 'node:net';
import createDebug from 'debug';

const debug = createDebug('deferbase:server');

export class PortForwarder {
  /** Connections accepted so far (tests check that clients came this way). */
  accepted = 0;
  port = 0;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    readonly host: string,
    readonly target: { readonly host: string; readonly port: number },
  ) {
    this.server = net.createServer((client) => this.forward(client));
  }

  /** Listens on `host`:`port` (0: OS-picked) and forwards to `target`. */
  static async listen(host: string, target: { host: string; port: number }, port = 0): Promise<PortForwarder> {
    const f = new PortForwarder(host, target);
    await new Promise<void>((resolve, reject) => {
      f.server.once('error', reject);
      f.server.listen(port, host, () => {
        f.server.off('error', reject);
        f.port = (f.server.address() as net.AddressInfo).port;
        resolve();
      });
    });
    return f;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private forward(client: net.Socket): void {
    this.accepted++;
    const upstream = net.connect({ host: this.target.host, port: this.target.port });
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.setNoDelay(true);
      s.on('close', () => this.sockets.delete(s));
      // Either side failing ends both, as a reset through a gateway does.
      s.on('error', (err) => {
        debug('forwarder %s:%d -> %s:%d: %s', this.host, this.port, this.target.host, this.target.port, err.message);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
