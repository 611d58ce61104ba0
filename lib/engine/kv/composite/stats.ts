// stats: a STAT group from every node of the map, as { stat: { node: value } }.
import { Opcode } from '../../../protocol/opcodes';
import { Status } from '../../../protocol/status';
import { encodeRequest } from '../../connection';
import { secondsToMs } from '../../connstr';
import { errorForStatus, type CouchbaseError } from '../../errors';
import { StatsResult } from '../../results';
import { sendToServer } from '../node-request';
import type { KvHost } from '../host';
import type { CompositeRun } from '../spec';

export const stats: CompositeRun<KvHost> = (host, group, opts, cb) => {
  const topo = host.topology!;
  const value: Record<string, Record<string, string>> = {};
  let remaining = topo.servers.length;
  let firstErr: CouchbaseError | null = null;
  let okCount = 0;
  const timeoutMs = opts.timeout ? secondsToMs(opts.timeout) : host.opTimeoutMs;
  if (remaining === 0) return process.nextTick(cb, null, new StatsResult(group, value));
  topo.servers.forEach((server, i) => {
    sendToServer(host, i, (opaque) => encodeRequest(Opcode.STAT, group, '', opaque), timeoutMs, (err, p) => {
      if (err || !p || p.status !== Status.SUCCESS) {
        if (!firstErr) firstErr = err ?? errorForStatus(p!.status, group);
      } else if (p.key.length > 0) {
        const name = p.key.toString('utf8');
        (value[name] ??= {})[server.id] = p.value.toString('utf8');
        return false;
      } else okCount++;
      if (--remaining === 0) {
        if (okCount === 0 && firstErr) cb(firstErr, null);
        else cb(null, new StatsResult(group, value));
      }
      return true;
    });
  });
};
