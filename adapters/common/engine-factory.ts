// Builds the shared engine for a flavour, unless the caller brought one (`options.engine`).
import { Engine } from '../../lib/engine/engine';
import type { CallbackEngineLike, EngineLike, KvHandler } from './contract';

export interface EngineChoice {
  /** An engine to use instead of creating one (any object with the Engine contract). */
  engine?: EngineLike | CallbackEngineLike;
}

export function createEngine(connstr: string, options: Record<string, unknown> = {}): EngineLike {
  const { engine, ...rest } = options as EngineChoice & Record<string, unknown>;
  if (engine) return adoptEngine(engine);
  return new Engine(connstr, rest);
}

/** The engine as the flavours use it: one without dispatchKv() gets it, over its kv(). */
export function adoptEngine(engine: EngineLike | CallbackEngineLike): EngineLike {
  if (typeof engine.dispatchKv === 'function') return engine as EngineLike;
  const e = engine as CallbackEngineLike;
  return {
    connect: (cb) => e.connect(cb),
    close: (cb) => e.close(cb),
    dispatchKv: (op, key, options, handler: KvHandler) => e.kv(op, key, options, (err, result) => handler.kvDone(err, result)),
    kvMulti: (op, keys, options, cb) => e.kvMulti(op, keys, options, cb),
    n1ql: (query, handler) => e.n1ql(query, handler),
    view: (ddoc, view, params, handler) => e.view(ddoc, view, params, handler),
    manage: e.manage?.bind(e),
    ping: e.ping?.bind(e),
    diagnostics: e.diagnostics?.bind(e),
    info: e.info?.bind(e),
    setting: e.setting?.bind(e),
    set: e.set?.bind(e),
    addBucketCreds: e.addBucketCreds?.bind(e),
    mutationTokens: e.mutationTokens?.bind(e),
  };
}
