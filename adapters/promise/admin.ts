// Python's couchbase.admin.Admin, its calls as Promises of HttpResult.
import { runAdmin } from '../../lib/engine/services/admin';
import type { HttpResult } from '../../lib/engine/results';
import { AdminBase, defineAdminMethods, type AdminCalls } from '../common/admin';

type PromiseAdmin = { [M in keyof AdminCalls]: (...args: AdminCalls[M]) => Promise<HttpResult> };

export interface Admin extends PromiseAdmin {}

/** Python's couchbase.admin.Admin; each call's HttpResult comes as a Promise. */
export class Admin extends AdminBase {}

defineAdminMethods(Admin.prototype, (a, name, args) => new Promise((resolve, reject) => runAdmin(a.client, name, args, (err, r) => (err ? reject(err) : resolve(r)))));
