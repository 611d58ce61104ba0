// Twisted - N1QL query, rows streamed to a handler class (n1qlQueryEx).
import { Bucket, Deferred, N1QLQuery, N1QLRequest, type Failure, type ExampleEnv, runStandalone } from './common';

export function n1qlStreamedExample(env: ExampleEnv) {
  class RowsHandler extends N1QLRequest {
    readonly deferred = new Deferred<void>();

    constructor(...args: ConstructorParameters<typeof N1QLRequest>) {
      super(...args);
    }

    onRows(rows: unknown[]): void {
      for (const row of rows) env.log('Got row', row);
    }

    onDone(): void {
      this.deferred.callback(undefined);
    }

    onError(err: Error): void {
      this.deferred.errback(err);
    }
  }

  const cb = new Bucket(env.connstr('travel-sample'), env.credentials);
  const rh = cb.n1qlQueryEx(RowsHandler, new N1QLQuery('SELECT airportname FROM `travel-sample` WHERE city = "San Francisco" AND type = "airport"'));
  return rh.deferred
    .addCallback(() => env.log('All rows done'))
    .addErrback((f: Failure) => env.log('Got error', f.getErrorMessage()))
    .addBoth(() => cb.close());
}

if (require.main === module) void runStandalone(n1qlStreamedExample, ['travel-sample']);
