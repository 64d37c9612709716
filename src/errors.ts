/**
 * The sidecar's error codes, in one table (as fastify does): every error the sidecar raises or answers
 * carries one of these codes, so logs and tests can match on the code rather than on prose.
 */
export const ErrorCodes = {
  /** A flag or environment variable has an invalid value. Exit code 2. */
  SIDECAR_E_CONFIG: 'SIDECAR_E_CONFIG',
  /** The metrics port would be unauthenticated and the operator did not opt out explicitly. Exit code 2. */
  SIDECAR_E_METRICS_AUTH_REQUIRED: 'SIDECAR_E_METRICS_AUTH_REQUIRED',
  /** A listening socket could not be bound (address in use, permission). Exit code 1. */
  SIDECAR_E_LISTEN: 'SIDECAR_E_LISTEN',
  /** The upstream refused or reset the connection before answering: the client gets 502. */
  SIDECAR_E_UPSTREAM_UNAVAILABLE: 'SIDECAR_E_UPSTREAM_UNAVAILABLE',
  /** The upstream did not send response headers in time: the client gets 504. */
  SIDECAR_E_UPSTREAM_TIMEOUT: 'SIDECAR_E_UPSTREAM_TIMEOUT',
  /** The upstream failed after the response started: the client connection is destroyed. */
  SIDECAR_E_UPSTREAM_ABORTED: 'SIDECAR_E_UPSTREAM_ABORTED',
  /** A browser request's `Origin` is not in `--allowed-origins`: the client gets 403 `{"error":"origin_not_allowed"}`. */
  SIDECAR_E_ORIGIN_NOT_ALLOWED: 'SIDECAR_E_ORIGIN_NOT_ALLOWED',
  /** The client's `Host` is not in `--allowed-hosts`: the client gets 421 `{"error":"host_not_allowed"}`. */
  SIDECAR_E_HOST_NOT_ALLOWED: 'SIDECAR_E_HOST_NOT_ALLOWED',
  /** The metrics collection failed: the scrape gets 500. */
  SIDECAR_E_COLLECT: 'SIDECAR_E_COLLECT',
  /** Thrown on purpose by the test observer (`SIDECAR_TEST_OBSERVER_FAULT=throw`) from every hook; never reaches a client. */
  SIDECAR_E_TEST_FAULT: 'SIDECAR_E_TEST_FAULT',
  /** An unexpected error reached the top level; the process exits non-zero. */
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
