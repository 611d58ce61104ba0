// One-time credentials for requests the management port forwards on a user's behalf (the web
// console's query and views proxies, the design documents listing): the console authenticates
// its user by session, and the service behind it authenticates the forwarded request with a
// random token issued for that user, good once and for a minute. Passwords are only kept as
// hashes, so there is nothing else to forward; this plays the part of ns_server's on-behalf-of
// headers between its services.
import crypto from 'node:crypto';

const LIFETIME_MS = 60_000;
const MAX_OUTSTANDING = 1024;

export class Delegations {
  private readonly tokens = new Map<string, { username: string; expiresAt: number }>();

  constructor(private readonly clock: { now(): number }) {}

  /** A token that authenticates one request as `username` (sent as that user's Basic password). */
  issue(username: string): string {
    const now = this.clock.now();
    for (const [t, d] of this.tokens) if (d.expiresAt <= now) this.tokens.delete(t);
    while (this.tokens.size >= MAX_OUTSTANDING) this.tokens.delete(this.tokens.keys().next().value!);
    const token = 'delegated:' + crypto.randomBytes(24).toString('base64url');
    this.tokens.set(token, { username, expiresAt: now + LIFETIME_MS });
    return token;
  }

  /** True (and the token is spent) when `secret` is a live token issued for `username`. */
  redeem(username: string, secret: string): boolean {
    if (!secret.startsWith('delegated:')) return false;
    const d = this.tokens.get(secret);
    if (d === undefined || d.username !== username) return false;
    this.tokens.delete(secret);
    return d.expiresAt > this.clock.now();
  }
}
