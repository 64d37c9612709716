/**
 * Classifies one proxied request and its response into catalog facts. Pure: an observation in, facts out.
 *
 * Accepts both the composer's real response shapes and its documented ones (docs/composer-api.md):
 * tool invoke answers 200 with `success: false` when the tool fails; 401 bodies come as
 * `{"detail": "Authentication required"}` or `{"error": "authentication_failed", "message": …}`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { authFailureReason, credentialOf, type AuthFailureReason, type AuthScheme } from './auth.ts';
import type { ErrorType } from '../../ledger/facts.ts';
import { cutPast, MAX_NAME_LENGTH, MAX_SERVER_ID_LENGTH, MAX_URI_LENGTH } from '../../ledger/name-bounds.ts';
import { resourceUriLabel } from '../../ledger/uri.ts';

export interface RestObservation {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  /** Status the client got; 499 when it went away first. */
  readonly status: number;
  /** The proxy's own failure (the composer never answered), if any. */
  readonly proxyFailure: 'upstream_unavailable' | 'upstream_timeout' | 'upstream_aborted' | 'bad_request' | undefined;
  readonly requestHeaders: IncomingHttpHeaders;
  /** Parsed JSON response body, when it was captured and parsed. */
  readonly body: unknown;
  /** Why `body` is missing although the route needed it. */
  readonly bodyProblem: 'too_large' | 'not_json' | undefined;
  readonly durationSeconds: number;
}

export type LifecycleOp = 'start' | 'stop' | 'restart';

export type RestFact =
  | { readonly kind: 'tool_call'; readonly toolId: string; readonly ok: boolean; readonly errorType?: ErrorType; readonly durationSeconds: number }
  | { readonly kind: 'resource_read'; readonly resourceUri: string; readonly ok: boolean; readonly durationSeconds: number }
  | { readonly kind: 'auth_attempt'; readonly scheme: AuthScheme; readonly ok: boolean }
  | { readonly kind: 'auth_failure'; readonly scheme: AuthScheme; readonly reason: AuthFailureReason }
  | { readonly kind: 'authz_check'; readonly resourceType: string; readonly allowed: boolean }
  | { readonly kind: 'authz_denial'; readonly resourceType: string; readonly reason: string }
  | { readonly kind: 'rate_limited' }
  | { readonly kind: 'server_lifecycle'; readonly op: LifecycleOp; readonly serverId: string; readonly ok: boolean }
  | { readonly kind: 'config_reload'; readonly ok: boolean }
  | { readonly kind: 'config_validation_error'; readonly errorType: string }
  | { readonly kind: 'unclassified'; readonly reason: 'too_large' | 'not_json' };

const API = '/api/v1/';

// Tool ids, resource URIs and server ids taken from a path are bounded like the MCP side's names
// (ledger/name-bounds.ts): one over its bound is cut to one character past it, and its label folds it into
// `__other__` as too long. Paths can be as long as the head allows (16 KiB): without these bounds one
// request could put a 16 KiB label value in every family it touches.

/** REST collections, the values of `resource_type`. */
const COLLECTIONS = new Set([
  'servers',
  'tools',
  'prompts',
  'resources',
  'config',
  'translators',
  'status',
  'composition',
  'health',
  'version',
  'metrics',
  'events',
]);
/** Every value of `resource_type` ({@link resourceTypeOf}). */
export const RESOURCE_TYPES: readonly string[] = [...COLLECTIONS, 'mcp', 'other'];
const MCP_PATHS = new Set(['/sse', '/messages', '/messages/', '/mcp']);

/** The `resource_type` of a path: its REST collection, `mcp` for MCP transports, else `other`. */
export function resourceTypeOf(path: string): string {
  if (path.startsWith(API)) {
    const end = path.indexOf('/', API.length);
    const collection = path.slice(API.length, end === -1 ? undefined : end);
    return COLLECTIONS.has(collection) ? collection : 'other';
  }
  return MCP_PATHS.has(path) ? 'mcp' : 'other';
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Which routes need the response body to be classified (besides 401/403, which always do). */
export function needsResponseBody(method: string, path: string): boolean {
  if (!path.startsWith(API)) return false;
  if (method === 'POST') return TOOL_INVOKE.test(path) || SERVER_OP.test(path) || path === '/api/v1/config/reload' || path === '/api/v1/config/validate';
  return method === 'PUT' && path === '/api/v1/config';
}

const TOOL_INVOKE = /^\/api\/v1\/tools\/([^/]+)\/invoke\/?$/;
const SERVER_OP = /^\/api\/v1\/servers\/([^/]+)\/(start|stop|restart)\/?$/;
const RESOURCE_READ = /^\/api\/v1\/resources\/(.+)$/;

/** The server id and operation of a lifecycle call, if the request is one. */
export function lifecycleCall(method: string, path: string): { serverId: string; op: LifecycleOp } | undefined {
  if (method !== 'POST') return undefined;
  const m = SERVER_OP.exec(path);
  return m === null ? undefined : { serverId: cutPast(safeDecode(m[1] as string), MAX_SERVER_ID_LENGTH), op: m[2] as LifecycleOp };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `error_type` of a failed REST tool call or read, from the status code. */
export function errorTypeOfStatus(status: number): ErrorType {
  if (status === 404) return 'not_found';
  if (status === 400 || status === 422) return 'validation';
  if (status === 499) return 'cancelled';
  if (status === 504 || status === 408) return 'timeout';
  if (status === 502 || status === 503) return 'upstream_unavailable';
  return 'internal';
}

const IDENTIFIER = /^[a-z][a-z0-9_]{0,39}$/;

/** The `error_type`s {@link configErrorType} gives. */
export const CONFIG_ERROR_TYPES = ['syntax', 'missing_field', 'invalid_value', 'validation'] as const;

/** Small, fixed vocabulary of config validation errors, from the composer's error messages. */
export function configErrorType(messages: unknown): (typeof CONFIG_ERROR_TYPES)[number] {
  const text = Array.isArray(messages) ? messages.filter((m) => typeof m === 'string').join('\n') : typeof messages === 'string' ? messages : '';
  if (/pars|syntax|decode|json|toml|yaml|unexpected token/i.test(text)) return 'syntax';
  if (/required|missing/i.test(text)) return 'missing_field';
  if (/type|must be|invalid|not allowed|unknown/i.test(text)) return 'invalid_value';
  return 'validation';
}

function is2xx(status: number): boolean {
  return status >= 200 && status < 300;
}

function toolCall(o: RestObservation, toolId: string): RestFact[] {
  const facts: RestFact[] = [];
  let ok = is2xx(o.status);
  let errorType: ErrorType | undefined = ok ? undefined : errorTypeOfStatus(o.status);
  if (ok) {
    if (isObject(o.body) && typeof o.body['success'] === 'boolean') {
      ok = o.body['success'];
      if (!ok) errorType = 'tool_error';
    } else if (o.bodyProblem !== undefined) {
      facts.push({ kind: 'unclassified', reason: o.bodyProblem });
    }
  }
  facts.push({ kind: 'tool_call', toolId, ok, ...(errorType !== undefined ? { errorType } : {}), durationSeconds: o.durationSeconds });
  return facts;
}

function authFacts(o: RestObservation): RestFact[] {
  // The composer rate-limits before it authenticates: a 429 says nothing about the credentials.
  if (o.proxyFailure !== undefined || o.status === 499 || o.status === 429) return [];
  const { scheme } = credentialOf(o.requestHeaders);
  if (o.status === 401) {
    return [
      { kind: 'auth_attempt', scheme, ok: false },
      { kind: 'auth_failure', scheme, reason: authFailureReason(scheme, o.body) },
    ];
  }
  if (scheme === 'none') return [];
  const resourceType = resourceTypeOf(o.path);
  const facts: RestFact[] = [
    { kind: 'auth_attempt', scheme, ok: true },
    { kind: 'authz_check', resourceType, allowed: o.status !== 403 },
  ];
  if (o.status === 403) {
    const code = isObject(o.body) ? o.body['error'] : undefined;
    facts.push({ kind: 'authz_denial', resourceType, reason: typeof code === 'string' && IDENTIFIER.test(code) ? code : 'forbidden' });
  }
  return facts;
}

/**
 * Facts of one exchange. Authentication and authorization facts are produced for every request that
 * carries credentials or was answered 401; REST facts for the composer's routes.
 */
export function classifyRest(o: RestObservation): RestFact[] {
  const facts = authFacts(o);
  if (o.status === 429) facts.push({ kind: 'rate_limited' });
  if (!o.path.startsWith(API) || o.status === 401 || o.status === 403 || o.status === 429) return facts;

  if (o.method === 'POST') {
    const invoke = TOOL_INVOKE.exec(o.path);
    if (invoke !== null) return [...facts, ...toolCall(o, cutPast(safeDecode(invoke[1] as string), MAX_NAME_LENGTH))];
    const op = lifecycleCall(o.method, o.path);
    if (op !== undefined) {
      // An unknown server (404) or the proxy's own failure is not an attempt on a server.
      if (o.status === 404 || o.proxyFailure !== undefined || o.status === 499) return facts;
      const ok = is2xx(o.status) && !(isObject(o.body) && o.body['success'] === false);
      return [...facts, { kind: 'server_lifecycle', op: op.op, serverId: op.serverId, ok }];
    }
    if (o.path === '/api/v1/config/reload') {
      if (o.proxyFailure !== undefined || o.status === 499) return facts;
      return [...facts, { kind: 'config_reload', ok: is2xx(o.status) && !(isObject(o.body) && o.body['success'] === false) }];
    }
    if (o.path === '/api/v1/config/validate') {
      if (isObject(o.body) && o.body['valid'] === false) return [...facts, { kind: 'config_validation_error', errorType: configErrorType(o.body['errors']) }];
      if (o.bodyProblem !== undefined) facts.push({ kind: 'unclassified', reason: o.bodyProblem });
      return facts;
    }
  }
  if (o.method === 'PUT' && o.path === '/api/v1/config' && (o.status === 400 || o.status === 422)) {
    const message = isObject(o.body) ? (o.body['message'] ?? o.body['detail'] ?? o.body['errors']) : undefined;
    return [...facts, { kind: 'config_validation_error', errorType: configErrorType(message) }];
  }
  if (o.method === 'GET') {
    const read = RESOURCE_READ.exec(o.path);
    if (read !== null) {
      const uri = resourceUriLabel(safeDecode(read[1] as string), MAX_URI_LENGTH);
      return [...facts, { kind: 'resource_read', resourceUri: uri, ok: is2xx(o.status), durationSeconds: o.durationSeconds }];
    }
  }
  return facts;
}
