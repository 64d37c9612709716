// REST authentication, authorization and rate limiting with the real composer's answers:
//   no credentials          → 401 {"detail":"Authentication required"} + WWW-Authenticate: Bearer
//   wrong bearer token      → 401 {"error":"authentication_failed","message":"Invalid token","details":{}}   (no WWW-Authenticate)
//   wrong X-API-Key         → 401 {"error":"authentication_failed","message":"Invalid API key","details":{}} (no WWW-Authenticate)
//   JWT-looking bearer whose `exp` is past (and that is not a configured token)
//                           → 401 {"error":"authentication_failed","message":"Token expired","details":{}}
//   read-only token, write  → 403 {"error":"insufficient_permissions","message":...,"required_scopes":["<collection>:write"]}
//   past N requests/second  → 429 {"error":"rate_limit_exceeded","message":...,"retry_after":S} + Retry-After: S
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export interface AuthSettings {
  readonly authToken: string | undefined;
  readonly readonlyToken: string | undefined;
}

export type AuthOutcome =
  | { readonly ok: true; readonly readonly: boolean; readonly method: 'bearer' | 'api_key' | 'none' }
  | { readonly ok: false; readonly status: 401; readonly body: unknown; readonly headers: Record<string, string> };

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The credential a request carries, if any. */
export function credentialOf(req: IncomingMessage): { kind: 'bearer' | 'api_key'; value: string } | undefined {
  const authz = header(req, 'authorization');
  const m = authz === undefined ? null : /^Bearer\s+(.+)$/i.exec(authz.trim());
  if (m?.[1]) return { kind: 'bearer', value: m[1].trim() };
  const key = header(req, 'x-api-key');
  if (key !== undefined && key !== '') return { kind: 'api_key', value: key };
  return undefined;
}

/** True for a three-part JWT whose payload has a numeric `exp` in the past. */
export function isExpiredJwt(token: string, nowMs = Date.now()): boolean {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return false;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (typeof payload !== 'object' || payload === null) return false;
    const exp = (payload as { exp?: unknown }).exp;
    return typeof exp === 'number' && exp * 1000 < nowMs;
  } catch {
    return false;
  }
}

function failed(message: string): AuthOutcome {
  return { ok: false, status: 401, body: { error: 'authentication_failed', message, details: {} }, headers: {} };
}

/** Authenticates a REST request; with no token configured every request is let in. */
export function authenticate(req: IncomingMessage, settings: AuthSettings): AuthOutcome {
  if (settings.authToken === undefined && settings.readonlyToken === undefined) return { ok: true, readonly: false, method: 'none' };
  const cred = credentialOf(req);
  if (!cred) {
    return { ok: false, status: 401, body: { detail: 'Authentication required' }, headers: { 'www-authenticate': 'Bearer' } };
  }
  if (cred.value === settings.authToken) return { ok: true, readonly: false, method: cred.kind };
  if (cred.value === settings.readonlyToken) return { ok: true, readonly: true, method: cred.kind };
  if (cred.kind === 'bearer' && isExpiredJwt(cred.value)) return failed('Token expired');
  return failed(cred.kind === 'bearer' ? 'Invalid token' : 'Invalid API key');
}

/** The 403 body for a read-only client asking for a write, or undefined when allowed. */
export function authorize(method: string, readonly: boolean, resource: string): { status: 403; body: unknown } | undefined {
  if (!readonly || method === 'GET' || method === 'HEAD') return undefined;
  const scope = `${resource}:write`;
  return {
    status: 403,
    body: { error: 'insufficient_permissions', message: `Insufficient permissions: '${scope}' scope required`, required_scopes: [scope] },
  };
}

/** The rate-limit key of a request: a hash of its credential, else its remote address. */
export function clientKey(req: IncomingMessage): string {
  const cred = credentialOf(req);
  if (cred) return `cred:${createHash('sha256').update(cred.value).digest('hex').slice(0, 16)}`;
  return `addr:${req.socket.remoteAddress ?? 'unknown'}`;
}

/** Fixed one-second windows per client; at most `limit` requests per window. */
export class RateLimiter {
  #limit: number;
  #windows = new Map<string, { start: number; count: number }>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Counts one request; returns undefined when allowed, else the 429 answer. */
  check(key: string, nowMs = Date.now()): { status: 429; body: unknown; headers: Record<string, string> } | undefined {
    if (this.#limit <= 0) return undefined;
    const second = Math.floor(nowMs / 1000) * 1000;
    const w = this.#windows.get(key);
    if (!w || w.start !== second) {
      if (this.#windows.size > 10_000) this.#windows.clear();
      this.#windows.set(key, { start: second, count: 1 });
      return undefined;
    }
    w.count += 1;
    if (w.count <= this.#limit) return undefined;
    const retryAfter = 1;
    return {
      status: 429,
      body: { error: 'rate_limit_exceeded', message: `Rate limit exceeded: ${this.#limit} requests per second`, retry_after: retryAfter },
      headers: { 'retry-after': String(retryAfter), 'x-ratelimit-limit': String(this.#limit), 'x-ratelimit-remaining': '0' },
    };
  }
}
