// Test harness: a DocumentStore-backed engine, queried directly (no HTTP) or over HTTP.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DocumentStore } from '../../lib/server/store';
import type { BucketStore, ServiceContext, ServiceUser } from '../../lib/server/service-types';
import { createQueryService } from '../../lib/server/n1ql';
import { parse } from '../../lib/server/n1ql/parser';
import { runStatement } from '../../lib/server/n1ql/statement';
import { PreparedCache } from '../../lib/server/n1ql/prepared';
import { PAUSE } from '../../lib/server/n1ql/pause';
import { QueryError } from '../../lib/server/n1ql/errors';
import type { Env } from '../../lib/server/n1ql/keyspace';
import { privilegesOf } from '../../lib/server/n1ql/privileges';
import { userWithBuckets } from '../../lib/server/rbac/users';
import type { ExecContext } from '../../lib/server/n1ql/expr';
import type { Value } from '../../lib/server/n1ql/value';
import { jsonText, parseJson } from '../../lib/server/n1ql/json';

export interface Outcome {
  rows: Value[];
  errors: { code: number; msg: string }[];
  warnings: { code: number; msg: string; reason?: Record<string, unknown> }[];
  mutationCount: number;
}

export class Engine {
  readonly stores = new Map<string, DocumentStore>();
  readonly prepareds = new PreparedCache();

  constructor(buckets: string[] = ['default']) {
    for (const b of buckets) this.stores.set(b, new DocumentStore({ name: b, numVBuckets: 64 }));
  }

  store(name = 'default'): DocumentStore {
    return this.stores.get(name)!;
  }

  load(bucket: string, docs: Record<string, unknown>): this {
    for (const [id, v] of Object.entries(docs)) this.store(bucket).write(id, Buffer.from(JSON.stringify(v)), 'upsert', { datatype: 1 });
    return this;
  }

  env(allowed: string[] | '*' = '*'): Env {
    return {
      bucket: (n) => this.stores.get(n),
      buckets: () => [...this.stores.values()],
      ...privilegesOf(userWithBuckets('t', allowed)),
    };
  }

  /** Runs a statement; errors (thrown or per-row) come back in `errors`. */
  run(statement: string, opts: { args?: Value[]; named?: Record<string, Value>; readonly?: boolean } = {}): Outcome {
    const warnings = new Map<string, { code: number; msg: string; reason?: Record<string, unknown> }>();
    const ctx: ExecContext = {
      now: Date.UTC(2024, 0, 2, 3, 4, 5),
      positional: opts.args ?? [],
      named: opts.named ?? {},
      checkDeadline: () => undefined,
      warn: (code, msg, reason) => warnings.set(`${code} ${msg}`, reason ? { code, msg, reason } : { code, msg }),
      user: 'admin',
    };
    try {
      const r = runStatement(parse(statement), {
        env: this.env(),
        ctx,
        readonly: opts.readonly ?? false,
        prepareds: this.prepareds,
        user: 'admin',
      });
      const rows = [...r.rows].filter((v) => v !== PAUSE);
      // Through the text the service writes: NaN and infinities as "NaN", "+Infinity", "-Infinity",
      // integers beyond 2^53 exact (bigint), floats in Go's form.
      const text = jsonText(rows, undefined, true)!;
      return { rows: parseJson(text) as Value[], errors: r.errors.map((e) => e.toJSON()), warnings: [...warnings.values()], mutationCount: r.mutationCount() };
    } catch (err) {
      if (err instanceof QueryError) return { rows: [], errors: [err.toJSON()], warnings: [...warnings.values()], mutationCount: 0 };
      throw err;
    }
  }

  /** Rows of a statement that must succeed. */
  rows(statement: string, opts: { args?: Value[]; named?: Record<string, Value> } = {}): Value[] {
    const o = this.run(statement, opts);
    if (o.errors.length) throw new Error(`query failed: ${JSON.stringify(o.errors)}`);
    return o.rows;
  }
}

export interface HttpQueryService {
  port: number;
  request(body: unknown, opts?: { method?: string; path?: string; auth?: string | null; contentType?: string; raw?: string }): Promise<{ status: number; body: string; json: any }>;
  close(): Promise<void>;
}

export async function startHttp(stores: BucketStore[], users: Record<string, { password: string; buckets: string[] | '*' }> = { admin: { password: 'password', buckets: '*' } }): Promise<HttpQueryService> {
  const ctx: ServiceContext = {
    clock: { now: () => Date.now() },
    bucket: (n) => stores.find((s) => s.name === n),
    buckets: () => stores,
    nodeIndex: 0,
    authenticate(header): ServiceUser | null {
      if (!header?.startsWith('Basic ')) return null;
      const [u, p] = Buffer.from(header.slice(6), 'base64').toString().split(':');
      const rec = users[u];
      return rec && rec.password === p ? userWithBuckets(u, rec.buckets) : null;
    },
  };
  const handler = createQueryService(ctx);
  const server = http.createServer((req, res) => handler.handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: false });
  return {
    port,
    request(body, opts = {}) {
      const auth = opts.auth === undefined ? 'Basic ' + Buffer.from('admin:password').toString('base64') : opts.auth;
      const payload = opts.raw ?? (body === undefined ? '' : JSON.stringify(body));
      return new Promise((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            agent,
            method: opts.method ?? 'POST',
            path: opts.path ?? '/query/service',
            headers: { 'content-type': opts.contentType ?? 'application/json', ...(auth ? { authorization: auth } : {}) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString();
              let json: any;
              try {
                json = JSON.parse(text);
              } catch {
                json = undefined;
              }
              resolve({ status: res.statusCode ?? 0, body: text, json });
            });
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    },
    async close() {
      handler.close?.();
      agent.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
