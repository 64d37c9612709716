/**
 * Where correlated MCP operations go: the ledger (the catalog's tool and resource families), the MCP
 * metrics sink (semantic conventions and self-health, implemented by telemetry/mcp-metrics.ts, which mcp/
 * never imports), and the observation bus (src/observe/bus.ts), which calls the operation observers
 * (tracing) behind its guard and publishes on the public operation channels (src/sources/mcp/operations.ts); the
 * pages of clients' list results, put together into listings, and their `initialize` answers go to the
 * inventory sink (sources/poll/mcp-inventory.ts), when there is one.
 */
import type { Ledger } from '../../ledger/ledger.ts';
import type { OperationEvents } from '../../observe/bus.ts';
import type { CorrelatorSink, DropReason, SessionEnd } from './correlator.ts';
import { ListingAssembler, type ListPage, type McpInventorySink, type ServerIdentity } from './listing.ts';
import type { McpOperation } from './operations.ts';
import type { Outcome } from './outcome.ts';

/**
 * Why MCP traffic could not be read (`sidecar_mcp_unparsed_total{reason}`); it passed through unchanged.
 * - `too_large`: a message (body or SSE event) over the size bound (`--body-capture-limit`);
 * - `not_json`, `not_jsonrpc`: not JSON, or JSON that is not a JSON-RPC 2.0 message (per batch member);
 * - `stream_cut`: an SSE stream or JSON body that ended in the middle of a message;
 * - `unknown_session`: a legacy-SSE POST for a session whose stream the sidecar never saw;
 * - `session_limit`: a session beyond `--mcp-max-sessions`;
 * - `internal`: the timeout sweep failed (a bug; no stream was affected). A failure while reading an
 *   exchange is counted by the bus, as `sidecar_observer_errors_total{observer="mcp_tap"}`.
 */
export type UnparsedReason = 'too_large' | 'not_json' | 'not_jsonrpc' | 'stream_cut' | 'unknown_session' | 'session_limit' | 'internal';

/** The MCP families beyond the catalog (telemetry/mcp-metrics.ts). */
export interface McpMetricsSink {
  /** An operation ended (`mcp.server.operation.duration`). */
  operation(op: McpOperation, outcome: Outcome): void;
  /** A session ended (`mcp.server.session.duration`). */
  session(end: SessionEnd): void;
  unparsed(reason: UnparsedReason): void;
  dropped(reason: DropReason): void;
  /** A response that no pending request waited for. */
  unmatched(): void;
}

/**
 * Turns ended operations into records: `tools/call` → the catalog's tool families (`tool_id` = the tool
 * name; a call without a name is not counted there), `resources/read` → the resource families, every
 * request → `mcp.server.operation.duration`; then hands the operation to the bus.
 */
export class McpReporter implements CorrelatorSink {
  readonly #ledger: Ledger;
  readonly #metrics: McpMetricsSink;
  readonly #operations: OperationEvents<McpOperation>;
  readonly #inventory: McpInventorySink | undefined;
  readonly #listings = new ListingAssembler();

  constructor(ledger: Ledger, metrics: McpMetricsSink, operations: OperationEvents<McpOperation>, inventory?: McpInventorySink) {
    this.#ledger = ledger;
    this.#metrics = metrics;
    this.#operations = operations;
    this.#inventory = inventory;
  }

  started(op: McpOperation): void {
    this.#operations.operationStart(op);
  }

  ended(op: McpOperation, outcome: Outcome): void {
    const ok = op.outcome === 'ok';
    const durationSeconds = Math.max(0, (op.endTime ?? op.startTime) - op.startTime) / 1000;
    if (op.method === 'tools/call' && op.toolName !== undefined) {
      this.#ledger.toolCall({ source: 'mcp', toolId: op.toolName, ok, ...(ok ? {} : { errorType: op.errorType ?? 'tool_error' }), durationSeconds, origin: op });
    } else if (op.method === 'resources/read' && op.resourceUri !== undefined) {
      this.#ledger.resourceRead({ source: 'mcp', resourceUri: op.resourceUri, ok, durationSeconds, origin: op });
    }
    this.#metrics.operation(op, outcome);
    this.#operations.operationEnd(op);
  }

  sessionEnded(end: SessionEnd): void {
    this.#metrics.session(end);
  }

  dropped(reason: DropReason): void {
    this.#metrics.dropped(reason);
  }

  unmatched(): void {
    this.#metrics.unmatched();
  }

  unparsed(reason: UnparsedReason): void {
    this.#metrics.unparsed(reason);
  }

  listed(session: string, cursor: string | false | undefined, page: ListPage, at: number): void {
    if (this.#inventory === undefined) return;
    const listing = this.#listings.page(session, cursor, page, at);
    if (listing !== undefined) this.#inventory.listing(listing);
  }

  initialized(server: ServerIdentity): void {
    this.#inventory?.initialized(server);
  }
}
