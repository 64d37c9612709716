/**
 * The MCP tap: an observer on the observation bus (`mcp_tap`) that, at each exchange's `start` and for MCP
 * routes only, attaches an {@link ExchangeTap} that reads copies of the bodies — POSTed JSON-RPC messages,
 * SSE events of the response streams, JSON answers — and feeds them to the {@link Correlator}. Every other
 * exchange costs a path lookup. Nothing here can delay or alter the bytes: reads are bounded copies, and
 * every callback runs behind the bus's guard (a failure is counted as
 * `sidecar_observer_errors_total{observer="mcp_tap"}`); the timeout sweep, which runs on its own timer,
 * counts its failures as unparsed `internal`. Correlated operations go to the bus (report.ts).
 *
 * How each transport is correlated (docs/mcp-latency.md):
 * - legacy SSE: the `GET /sse` stream's `endpoint` event names the session (`session_id` of the POST URL);
 *   a `POST /messages/?session_id=…` starts its requests at the POST's request head; the response is the
 *   `message` event with the same id on that session's stream. The POST's `202` is not the answer.
 * - streamable HTTP: the session is the `Mcp-Session-Id` header (assigned by the answer to `initialize`);
 *   responses come in the POST's JSON or SSE answer, or on the session's `GET /mcp` stream; `DELETE /mcp`
 *   (or a 404 for the session, or idleness) ends it.
 */
import type { Ledger } from '../../ledger/ledger.ts';
import type { ObserverHandle, ObserverRegistry, OperationEvents } from '../../observe/bus.ts';
import type { Exchange } from '../../observe/exchange.ts';
import { Correlator, type CorrelatorOptions, type Session } from './correlator.ts';
import { ExchangeState, type TapContext } from './exchange-state.ts';
import type { ResponseMessage } from './jsonrpc.ts';
import { LIST_CHANGED, type McpInventorySink } from './listing.ts';
import type { McpOperation, McpTransport } from './operations.ts';
import { McpReporter, type McpMetricsSink, type UnparsedReason } from './report.ts';
import { McpRoutes } from './routes.ts';

export interface McpTapOptions {
  /** Largest MCP message read (`--body-capture-limit`). @default 65536 */
  readonly captureLimit: number;
  /** Path prefix of the MCP routes (`--mcp-path-prefix`; `/` or `''` for none). @default '/' */
  readonly pathPrefix: string;
  readonly correlator: CorrelatorOptions;
  /** Where clients' listings, `list_changed` notifications and `initialize` answers go (passive inventory). */
  readonly inventory?: McpInventorySink;
}

/** Read-only counts, for gauges and tests. */
export interface McpStats {
  sessionsActive(transport: McpTransport): number;
  pendingRequests(transport: McpTransport): number;
}

/** Sweep period: often enough to notice timeouts promptly, rarely enough to cost nothing. */
function sweepInterval(timeoutMs: number): number {
  return Math.max(20, Math.min(1000, Math.floor(timeoutMs / 4)));
}

export class McpTap implements McpStats, TapContext {
  readonly #opts: McpTapOptions;
  readonly #routes: McpRoutes;
  readonly #reporter: McpReporter;
  readonly correlator: Correlator;
  /** Legacy POSTs in flight per session, read early when a response for an unknown id arrives. */
  readonly #inflight = new WeakMap<Session, Set<ExchangeState>>();
  #timer: NodeJS.Timeout | undefined = undefined;
  #handle: ObserverHandle | undefined = undefined;

  /** @param operations where correlated operations are published (the observation bus). */
  constructor(ledger: Ledger, metrics: McpMetricsSink, operations: OperationEvents<McpOperation>, opts: McpTapOptions) {
    this.#opts = opts;
    this.#routes = new McpRoutes(opts.pathPrefix);
    this.#reporter = new McpReporter(ledger, metrics, operations, opts.inventory);
    this.correlator = new Correlator(opts.correlator, this.#reporter);
  }

  sessionsActive(transport: McpTransport): number {
    return this.correlator.sessionsActive(transport);
  }

  pendingRequests(transport: McpTransport): number {
    return this.correlator.pendingRequests(transport);
  }

  /**
   * Registers on the observation bus as `mcp_tap` and starts the timeout sweep; the returned function
   * undoes both and closes every session. If the bus detaches the tap (too many failures), the same
   * happens: every session and pending request is closed, so no operation is left open for its observers.
   */
  register(bus: ObserverRegistry<McpOperation>): () => void {
    const handle = bus.register('mcp_tap', { onStart: (ex) => this.#start(ex, handle), onDetach: () => this.#stop() });
    this.#handle = handle;
    this.#timer = setInterval(() => this.#guard(() => this.correlator.sweep(performance.now())), sweepInterval(this.#opts.correlator.pendingTimeoutMs));
    this.#timer.unref();
    return () => {
      handle.unregister();
      this.#stop();
    };
  }

  #stop(): void {
    if (this.#handle === undefined) return;
    this.#handle = undefined;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#guard(() => this.correlator.closeAll(performance.now()));
  }

  unparsed(reason: UnparsedReason, n = 1): void {
    for (let i = 0; i < n; i++) this.#reporter.unparsed(reason);
  }

  /** Runs `fn` (off the bus: the sweep timer, closing), counting (never propagating) a failure. */
  #guard(fn: () => void): void {
    try {
      fn();
    } catch {
      this.#reporter.unparsed('internal');
    }
  }

  #start(ex: Exchange, handle: ObserverHandle): void {
    const route = this.#routes.classify(ex.path);
    if (route === undefined) return;
    // The exchange's state is its tap: it lives exactly as long as the exchange, and nothing is stored on it.
    const state = new ExchangeState(this, ex, route);
    if (state.wanted) handle.addTap(ex, state);
  }

  get captureLimit(): number {
    return this.#opts.captureLimit;
  }

  inflight(session: Session): Set<ExchangeState> {
    let set = this.#inflight.get(session);
    if (set === undefined) this.#inflight.set(session, (set = new Set()));
    return set;
  }

  learnEndpoint(data: string): void {
    this.#routes.learnEndpoint(data);
  }

  notified(method: string): void {
    const kind = LIST_CHANGED.get(method);
    if (kind !== undefined) this.#opts.inventory?.changed(kind);
  }

  ownResponse(): void {
    this.#opts.inventory?.ownResponse();
  }

  /** A response read on `session`: correlated, or (after reading bodies still in flight) unmatched. */
  respond(session: Session, msg: ResponseMessage, at: number): boolean {
    if (this.correlator.response(session, msg, at)) return true;
    if (msg.id === null) return false;
    const inflight = this.#inflight.get(session);
    if (inflight !== undefined && inflight.size > 0) {
      for (const state of inflight) state.readRequest(at);
      if (this.correlator.response(session, msg, at)) return true;
    }
    this.correlator.unmatched();
    return false;
  }
}
