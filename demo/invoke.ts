// Tool calls and resource reads, whichever transport they came by (MCP over SSE or streamable HTTP, REST,
// or a simulated stdio client): forwarded to the owning child, timed, counted, and announced on the event
// stream as `tool.invoked {tool_id, duration_ms, success, error_type?, transport}` and
// `resource.read {resource_uri, duration_ms, success, transport}`.
//
// `tool_id` is the name the caller used on its transport: `calc_add` over MCP and stdio, `calc.add` over REST.
// error_type, in the sidecar's vocabulary (src/ledger/facts.ts): `not_found` (unknown tool), `tool_error`
// (the tool answered isError), `validation` (the child rejected the arguments), `timeout`, `internal` (the
// server is not running, or the child died during the call, e.g. the crash tool).
import { ErrorCode, McpError, type CallToolResult, type ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import type { ComposerContext } from './context.ts';
import { findResourceOwner, type ResourceEntry, type ToolEntry } from './composition.ts';

export type TransportKind = 'sse' | 'streamable_http' | 'rest' | 'stdio';

export interface InvokeOutcome {
  readonly result: CallToolResult;
  readonly success: boolean;
  readonly errorType: string | undefined;
  /** The error text when the call failed. */
  readonly error: string | undefined;
  readonly durationMs: number;
}

function errorResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

function firstText(result: CallToolResult): string | undefined {
  for (const c of result.content ?? []) if (c.type === 'text') return c.text;
  return undefined;
}

function classify(err: unknown): string {
  if (err instanceof McpError && err.code === ErrorCode.RequestTimeout) return 'timeout';
  return 'internal';
}

/** Calls `entry` (undefined: an unknown tool named `calledName`) and reports the outcome; never throws. */
export async function invokeTool(
  ctx: ComposerContext,
  entry: ToolEntry | undefined,
  calledName: string,
  args: Record<string, unknown>,
  transport: TransportKind,
  signal?: AbortSignal,
): Promise<InvokeOutcome> {
  const started = performance.now();
  let result: CallToolResult;
  let errorType: string | undefined;
  const server = entry ? ctx.supervisor.get(entry.serverId) : undefined;
  if (!entry || !server) {
    result = errorResult(`Unknown tool: ${calledName}`);
    errorType = 'not_found';
  } else {
    try {
      result = await server.callTool(entry.tool.name, args, signal);
      if (result.isError === true) {
        errorType = /Input validation error|Invalid arguments/i.test(firstText(result) ?? '') ? 'validation' : 'tool_error';
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      result = errorResult(`Error executing tool ${entry.tool.name}: ${message}`);
      errorType = classify(err);
    }
    server.stats.toolCalls += 1;
    if (errorType) server.stats.toolErrors += 1;
  }
  const durationMs = performance.now() - started;
  const success = errorType === undefined;
  const toolId = transport === 'rest' && entry ? entry.restId : calledName;
  ctx.stats.toolInvocations += 1;
  if (!success) ctx.stats.toolErrors += 1;
  if (transport === 'rest') ctx.catalog.recordToolInvocation(toolId, durationMs / 1000, success, errorType);
  ctx.bus.emit('tool.invoked', {
    tool_id: toolId,
    duration_ms: Math.round(durationMs * 1000) / 1000,
    success,
    ...(errorType ? { error_type: errorType } : {}),
    transport,
  });
  return { result, success, errorType, error: success ? undefined : (firstText(result) ?? 'Tool call failed'), durationMs };
}

export type ReadOutcome =
  | { readonly ok: true; readonly result: ReadResourceResult; readonly entry: ResourceEntry; readonly durationMs: number }
  | { readonly ok: false; readonly notFound: boolean; readonly error: string; readonly durationMs: number };

/** Reads `uri` from the server that owns it; an unknown URI is `notFound` and is not announced. */
export async function readResource(ctx: ComposerContext, uri: string, transport: TransportKind): Promise<ReadOutcome> {
  const started = performance.now();
  const entry = findResourceOwner(ctx.supervisor.list(), uri);
  const server = entry ? ctx.supervisor.get(entry.serverId) : undefined;
  if (!entry || !server) return { ok: false, notFound: true, error: `Resource not found: ${uri}`, durationMs: 0 };
  let outcome: ReadOutcome;
  try {
    const result = await server.readResource(uri);
    outcome = { ok: true, result, entry, durationMs: performance.now() - started };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    outcome = { ok: false, notFound: false, error: message, durationMs: performance.now() - started };
  }
  server.stats.resourceReads += 1;
  ctx.stats.resourceReads += 1;
  if (!outcome.ok) ctx.stats.resourceErrors += 1;
  if (transport === 'rest') ctx.catalog.recordResourceRead(uri, outcome.durationMs / 1000, outcome.ok);
  ctx.bus.emit('resource.read', {
    resource_uri: uri,
    duration_ms: Math.round(outcome.durationMs * 1000) / 1000,
    success: outcome.ok,
    transport,
  });
  return outcome;
}
