/**
 * How an MCP operation ended, in the two vocabularies the sidecar records: the catalog's `error_type`
 * (src/ledger/facts.ts) and the OpenTelemetry semantic conventions' `error.type`. Pure.
 *
 * - A JSON-RPC error: catalog `error_type` = the error's name (`invalid_params`, `method_not_found`, …).
 *   Semantic conventions: `rpc.response.status_code` = the code as a string (`-32602`); `error.type` = the
 *   same, except for the codes the MCP server conventions say are the caller's and not errors of the
 *   server (`-32700`, `-32600`, `-32601`, `-32602`, `-32002`), which get no `error.type`.
 * - A `tools/call` result with `isError: true`: semconv `error.type` = `tool_error` (the conventions'
 *   value); catalog `error_type` = `not_found` when the result says the tool is unknown, else `tool_error`.
 *   "Says the tool is unknown" is a **heuristic** on the result's first text: composers built on FastMCP
 *   answer an unknown tool with a result `isError: true` and the text `Unknown tool: <name>` instead of a
 *   JSON-RPC error, and the TypeScript SDK with `Tool <name> not found` (see {@link looksLikeUnknownTool}).
 * - No response: `timeout` (nothing within the pending timeout) or `cancelled` (the client cancelled, went
 *   away, or its session closed); an upstream failure is `upstream_unavailable`.
 */
import type { ErrorType } from '../../ledger/facts.ts';
import { jsonRpcErrorType } from '../../ledger/facts.ts';
import type { ListPage, ServerIdentity } from './listing.ts';
import type { McpOutcome } from './operations.ts';

/** What the sidecar keeps of a JSON-RPC response: never the result itself. */
export type ResponseInfo =
  | {
      readonly kind: 'result';
      /** `result.isError === true`. */
      readonly isError: boolean;
      /** `isError` and the first text says the tool is unknown (heuristic, see module doc). */
      readonly unknownTool: boolean;
      /** `result.protocolVersion` (an `initialize` result), when it is a short string. */
      readonly protocolVersion?: string;
      /** What an `initialize` result says of the server (name, capabilities), bounded (listing.ts). */
      readonly server?: ServerIdentity;
      /** The page a list result carries: counts, bounded names and URIs, `nextCursor` (listing.ts). */
      readonly listPage?: ListPage;
    }
  | { readonly kind: 'error'; readonly code: number | undefined };

export interface Outcome {
  readonly outcome: McpOutcome;
  /** Catalog vocabulary; set when `outcome` is not `ok`. */
  readonly errorType?: ErrorType;
  /** Semantic-convention `error.type`, when the conventions count the outcome as an error. */
  readonly semconvErrorType?: string;
  /** Semantic-convention `rpc.response.status_code`: the JSON-RPC error code of the response, if any. */
  readonly rpcStatusCode?: string;
}

/** JSON-RPC codes that, per the MCP server conventions, are the caller's mistake, not a server error. */
export const CALLER_ERROR_CODES: ReadonlySet<number> = new Set([-32700, -32600, -32601, -32602, -32002]);

const OK: Outcome = { outcome: 'ok' };

/** Longest prefix of a result's text that the unknown-tool heuristic looks at. */
export const UNKNOWN_TOOL_SCAN_CHARS = 300;

const UNKNOWN_TOOL = /\bunknown tool\b|\bno such tool\b|\btool\b[^\n]{0,200}?\b(?:not found|does not exist|is not available)\b/i;

/**
 * Heuristic: does this `isError` tool result say that the tool does not exist? Looks only at the first
 * text item of `result.content` (at most {@link UNKNOWN_TOOL_SCAN_CHARS} characters), for the phrasings of
 * FastMCP (`Unknown tool: x`) and of the TypeScript SDK (`Tool x not found`, possibly prefixed
 * `MCP error -32602:`). A tool whose own failure message happens to read like this is misclassified as
 * `not_found`; the count of errors is right either way.
 */
export function looksLikeUnknownTool(result: Record<string, unknown>): boolean {
  const content = result['content'];
  if (!Array.isArray(content)) return false;
  const limit = Math.min(content.length, 4);
  for (let i = 0; i < limit; i++) {
    const item: unknown = content[i];
    if (item === null || typeof item !== 'object') continue;
    const text = (item as Record<string, unknown>)['text'];
    if (typeof text !== 'string') continue;
    return UNKNOWN_TOOL.test(text.length > UNKNOWN_TOOL_SCAN_CHARS ? text.slice(0, UNKNOWN_TOOL_SCAN_CHARS) : text);
  }
  return false;
}

/** The outcome of a request of `method` answered by `response`. */
export function responseOutcome(method: string, response: ResponseInfo): Outcome {
  if (response.kind === 'error') {
    const errorType = jsonRpcErrorType(response.code);
    if (response.code === undefined) return { outcome: 'error', errorType, semconvErrorType: '_OTHER' };
    const code = String(response.code);
    return CALLER_ERROR_CODES.has(response.code)
      ? { outcome: 'error', errorType, rpcStatusCode: code }
      : { outcome: 'error', errorType, semconvErrorType: code, rpcStatusCode: code };
  }
  if (response.isError && method === 'tools/call') {
    return { outcome: 'error', errorType: response.unknownTool ? 'not_found' : 'tool_error', semconvErrorType: 'tool_error' };
  }
  return OK;
}

/** Why an operation ended without a response. */
export type NoResponse = 'timeout' | 'cancelled' | 'upstream_unavailable';

/** The outcome of a request that got no response. */
export function noResponseOutcome(why: NoResponse): Outcome {
  switch (why) {
    case 'timeout':
      return { outcome: 'timeout', errorType: 'timeout', semconvErrorType: 'timeout' };
    case 'cancelled':
      return { outcome: 'cancelled', errorType: 'cancelled', semconvErrorType: 'cancelled' };
    case 'upstream_unavailable':
      return { outcome: 'error', errorType: 'upstream_unavailable', semconvErrorType: 'upstream_unavailable' };
  }
}

/**
 * `error_type` of requests whose HTTP request was refused with `status` (no JSON-RPC answer): a 4xx is the
 * request being refused (`invalid_request`), 408/504 `timeout`, 502/503 `upstream_unavailable`, other
 * 5xx `internal`.
 */
export function refusedErrorType(status: number): ErrorType {
  if (status === 408 || status === 504) return 'timeout';
  if (status === 502 || status === 503) return 'upstream_unavailable';
  if (status >= 500) return 'internal';
  return 'invalid_request';
}

/** The outcome of requests whose HTTP request was refused with `status` before reaching the MCP server. */
export function refusedOutcome(errorType: ErrorType, status: number): Outcome {
  return { outcome: 'error', errorType, semconvErrorType: String(status) };
}
