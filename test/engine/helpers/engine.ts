import { Engine, type KvCallback } from '../../../lib/engine/engine';
import type { KvOptions, OpName } from '../../../lib/engine/kv/operations';
import type { CouchbaseError } from '../../../lib/engine/errors';
import type { Result } from '../../../lib/engine/results';

export function run<R extends Result = Result>(engine: Engine, op: OpName, key: string, opts: KvOptions = {}): Promise<R> {
  return new Promise((resolve, reject) => {
    const cb: KvCallback = (err, res) => (err ? reject(err) : resolve(res as R));
    engine.kv(op, key, opts, cb);
  });
}

export function fails(p: Promise<unknown>): Promise<CouchbaseError> {
  return p.then(
    (v) => {
      throw new Error(`expected a failure, got ${String(v)}`);
    },
    (e: CouchbaseError) => e,
  );
}

export function connect(engine: Engine): Promise<void> {
  return new Promise((resolve, reject) => engine.connect((err) => (err ? reject(err) : resolve())));
}

export function close(engine: Engine): Promise<void> {
  return new Promise((resolve) => engine.close(() => resolve()));
}

