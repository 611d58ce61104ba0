// Builds the shared engine for a flavour, unless the caller brought one (`options.engine`).
import { Engine } from '../../lib/engine';
import type { EngineLike } from './contract';

export interface EngineChoice {
  /** An engine to use instead of creating one (any object with the Engine contract). */
  engine?: EngineLike;
}

export function createEngine(connstr: string, options: Record<string, unknown> = {}): EngineLike {
  const { engine, ...rest } = options as EngineChoice & Record<string, unknown>;
  if (engine) return engine;
  return new Engine(connstr, rest) as unknown as EngineLike;
}
