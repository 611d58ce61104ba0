// The cluster map after bootstrap: parsing and adopting newer maps (pushed, found in a
// NOT_MY_VBUCKET reply, or fetched), fetching one when something suggests the map moved, and
// polling for nodes that do not push. Maps come over KV (GET_CLUSTER_CONFIG), or over HTTP when
// the cluster served none over KV at bootstrap.
import createDebug from 'debug';
import { Opcode } from '../protocol/opcodes';
import { Status } from '../protocol/status';
import { encodeRequest } from './connection';
import { secondsToMs, type ConnSpec } from './connstr';
import type { DeadlineQueue, Expirable } from './deadlines';
import { httpGetJson, type HttpAgents, type HttpAuth, type HttpTarget } from './http';
import type { KvOp } from './kv/op';
import { NodeRequest } from './kv/node-request';
import type { NodeSet } from './nodes';
import { Topology, guessNetwork, parseConfigText } from './topology';

const debug = createDebug('deferbase:engine');

/** Polling asks again only after this many throttle windows; a hint (urgent) after one. */
const POLL_THROTTLE_FACTOR = 5;

/** What the cluster map's keeper needs from the engine. */
export interface ConfigHost {
  readonly spec: ConnSpec;
  readonly bucket: string;
  readonly auth: HttpAuth;
  readonly state: string;
  /** The engine's map: the keeper sets it when it adopts a newer one. */
  topology: Topology | null;
  readonly nodes: NodeSet;
  readonly agents: HttpAgents;
  readonly deadlines: DeadlineQueue<Expirable>;
  serviceTarget(service: 'mgmt'): HttpTarget | null;
  /** A newer map was adopted: `rerouted` are the operations that waited on nodes and must be routed again. */
  mapAdopted(topo: Topology, rerouted: KvOp[]): void;
}

export class ClusterConfig {
  /** Set when the map came over HTTP (no CCCP): refreshes then use the REST endpoint too. */
  httpTarget: HttpTarget | null = null;
  private httpInFlight = false;
  private lastRequest = 0;
  private pollCursor = 0;
  private pollTimer: NodeJS.Timeout | null = null;

  constructor(private readonly host: ConfigHost) {}

  /** A map from `text` as served by `host`, or null (logged) when it does not parse. */
  parse(text: string, host: string): Topology | null {
    try {
      const raw = parseConfigText(text, host);
      return new Topology(raw, { tls: this.host.spec.tls, network: this.networkFor(raw, host), source: host });
    } catch (err) {
      debug('ignoring unparsable config from %s: %s', host, (err as Error).message);
      return null;
    }
  }

  /**
   * The network to read addresses from: the one the connection string names, or with
   * network=auto the one libcouchbase would guess from the first config (a node's own hostname
   * is the seed: 'default'; an alternate address's is: that network), kept from then on.
   */
  private networkFor(raw: Parameters<typeof guessNetwork>[0], source: string): string {
    const wanted = this.host.spec.options.network;
    if (wanted !== 'auto') return wanted;
    const known = this.host.topology?.network;
    if (known !== undefined) return known;
    const guess = guessNetwork(raw, source);
    if (guess !== 'default') debug('network=auto: %s is an alternate address of network "%s"; using it', source, guess);
    return guess;
  }

  /** Applies config text if it is newer; returns whether it was adopted. */
  apply(text: string, host: string): boolean {
    const topo = this.parse(text, host);
    if (!topo) return false;
    if (!topo.hasVBucketMap) {
      debug('ignoring config rev %d from %s: it routes no key (no vBucket map, no ketama servers)', topo.rev, host);
      return false;
    }
    return this.adopt(topo);
  }

  /** Adopts `topo` when it is newer than the engine's map (and keeps the vBucket count). */
  adopt(topo: Topology): boolean {
    const cur = this.host.topology;
    if (!topo.isNewerThan(cur)) return false;
    if (cur && (cur.numVBuckets !== topo.numVBuckets || (cur.ketama === null) !== (topo.ketama === null))) {
      debug('ignoring config rev %d: vBucket count changed %d -> %d', topo.rev, cur.numVBuckets, topo.numVBuckets);
      return false;
    }
    this.host.topology = topo;
    debug('adopted config rev %d epoch %d (%d servers)', topo.rev, topo.epoch, topo.servers.length);
    this.host.mapAdopted(topo, this.host.nodes.follow(topo));
    return true;
  }

  /** Fetches the map from a ready node (throttled unless `urgent` after a throttle window). */
  request(urgent: boolean): void {
    if (this.host.state !== 'connected') return;
    const now = Date.now();
    const o = this.host.spec.options;
    const throttle = secondsToMs(o.config_delay_throttle);
    if (now - this.lastRequest < (urgent ? throttle : throttle * POLL_THROTTLE_FACTOR)) return;
    this.lastRequest = now;
    if (this.httpTarget) return this.fetchOverHttp();
    const ready = this.host.nodes.ready();
    if (ready.length === 0) return;
    const conn = ready[this.pollCursor++ % ready.length].conn!;
    const req = new NodeRequest(this.host.deadlines, (err, p) => {
      if (!err && p && p.status === Status.SUCCESS && p.value.length > 0) this.apply(p.value.toString('utf8'), conn.host);
      return true;
    });
    req.send(conn, encodeRequest(Opcode.GET_CLUSTER_CONFIG, '', '', req.opaque), secondsToMs(o.config_node_timeout));
  }

  startPolling(): void {
    this.pollTimer = setInterval(() => this.poll(), secondsToMs(this.host.spec.options.config_poll_interval));
    this.pollTimer.unref();
  }

  stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  private poll(): void {
    if (this.httpTarget) {
      this.lastRequest = 0;
      return this.request(false);
    }
    // Nodes that push maps (DUPLEX + CLUSTERMAP_CHANGE_NOTIFICATION) need no polling.
    for (const n of this.host.nodes.values()) {
      if (n.conn && n.conn.ready && !n.conn.pushConfigs) {
        this.lastRequest = 0;
        return this.request(false);
      }
    }
  }

  private fetchOverHttp(): void {
    const host = this.host;
    if (this.httpInFlight || host.state !== 'connected') return;
    const mgmt = host.serviceTarget('mgmt') ?? this.httpTarget!;
    this.httpInFlight = true;
    const path = `/pools/default/b/${encodeURIComponent(host.bucket)}`;
    httpGetJson(host.agents, mgmt, path, host.auth, secondsToMs(host.spec.options.config_node_timeout), (err, status, body) => {
      this.httpInFlight = false;
      if (!err && status === 200) this.apply(body, mgmt.host);
      else debug('HTTP config refresh from %s:%d failed: %s', mgmt.host, mgmt.port, err ? err.message : `HTTP ${status}`);
    });
  }
}
