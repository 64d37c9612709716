/**
 * The MCP tap: an observer on the observation bus (`mcp_tap`) that, at each exchange's `start` and for MCP
 * routes only, attaches an {@link ExchangeTap} that reads copies of the bodies — POSTed JSON-RPC messages,
 * SSE events of the response streams, JSON answers — and turns them into the events of the
 * {@link Correlator}, the one owner of MCP session state (exchange-state.ts is that adapter). Every other
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
import { Correlator } from './correlator.ts';
import { ExchangeState } from './exchange-state.ts';
import type { McpInventorySink } from './listing.ts';
import type { McpOperation, McpTransport } from './operations.ts';
import { messageReader, type MessageReader } from './read-messages.ts';
import { McpReporter, type McpMetricsSink } from './report.ts';
import { headerValue, McpRoutes, sessionIdOfUrl, type McpRoute } from './routes.ts';
import type { CorrelatorOptions, RequestHead } from './session.ts';

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

const MAX_VERSION_HEADER = 32;

/** The request head of an exchange on an MCP route, as the correlator reads it. */
function requestHead(route: McpRoute, ex: Exchange): RequestHead {
  if (route === 'sse') return { route, exchange: ex, sessionId: undefined, protocolVersion: undefined };
  if (route === 'messages') return { route, exchange: ex, sessionId: ex.method === 'POST' ? sessionIdOfUrl(ex.url) : undefined, protocolVersion: undefined };
  const headers = ex.requestHeaders;
  return {
    route,
    exchange: ex,
    sessionId: headerValue(headers['mcp-session-id']),
    protocolVersion: headerValue(headers['mcp-protocol-version'], MAX_VERSION_HEADER),
  };
}

export class McpTap implements McpStats {
  readonly #opts: McpTapOptions;
  readonly #routes: McpRoutes;
  readonly #reporter: McpReporter;
  readonly #correlator: Correlator;
  readonly #read: MessageReader;
  #timer: NodeJS.Timeout | undefined = undefined;
  #handle: ObserverHandle | undefined = undefined;

  /** @param operations where correlated operations are published (the observation bus). */
  constructor(ledger: Ledger, metrics: McpMetricsSink, operations: OperationEvents<McpOperation>, opts: McpTapOptions) {
    this.#opts = opts;
    this.#routes = new McpRoutes(opts.pathPrefix);
    this.#reporter = new McpReporter(ledger, metrics, operations, this.#routes, opts.inventory);
    this.#correlator = new Correlator(opts.correlator, this.#reporter);
    // One reader for the process: the scanner keeps no body between two reads.
    this.#read = messageReader((reason) => metrics.scanFallback(reason));
  }

  sessionsActive(transport: McpTransport): number {
    return this.#correlator.sessionsActive(transport);
  }

  pendingRequests(transport: McpTransport): number {
    return this.#correlator.pendingRequests(transport);
  }

  /**
   * Registers on the observation bus as `mcp_tap` and starts the timeout sweep; the returned function
   * undoes both and closes every session. If the bus detaches the tap (too many failures), the same
   * happens: every session and pending request is closed, so no operation is left open for its observers.
   */
  register(bus: ObserverRegistry<McpOperation>): () => void {
    const handle = bus.register('mcp_tap', { onStart: (ex) => this.#start(ex, handle), onDetach: () => this.#stop() });
    this.#handle = handle;
    this.#timer = setInterval(() => this.#guard(() => this.#correlator.sweep(performance.now())), sweepInterval(this.#opts.correlator.pendingTimeoutMs));
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
    this.#guard(() => this.#correlator.closeAll(performance.now()));
  }

  /** Runs `fn` (off the bus: the sweep timer, closing), counting (never propagating) a failure. */
  #guard(fn: () => void): void {
    try {
      fn();
    } catch {
      this.#reporter.unparsed('internal', 1);
    }
  }

  #start(ex: Exchange, handle: ObserverHandle): void {
    const route = this.#routes.classify(ex.path);
    if (route === undefined) return;
    const flow = this.#correlator.begin(requestHead(route, ex));
    // The exchange's adapter is its tap: it lives exactly as long as the exchange, and nothing is stored on it.
    if (flow !== undefined) handle.addTap(ex, new ExchangeState(this.#correlator, flow, ex, this.#opts.captureLimit, this.#read));
  }
}
