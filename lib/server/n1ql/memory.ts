// A statement that makes the heap grow without bound would end the whole process with V8's fatal
// out-of-memory error. Couchbase ends such a request with 5500 (its request memory quota). The
// engine does not account each value it builds, so it watches the heap instead: once the heap is
// past a quarter of its limit (a heap near its limit spends seconds in each full collection, and
// KV waits meanwhile), a statement that has grown it by more than STATEMENT_GROWTH_BYTES since it
// started is stopped. Under pressure the heaviest statements stop; the rest, and KV, go on.
import v8 from 'node:v8';

const PRESSURE_BYTES = v8.getHeapStatistics().heap_size_limit * 0.25;
const STATEMENT_GROWTH_BYTES = 64 * 1024 * 1024;

export function heapUsed(): number {
  return v8.getHeapStatistics().used_heap_size;
}

/** True when the heap is under pressure and has grown past a statement's share since `startUsed`. */
export function overMemoryQuota(startUsed: number): boolean {
  const used = heapUsed();
  return used > PRESSURE_BYTES && used - startUsed > STATEMENT_GROWTH_BYTES;
}
