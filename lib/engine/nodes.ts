// The engine's KV nodes: one connection per node of the cluster map, opened when the map names
// the node, reopened with backoff when it drops, closed when the map no longer names it.
// Operations routed to a node whose connection is not ready wait on the node.
import type { Packet } from '../protocol/packet';
import createDebug from 'debug';
import { KvConnection, type PendingRequest } from './connection';
import { ConnectError, NetworkError, type CouchbaseError } from './errors';
import type { KvOp } from './kv/op';
import type { ConnectionSettings } from './options';
import type { Topology } from './topology';

const debug = createDebug('deferbase:engine');

/** The first reconnect waits this long; each failure doubles it, up to MAX_BACKOFF_MS. */
const FIRST_BACKOFF_MS = 25;
const MAX_BACKOFF_MS = 2000;

export interface NodeState {
  /** The node's internal "host:port" (the map's name for it, whatever address is used). */
  id: string;
  /** Where its connection goes (0: the map gives no port this client can use). */
  host: string;
  port: number;
  /** How the config names it ("172.17.0.2:11210"), for messages. */
  named: string;
  /** A connection to it finished its handshake once. */
  everReady: boolean;
  /** Why its last connection failed, if it did. */
  lastError: CouchbaseError | null;
  conn: KvConnection | null;
  /** Operations routed here while the connection is not ready. */
  waiting: KvOp[];
  backoffMs: number;
  reconnectTimer: NodeJS.Timeout | null;
  removed: boolean;
}

/** What the node set tells the engine. */
export interface NodeEvents {
  /** The engine was closed: nothing reconnects. */
  readonly closed: boolean;
  /** A (re)opened connection finished its handshake; `config` is the map it served, if any. */
  nodeReady(node: NodeState, config: string | null): void;
  /** A node pushed a cluster map ('' when it only said the map changed). */
  configPushed(text: string, host: string): void;
  /** A node's connection closed while the node is still in the map (`err` null: closed cleanly). */
  nodeLost(node: NodeState, err: CouchbaseError | null, lost: CouchbaseError): void;
  /** Sends an operation that waited for its node's connection. */
  redispatch(op: KvOp): void;
  /** A reply came for an operation that no longer waited (libcouchbase's orphaned response). */
  orphanReply(p: Packet, conn: KvConnection): void;
}

export class NodeSet {
  private readonly byId = new Map<string, NodeState>();

  constructor(
    private readonly settings: ConnectionSettings,
    private readonly events: NodeEvents,
  ) {}

  /** The node with this `host:port` id (the routing lookup). */
  get(id: string): NodeState | undefined {
    return this.byId.get(id);
  }

  values(): IterableIterator<NodeState> {
    return this.byId.values();
  }

  /** Nodes whose connection is ready. */
  ready(): NodeState[] {
    return [...this.byId.values()].filter((n) => n.conn !== null && n.conn.ready);
  }

  newConnection(host: string, port: number): KvConnection {
    return new KvConnection({ host, port, ...this.settings });
  }

  /**
   * Makes a bootstrap connection the connection of the node it reached, when the map names a
   * server at that address (else it is closed: the map's nodes get connections of their own).
   */
  adopt(topo: Topology, host: string, port: number, conn: KvConnection): void {
    const server = topo.servers.find((s) => s.host === host && s.port === port);
    if (!server) {
      debug('bootstrap connection to %s:%d is not a server of the map; closing it', host, port);
      conn.destroy(null);
      return;
    }
    const node = this.nodeState(server.id, server.host, server.port, server.named);
    node.conn = conn;
    this.wire(node, conn);
  }

  /**
   * Follows a new cluster map: drops the nodes it no longer names, opens the ones it adds, and
   * hands back every operation that waited on a node (it may belong elsewhere now).
   */
  follow(topo: Topology): KvOp[] {
    const rerouted: KvOp[] = [];
    const where = new Map(topo.servers.map((s) => [s.id, s]));
    for (const [id, node] of this.byId) {
      const s = where.get(id);
      // Kept only while the map still names it at the same address.
      if (s && s.host === node.host && s.port === node.port) continue;
      this.byId.delete(id);
      rerouted.push(...node.waiting);
      node.waiting = [];
      this.drop(node, null);
    }
    for (const s of topo.servers) {
      const node = this.nodeState(s.id, s.host, s.port, s.named);
      if (!node.conn && !node.reconnectTimer) this.open(node);
    }
    for (const node of this.byId.values()) {
      if (node.waiting.length === 0) continue;
      rerouted.push(...node.waiting);
      node.waiting = [];
    }
    return rerouted;
  }

  /** Drops every node (failed bootstrap). */
  dropAll(): void {
    for (const node of this.byId.values()) this.drop(node, null);
    this.byId.clear();
  }

  /** Drops every node for close(), after handing each operation still waiting on it to `cancel`. */
  closeAll(err: CouchbaseError, cancel: (op: KvOp) => void): void {
    const nodes = [...this.byId.values()];
    this.byId.clear();
    for (const node of nodes) {
      node.removed = true;
      for (const op of node.waiting) cancel(op);
      node.waiting = [];
      this.drop(node, err);
    }
  }

  /** Opens the node's connection unless it has one (or the node or the engine is gone). */
  open(node: NodeState): void {
    if (node.conn || node.removed || this.events.closed) return;
    if (node.port === 0) {
      // Nothing to dial: report it as a failed connection would be, so bootstrap can say why.
      const err = new ConnectError(`the config gives node ${node.named} no ${this.settings.tls ? 'TLS KV port (kvSSL)' : 'KV port'}`);
      node.lastError = err;
      node.reconnectTimer = setTimeout(() => {
        node.reconnectTimer = null;
        if (!node.removed && !this.events.closed) this.events.nodeLost(node, err, err);
      }, 0);
      return;
    }
    const conn = this.newConnection(node.host, node.port);
    node.conn = conn;
    this.wire(node, conn);
  }

  scheduleReconnect(node: NodeState): void {
    if (node.reconnectTimer || node.removed) return;
    node.backoffMs = Math.min(MAX_BACKOFF_MS, node.backoffMs === 0 ? FIRST_BACKOFF_MS : node.backoffMs * 2);
    node.reconnectTimer = setTimeout(() => {
      node.reconnectTimer = null;
      this.open(node);
    }, node.backoffMs);
  }

  /** Sends what waited on the node, once its connection is ready. */
  flushWaiting(node: NodeState): void {
    const conn = node.conn;
    if (!conn || !conn.ready || node.waiting.length === 0) return;
    const list = node.waiting;
    node.waiting = [];
    for (const op of list) if (!op.done) this.events.redispatch(op);
  }

  private nodeState(id: string, host: string, port: number, named: string): NodeState {
    let node = this.byId.get(id);
    if (!node) {
      node = { id, host, port, named, conn: null, waiting: [], backoffMs: 0, reconnectTimer: null, removed: false, everReady: false, lastError: null };
      this.byId.set(id, node);
    }
    return node;
  }

  private wire(node: NodeState, conn: KvConnection): void {
    if (conn.ready) node.everReady = true;
    conn.on('ready', (text) => {
      if (node.conn !== conn) return;
      node.backoffMs = 0;
      node.everReady = true;
      node.lastError = null;
      this.events.nodeReady(node, text);
    });
    conn.on('config', (text) => this.events.configPushed(text, conn.host));
    conn.on('orphan', (p) => this.events.orphanReply(p, conn));
    conn.on('close', (err, pending) => {
      if (node.conn === conn) node.conn = null;
      if (err) node.lastError = err;
      const lost = err ?? new NetworkError(`connection to ${node.id} closed`);
      for (const req of pending) (req as PendingRequest & { onLost?(e: CouchbaseError): void }).onLost?.(lost);
      if (this.events.closed || node.removed) return;
      debug('lost %s: %s', node.id, lost.message);
      this.events.nodeLost(node, err, lost);
    });
  }

  private drop(node: NodeState, err: CouchbaseError | null): void {
    node.removed = true;
    if (node.reconnectTimer) clearTimeout(node.reconnectTimer);
    node.reconnectTimer = null;
    const conn = node.conn;
    node.conn = null;
    if (conn) conn.destroy(err ?? new NetworkError(`node ${node.id} left the cluster map`));
  }
}
