// A bootstrap that fails raises the network error class Python raises for it, in each flavour.
import { expect } from 'chai';
import * as net from 'node:net';
import { CouchbaseError, CouchbaseNetworkError, CouchbaseTransientError, ErrorCode, UnknownHostError } from '../../../lib/index';
import type { OpenOptions } from '../helpers/flavours';
import type { SharedContext } from './context';

/** The error a bucket on `o` fails with: the blocking constructor throws it, the others' first call. */
async function openFails(c: SharedContext, o: OpenOptions): Promise<any> {
  let h;
  try {
    h = c.driver.open('real', o);
  } catch (err) {
    return err;
  }
  try {
    await h.call('get', 'any');
  } catch (err) {
    return err;
  } finally {
    await h.close().catch(() => undefined);
  }
  throw new Error('expected the bucket to fail to connect');
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** How long the blocking constructor waits for the connection (it alone takes the option). */
function blockingWait(c: SharedContext, seconds: number): Record<string, unknown> | undefined {
  return c.driver.name === 'blocking' ? { connectWait: seconds } : undefined;
}

export function errorCases(c: SharedContext): void {
  it('a bootstrap to a port nothing listens on fails with a CouchbaseNetworkError (ECONNREFUSED, transient)', async function () {
    const port = await closedPort();
    const err = await openFails(c, { connstr: `couchbase://127.0.0.1:${port}/b0?config_total_timeout=3`, username: 'Administrator', password: 'password', bucketOptions: blockingWait(c, 5) });
    expect(err).to.be.instanceOf(CouchbaseError).and.instanceOf(CouchbaseNetworkError).and.instanceOf(CouchbaseTransientError);
    expect(err.rc).to.equal(ErrorCode.ECONNREFUSED);
    expect(err.isNetwork).to.equal(true);
  });

  it('a host name that does not resolve fails with UnknownHostError, a CouchbaseNetworkError', async function () {
    this.timeout(20_000);
    const err = await openFails(c, { connstr: 'couchbase://no-such-host.invalid/b0?config_total_timeout=8', username: 'Administrator', password: 'password', bucketOptions: blockingWait(c, 15) });
    expect(err).to.be.instanceOf(CouchbaseNetworkError);
    if (err.rc === ErrorCode.ETIMEDOUT) this.skip(); // no resolver answered in time on this machine
    expect(err).to.be.instanceOf(UnknownHostError);
    expect(err.rc).to.equal(ErrorCode.UNKNOWN_HOST);
  });
}
