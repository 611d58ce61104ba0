// TEST DOUBLE entry point for the blocking flavour's worker (`engineModule` option): the worker
// builds its engine with createEngine(). Options: `fake` (FakeEngineOptions) and `seed`
// ({key: value} stored before connect).
import { FakeEngine, type FakeEngineOptions } from './fake-engine';

export function createEngine(_connstr: string, options: Record<string, unknown>): FakeEngine {
  const engine = new FakeEngine((options.fake ?? {}) as FakeEngineOptions);
  const seed = (options.seed ?? {}) as Record<string, unknown>;
  let cas = 1n;
  for (const [k, v] of Object.entries(seed)) engine.docs.set(k, { value: v, cas: cas++, flags: 0x02000000 });
  return engine;
}
