/**
 * Classifies errors from the upstream side (undici and socket errors) into what the client is told.
 * Pure: no I/O, tested without sockets.
 */
import { ErrorAnswers } from '../errors.ts';
import type { ExchangeOutcome } from '../observe/exchange.ts';

/** Error codes meaning "no answer in time". */
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

/** Error codes meaning the client's request could not be forwarded as sent. */
const BAD_REQUEST_CODES = new Set(['UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED']);

/** What the proxy does when the upstream fails before the response head was sent to the client. */
export function classifyUpstreamError(err: unknown): Exclude<ExchangeOutcome, 'ok' | 'client_abort' | 'upstream_aborted'> {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (TIMEOUT_CODES.has(code)) return 'upstream_timeout';
    if (BAD_REQUEST_CODES.has(code)) return 'bad_request';
  }
  return 'upstream_unavailable';
}

/** The answer (errors.ts) the client gets for an outcome decided before any upstream response. */
export const ERROR_RESPONSES = {
  upstream_unavailable: ErrorAnswers.SIDECAR_E_UPSTREAM_UNAVAILABLE,
  upstream_timeout: ErrorAnswers.SIDECAR_E_UPSTREAM_TIMEOUT,
  bad_request: ErrorAnswers.SIDECAR_E_BAD_REQUEST,
} as const;
