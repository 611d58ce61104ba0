// Twisted - view query, rows streamed to a handler class (queryEx), each with its document.
import { Bucket, Deferred, ViewRequest, type Failure, type ExampleEnv, runStandalone } from './common';

export function viewsStreamedExample(env: ExampleEnv) {
  class MyRowsHandler extends ViewRequest {
    readonly deferred = new Deferred<void>();

    constructor(...args: ConstructorParameters<typeof ViewRequest>) {
      super(...args);
    }

    onRows(rows: Array<{ key: unknown; doc?: { value: unknown } }>): void {
      for (const row of rows) {
        const doc = row.doc?.value as { name?: string } | undefined;
        env.log('Got row', row.key, doc?.name ?? '');
      }
    }

    onDone(): void {
      this.deferred.callback(undefined);
    }

    onError(err: Error): void {
      this.deferred.errback(err);
    }
  }

  const cb = new Bucket(env.connstr('beer-sample'), env.credentials);
  const rh = cb.queryEx(MyRowsHandler, 'beer', 'brewery_beers', { limit: 20, includeDocs: true });
  return rh.deferred
    .addErrback((f: Failure) => env.log('Got error', f.getErrorMessage()))
    .addBoth(() => cb.close());
}

if (require.main === module) void runStandalone(viewsStreamedExample, ['beer-sample']);
