// Connection and node administration: NOOP, VERSION, QUIT, STAT, FLUSH.
import { Status } from '../../../protocol/status';
import type { CommandHandler as Handler } from '../connection';

const EMPTY = Buffer.alloc(0);

export const noop: Handler = (c, req) => c.respondOk(req);

export const version: Handler = (c, req) => c.respond(req, Status.SUCCESS, 0n, EMPTY, EMPTY, Buffer.from(c.node.version), 0);

export const quit: Handler = (c, req, quiet) => {
  if (!quiet) c.respondOk(req);
  c.quit();
};

export const stat: Handler = (c, req) => {
  // "<group> <argument>": the argument of key/vkey is "<document id> <vbucket>" (an id may hold spaces)
  const text = req.key.toString('utf8');
  const sp = text.indexOf(' ');
  const group = sp < 0 ? text : text.slice(0, sp);
  const arg = sp < 0 ? undefined : text.slice(sp + 1);
  const stats = c.node.stats(group, arg, c.store);
  if (stats === undefined) return c.respondStatus(req, Status.KEY_ENOENT);
  for (const [name, value] of stats) {
    c.respond(req, Status.SUCCESS, 0n, EMPTY, Buffer.from(name), Buffer.from(value), 0);
  }
  c.respondOk(req);
};

export const flush: Handler = (c, req) => {
  // Couchbase buckets refuse memcached FLUSH; flushing goes through the management API.
  c.respondStatus(req, Status.NOT_SUPPORTED);
};
