// A request to one specific node (config fetch, OBSERVE, OBSERVE_SEQNO, STAT): never rerouted, and
// its handler sees each reply packet (STAT answers with many).
import type { Packet } from '../../protocol/packet';
import { nextOpaque, type KvConnection, type PendingRequest } from '../connection';
import type { DeadlineNode, DeadlineQueue, Expirable } from '../deadlines';
import { NetworkError, TimeoutError, type CouchbaseError } from '../errors';
import type { NodeSet } from '../nodes';
import type { Topology } from '../topology';

/** Sees each reply; returns false while more packets belong to the request (STAT). */
export type NodeReplyHandler = (err: CouchbaseError | null, p: Packet | null) => boolean;

export class NodeRequest implements PendingRequest, Expirable {
  deadline = 0;
  dlPrev: DeadlineNode | null = null;
  dlNext: DeadlineNode | null = null;
  dlLinked = false;
  opaque = nextOpaque();
  conn: KvConnection | null = null;
  done = false;
  constructor(
    private readonly deadlines: DeadlineQueue<Expirable>,
    readonly handler: NodeReplyHandler,
  ) {}
  onPacket(p: Packet): boolean {
    if (this.done) return true;
    const last = this.handler(null, p);
    if (last) this.finish();
    return last;
  }
  onLost(err: CouchbaseError): void {
    if (this.done) return;
    this.finish();
    this.handler(err, null);
  }
  onExpire(): void {
    if (this.done) return;
    this.done = true;
    if (this.conn) this.conn.forget(this.opaque);
    this.handler(new TimeoutError('the node did not answer in time'), null);
  }
  /** Sends `frame` (built for this request's opaque) on `conn`, due back within `timeoutMs`. */
  send(conn: KvConnection, frame: Buffer, timeoutMs: number): void {
    this.conn = conn;
    this.deadline = Date.now() + timeoutMs;
    this.deadlines.add(this);
    conn.send(this, frame);
  }
  private finish(): void {
    this.done = true;
    this.deadlines.remove(this);
  }
}

/** What sending to a server of the map needs. */
export interface NodeRequestHost {
  readonly topology: Topology | null;
  readonly nodes: NodeSet;
  readonly deadlines: DeadlineQueue<Expirable>;
}

/** Sends a frame to the server at `index` of the current map; `handler` sees each reply. */
export function sendToServer(host: NodeRequestHost, index: number, build: (opaque: number) => Buffer, timeoutMs: number, handler: NodeReplyHandler): void {
  const server = host.topology!.servers[index];
  const node = server && host.nodes.get(server.id);
  const req = new NodeRequest(host.deadlines, handler);
  if (!node || !node.conn || !node.conn.ready) {
    process.nextTick(() => handler(new NetworkError(`node ${server ? server.id : index} is not connected`), null));
    return;
  }
  req.send(node.conn, build(req.opaque), timeoutMs);
}
