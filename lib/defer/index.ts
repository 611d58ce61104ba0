// deferbase/defer: a TypeScript port of Twisted's Deferred toolkit.

export { Deferred, succeed, fail, maybeDeferred, type Chained } from './deferred';
export { Failure, NonErrorValue, type ErrorType } from './failure';
export { DeferredList, gatherResults, SUCCESS, FAILURE, type DeferredListOptions, type DeferredListResult } from './deferred-list';
export { inlineCallbacks, ensureDeferred, runInlineCallbacks } from './inline-callbacks';
export {
  AlreadyCalledError,
  AlreadyCancelledError,
  CancelledError,
  TimeoutError,
  FirstError,
  QueueOverflow,
  QueueUnderflow,
  NotACoroutineError,
} from './errors';
export { DeferredLock, DeferredSemaphore } from './lock';
export { DeferredQueue } from './queue';
export { Clock, deferLater } from './clock';
export { DelayedCall, type ReactorTime } from './delayed-call';
export { RealtimeClock, reactor } from './realtime-clock';
export { setDebugging, getDebugging, setUnhandledErrorHandler, type UnhandledErrorHandler } from './debug';
