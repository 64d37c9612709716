/**
 * Records the MCP families beyond the catalog: the OpenTelemetry MCP semantic conventions
 * (`mcp.server.operation.duration`, `mcp.server.session.duration`) and the sidecar's own MCP health
 * (`sidecar_mcp_*`). The catalog's tool and resource families go through the ledger instead.
 *
 * Attributes follow the conventions: `mcp.method.name`; `gen_ai.tool.name` and
 * `gen_ai.operation.name=execute_tool` for `tools/call`; `gen_ai.prompt.name` for `prompts/get`;
 * `error.type` when the operation failed (the JSON-RPC code, `tool_error`, `timeout`, `cancelled`, …; not
 * for the JSON-RPC codes the conventions call the caller's mistake); `rpc.response.status_code` when the
 * response carried a JSON-RPC error code;
 * `network.transport=tcp`, `network.protocol.name=http`; `mcp.protocol.version` once `initialize` told it.
 * The session id (`mcp.session.id`) and the resource URI (opt-in in the conventions) are never attributes.
 * With exemplars on, each operation duration (`prompts/get` included) is offered with the operation's span.
 */
import type { Attributes, Counter } from '@opentelemetry/api';
import type { ScanFallbackReason } from '../sources/mcp/envelope-read.ts';
import type { McpOperation } from '../sources/mcp/operations.ts';
import type { Outcome } from '../sources/mcp/outcome.ts';
import type { McpMetricsSink } from '../sources/mcp/report.ts';
import { MCP_TRANSPORTS, type DropReason, type SessionEnd, type UnparsedReason } from '../sources/mcp/session.ts';
import type { McpStats } from '../sources/mcp/tap.ts';
import type { BucketReservoir, Exemplars, FamilyReservoirs } from './exemplars.ts';
import { vocabulary, type BoundedLabel, type HistogramOf, type Instruments } from './instruments.ts';

const OPERATION = 'mcp.server.operation.duration';
const SESSION = 'mcp.server.session.duration';

/** The reasons of the `sidecar_mcp_*` counters, exported at 0 from start-up. */
const UNPARSED_REASONS = vocabulary<UnparsedReason>({
  too_large: true,
  not_json: true,
  not_jsonrpc: true,
  stream_cut: true,
  unknown_session: true,
  session_limit: true,
  internal: true,
});
const SCAN_FALLBACK_REASONS = vocabulary<ScanFallbackReason>({
  duplicate_key: true,
  depth: true,
  list_result: true,
  long_value: true,
  replacement_char: true,
  internal: true,
});
const DROP_REASONS = vocabulary<DropReason>({ timeout: true, session_closed: true, client_gone: true, limit: true, duplicate_id: true });

export class McpMetrics implements McpMetricsSink {
  readonly #operation: HistogramOf<typeof OPERATION>;
  readonly #session: HistogramOf<typeof SESSION>;
  readonly #unparsed: Counter;
  readonly #dropped: Counter;
  readonly #unmatched: Counter;
  readonly #scanFallbacks: Counter;
  readonly #method: BoundedLabel;
  readonly #tool: BoundedLabel;
  readonly #prompt: BoundedLabel;
  readonly #error: BoundedLabel;
  readonly #status: BoundedLabel;
  readonly #version: BoundedLabel;
  readonly #sessionVersion: BoundedLabel;
  readonly #exemplars: { readonly exemplars: Exemplars; readonly operation: FamilyReservoirs<BucketReservoir> } | undefined;

  /** @param exemplars with tracing on and a filter other than always_off. */
  constructor(instruments: Instruments, exemplars?: Exemplars) {
    this.#operation = instruments.histogram(OPERATION);
    this.#session = instruments.histogram(SESSION);
    this.#unparsed = instruments.counter('sidecar_mcp_unparsed_total');
    this.#dropped = instruments.counter('sidecar_mcp_pending_dropped_total');
    this.#unmatched = instruments.counter('sidecar_mcp_unmatched_responses_total');
    this.#scanFallbacks = instruments.counter('sidecar_mcp_scan_fallbacks_total');
    for (const reason of SCAN_FALLBACK_REASONS) instruments.startAtZero('sidecar_mcp_scan_fallbacks_total', { reason });
    for (const reason of UNPARSED_REASONS) instruments.startAtZero('sidecar_mcp_unparsed_total', { reason });
    for (const reason of DROP_REASONS) instruments.startAtZero('sidecar_mcp_pending_dropped_total', { reason });
    instruments.startAtZero('sidecar_mcp_unmatched_responses_total');
    this.#method = instruments.label(OPERATION, 'mcp.method.name');
    this.#tool = instruments.label(OPERATION, 'gen_ai.tool.name');
    this.#prompt = instruments.label(OPERATION, 'gen_ai.prompt.name');
    this.#error = instruments.label(OPERATION, 'error.type');
    this.#status = instruments.label(OPERATION, 'rpc.response.status_code');
    this.#version = instruments.label(OPERATION, 'mcp.protocol.version');
    this.#sessionVersion = instruments.label(SESSION, 'mcp.protocol.version');
    this.#exemplars = exemplars === undefined ? undefined : { exemplars, operation: exemplars.histogram(OPERATION) };
  }

  /** Observes the session and pending gauges from the tap's read-only counts. */
  observe(instruments: Instruments, stats: McpStats): void {
    instruments.observeGauge('sidecar_mcp_sessions_active', (observe) => {
      for (const transport of MCP_TRANSPORTS) observe(stats.sessionsActive(transport), { transport });
    });
    instruments.observeGauge('sidecar_mcp_pending_requests', (observe) => {
      for (const transport of MCP_TRANSPORTS) observe(stats.pendingRequests(transport), { transport });
    });
  }

  operation(op: McpOperation, outcome: Outcome): void {
    const attrs: Attributes = { 'mcp.method.name': this.#method.value(op.method) };
    if (op.method === 'tools/call' && op.toolName !== undefined) {
      attrs['gen_ai.tool.name'] = this.#tool.value(op.toolName);
      attrs['gen_ai.operation.name'] = 'execute_tool';
    }
    if (op.method === 'prompts/get' && op.promptName !== undefined) attrs['gen_ai.prompt.name'] = this.#prompt.value(op.promptName);
    if (outcome.semconvErrorType !== undefined) attrs['error.type'] = this.#error.value(outcome.semconvErrorType);
    if (outcome.rpcStatusCode !== undefined) attrs['rpc.response.status_code'] = this.#status.value(outcome.rpcStatusCode);
    attrs['network.transport'] = 'tcp';
    attrs['network.protocol.name'] = 'http';
    if (op.protocolVersion !== undefined) attrs['mcp.protocol.version'] = this.#version.value(op.protocolVersion);
    const seconds = Math.max(0, (op.endTime ?? op.startTime) - op.startTime) / 1000;
    this.#operation.record(seconds, attrs);
    const ex = this.#exemplars;
    const ctx = ex?.exemplars.contextFor(op);
    if (ex !== undefined && ctx !== undefined) ex.operation.offer(attrs, seconds, ctx);
  }

  session(end: SessionEnd): void {
    const attrs: Attributes = {};
    if (end.protocolVersion !== undefined) attrs['mcp.protocol.version'] = this.#sessionVersion.value(end.protocolVersion);
    attrs['network.transport'] = 'tcp';
    attrs['network.protocol.name'] = 'http';
    if (end.errorType !== undefined) attrs['error.type'] = end.errorType;
    this.#session.record(end.durationSeconds, attrs);
  }

  scanFallback(reason: ScanFallbackReason): void {
    this.#scanFallbacks.add(1, { reason });
  }

  unparsed(reason: UnparsedReason, n: number): void {
    this.#unparsed.add(n, { reason });
  }

  dropped(reason: DropReason): void {
    this.#dropped.add(1, { reason });
  }

  unmatched(): void {
    this.#unmatched.add(1);
  }
}
