// `node dist/test/fuzz/send.js SEED:INDEX|SEED:FROM-TO ...`: sends those fuzz inputs one at a time
// to a fresh fuzz target and prints, for each, how long it took, what an HTTP input was answered
// (status and the start of the body), and how long a fresh client's probe took after it — to find
// which input of a finding's window crashed the target, stalled it or was answered 5xx.
import net from 'node:net';
import { Rng } from './rng';
import { pickInput, type FuzzInput } from './inputs';
import { Target, probe, runDeaf, runFlood, runKv, runLoris, type Ports } from './driver';

function httpExchange(port: number, bytes: Buffer, ms = 10000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (text += d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    socket.on('connect', () => socket.end(bytes));
  });
}

async function send(ports: Ports, input: FuzzInput): Promise<string> {
  switch (input.kind) {
    case 'http': {
      const answer = await httpExchange(ports[input.service], input.bytes);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 'none';
      const body = answer.slice(answer.indexOf('\r\n\r\n') + 4).replace(/\s+/g, ' ');
      return `${input.service} ${status} ${body.slice(0, 300)}`;
    }
    case 'kv':
      await runKv(ports.kv, input.chunks);
      return `kv ${input.frames} frames`;
    case 'loris':
      await runLoris(ports.kv, input.chunks, input.gapMs);
      return 'slow-loris';
    case 'deaf':
      await runDeaf(ports.kv, input.chunks, input.holdMs);
      return `deaf ${input.holdMs} ms`;
    case 'flood':
      await runFlood(ports.kv, input.connections, input.authenticated);
      return `flood of ${input.connections}`;
  }
}

async function main(): Promise<void> {
  const ids: Array<[number, number]> = [];
  for (const arg of process.argv.slice(2)) {
    const [seed, range] = arg.split(':');
    const [from, to] = range.split('-').map(Number);
    for (let i = from; i <= (to ?? from); i++) ids.push([Number(seed), i]);
  }
  const target = new Target();
  await target.start();
  const only = process.env.FUZZ_KINDS?.split(',');
  for (const [seed, i] of ids) {
    const input = pickInput(new Rng((seed * 1_000_003 + i) >>> 0));
    if (only && !only.includes(input.kind === 'http' ? input.service : input.kind)) continue;
    const t0 = performance.now();
    const what = await send(target.ports, input);
    const t1 = performance.now();
    const problem = target.exited ?? (await probe(target.ports, 5000));
    const t2 = performance.now();
    console.log(`${seed}:${i} ${(t1 - t0).toFixed(0)} ms, probe ${(t2 - t1).toFixed(0)} ms${problem ? ` PROBLEM ${problem}` : ''}: ${what}`);
    if (target.exited !== undefined) break;
  }
  await target.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
