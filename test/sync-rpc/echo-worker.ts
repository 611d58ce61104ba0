// A worker main for the channel tests: answers 'echo' with its argument, 'fail' with a typed
// error, 'later' after a timer (the worker's loop keeps running while the caller waits), and
// 'stop' by closing the channel.
import { ChannelServer, ChannelState, ClassRegistry, type WorkerBootstrap } from '../../lib/sync-rpc';

export class EchoError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
    this.name = 'EchoError';
  }
}

export function registry(): ClassRegistry {
  return new ClassRegistry().add('EchoError', EchoError as unknown as new (...args: unknown[]) => object);
}

export function runWorker(data: WorkerBootstrap & { buffers: import('../../lib/sync-rpc').ChannelBuffers }): void {
  const keepAlive = setInterval(() => {}, 1 << 30);
  const server: ChannelServer = new ChannelServer(data.buffers, data.port, {
    handle(method, args, reply) {
      if (method === 'echo') return reply(null, args[0]);
      if (method === 'fail') return reply(new EchoError(String(args[0]), 42));
      if (method === 'later') return void setTimeout(() => reply(null, 'late'), Number(args[0]));
      if (method === 'stop') {
        reply(null);
        setImmediate(() => {
          server.stop(ChannelState.CLOSED);
          clearInterval(keepAlive);
          data.port.close();
        });
        return;
      }
      reply(new TypeError(`no method ${method}`));
    },
  }, { registry: registry() });
  server.start();
}
