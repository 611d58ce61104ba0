// stats: STAT groups from every node of the map, as { stat: { node: value } }, values that are
// integers as numbers (Python converts them). With keystats the keys are documents: each key's
// master is asked for `key <id> <vbucket>` (ep-engine's per-document stats).
import { Opcode } from '../../../protocol/opcodes';
import { Status } from '../../../protocol/status';
import { encodeRequest } from '../../connection';
import { secondsToMs } from '../../connstr';
import { errorForStatus, type CouchbaseError } from '../../errors';
import { StatsResult, type StatValue } from '../../results';
import { sendToServer } from '../node-request';
import type { KvHost } from '../host';
import type { CompositeRun } from '../spec';

/** A stat's text as Python gives it: an integer when it is one, else the text. */
function statValue(text: string): StatValue {
  if (!/^-?\d+$/.test(text)) return text;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

export const stats: CompositeRun<KvHost> = (host, group, opts, cb) => {
  const topo = host.topology!;
  const value: Record<string, Record<string, StatValue>> = {};
  const timeoutMs = opts.timeout ? secondsToMs(opts.timeout) : host.opTimeoutMs;
  const names = opts.keys !== undefined && opts.keys.length > 0 ? opts.keys : [group];
  // [server index, STAT key] per request
  const requests: Array<[number, string]> = [];
  for (const name of names) {
    if (opts.keystats) {
      const vb = topo.vbucketOf(name);
      const master = topo.serverOf(vb, 0);
      if (master >= 0) requests.push([master, `key ${name} ${vb}`]);
    } else {
      for (let i = 0; i < topo.servers.length; i++) requests.push([i, name]);
    }
  }
  let remaining = requests.length;
  let firstErr: CouchbaseError | null = null;
  let okCount = 0;
  if (remaining === 0) return process.nextTick(cb, null, new StatsResult(group, value));
  for (const [index, statKey] of requests) {
    const server = topo.servers[index];
    sendToServer(host, index, (opaque) => encodeRequest(Opcode.STAT, statKey, '', opaque), timeoutMs, (err, p) => {
      if (err || !p || p.status !== Status.SUCCESS) {
        if (!firstErr) firstErr = err ?? errorForStatus(p!.status, opts.keystats ? statKey.split(' ')[1] : statKey);
      } else if (p.key.length > 0) {
        const name = p.key.toString('utf8');
        (value[name] ??= {})[server.id] = statValue(p.value.toString('utf8'));
        return false;
      } else okCount++;
      if (--remaining === 0) {
        if (okCount === 0 && firstErr) cb(firstErr, null);
        else cb(null, new StatsResult(group, value));
      }
      return true;
    });
  }
};
