// What the asyncio-flavour examples import (an application imports 'deferbase/promise').
export { Bucket, N1QLQuery } from '../../adapters/promise';
export { runStandalone, type ExampleEnv } from '../env';
