/**
 * Authentication facts from a request's headers and its response: which scheme the client used, why a
 * 401 happened, and a stable non-secret user id for rate-limit labels. Pure (given the key of
 * {@link SecretIds}). Credentials are read only to classify them; nothing returned here contains one, nor
 * anything from which one could be tested offline.
 */
import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Values of the `method` label of the auth families. */
export type AuthScheme = 'bearer' | 'api_key' | 'basic' | 'oauth2' | 'none';

/** Values of the `reason` label of `mcp_auth_failures_total`. */
export type AuthFailureReason = 'missing' | 'invalid_token' | 'invalid_api_key' | 'invalid_credentials' | 'expired' | 'unknown';

/** How `user_id` of `mcp_rate_limit_exceeded_total` is derived (`--user-id-source`). */
export type UserIdSource = 'auto' | 'jwt-sub' | 'header' | 'credential-hash';

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

/** The credential a request carries, if any, and its scheme. */
export function credentialOf(headers: IncomingHttpHeaders): { scheme: AuthScheme; credential: string | undefined } {
  const authorization = headerValue(headers.authorization);
  if (authorization !== undefined) {
    const space = authorization.indexOf(' ');
    const scheme = (space === -1 ? authorization : authorization.slice(0, space)).toLowerCase();
    const credential = space === -1 ? '' : authorization.slice(space + 1).trim();
    if (scheme === 'bearer') return { scheme: 'bearer', credential };
    if (scheme === 'basic') return { scheme: 'basic', credential };
    if (scheme === 'oauth' || scheme === 'dpop') return { scheme: 'oauth2', credential };
  }
  const apiKey = headerValue(headers['x-api-key']);
  if (apiKey !== undefined && apiKey !== '') return { scheme: 'api_key', credential: apiKey };
  return { scheme: 'none', credential: undefined };
}

const REASON_PATTERNS: ReadonlyArray<readonly [RegExp, AuthFailureReason]> = [
  [/expired/i, 'expired'],
  [/api[ _-]?key/i, 'invalid_api_key'],
  [/authentication required|not authenticated|missing/i, 'missing'],
  [/invalid (?:bearer )?token|token (?:is )?invalid|bad token/i, 'invalid_token'],
  [/credential|password|username/i, 'invalid_credentials'],
];

/**
 * The reason of a 401, from its JSON body (both real shapes: `{"detail": "Authentication required"}` and
 * `{"error": "authentication_failed", "message": "Invalid token"}`), else from what the request carried.
 */
export function authFailureReason(scheme: AuthScheme, body: unknown): AuthFailureReason {
  if (body !== null && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    for (const field of [b['message'], b['detail'], b['error_description'], b['error']]) {
      if (typeof field !== 'string') continue;
      for (const [re, reason] of REASON_PATTERNS) if (re.test(field)) return reason;
    }
  }
  switch (scheme) {
    case 'none':
      return 'missing';
    case 'bearer':
    case 'oauth2':
      return 'invalid_token';
    case 'api_key':
      return 'invalid_api_key';
    case 'basic':
      return 'invalid_credentials';
  }
}

/**
 * Short ids for secrets (credentials, unsafe header values): 12 hex characters of an HMAC-SHA-256 under a
 * key the operator controls (`--user-id-key-file`), else a random key made at start. An unkeyed hash of a
 * credential would let anyone holding a scrape test guesses offline (a dictionary recovers a weak password
 * from `h:` + 12 hex digits in microseconds); without the key, a label says nothing about the secret.
 * The same key gives the same id across restarts and replicas; a random key gives new ids at every start.
 */
export class SecretIds {
  /** A KeyObject made once: createHmac with a Buffer key would import it again on every call. */
  readonly #key: KeyObject;

  /** @param key at least 16 bytes. */
  constructor(key: Buffer) {
    if (key.length < 16) throw new Error('the key must be at least 16 bytes');
    this.#key = createSecretKey(key);
  }

  /** Ids under a key made now, valid for this process only. */
  static random(): SecretIds {
    return new SecretIds(randomBytes(32));
  }

  /** The id of `secret` (12 lower-case hex characters). */
  of(secret: string): string {
    // Domain-separated, so the key can never be used to reproduce another HMAC of the same input.
    return createHmac('sha256', this.#key).update('mcp-composer-sidecar user_id\u0000').update(secret, 'utf8').digest('hex').slice(0, 12);
  }
}

const SAFE_ID = /^[A-Za-z0-9._@:+-]{1,64}$/;

/** The `sub` claim of a JWT, read without verifying it; `undefined` unless it is a short, safe string. */
export function jwtSubject(token: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8')) as unknown;
    const sub = payload !== null && typeof payload === 'object' ? (payload as Record<string, unknown>)['sub'] : undefined;
    return typeof sub === 'string' && SAFE_ID.test(sub) ? sub : undefined;
  } catch {
    return undefined;
  }
}

export interface UserIdOptions {
  readonly source: UserIdSource;
  /** Header read for `source: 'header'` (e.g. `x-user-id`), lower-case. */
  readonly header?: string;
  /** Keyed ids of credentials and of header values that are not safe as they are. */
  readonly ids: SecretIds;
}

/**
 * A stable, non-secret user id: the JWT `sub` claim, a configured header, or the keyed id of the
 * credential (`auto` tries the JWT `sub`, then the id). `anonymous` for requests without credentials.
 */
export function userIdOf(headers: IncomingHttpHeaders, opts: UserIdOptions): string {
  if (opts.source === 'header') {
    const v = opts.header === undefined ? undefined : headerValue(headers[opts.header]);
    return v !== undefined && SAFE_ID.test(v) ? v : v === undefined ? 'anonymous' : `h:${opts.ids.of(v)}`;
  }
  const { scheme, credential } = credentialOf(headers);
  if (credential === undefined || credential === '') return 'anonymous';
  if (opts.source !== 'credential-hash' && (scheme === 'bearer' || scheme === 'oauth2')) {
    const sub = jwtSubject(credential);
    if (sub !== undefined) return sub;
  }
  if (opts.source === 'jwt-sub') return 'unknown';
  return `h:${opts.ids.of(credential)}`;
}
