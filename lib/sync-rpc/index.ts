// Synchronous calls into another thread: the caller blocks on shared memory (spinning for a
// learned window, then Atomics.wait) while the other thread's event loop does the work and
// answers. A compact binary codec carries the arguments and answers, classes included through a
// registry. Nothing here knows what the calls are; deferbase's blocking flavour is one user.
// Not a published entry point.
export {
  ChannelCaller,
  ChannelServer,
  ChannelError,
  ChannelState,
  createChannelBuffers,
  reportStartFailure,
  type ChannelBuffers,
  type ChannelHandler,
  type CallerOptions,
  type ServerOptions,
  type Reply,
} from './channel';
export { ClassRegistry, JsonText, NestingError, MAX_NESTING } from './codec';
export { WORKER_ENTRY, type WorkerBootstrap } from './worker-entry';
