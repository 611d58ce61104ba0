// ns_server's cluster controller endpoints over the embedded cluster's own operations:
//   POST /controller/failOver          otpNode=... (repeatable)      -> Cluster.failover()
//   POST /controller/startGracefulFailover  (same; the data is shared, so nothing is lost either way)
//   POST /controller/setRecoveryType   otpNode=...&recoveryType=full|delta -> Cluster.addBack()
//   POST /controller/reAddNode         otpNode=...                    -> Cluster.addBack()
//   POST /controller/addNode           [hostname=<this host>]         -> Cluster.addNode()
//   POST /controller/rebalance         knownNodes=a,b&ejectedNodes=c  -> Cluster.rebalance()
//   GET  /pools/default/rebalanceProgress
// and the node list of /pools/default with each node's otpNode and clusterMembership.
import type { ConsoleCore } from './core';
import { nodeOfOtp, otpNode } from './core';

export type Membership = 'active' | 'inactiveAdded' | 'inactiveFailed';

/** A member that holds no vBucket yet is waiting for a rebalance, as an added node is in ns_server. */
export function membershipOf(core: ConsoleCore, id: number): Membership {
  const t = core.topology;
  if (!t.isMember(id)) return 'inactiveFailed';
  if (t.members.length > t.numVBuckets) return 'active';
  for (let vb = 0; vb < t.numVBuckets; vb++) if (t.chain(vb).includes(id)) return 'active';
  return 'inactiveAdded';
}

/** True when every member holds a fair share of active vBuckets (what rebalance() produces). */
export function isBalanced(core: ConsoleCore): boolean {
  const t = core.topology;
  const counts = new Map<number, number>(t.members.map((m) => [m, 0]));
  for (let vb = 0; vb < t.numVBuckets; vb++) {
    const a = t.active(vb);
    counts.set(a, (counts.get(a) ?? 0) + 1);
  }
  const values = [...counts.values()];
  return Math.max(...values) - Math.min(...values) <= 1 && counts.size === t.members.length;
}

export interface ControllerAnswer {
  status: number;
  body: unknown;
}

const ok = (body: unknown = ''): ControllerAnswer => ({ status: 200, body });
const bad = (message: string): ControllerAnswer => ({ status: 400, body: message });

function nodesOf(core: ConsoleCore, form: URLSearchParams): { ids: number[] } | { error: ControllerAnswer } {
  const names = form.getAll('otpNode').flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) return { error: bad('No server specified.') };
  const ids: number[] = [];
  for (const name of names) {
    const id = nodeOfOtp(core, name);
    if (id === undefined) return { error: bad(`Unknown server given: ${name}`) };
    ids.push(id);
  }
  return { ids };
}

export const CONTROLLERS: Record<string, (core: ConsoleCore, form: URLSearchParams) => ControllerAnswer | Promise<ControllerAnswer>> = {
  failOver: (core, form) => failOver(core, form),
  startGracefulFailover: (core, form) => failOver(core, form),
  setRecoveryType(core, form) {
    const r = nodesOf(core, form);
    if ('error' in r) return r.error;
    const type = form.get('recoveryType');
    if (type !== 'full' && type !== 'delta') return { status: 400, body: { errors: { recoveryType: 'recoveryType must be one of full, delta' } } };
    for (const id of r.ids) {
      if (core.topology.isMember(id)) return bad(`Server ${otpNode(core, id)} is not failed over; only failed-over nodes can be added back.`);
    }
    for (const id of r.ids) core.addBack(id);
    return ok();
  },
  reAddNode(core, form) {
    const r = nodesOf(core, form);
    if ('error' in r) return r.error;
    for (const id of r.ids) core.addBack(id);
    return ok();
  },
  async addNode(core, form) {
    const hostname = (form.get('hostname') ?? '').trim();
    const host = hostname.replace(/^https?:\/\//, '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
    if (hostname !== '' && host !== core.host) {
      return bad(`The embedded cluster starts its new nodes itself, on ${core.host} with ports it picks; leave hostname out or give ${core.host}.`);
    }
    const services = form.get('services');
    if (services !== null && !services.split(',').includes('kv')) return bad('Every node of the embedded cluster runs the data service; services must include kv.');
    const id = await core.addNode();
    return ok({ otpNode: otpNode(core, id) });
  },
  rebalance(core, form) {
    const known = (form.get('knownNodes') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    const ejected = (form.get('ejectedNodes') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    const all = core.nodeIds().map((id) => otpNode(core, id));
    // ns_server refuses a rebalance computed from a stale node list.
    if (known.length !== all.length || !all.every((n) => known.includes(n))) return { status: 400, body: { mismatch: 1 } };
    const ejectIds: number[] = [];
    for (const name of ejected) {
      const id = nodeOfOtp(core, name);
      if (id === undefined) return { status: 400, body: { mismatch: 1 } };
      ejectIds.push(id);
    }
    const stay = core.topology.members.filter((m) => !ejectIds.includes(m));
    if (stay.length === 0) return bad('Cannot eject every node: at least one must stay in the cluster.');
    for (const id of ejectIds) if (core.topology.isMember(id)) core.failover(id);
    core.rebalance();
    return ok();
  },
};

function failOver(core: ConsoleCore, form: URLSearchParams): ControllerAnswer {
  const r = nodesOf(core, form);
  if ('error' in r) return r.error;
  const t = core.topology;
  for (const id of r.ids) if (!t.isMember(id)) return bad(`Server ${otpNode(core, id)} is already failed over.`);
  if (t.members.filter((m) => !r.ids.includes(m)).length === 0) return bad('Failover would remove every node with the data service: at least one must stay.');
  for (const id of r.ids) core.failover(id);
  return ok();
}
