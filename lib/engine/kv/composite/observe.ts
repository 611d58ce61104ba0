// observe: each copy's view of a key (OBSERVE to the master and, unless masterOnly, the
// replicas): found or not, persisted or not, and the CAS it holds.
import { Opcode } from '../../../protocol/opcodes';
import { Status } from '../../../protocol/status';
import { encodeObserveRequest, readObserveResponse } from '../../../protocol/extras';
import { encodeRequest } from '../../connection';
import { secondsToMs } from '../../connstr';
import { NetworkError, errorForStatus, type CouchbaseError } from '../../errors';
import { ObserveResult, type ObserveInfo } from '../../results';
import { sendToServer } from '../node-request';
import type { KvHost } from '../host';
import type { CompositeRun, KvOptions } from '../spec';

/**
 * Asks the copies of `key` (master first; in the collection `opts` names); `cb` gets the master's
 * error, if any, and every answer.
 */
export function observeOnce(host: KvHost, key: string, vb: number, masterOnly: boolean, timeoutMs: number, cb: (err: CouchbaseError | null, infos: ObserveInfo[]) => void, opts: KvOptions = {}): void {
  const topo = host.topology!;
  const body = encodeObserveRequest([{ vbucket: vb, key: host.collectionKey(key, opts).bytes }]);
  const infos: ObserveInfo[] = [];
  const targets: number[] = [];
  for (let c = 0; c <= (masterOnly ? 0 : topo.numReplicas); c++) {
    const s = topo.serverOf(vb, c);
    if (s >= 0) targets.push(s);
  }
  if (targets.length === 0) return process.nextTick(cb, new NetworkError(`no node owns the vBucket of key "${key}"`, { key }), infos);
  let remaining = targets.length;
  let masterErr: CouchbaseError | null = null;
  targets.forEach((server, i) => {
    sendToServer(host, server, (opaque) => encodeRequest(Opcode.OBSERVE, '', body, opaque, undefined, vb), timeoutMs, (err, p) => {
      if (err || !p || p.status !== Status.SUCCESS) {
        if (i === 0) masterErr = err ?? errorForStatus(p!.status, key);
      } else {
        // One key was asked: its entry is the first.
        readObserveResponse(p.value, (_vb, _key, state, cas) => {
          infos.push({ flags: state, cas, fromMaster: i === 0, server });
          return false;
        });
      }
      if (--remaining === 0) {
        infos.sort((a, b) => Number(b.fromMaster) - Number(a.fromMaster));
        cb(masterErr, infos);
      }
      return true;
    });
  });
}

export const observe: CompositeRun<KvHost> = (host, key, opts, cb) => {
  const vb = host.topology!.vbucketOf(key);
  const timeoutMs = opts.timeout ? secondsToMs(opts.timeout) : host.opTimeoutMs;
  observeOnce(
    host,
    key,
    vb,
    !!opts.masterOnly,
    timeoutMs,
    (err, infos) => {
      if (err) return cb(err, null);
      cb(null, new ObserveResult(key, infos));
    },
    opts,
  );
};
