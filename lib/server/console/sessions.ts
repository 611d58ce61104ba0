// Web console sessions as ns_server keeps them (menelaus_ui_auth / token_server): POST /uilogin
// with the form fields `user` and `password` answers 200 and sets a random token in an HttpOnly
// cookie named `ui-auth-<Host header, form-encoded>` (cookies are not per port, so each node of a
// cluster on one host gets its own name); 400 on wrong credentials. A token lives 600 seconds
// and is replaced (a new cookie on the response) once less than half of that is left; at most
// 1024 live at once (the oldest goes first). POST /uilogout forgets the token and its
// predecessor and expires the cookie.
//
// A cookie alone authenticates nothing: only a request that also carries `ns-server-ui: yes` is
// checked against the token (from the cookie or an `ns-server-auth-token` header), which a
// cross-site form cannot send. Without that header the request needs Basic auth, as before.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ServerClock, ServiceUser } from '../service-types';

export const SESSION_SECONDS = 600;
const MAX_SESSIONS = 1024;

interface Session {
  readonly user: ServiceUser;
  readonly expiresAt: number;
  /** The token this one replaced, still valid until it expires; logout removes both. */
  readonly replaced: string | undefined;
}

export type SessionCheck =
  | { kind: 'none' }
  | { kind: 'invalid' }
  | { kind: 'valid'; user: ServiceUser; token: string; refreshed?: string };

export class UiSessions {
  /** Insertion order is creation order, so the first key is the oldest. */
  private readonly byToken = new Map<string, Session>();

  constructor(private readonly clock: ServerClock) {}

  get size(): number {
    return this.byToken.size;
  }

  create(user: ServiceUser, replaced?: string): string {
    this.sweep();
    while (this.byToken.size >= MAX_SESSIONS) this.byToken.delete(this.byToken.keys().next().value!);
    const token = randomBytes(16).toString('hex');
    this.byToken.set(token, { user, expiresAt: this.clock.now() + SESSION_SECONDS * 1000, replaced });
    return token;
  }

  /** The session of `token`, refreshing it when less than half its life is left. */
  check(token: string): SessionCheck {
    const s = this.byToken.get(token);
    if (s === undefined) return { kind: 'invalid' };
    const now = this.clock.now();
    if (s.expiresAt <= now) {
      this.byToken.delete(token);
      return { kind: 'invalid' };
    }
    if (s.expiresAt - now < (SESSION_SECONDS * 1000) / 2) return { kind: 'valid', user: s.user, token, refreshed: this.create(s.user, token) };
    return { kind: 'valid', user: s.user, token };
  }

  logout(token: string): void {
    const s = this.byToken.get(token);
    this.byToken.delete(token);
    if (s?.replaced !== undefined) this.byToken.delete(s.replaced);
  }

  /** Ends every session of `username` (its password changed, or it was removed). */
  revokeUser(username: string): void {
    for (const [token, s] of this.byToken) if (s.user.username === username) this.byToken.delete(token);
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [token, s] of this.byToken) if (s.expiresAt <= now) this.byToken.delete(token);
  }
}

/** `ui-auth-<host:port>` as ns_server names it (mochiweb quote_plus of the Host header). */
export function cookieName(req: IncomingMessage): string {
  const host = req.headers.host;
  return host === undefined ? 'ui-auth' : 'ui-auth-' + encodeURIComponent(host).replace(/%20/g, '+');
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie value for `token` (empty and expired to log out). */
export function sessionCookie(req: IncomingMessage, token: string | undefined): string {
  const secure = (req.socket as { encrypted?: boolean }).encrypted === true ? '; Secure' : '';
  if (token === undefined) return `${cookieName(req)}=; Path=/; HttpOnly; SameSite=Strict${secure}; Expires=Thu, 01 Jan 1970 00:00:00 GMT`;
  return `${cookieName(req)}=${token}; Path=/; HttpOnly; SameSite=Strict${secure}; Max-Age=${SESSION_SECONDS}`;
}

/** True when the request asks to be judged by its console session (`ns-server-ui: yes`). */
export function wantsSession(req: IncomingMessage): boolean {
  return req.headers['ns-server-ui'] === 'yes';
}

/** The session token a console request carries: the `ns-server-auth-token` header, else the cookie. */
export function sessionToken(req: IncomingMessage): string | undefined {
  const header = req.headers['ns-server-auth-token'];
  if (typeof header === 'string' && header !== '') return header;
  return readCookie(req, cookieName(req));
}
