// One fuzz input from its seeded random source: the same draws, in the same order, for the driver
// that sends it and for replay.ts that prints it.
import type { Rng } from './rng';
import { connectionScript, deafScript, floodPlan, slowLorisScript } from './kv-frames';
import { httpRequest, type HttpService } from './http-requests';

export const AUTH = { user: 'Administrator', password: 'password', bucket: 'default' };

export type FuzzInput =
  /** A KV connection writing frames (most of them hostile) and reading until the server goes quiet. */
  | { kind: 'kv'; chunks: Buffer[]; frames: number }
  /** An unauthenticated connection trickling bytes `gapMs` apart. */
  | { kind: 'loris'; chunks: Buffer[]; frames: number; gapMs: number }
  /** An authenticated connection flooding requests for large answers, reading none, for `holdMs`. */
  | { kind: 'deaf'; chunks: Buffer[]; frames: number; holdMs: number }
  /** `connections` opened at once, `authenticated` of them logging in. */
  | { kind: 'flood'; connections: number; authenticated: number }
  | { kind: 'http'; service: HttpService; bytes: Buffer };

/** Inputs that hold connections open for a while run beside the others, two at a time. */
export function isLasting(input: FuzzInput): boolean {
  return input.kind === 'loris' || input.kind === 'deaf' || input.kind === 'flood';
}

export function pickInput(r: Rng): FuzzInput {
  const roll = r.int(100);
  if (roll < 58) return { kind: 'kv', ...connectionScript(r, AUTH) };
  if (roll < 61) return { kind: 'loris', ...slowLorisScript(r) };
  if (roll < 63) return { kind: 'deaf', ...deafScript(r, AUTH) };
  if (roll < 64) return { kind: 'flood', ...floodPlan(r) };
  const service = r.pick(['mgmt', 'query', 'views'] as const);
  return { kind: 'http', service, bytes: httpRequest(r, service) };
}

/** What replay.ts prints for an input. */
export function describeInput(input: FuzzInput): string {
  switch (input.kind) {
    case 'kv':
      return `KV connection, ${input.frames} frames:\n${Buffer.concat(input.chunks).toString('hex')}`;
    case 'loris':
      return `slow-loris KV connection, ${input.chunks.length} chunks ${input.gapMs} ms apart:\n${input.chunks.map((c) => c.toString('hex')).join(' ')}`;
    case 'deaf':
      return `KV connection that never reads, held ${input.holdMs} ms, ${input.frames} frames; handshake then ${input.frames - 3} of:\n${input.chunks[1].subarray(0, input.chunks[1].length / (input.frames - 3)).toString('hex')}`;
    case 'flood':
      return `${input.connections} KV connections at once, ${input.authenticated} of them authenticated`;
    default:
      return `${input.service}:\n${input.bytes.toString('latin1')}`;
  }
}
