// One-shot KV commands (get, upsert, insert, replace, remove, counter, touch): one table row per
// command says its arguments, flags and how the result becomes JSON.
import * as fs from 'node:fs';
import type { CommandSpec, FlagSpec, ParsedArgs } from '../args';
import { UsageError } from '../args';
import { CONNECTION_FLAGS, targetOf, withEngine } from '../connect';
import { FMT_UTF8 } from '../../engine/transcoder';
import type { KvOptions, OpName } from '../../engine';
import type { CouchbaseError } from '../../engine/errors';
import type { Result, ValueResult, OperationResult } from '../../engine/results';
import { errorJson, printJson, toJsonValue } from '../output';
import type { CliIo } from '../io';

const KEY = { name: 'KEY', required: true, help: 'document id' };
const TTL: FlagSpec = { name: 'ttl', short: 't', type: 'int', min: 0, meta: 'SECONDS', help: 'expiry in seconds (0 = never)' };
const CAS: FlagSpec = { name: 'cas', type: 'string', meta: 'CAS', help: 'only if the document still has this CAS' };
const STRING: FlagSpec = { name: 'string', type: 'bool', help: 'store VALUE as a string even if it parses as JSON' };
const VALUE = { name: 'VALUE', required: true, help: 'the document: JSON, else a string; "-" reads standard input' };

interface KvCommand {
  op: OpName;
  spec: CommandSpec;
}

function spec(name: string, summary: string, positionals: CommandSpec['positionals'], flags: FlagSpec[]): CommandSpec {
  return { name, summary, positionals, flags: [...flags, ...CONNECTION_FLAGS] };
}

export const KV_COMMANDS: Readonly<Record<string, KvCommand>> = {
  get: { op: 'get', spec: spec('get', 'Fetch a document and print it as JSON.', [KEY], []) },
  upsert: { op: 'upsert', spec: spec('upsert', 'Store a document (create or overwrite).', [KEY, VALUE], [TTL, CAS, STRING]) },
  insert: { op: 'insert', spec: spec('insert', 'Store a document that must not exist yet.', [KEY, VALUE], [TTL, STRING]) },
  replace: { op: 'replace', spec: spec('replace', 'Store a document that must already exist.', [KEY, VALUE], [TTL, CAS, STRING]) },
  remove: { op: 'remove', spec: spec('remove', 'Delete a document.', [KEY], [CAS]) },
  touch: { op: 'touch', spec: spec('touch', 'Change the expiry of a document.', [KEY], [{ ...TTL, default: 0 }]) },
  counter: {
    op: 'counter',
    spec: spec('counter', 'Add to a numeric document; print its new value.', [KEY], [
      { name: 'delta', type: 'int', default: 1, meta: 'N', help: 'amount to add (negative to subtract)' },
      { name: 'initial', type: 'int', min: 0, meta: 'N', help: 'create the document with this value when missing (absent: fail)' },
      TTL,
    ]),
  },
};

function readValue(text: string, asString: boolean): { value: unknown; format?: number } {
  const raw = text === '-' ? fs.readFileSync(0, 'utf8') : text;
  if (asString) return { value: raw, format: FMT_UTF8 };
  try {
    return { value: JSON.parse(raw) };
  } catch {
    return { value: raw, format: FMT_UTF8 };
  }
}

function resultJson(op: OpName, r: Result): Record<string, unknown> {
  const out: Record<string, unknown> = { key: r.key };
  const o = r as OperationResult;
  if (op === 'get' || op === 'counter') {
    const v = r as ValueResult;
    out.value = toJsonValue(v.value);
    if (op === 'get') out.flags = v.flags;
  }
  out.cas = o.cas.toString();
  if (o.mutationToken !== undefined) out.mutationToken = toJsonValue(o.mutationToken);
  return out;
}

export async function runKv(name: string, args: ParsedArgs, io: CliIo): Promise<number> {
  const cmd = KV_COMMANDS[name];
  const v = args.values;
  const key = args.positionals.KEY as string;
  const options: KvOptions = {};
  if (args.positionals.VALUE !== undefined) Object.assign(options, readValue(args.positionals.VALUE, v.string === true));
  if (v.ttl !== undefined) options.ttl = v.ttl as number;
  if (v.cas !== undefined) {
    if (!/^\d+$/.test(v.cas as string)) throw new UsageError(`--cas: expects the decimal CAS a previous command printed (got ${JSON.stringify(v.cas)})`, cmd.spec);
    options.cas = BigInt(v.cas as string);
  }
  if (v.delta !== undefined) options.delta = v.delta as number;
  if (v.initial !== undefined) options.initial = v.initial as number;
  const target = targetOf(args, io.env);
  return withEngine(target, name, io, async (engine) => {
    try {
      const result = await new Promise<Result>((resolve, reject) =>
        engine.kv(cmd.op, key, options, (err: CouchbaseError | null, r: Result | null) => (err ? reject(err) : resolve(r as Result))),
      );
      printJson(io.stdout, resultJson(cmd.op, result), 2);
      return 0;
    } catch (err) {
      printJson(io.stderr, { error: errorJson(err) }, 2);
      return 1;
    }
  });
}
