/**
 * The contract between the MCP tap (src/mcp/) and its subscribers (tracing, logs): one
 * {@link McpOperation} per JSON-RPC request the sidecar correlates, published on diagnostics_channel when
 * the request is seen (`start`) and when its response, a timeout or a cancellation ends it (`end`).
 * An operation never carries tool arguments, results, tokens or the session id in a form meant for export:
 * `sessionKey` is for correlation inside the process only.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import type { Exchange } from '../proxy/exchange.ts';
import type { ErrorType } from '../ledger/facts.ts';

export const MCP_CHANNEL_PREFIX = 'mcp-composer-sidecar:mcp';

export const mcpChannels = {
  /** An MCP request was seen (its HTTP exchange is in flight). */
  start: diagnostics_channel.channel(`${MCP_CHANNEL_PREFIX}:operation:start`),
  /** The operation ended: response correlated, timed out, or cancelled. */
  end: diagnostics_channel.channel(`${MCP_CHANNEL_PREFIX}:operation:end`),
} as const;

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
