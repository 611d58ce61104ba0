// What each sample is made of: a bucket's KV counters and gauges, and a service's request
// counters. Stat names are ns_server's (cmd_get, get_hits, curr_items, mem_used, query_requests,
// query_avg_req_time, ...); counters are reported as per-second rates, gauges as read. The
// query latency percentiles (query_latency_p50/p90/p99, seconds) are ours: ns_server gives only
// the mean, and a console chart of percentiles needs them.
import type { DocumentStore } from '../store';
import { groupTotal, type KvCounters, type OpcodeGroup } from './kv-counters';
import type { ServiceCounters } from './service-counters';
import type { StatSource } from './sampler';

/** Rates derived from opcode groups, in sample order. */
const KV_RATES: ReadonlyArray<[stat: string, group: OpcodeGroup, counter: 'requests' | 'hits']> = [
  ['cmd_get', 'cmd_get', 'requests'],
  ['get_hits', 'cmd_get', 'hits'],
  ['cmd_set', 'cmd_set', 'requests'],
  ['cmd_lookup', 'cmd_lookup', 'requests'],
  ['delete_ops', 'delete', 'requests'],
  ['incr_ops', 'incr', 'requests'],
  ['decr_ops', 'decr', 'requests'],
];

/** Per-item overhead counted in mem_used besides key and value (ep-engine's StoredValue is ~56 bytes). */
const ITEM_OVERHEAD = 56;

/**
 * Memory held by a bucket's documents, recomputed (one pass over the documents) only when the
 * bucket changed, and then no sooner than 20x the last pass's own duration later, so a big bucket
 * under load never spends more than ~5% of the event loop here.
 */
class MemUsed {
  private value = 0;
  private seqno = -1n;
  private nextAt = 0;
  read(store: DocumentStore): number {
    const now = performance.now();
    if (store.highSeqno === this.seqno || now < this.nextAt) return this.value;
    let bytes = 0;
    for (const coll of store.collections()) for (const doc of coll.docs()) bytes += doc.id.length + doc.value.length + ITEM_OVERHEAD;
    const took = performance.now() - now;
    this.value = bytes;
    this.seqno = store.highSeqno;
    this.nextAt = now + took * 20;
    return bytes;
  }
}

export function bucketSource(store: DocumentStore, counters: KvCounters): StatSource {
  const names = ['ops', ...KV_RATES.map(([n]) => n), 'get_misses', 'curr_items', 'mem_used'];
  const last = new Float64Array(KV_RATES.length);
  const mem = new MemUsed();
  const n = KV_RATES.length;
  return {
    names,
    read(out, seconds) {
      for (let i = 0; i < n; i++) {
        const [, group, counter] = KV_RATES[i];
        const total = groupTotal(counters[counter], group);
        out[i + 1] = (total - last[i]) / seconds;
        last[i] = total;
      }
      // ops: document operations only (sessions, HELLO, auth and config requests are not ops in ns_server).
      out[0] = out[1] + out[3] + out[4] + out[5] + out[6] + out[7];
      out[n + 1] = Math.max(0, out[1] - out[2]);
      out[n + 2] = store.totalSize;
      out[n + 3] = mem.read(store);
    },
  };
}

export const QUERY_STATS = [
  'query_requests',
  'query_errors',
  'query_avg_req_time',
  'query_requests_250ms',
  'query_requests_500ms',
  'query_requests_1000ms',
  'query_requests_5000ms',
  'query_latency_p50',
  'query_latency_p90',
  'query_latency_p99',
] as const;

export function serviceSource(counters: ServiceCounters): StatSource {
  const last = { requests: 0, errors: 0, micros: 0, s250: 0, s500: 0, s1000: 0, s5000: 0 };
  return {
    names: QUERY_STATS,
    read(out, seconds) {
      const c = counters;
      const requests = c.requests - last.requests;
      const micros = c.totalMicros - last.micros;
      out[0] = requests / seconds;
      out[1] = (c.errors - last.errors) / seconds;
      out[2] = requests > 0 ? micros / requests / 1e6 : 0;
      out[3] = (c.slower[250] - last.s250) / seconds;
      out[4] = (c.slower[500] - last.s500) / seconds;
      out[5] = (c.slower[1000] - last.s1000) / seconds;
      out[6] = (c.slower[5000] - last.s5000) / seconds;
      const h = c.interval;
      const any = h.totalCount > 0;
      out[7] = any ? h.getValueAtPercentile(50) / 1e6 : 0;
      out[8] = any ? h.getValueAtPercentile(90) / 1e6 : 0;
      out[9] = any ? h.getValueAtPercentile(99) / 1e6 : 0;
      h.reset();
      Object.assign(last, { requests: c.requests, errors: c.errors, micros: c.totalMicros, s250: c.slower[250], s500: c.slower[500], s1000: c.slower[1000], s5000: c.slower[5000] });
    },
  };
}
