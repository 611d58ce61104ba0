// Blocking-transport micro-benchmark: the cost of one caller -> worker -> caller round trip with
// no engine behind it, for the designs considered for the blocking flavour:
//   sab        request and answer in a SharedArrayBuffer; worker woken by Atomics.waitAsync,
//              caller waits with Atomics.wait (the design adapters/blocking uses), with spinning
//   sab-nospin the same without any spinning (pure futex / event-loop wake-ups)
//   port       request and answer over a MessagePort; caller sleeps on an Atomics word and reads
//              the answer with receiveMessageOnPort; worker woken by the port's message event
//   naive      postMessage + await the reply on the caller's event loop
// Usage: node dist/bench/adapters/transport.js
import { MessageChannel, Worker, isMainThread, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';

type Mode = 'sab' | 'sab-nospin' | 'port' | 'naive';
const N = 20_000;

type WaitAsync = (a: Int32Array, i: number, v: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
const now = (): number => performance.now();

function workerSide(mode: Mode, ctrl: Int32Array, port: MessagePort): void {
  let last = 0;
  const keep = setInterval(() => {}, 1 << 30);
  const answer = (seq: number): void => {
    last = seq;
    if (mode === 'port') port.postMessage(seq);
    Atomics.store(ctrl, 1, seq);
    Atomics.notify(ctrl, 1);
  };
  if (mode === 'port' || mode === 'naive') {
    port.on('message', (seq: number) => {
      if (seq < 0) {
        clearInterval(keep);
        port.close();
        return;
      }
      if (mode === 'naive') port.postMessage(seq);
      else answer(seq);
    });
    return;
  }
  const arm = (): void => {
    const r = waitAsync(ctrl, 0, last);
    const go = (): void => {
      const seq = Atomics.load(ctrl, 0);
      if (seq < 0) {
        clearInterval(keep);
        return;
      }
      if (seq !== last) answer(seq);
      if (mode === 'sab') {
        const until = now() + 0.03;
        for (let i = 1; ; i++) {
          const s = Atomics.load(ctrl, 0);
          if (s !== last) {
            if (s < 0) {
              clearInterval(keep);
              return;
            }
            answer(s);
          }
          if ((i & 63) === 0 && now() > until) break;
        }
      }
      arm();
    };
    if (r.async) (r.value as Promise<string>).then(go);
    else queueMicrotask(go);
  };
  arm();
}

async function measure(mode: Mode): Promise<number> {
  const sab = new SharedArrayBuffer(8);
  const ctrl = new Int32Array(sab);
  const { port1, port2 } = new MessageChannel();
  const w = new Worker(__filename, { workerData: { mode, sab, port: port2 }, transferList: [port2] });
  await new Promise((r) => w.once('online', r));
  await new Promise((r) => setTimeout(r, 50));
  let seq = 0;
  const spin = mode === 'sab' ? 0.05 : 0;
  const call = (): void => {
    seq++;
    if (mode === 'port') port1.postMessage(seq);
    else {
      Atomics.store(ctrl, 0, seq);
      Atomics.notify(ctrl, 0);
    }
    const until = now() + spin;
    for (let i = 1; spin > 0; i++) {
      if (Atomics.load(ctrl, 1) === seq) break;
      if ((i & 63) === 0 && now() > until) break;
    }
    while (Atomics.load(ctrl, 1) !== seq) Atomics.wait(ctrl, 1, Atomics.load(ctrl, 1), 100);
    if (mode === 'port') receiveMessageOnPort(port1);
  };
  let perCall: number;
  if (mode === 'naive') {
    const once = (): Promise<void> =>
      new Promise((r) => {
        port1.once('message', () => r());
        port1.postMessage(++seq);
      });
    for (let i = 0; i < 2000; i++) await once();
    const t0 = now();
    for (let i = 0; i < N; i++) await once();
    perCall = ((now() - t0) * 1000) / N;
  } else {
    for (let i = 0; i < 2000; i++) call();
    const t0 = now();
    for (let i = 0; i < N; i++) call();
    perCall = ((now() - t0) * 1000) / N;
  }
  if (mode === 'port' || mode === 'naive') port1.postMessage(-1);
  Atomics.store(ctrl, 0, -1);
  Atomics.notify(ctrl, 0);
  await w.terminate();
  port1.close();
  return perCall;
}

async function main(): Promise<void> {
  const modes: Mode[] = ['sab', 'sab-nospin', 'port', 'naive'];
  const results = new Map<Mode, number[]>(modes.map((m) => [m, []]));
  for (let round = 0; round < 3; round++) for (const m of modes) results.get(m)!.push(await measure(m));
  const med = (a: number[]): number => [...a].sort((x, y) => x - y)[1];
  const naive = med(results.get('naive')!);
  console.log(`blocking transport round trip, no engine (us per call; median of 3 rounds of ${N})`);
  for (const m of modes) console.log(`  ${m.padEnd(11)} ${med(results.get(m)!).toFixed(2).padStart(8)} us   (${(naive / med(results.get(m)!)).toFixed(1)}x faster than naive)`);
}

if (isMainThread) {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
} else {
  const d = workerData as { mode: Mode; sab: SharedArrayBuffer; port: MessagePort };
  workerSide(d.mode, new Int32Array(d.sab), d.port);
}
