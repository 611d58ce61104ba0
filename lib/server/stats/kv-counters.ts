// What the data service counts while it works: requests by opcode, and reads that found their
// document. The KV front end bumps one slot of a preallocated array per request (no allocation,
// no branch on the opcode); everything else (cmd_get, cmd_set, ops, rates) is derived from these
// arrays by the stats sampler, outside the hot path.
import { Opcode } from '../../protocol/opcodes';

export class KvCounters {
  /** Requests received on a connection with this bucket selected, by opcode (quiet variants apart). */
  readonly requests = new Float64Array(256);
  /** Read requests answered with a document (GET family, GAT, GET_LOCKED, GET_REPLICA), by opcode. */
  readonly hits = new Float64Array(256);
}

/** The memcached stat names derived from the counters, each a set of opcodes summed. */
export const OPCODE_GROUPS = {
  cmd_get: [Opcode.GET, Opcode.GETQ, Opcode.GETK, Opcode.GETKQ, Opcode.GAT, Opcode.GATQ, Opcode.GET_LOCKED, Opcode.GET_REPLICA],
  cmd_set: [
    Opcode.SET, Opcode.SETQ, Opcode.ADD, Opcode.ADDQ, Opcode.REPLACE, Opcode.REPLACEQ,
    Opcode.APPEND, Opcode.APPENDQ, Opcode.PREPEND, Opcode.PREPENDQ, Opcode.SUBDOC_MULTI_MUTATION,
  ],
  cmd_lookup: [Opcode.SUBDOC_MULTI_LOOKUP],
  delete: [Opcode.DELETE, Opcode.DELETEQ],
  incr: [Opcode.INCREMENT, Opcode.INCREMENTQ],
  decr: [Opcode.DECREMENT, Opcode.DECREMENTQ],
  touch: [Opcode.TOUCH],
} as const satisfies Record<string, readonly number[]>;

export type OpcodeGroup = keyof typeof OPCODE_GROUPS;

/** Sum of `counts` over one group's opcodes. */
export function groupTotal(counts: Float64Array, group: OpcodeGroup): number {
  let n = 0;
  for (const op of OPCODE_GROUPS[group]) n += counts[op];
  return n;
}
