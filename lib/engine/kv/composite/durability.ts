// persistTo / replicateTo: after a mutation (or on its own, endure), poll the copies until enough
// of them hold it — by OBSERVE_SEQNO when the mutation carried a token, else by OBSERVE and CAS —
// or durability_timeout runs out.
import type { Packet } from '../../../protocol/packet';
import { Opcode } from '../../../protocol/opcodes';
import { Status } from '../../../protocol/status';
import { ObserveState, decodeMutationToken, encodeObserveSeqnoRequest, readObserveSeqno, type MutationToken } from '../../../protocol/extras';
import { encodeRequest } from '../../connection';
import { secondsToMs } from '../../connstr';
import { ArgumentError, ErrorCode, NetworkError, TimeoutError, type CouchbaseError } from '../../errors';
import { OperationResult } from '../../results';
import type { Topology } from '../../topology';
import { sendToServer } from '../node-request';
import type { KvHost } from '../host';
import type { CompositeRun, KvCallback, KvOptions } from '../spec';
import { observeOnce } from './observe';

/** persistTo / replicateTo as copies (-1: all of them). */
function wanted(topo: Topology, opts: KvOptions): { persist: number; replicate: number } {
  return {
    persist: opts.persistTo === -1 ? topo.numReplicas + 1 : (opts.persistTo ?? 0),
    replicate: opts.replicateTo === -1 ? topo.numReplicas : (opts.replicateTo ?? 0),
  };
}

/**
 * An ArgumentError (libcouchbase's DURABILITY_ETOOMANY, which Python raises as ArgumentError)
 * when the bucket has fewer copies than asked for; else null.
 */
export function checkDurabilityPossible(topo: Topology, key: string, opts: KvOptions): CouchbaseError | null {
  const { persist, replicate } = wanted(topo, opts);
  if (persist > topo.numReplicas + 1 || replicate > topo.numReplicas) {
    return new ArgumentError(`key "${key}": persistTo=${persist}/replicateTo=${replicate} asks for more copies than the bucket has (${topo.numReplicas} replicas); lower them`, { key, rc: ErrorCode.DURABILITY_ETOOMANY });
  }
  return null;
}

/**
 * Python's endure(key, persist_to=-1, replicate_to=-1, cas=0, check_removed=False, timeout=5.0,
 * interval=0.010): each requirement not given is every copy, and it polls every 10 ms for 5 s.
 */
export const endure: CompositeRun<KvHost> = (host, key, given, cb) => {
  const opts: KvOptions = { ...given, persistTo: given.persistTo ?? -1, replicateTo: given.replicateTo ?? -1, timeout: given.timeout ?? 5, interval: given.interval ?? 0.01 };
  const err = checkDurabilityPossible(host.topology!, key, opts);
  if (err) return cb(err, null);
  const vb = host.topology!.vbucketOf(key);
  pollDurability(host, key, vb, opts, opts.cas ?? 0n, null, !!opts.checkRemoved, (e) => cb(e, e ? null : new OperationResult(key, opts.cas ?? 0n)));
};

/** After a successful mutation: poll until persistTo/replicateTo hold (or durability_timeout). */
export function awaitDurability(host: KvHost, key: string, vb: number, opts: KvOptions, p: Packet, removed: boolean, result: OperationResult, cb: KvCallback): void {
  const token = p.extras.length === 16 ? decodeMutationToken(p.extras)! : null;
  pollDurability(host, key, vb, opts, p.cas, token, removed, (err) => {
    if (err) {
      err.allResults = result;
      return cb(err, null);
    }
    cb(null, result);
  });
}

function pollDurability(
  host: KvHost,
  key: string,
  vb: number,
  opts: KvOptions,
  cas: bigint,
  token: MutationToken | null,
  removed: boolean,
  done: (err: CouchbaseError | null) => void,
): void {
  const o = host.options;
  const deadline = Date.now() + (opts.timeout ? secondsToMs(opts.timeout) : secondsToMs(o.durability_timeout));
  const interval = secondsToMs(opts.interval ?? o.durability_interval);
  const round = (): void => {
    if (host.state !== 'connected' || !host.topology) return done(new NetworkError('the engine disconnected before durability was reached', { key }));
    const { persist: persistWanted, replicate: replicateWanted } = wanted(host.topology, opts);
    const check = (persisted: number, replicated: number): void => {
      if (persisted >= persistWanted && replicated >= replicateWanted) return done(null);
      if (Date.now() + interval > deadline) {
        return done(new TimeoutError(`key "${key}" was written, but persistTo=${persistWanted}/replicateTo=${replicateWanted} was not reached in time (persisted on ${persisted}, replicated to ${replicated}); raise durability_timeout`, { key }));
      }
      setTimeout(round, interval);
    };
    const timeoutMs = Math.max(1, deadline - Date.now());
    if (token) {
      observeSeqnoRound(host, vb, token, timeoutMs, check);
    } else {
      observeOnce(host, key, vb, false, timeoutMs, (_err, infos) => {
        let persisted = 0;
        let replicated = 0;
        for (const info of infos) {
          let has: boolean;
          let onDisk: boolean;
          if (removed) {
            has = info.flags === ObserveState.NOT_FOUND || info.flags === ObserveState.LOGICALLY_DELETED;
            onDisk = info.flags === ObserveState.NOT_FOUND;
          } else {
            has = (info.flags === ObserveState.FOUND_NOT_PERSISTED || info.flags === ObserveState.FOUND_PERSISTED) && (cas === 0n || info.cas === cas);
            onDisk = has && info.flags === ObserveState.FOUND_PERSISTED;
          }
          if (onDisk) persisted++;
          if (has && !info.fromMaster) replicated++;
        }
        check(persisted, replicated);
      }, opts);
    }
  };
  round();
}

function observeSeqnoRound(host: KvHost, vb: number, token: MutationToken, timeoutMs: number, cb: (persisted: number, replicated: number) => void): void {
  const topo = host.topology!;
  const targets: number[] = [];
  for (let c = 0; c <= topo.numReplicas; c++) {
    const s = topo.serverOf(vb, c);
    if (s >= 0) targets.push(s);
  }
  let persisted = 0;
  let replicated = 0;
  let remaining = targets.length;
  if (remaining === 0) return process.nextTick(cb, 0, 0);
  const value = encodeObserveSeqnoRequest(token.vbuuid);
  targets.forEach((server, i) => {
    sendToServer(host, server, (opaque) => encodeRequest(Opcode.OBSERVE_SEQNO, '', value, opaque, undefined, vb), timeoutMs, (err, p) => {
      const r = !err && p && p.status === Status.SUCCESS ? readObserveSeqno(p.value) : null;
      if (r !== null) {
        if (r.persistedSeqno >= token.seqno) persisted++;
        if (i > 0 && r.currentSeqno >= token.seqno) replicated++;
      }
      if (--remaining === 0) cb(persisted, replicated);
      return true;
    });
  });
}
