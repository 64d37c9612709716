/**
 * Facts: what the sidecar learned about the composer, from whichever source, before it is counted.
 * Sources publish facts to the {@link Ledger}; the ledger decides what is counted (one source per fact)
 * and hands records to telemetry. Nothing here holds a secret, a query string or tool arguments.
 */

/** Where a fact was learned. */
export type FactSource =
  /** A proxied REST request and its response. */
  | 'rest'
  /** A proxied MCP JSON-RPC request and its correlated response (legacy SSE or streamable HTTP). */
  | 'mcp'
  /** The composer's event stream. */
  | 'event'
  /** A difference between two inventory polls. */
  | 'poll';

/**
 * The `error_type` vocabulary of `mcp_tool_invocation_errors_total` (documented in docs/metrics.md):
 * - `tool_error`: the tool ran and reported failure (REST `success:false`, MCP `result.isError`).
 * - `not_found`: the tool or resource does not exist (REST 404; MCP: an isError result saying so).
 * - `validation`: the composer refused the arguments (REST 400/422).
 * - `timeout`: no answer in time (REST 504; MCP: no correlated response within the pending timeout).
 * - `cancelled`: the client went away (or its session closed) before the answer arrived.
 * - `upstream_unavailable`: the composer could not be reached (REST 502/503).
 * - `internal`: the composer failed (REST 500 and other 5xx).
 * - JSON-RPC error names for MCP errors: `parse_error`, `invalid_request`, `method_not_found`,
 *   `invalid_params`, `internal_error`, `resource_not_found`, `jsonrpc_error` (any other code).
 */
export type ErrorType =
  | 'tool_error'
  | 'not_found'
  | 'validation'
  | 'timeout'
  | 'cancelled'
  | 'upstream_unavailable'
  | 'internal'
  | 'parse_error'
  | 'invalid_request'
  | 'method_not_found'
  | 'invalid_params'
  | 'internal_error'
  | 'resource_not_found'
  | 'jsonrpc_error';

export interface ToolCallFact {
  readonly source: FactSource;
  /** REST tool id (`server.tool`) or MCP tool name (`server_tool`); never the arguments. */
  readonly toolId: string;
  readonly ok: boolean;
  /** Set when `ok` is false. */
  readonly errorType?: ErrorType;
  readonly durationSeconds: number;
  /** For event-sourced facts: the transport the composer saw (`stdio`, `sse`, …). */
  readonly transport?: string;
  /** See {@link ObservedOn}. */
  readonly origin?: ObservedOn;
}

export interface ResourceReadFact {
  readonly source: FactSource;
  /** Decoded resource URI without a query string. */
  readonly resourceUri: string;
  readonly ok: boolean;
  readonly durationSeconds: number;
  readonly transport?: string;
  /** See {@link ObservedOn}. */
  readonly origin?: ObservedOn;
}

/**
 * The object a proxied fact was observed on — the exchange of a REST call, the operation of an MCP call —
 * opaque to the ledger, which passes it on untouched: telemetry looks up the trace of that object to give
 * the measurement an exemplar. Never exported, never compared.
 */
export type ObservedOn = object;

/** JSON-RPC error code → `error_type`. */
export function jsonRpcErrorType(code: unknown): ErrorType {
  switch (code) {
    case -32700:
      return 'parse_error';
    case -32600:
      return 'invalid_request';
    case -32601:
      return 'method_not_found';
    case -32602:
      return 'invalid_params';
    case -32603:
      return 'internal_error';
    case -32002:
      return 'resource_not_found';
    default:
      return 'jsonrpc_error';
  }
}

/** Request-level facts other than tool calls and reads: they come from proxying alone. */
export type RequestFact =
  | { readonly kind: 'auth_attempt'; readonly scheme: string; readonly ok: boolean }
  | { readonly kind: 'auth_failure'; readonly scheme: string; readonly reason: string }
  | { readonly kind: 'authz_check'; readonly resourceType: string; readonly allowed: boolean }
  | { readonly kind: 'authz_denial'; readonly resourceType: string; readonly reason: string }
  | { readonly kind: 'rate_limited'; readonly endpoint: string; readonly userId: string }
  /** A response the sidecar needed to read but could not (over the capture limit, or not JSON). */
  | { readonly kind: 'unclassified'; readonly reason: 'too_large' | 'not_json' };
