// What the gevent-style (blocking) examples import (an application imports 'deferbase/blocking').
export { Bucket, N1QLQuery } from '../../adapters/blocking';
export { runStandalone, type ExampleEnv } from '../env';
