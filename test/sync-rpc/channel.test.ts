// lib/sync-rpc on its own: a worker started on its generic entry with a main module of the
// test's, called synchronously through the shared-memory channel.
import * as path from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { expect } from 'chai';
import { ChannelCaller, ChannelError, createChannelBuffers, WORKER_ENTRY } from '../../lib/sync-rpc';
import { EchoError, registry } from './echo-worker';

function start(main: string): { caller: ChannelCaller; worker: Worker } {
  const buffers = createChannelBuffers();
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WORKER_ENTRY, { workerData: { syncRpcMain: main, buffers, port: port2 }, transferList: [port2] });
  port1.unref();
  return { caller: new ChannelCaller(buffers, port1, { registry: registry() }), worker };
}

describe('sync-rpc: a channel to a worker thread', () => {
  it('calls block until the worker answers, values and typed errors included', async () => {
    const { caller, worker } = start(path.join(__dirname, 'echo-worker.js'));
    try {
      caller.waitReady(10_000);
      const value = { a: [1, 'two', { three: 3n }], big: Buffer.from('bytes') };
      expect(caller.call('echo', [value], 5000)).to.deep.equal(value);
      expect(caller.call('later', [30], 5000)).to.equal('late');
      let caught: unknown;
      try {
        caller.call('fail', ['nope'], 5000);
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(EchoError);
      expect((caught as EchoError).code).to.equal(42);
      expect((caught as EchoError).message).to.equal('nope');
      caller.call('stop', [], 5000);
    } finally {
      caller.markClosed();
      await worker.terminate();
    }
  });

  it('a main module that cannot load is reported to the waiting caller', async () => {
    const { caller, worker } = start(path.join(__dirname, 'no-such-main.js'));
    try {
      expect(() => caller.waitReady(10_000)).to.throw(ChannelError, /failed to start: Error: Cannot find module/);
    } finally {
      await worker.terminate();
    }
  });
});
