// The classes that cross the blocking channel by name. Both the caller and the worker build
// this same table from the shared public exports, so a ValueResult, a NotFoundError or a
// N1QLQuery arrives as what it left as.
import * as shared from '../../lib/index';
import { ClassRegistry } from '../../lib/sync-rpc';
import { EncodedValue, EncodeFailure } from './transcoding';
import { SelfRef } from './wire';

let registry: ClassRegistry | undefined;

export function sharedRegistry(): ClassRegistry {
  if (!registry) {
    registry = new ClassRegistry()
      .addExports(shared as unknown as Record<string, unknown>)
      .addExports({ Error, TypeError, RangeError, SyntaxError, ReferenceError, URIError, EvalError })
      .addExports({ EncodedValue, EncodeFailure, SelfRef });
  }
  return registry;
}
