// What the Twisted-flavour examples import (an application imports 'deferbase/deferred' and
// 'deferbase/defer' instead).
export { Bucket, N1QLQuery, N1QLRequest, ViewRequest } from '../../adapters/deferred';
export { Deferred, gatherResults, inlineCallbacks, type Failure } from '../../lib/defer';
export { runStandalone, type ExampleEnv } from '../env';
