// The `profile` object of a query response (request parameter `profile`: off, phases, timings).
// Couchbase reports where the request spent its time: phaseTimes (parse, plan, run, measured
// here), phaseOperators (how many operators of each phase the plan holds, read from the plan),
// and with `timings` the plan itself as executionTimings, its root carrying the request's
// measured execution time and rows out. Per-operator item counts (phaseCounts) would need each
// operator to count; only what is measured is reported, so phaseCounts stays empty.
import { formatDuration } from './duration';
import { ErrorCode, QueryError } from './errors';

export type ProfileMode = 'off' | 'phases' | 'timings';

/** The request's `profile` parameter; a value Couchbase does not know is a bad parameter. */
export function profileMode(v: unknown): ProfileMode {
  if (v === undefined || v === '') return 'off';
  const mode = typeof v === 'string' ? v.toLowerCase() : undefined;
  if (mode === 'off' || mode === 'phases' || mode === 'timings') return mode;
  throw new QueryError(ErrorCode.BAD_PARAMETER, `Invalid value for profile: ${String(v)}`);
}

// Plan operators by the phase Couchbase files them under.
const PHASE_OF: Record<string, string> = {
  PrimaryScan: 'primaryScan',
  PrimaryScan3: 'primaryScan',
  IndexScan: 'indexScan',
  IndexScan2: 'indexScan',
  IndexScan3: 'indexScan',
  IndexCountScan: 'indexCountScan',
  IndexCountScan2: 'indexCountScan',
  KeyScan: 'keyScan',
  DummyScan: 'dummyScan',
  ExpressionScan: 'expressionScan',
  Fetch: 'fetch',
  Filter: 'filter',
  Join: 'join',
  NestedLoopJoin: 'nestedLoopJoin',
  HashJoin: 'hashJoin',
  Nest: 'nest',
  Unnest: 'unnest',
  Order: 'sort',
  InitialGroup: 'group',
  IntermediateGroup: 'group',
  FinalGroup: 'group',
  SendInsert: 'insert',
  SendUpsert: 'upsert',
  SendUpdate: 'update',
  SendDelete: 'delete',
  Merge: 'merge',
};

/** Timestamps of one request's phases, in process.hrtime nanoseconds. */
export interface PhaseMarks {
  started: bigint;
  parsed: bigint;
  planned: bigint;
  ended: bigint;
}

export interface ProfileInput {
  mode: ProfileMode;
  requestTime: Date;
  servicingHost: string;
  marks: PhaseMarks;
  /** The statement's plan (EXPLAIN's), when it has one. */
  plan?: unknown;
  rowsOut: number;
}

export function profileObject(p: ProfileInput): Record<string, unknown> {
  const { marks } = p;
  const phaseOperators: Record<string, number> = {};
  if (p.plan !== undefined) walk(p.plan, (op) => {
    const phase = PHASE_OF[op];
    if (phase) phaseOperators[phase] = (phaseOperators[phase] ?? 0) + 1;
  });
  const out: Record<string, unknown> = {
    requestTime: p.requestTime.toISOString(),
    servicingHost: p.servicingHost,
    phaseCounts: {},
    phaseOperators,
    phaseTimes: {
      parse: formatDuration(Number(marks.parsed - marks.started)),
      plan: formatDuration(Number(marks.planned - marks.parsed)),
      run: formatDuration(Number(marks.ended - marks.planned)),
    },
  };
  if (p.mode === 'timings' && p.plan !== undefined && typeof p.plan === 'object' && p.plan !== null) {
    out.executionTimings = {
      ...(p.plan as Record<string, unknown>),
      '#stats': { '#itemsOut': p.rowsOut, execTime: formatDuration(Number(marks.ended - marks.planned)) },
    };
  }
  return out;
}

function walk(node: unknown, visit: (operator: string) => void): void {
  if (Array.isArray(node)) {
    for (const n of node) walk(n, visit);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const op = (node as Record<string, unknown>)['#operator'];
  if (typeof op === 'string') visit(op);
  for (const [k, v] of Object.entries(node)) if (k !== '#operator' && typeof v === 'object') walk(v, visit);
}
