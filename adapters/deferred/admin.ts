// Python's couchbase.admin.Admin for txcouchbase: each call a Deferred firing with its HttpResult.
import { Deferred } from '../../lib/defer';
import { runAdmin } from '../../lib/engine/services/admin';
import type { HttpResult } from '../../lib/engine/results';
import { AdminBase, defineAdminMethods, type AdminCalls } from '../common/admin';

type DeferredAdmin = { [M in keyof AdminCalls]: (...args: AdminCalls[M]) => Deferred<HttpResult> };

export interface Admin extends DeferredAdmin {}

/** Python's couchbase.admin.Admin; each call's HttpResult comes as a Deferred. */
export class Admin extends AdminBase {}

defineAdminMethods(Admin.prototype, (a, name, args) => {
  const d = new Deferred<unknown>();
  runAdmin(a.client, name, args, (err, r) => (err ? d.errback(err) : d.callback(r)));
  return d;
});
