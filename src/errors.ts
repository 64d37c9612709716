/**
 * The sidecar's error codes, in one table (as fastify does): every error the sidecar raises or answers
 * carries one of these codes, so logs and tests can match on the code rather than on prose. What a client
 * is answered for a code — status and body — is {@link ErrorAnswers}, below. A test checks that every code
 * is used in src/ and that no answer is written anywhere else.
 */
export const ErrorCodes = {
  /** A flag or environment variable has an invalid value. Exit code 2. */
  SIDECAR_E_CONFIG: 'SIDECAR_E_CONFIG',
  /** The metrics port would be unauthenticated and the operator did not opt out explicitly. Exit code 2. */
  SIDECAR_E_METRICS_AUTH_REQUIRED: 'SIDECAR_E_METRICS_AUTH_REQUIRED',
  /** A listening socket could not be bound (address in use, permission). Exit code 1. */
  SIDECAR_E_LISTEN: 'SIDECAR_E_LISTEN',
  /** The upstream refused or reset the connection before answering: the client gets 502 `{"error":"upstream_unavailable"}`. */
  SIDECAR_E_UPSTREAM_UNAVAILABLE: 'SIDECAR_E_UPSTREAM_UNAVAILABLE',
  /** The upstream did not send response headers in time: the client gets 504 `{"error":"upstream_timeout"}`. */
  SIDECAR_E_UPSTREAM_TIMEOUT: 'SIDECAR_E_UPSTREAM_TIMEOUT',
  /** A request the proxy cannot forward as sent (its target, its framing, two `Host`s; or undici refused it): 400 `{"error":"bad_request"}`. */
  SIDECAR_E_BAD_REQUEST: 'SIDECAR_E_BAD_REQUEST',
  /** A method outside `--allowed-methods`: 405 `{"error":"method_not_allowed"}` with `Allow`; `CONNECT`: 405 alone. */
  SIDECAR_E_METHOD_NOT_ALLOWED: 'SIDECAR_E_METHOD_NOT_ALLOWED',
  /** A `Transfer-Encoding` with a coding before `chunked`: 501 `{"error":"not_implemented"}`. */
  SIDECAR_E_NOT_IMPLEMENTED: 'SIDECAR_E_NOT_IMPLEMENTED',
  /** An HTTP version other than 1.0 and 1.1: 505 `{"error":"http_version_not_supported"}`. */
  SIDECAR_E_HTTP_VERSION_NOT_SUPPORTED: 'SIDECAR_E_HTTP_VERSION_NOT_SUPPORTED',
  /** A browser request's `Origin` is not in `--allowed-origins`: the client gets 403 `{"error":"origin_not_allowed"}`. */
  SIDECAR_E_ORIGIN_NOT_ALLOWED: 'SIDECAR_E_ORIGIN_NOT_ALLOWED',
  /** The client's `Host` is not in `--allowed-hosts`: the client gets 421 `{"error":"host_not_allowed"}`. */
  SIDECAR_E_HOST_NOT_ALLOWED: 'SIDECAR_E_HOST_NOT_ALLOWED',
  /** Node's HTTP parser refused the request (either port): 400 without a body, and the connection is closed. */
  SIDECAR_E_MALFORMED_REQUEST: 'SIDECAR_E_MALFORMED_REQUEST',
  /** The request head or body did not arrive in time (either port): 408 without a body. */
  SIDECAR_E_REQUEST_TIMEOUT: 'SIDECAR_E_REQUEST_TIMEOUT',
  /** The request head is larger than the port allows (either port): 431 without a body. */
  SIDECAR_E_HEADERS_TOO_LARGE: 'SIDECAR_E_HEADERS_TOO_LARGE',
  /** `/metrics` without the right bearer token: 401 with `WWW-Authenticate: Bearer`. */
  SIDECAR_E_UNAUTHORIZED: 'SIDECAR_E_UNAUTHORIZED',
  /** `/status.json` without the right bearer token: 401 `{"error":"unauthorized"}`, which the status page tells from a network failure. */
  SIDECAR_E_STATUS_UNAUTHORIZED: 'SIDECAR_E_STATUS_UNAUTHORIZED',
  /** `/metrics` without a client certificate signed by `--metrics-client-ca`: 403. */
  SIDECAR_E_CLIENT_CERTIFICATE_REQUIRED: 'SIDECAR_E_CLIENT_CERTIFICATE_REQUIRED',
  /** `/status.json` without a client certificate signed by `--metrics-client-ca`: 403 `{"error":"client_certificate_required"}`. */
  SIDECAR_E_STATUS_CLIENT_CERTIFICATE_REQUIRED: 'SIDECAR_E_STATUS_CLIENT_CERTIFICATE_REQUIRED',
  /** A metrics-port request with more than one `Authorization` header: 400 (which one counts would depend on the parser). */
  SIDECAR_E_AMBIGUOUS_AUTHORIZATION: 'SIDECAR_E_AMBIGUOUS_AUTHORIZATION',
  /** A metrics-port path that does not exist: 404. */
  SIDECAR_E_NOT_FOUND: 'SIDECAR_E_NOT_FOUND',
  /** A metrics-port method other than GET and HEAD: 405 with `Allow: GET, HEAD`. */
  SIDECAR_E_METRICS_METHOD_NOT_ALLOWED: 'SIDECAR_E_METRICS_METHOD_NOT_ALLOWED',
  /** `/readyz` while the upstream did not answer the last probe, or while draining: 503. */
  SIDECAR_E_NOT_READY: 'SIDECAR_E_NOT_READY',
  /** The metrics collection failed: the scrape gets 500. */
  SIDECAR_E_COLLECT: 'SIDECAR_E_COLLECT',
  /** The status snapshot could not be built: `/status.json` gets 500. */
  SIDECAR_E_STATUS_COLLECT: 'SIDECAR_E_STATUS_COLLECT',
  /** The status page's files are missing from the build: its paths get 500. */
  SIDECAR_E_STATUS_PAGE_MISSING: 'SIDECAR_E_STATUS_PAGE_MISSING',
  /** Thrown on purpose by the test observer (`SIDECAR_TEST_OBSERVER_FAULT=throw`) from every hook; never reaches a client. */
  SIDECAR_E_TEST_FAULT: 'SIDECAR_E_TEST_FAULT',
  /** An unexpected error reached the top level (logged with `event: crash`) or stopped the start; the process exits 1. */
  SIDECAR_E_INTERNAL: 'SIDECAR_E_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Exit codes of the `mcp-composer-sidecar` process. */
export const ExitCodes = {
  OK: 0,
  /** An uncaught error or a failure to start (e.g. the port is taken). */
  FAILURE: 1,
  /** Invalid configuration: a flag, an environment variable, or a missing metrics token. */
  USAGE: 2,
} as const;

/** An error with a stable code from {@link ErrorCodes}. */
export class SidecarError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SidecarError';
    this.code = code;
  }
}

/** A configuration error: names the field (flag and env var) and what is wrong with its value. */
export class ConfigError extends SidecarError {
  readonly field: string;

  constructor(field: string, message: string, code: ErrorCode = ErrorCodes.SIDECAR_E_CONFIG) {
    super(code, message);
    this.name = 'ConfigError';
    this.field = field;
  }
}

/**
 * An answer the sidecar gives itself rather than the upstream's or the exposition: its status and body,
 * byte for byte what clients (and tests) see. Every such answer of either port is one of {@link ErrorAnswers}.
 */
export interface ErrorAnswer<C extends ErrorCode = ErrorCode> {
  readonly code: C;
  readonly status: number;
  /** The body; empty for an answer that is its status line alone. */
  readonly body: string;
}

/** A JSON answer `{"error":"<error>"}`; `error` is also the reason the proxy counts and logs. */
export interface JsonErrorAnswer<C extends ErrorCode = ErrorCode, E extends string = string> extends ErrorAnswer<C> {
  readonly error: E;
}

const json = <const C extends ErrorCode, const S extends number, const E extends string>(code: C, status: S, error: E) =>
  ({ code, status, error, body: `{"error":"${error}"}` }) satisfies JsonErrorAnswer<C, E>;
const text = <const C extends ErrorCode, const S extends number>(code: C, status: S, body: string) => ({ code, status, body }) satisfies ErrorAnswer<C>;

/**
 * Every answer the sidecar gives itself, by code: the one place that maps a code to a status and a body.
 * The proxy port answers in JSON (`application/json`), the metrics port in plain text (`text/plain;
 * charset=utf-8`) and `/status.json` in JSON; an answer on a raw socket (a refused upgrade or `CONNECT`,
 * a request Node's parser refused) is its status line alone, except the front door's, which keeps its body.
 */
export const ErrorAnswers = {
  SIDECAR_E_UPSTREAM_UNAVAILABLE: json('SIDECAR_E_UPSTREAM_UNAVAILABLE', 502, 'upstream_unavailable'),
  SIDECAR_E_UPSTREAM_TIMEOUT: json('SIDECAR_E_UPSTREAM_TIMEOUT', 504, 'upstream_timeout'),
  SIDECAR_E_BAD_REQUEST: json('SIDECAR_E_BAD_REQUEST', 400, 'bad_request'),
  SIDECAR_E_METHOD_NOT_ALLOWED: json('SIDECAR_E_METHOD_NOT_ALLOWED', 405, 'method_not_allowed'),
  SIDECAR_E_NOT_IMPLEMENTED: json('SIDECAR_E_NOT_IMPLEMENTED', 501, 'not_implemented'),
  SIDECAR_E_HTTP_VERSION_NOT_SUPPORTED: json('SIDECAR_E_HTTP_VERSION_NOT_SUPPORTED', 505, 'http_version_not_supported'),
  SIDECAR_E_ORIGIN_NOT_ALLOWED: json('SIDECAR_E_ORIGIN_NOT_ALLOWED', 403, 'origin_not_allowed'),
  SIDECAR_E_HOST_NOT_ALLOWED: json('SIDECAR_E_HOST_NOT_ALLOWED', 421, 'host_not_allowed'),
  SIDECAR_E_MALFORMED_REQUEST: text('SIDECAR_E_MALFORMED_REQUEST', 400, ''),
  SIDECAR_E_REQUEST_TIMEOUT: text('SIDECAR_E_REQUEST_TIMEOUT', 408, ''),
  SIDECAR_E_HEADERS_TOO_LARGE: text('SIDECAR_E_HEADERS_TOO_LARGE', 431, ''),
  SIDECAR_E_UNAUTHORIZED: text('SIDECAR_E_UNAUTHORIZED', 401, 'Unauthorized\n'),
  SIDECAR_E_STATUS_UNAUTHORIZED: json('SIDECAR_E_STATUS_UNAUTHORIZED', 401, 'unauthorized'),
  SIDECAR_E_CLIENT_CERTIFICATE_REQUIRED: text('SIDECAR_E_CLIENT_CERTIFICATE_REQUIRED', 403, 'Forbidden: a trusted client certificate is required\n'),
  SIDECAR_E_STATUS_CLIENT_CERTIFICATE_REQUIRED: json('SIDECAR_E_STATUS_CLIENT_CERTIFICATE_REQUIRED', 403, 'client_certificate_required'),
  SIDECAR_E_AMBIGUOUS_AUTHORIZATION: text('SIDECAR_E_AMBIGUOUS_AUTHORIZATION', 400, 'Bad Request: more than one Authorization header\n'),
  SIDECAR_E_NOT_FOUND: text('SIDECAR_E_NOT_FOUND', 404, 'Not Found\n'),
  SIDECAR_E_METRICS_METHOD_NOT_ALLOWED: text('SIDECAR_E_METRICS_METHOD_NOT_ALLOWED', 405, 'Method Not Allowed\n'),
  SIDECAR_E_NOT_READY: text('SIDECAR_E_NOT_READY', 503, 'not ready\n'),
  SIDECAR_E_COLLECT: text('SIDECAR_E_COLLECT', 500, 'metrics collection failed\n'),
  SIDECAR_E_STATUS_COLLECT: text('SIDECAR_E_STATUS_COLLECT', 500, 'status collection failed\n'),
  SIDECAR_E_STATUS_PAGE_MISSING: text('SIDECAR_E_STATUS_PAGE_MISSING', 500, 'the status page files are missing from this build (src/admin/status/)\n'),
} as const satisfies { readonly [C in ErrorCode]?: ErrorAnswer<C> };

/** What either port answers when Node's HTTP parser refuses a request, by the parser's error code. */
export function parserRefusal(code: string | undefined): ErrorAnswer {
  if (code === 'HPE_HEADER_OVERFLOW') return ErrorAnswers.SIDECAR_E_HEADERS_TOO_LARGE;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return ErrorAnswers.SIDECAR_E_REQUEST_TIMEOUT;
  return ErrorAnswers.SIDECAR_E_MALFORMED_REQUEST;
}
