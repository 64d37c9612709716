/**
 * Where correlated MCP operations go: the ledger (the catalog's tool and resource families), the MCP
 * metrics sink (semantic conventions and self-health, implemented by telemetry/mcp-metrics.ts, which mcp/
 * never imports), and the observation bus (src/observe/bus.ts), which calls the operation observers
 * (tracing) behind its guard and publishes on the public operation channels (src/sources/mcp/operations.ts); the
 * pages of clients' list results, put together into listings, and their `initialize` answers go to the
 * inventory sink (sources/poll/mcp-inventory.ts), when there is one, with the `list_changed` notifications
 * and the responses to the sidecar's own requests seen on clients' streams; the POST paths legacy streams
 * announce go to the tap's routes.
 */
import type { ScanFallbackReason } from './envelope-read.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { OperationEvents } from '../../observe/bus.ts';
import { ListingAssembler, type ListKind, type ListPage, type McpInventorySink, type ServerIdentity } from './listing.ts';
import type { McpOperation } from './operations.ts';
import type { Outcome } from './outcome.ts';
import type { McpRoutes } from './routes.ts';
import type { CorrelatorSink, DropReason, SessionEnd, UnparsedReason } from './session.ts';

/** The MCP families beyond the catalog (telemetry/mcp-metrics.ts). */
export interface McpMetricsSink {
  /** An operation ended (`mcp.server.operation.duration`). */
  operation(op: McpOperation, outcome: Outcome): void;
  /** A session ended (`mcp.server.session.duration`). */
  session(end: SessionEnd): void;
  /** `n` messages, bodies or events could not be read, for `reason`. */
  unparsed(reason: UnparsedReason, n: number): void;
  dropped(reason: DropReason): void;
  /** A response that no pending request waited for. */
  unmatched(): void;
  /** A body or event the envelope scanner left to the full parser (read-messages.ts), and why. */
  scanFallback(reason: ScanFallbackReason): void;
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
  readonly #routes: McpRoutes;
  readonly #inventory: McpInventorySink | undefined;
  readonly #listings = new ListingAssembler();

  /** @param routes where the POST paths legacy streams announce are learned. */
  constructor(ledger: Ledger, metrics: McpMetricsSink, operations: OperationEvents<McpOperation>, routes: McpRoutes, inventory?: McpInventorySink) {
    this.#ledger = ledger;
    this.#metrics = metrics;
    this.#operations = operations;
    this.#routes = routes;
    this.#inventory = inventory;
  }

  started(op: McpOperation): void {
    this.#operations.operationStart(op);
  }

  ended(op: McpOperation, outcome: Outcome): void {
    const ok = op.outcome === 'ok';
    const durationSeconds = Math.max(0, (op.endTime ?? op.startTime) - op.startTime) / 1000;
    if (op.method === 'tools/call' && op.toolName !== undefined) {
      this.#ledger.toolCall({
        source: 'mcp',
        toolId: op.toolName,
        ok,
        ...(ok ? {} : { errorType: op.errorType ?? 'tool_error' }),
        durationSeconds,
        origin: op,
      });
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

  unparsed(reason: UnparsedReason, n: number): void {
    this.#metrics.unparsed(reason, n);
  }

  listed(session: string, cursor: string | false | undefined, page: ListPage, at: number): void {
    if (this.#inventory === undefined) return;
    const listing = this.#listings.page(session, cursor, page, at);
    if (listing !== undefined) this.#inventory.listing(listing);
  }

  initialized(server: ServerIdentity): void {
    this.#inventory?.initialized(server);
  }

  endpoint(data: string): void {
    this.#routes.learnEndpoint(data);
  }

  listChanged(kind: ListKind): void {
    this.#inventory?.changed(kind);
  }

  ownResponse(): void {
    this.#inventory?.ownResponse();
  }
}
