/**
 * The contract between the MCP tap (src/sources/mcp/) and its observers (tracing, logs): one {@link McpOperation}
 * per JSON-RPC request the sidecar correlates, handed to the observation bus (src/observe/bus.ts) when the
 * request is seen (`operationStart`) and when its response, a timeout or a cancellation ends it
 * (`operationEnd`) — the same object both times. The bus calls its operation observers behind its guard,
 * then publishes the operation on the public channels `mcp-composer-sidecar:mcp:operation:start` / `:end`
 * while they have subscribers (outside the guard).
 * An operation never carries tool arguments, results, tokens or the session id in a form meant for export:
 * `sessionKey` is for correlation inside the process only.
 */
import type { Exchange } from '../../observe/exchange.ts';
import type { ErrorType } from '../../ledger/facts.ts';

export type McpTransport = 'sse' | 'streamable_http';

export type McpOutcome = 'ok' | 'error' | 'timeout' | 'cancelled';

export interface McpOperation {
  /** JSON-RPC method, e.g. `tools/call`. */
  readonly method: string;
  readonly transport: McpTransport;
  /** Correlation key inside the process (hash of the MCP session); never exported. */
  readonly sessionKey: string;
  /** `params.name` of `tools/call`. */
  readonly toolName?: string;
  /** `params.name` of `prompts/get`. */
  readonly promptName?: string;
  /** `params.uri` of `resources/read`, without a query string. */
  readonly resourceUri?: string;
  /** Protocol version negotiated by `initialize` on this session, when known. */
  readonly protocolVersion?: string;
  /** W3C trace context from `params._meta`, when the client sent one. */
  readonly traceparent?: string;
  readonly tracestate?: string;
  /** The HTTP exchange that carried the request (its POST). */
  readonly requestExchange: Exchange;
  /** `performance.now()` when the request was seen. */
  readonly startTime: number;
  /** Set at `end`. */
  endTime?: number;
  outcome?: McpOutcome;
  /** Set when the outcome is not `ok`. */
  errorType?: ErrorType;
}
