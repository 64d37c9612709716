/**
 * Feeds the status page's ring (status-ring.ts) from the records the catalog families get, so that the
 * page's counts are the scrape's:
 * - {@link StatusFeed.tee} puts the feed beside the ledger's {@link CatalogSink} (the catalog recorder):
 *   every tool call, resource read and lifecycle fact the ledger decides reaches both;
 * - {@link StatusFeed.teeMcp} does the same for the MCP metrics sink (`prompts/get` operations, which
 *   `mcp_server_operation_duration_seconds` counts);
 * - {@link StatusHttpFeeder} takes the proxy's exchanges as the HTTP families do (long-lived responses
 *   when their headers go out, others when they end, 499 for a client that left).
 *
 * The tees never throw into their caller (they run inside the REST observer's and the MCP tap's hooks): a
 * failure of their own is counted (`failures`) and the record is lost for the page only, never for the
 * scrape (the primary sink has already run). The HTTP feeder is an observer of the bus, whose guard
 * counts its failures (`sidecar_observer_errors_total{observer="status_http"}`).
 */
import { normalizeEndpoint } from '../ledger/endpoint.ts';
import type { RequestFact, ResourceReadFact, ToolCallFact } from '../ledger/facts.ts';
import type { CatalogSink } from '../ledger/ledger.ts';
import type { LifecycleFact } from '../ledger/lifecycle.ts';
import type { McpOperation } from '../sources/mcp/operations.ts';
import type { Outcome } from '../sources/mcp/outcome.ts';
import type { McpMetricsSink } from '../sources/mcp/report.ts';
import type { DropReason, SessionEnd, UnparsedReason } from '../sources/mcp/session.ts';
import type { ObserverHandle, ObserverRegistry } from '../observe/bus.ts';
import type { Exchange } from '../observe/exchange.ts';
import { OTHER, WindowTable } from './status-ring.ts';

/** Most series a table of the page holds, whatever `--max-label-values` says (memory: ≈ 10 KB each). */
export const STATUS_MAX_SERIES = 256;

/** What the page knows of one server from the lifecycle facts the ledger counted. */
export interface ServerFacts {
  starts: number;
  startFailures: number;
  stops: number;
  restarts: number;
  crashes: number;
  /** Clock value (ms) of the last crash, or -1. */
  lastCrashAt: number;
}

export interface StatusFeedOptions {
  /** `--max-label-values`: the page bounds its names as the labels are bounded. */
  readonly maxLabelValues: number;
  /**
   * Clock in ms, read for every record (tests pass a fake one). @default a coarse clock: `performance.now()`
   * read every {@link COARSE_CLOCK_MS} by an unref'd timer, so that a record costs no clock read (a record
   * lands in the bucket of a time at most that old; windows are read with the exact time).
   */
  readonly now?: () => number;
}

/** Resolution of the default clock of the records. */
export const COARSE_CLOCK_MS = 250;

export class StatusFeed {
  readonly tools: WindowTable;
  readonly resources: WindowTable;
  readonly prompts: WindowTable;
  readonly http: WindowTable;
  readonly servers = new Map<string, ServerFacts>();
  readonly config = { reloads: 0, reloadFailures: 0, validationErrors: 0 };
  /** When the ring started (clock ms): windows never reach before it. */
  readonly startedAt: number;
  readonly now: () => number;
  #failures = 0;
  readonly #maxServers: number;
  /** The clock of the records: `now` itself, or the coarse clock's last reading. */
  readonly #clock: () => number;
  #coarse = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: StatusFeedOptions) {
    if (opts.now !== undefined) {
      this.now = opts.now;
      this.#clock = opts.now;
    } else {
      this.now = () => performance.now();
      this.#coarse = performance.now();
      this.#timer = setInterval(() => (this.#coarse = performance.now()), COARSE_CLOCK_MS);
      this.#timer.unref();
      this.#clock = () => this.#coarse;
    }
    this.startedAt = this.now();
    const bounds = { maxNames: Math.min(opts.maxLabelValues, STATUS_MAX_SERIES), maxSeries: STATUS_MAX_SERIES };
    this.tools = new WindowTable(bounds);
    this.resources = new WindowTable(bounds);
    this.prompts = new WindowTable(bounds);
    this.http = new WindowTable({ ...bounds, classes: true });
    this.#maxServers = bounds.maxNames;
  }

  /** Stops the coarse clock (at shutdown). */
  close(): void {
    clearInterval(this.#timer);
  }

  /** Records the page could not take because of its own failure (a bug; the scrape is unaffected). */
  get failures(): number {
    return this.#failures;
  }

  toolCall(fact: ToolCallFact): void {
    this.tools.series(fact.toolId).record(this.#clock(), fact.durationSeconds, fact.ok, fact.ok ? undefined : (fact.errorType ?? 'tool_error'));
  }

  resourceRead(fact: ResourceReadFact): void {
    this.resources.series(fact.resourceUri).record(this.#clock(), fact.durationSeconds, fact.ok, fact.ok ? undefined : 'error');
  }

  prompt(op: McpOperation): void {
    if (op.method !== 'prompts/get' || op.promptName === undefined) return;
    const ok = op.outcome === 'ok';
    const seconds = Math.max(0, (op.endTime ?? op.startTime) - op.startTime) / 1000;
    this.prompts.series(op.promptName).record(this.#clock(), seconds, ok, ok ? undefined : (op.errorType ?? op.outcome ?? 'error'));
  }

  lifecycle(fact: LifecycleFact): void {
    switch (fact.kind) {
      case 'config_reload':
        this.config.reloads++;
        if (!fact.ok) this.config.reloadFailures++;
        return;
      case 'config_validation_error':
        this.config.validationErrors++;
        return;
    }
    const s = this.#server(fact.serverId);
    switch (fact.kind) {
      case 'start':
        if (fact.ok) s.starts++;
        else s.startFailures++;
        return;
      case 'stop':
        s.stops++;
        return;
      case 'restart':
        s.restarts++;
        return;
      case 'crash':
        s.crashes++;
        s.lastCrashAt = this.#clock();
        return;
    }
  }

  #server(id: string): ServerFacts {
    const key = this.servers.has(id) || this.servers.size < this.#maxServers ? id : OTHER;
    let s = this.servers.get(key);
    if (s === undefined) this.servers.set(key, (s = { starts: 0, startFailures: 0, stops: 0, restarts: 0, crashes: 0, lastCrashAt: -1 }));
    return s;
  }

  /** A sink that hands every record to `primary`, then to this feed (a failure of the feed stays here). */
  tee(primary: CatalogSink): CatalogSink {
    return {
      toolCall: (f: ToolCallFact) => {
        primary.toolCall(f);
        try {
          this.toolCall(f);
        } catch {
          this.#failures++;
        }
      },
      resourceRead: (f: ResourceReadFact) => {
        primary.resourceRead(f);
        try {
          this.resourceRead(f);
        } catch {
          this.#failures++;
        }
      },
      request: (f: RequestFact) => primary.request(f),
      lifecycle: (f: LifecycleFact) => {
        primary.lifecycle(f);
        try {
          this.lifecycle(f);
        } catch {
          this.#failures++;
        }
      },
    };
  }

  /** An MCP metrics sink that hands everything to `primary`, and `prompts/get` operations to this feed too. */
  teeMcp(primary: McpMetricsSink): McpMetricsSink {
    return {
      operation: (op: McpOperation, outcome: Outcome) => {
        primary.operation(op, outcome);
        try {
          this.prompt(op);
        } catch {
          this.#failures++;
        }
      },
      session: (end: SessionEnd) => primary.session(end),
      unparsed: (reason: UnparsedReason, n: number) => primary.unparsed(reason, n),
      dropped: (reason: DropReason) => primary.dropped(reason),
      unmatched: () => primary.unmatched(),
      scanFallback: (reason) => primary.scanFallback(reason),
    };
  }

  /** The clock records are taken at (see {@link StatusFeedOptions.now}). */
  clock(): number {
    return this.#clock();
  }
}

/** `lastErrorType` of an HTTP series: its status code, from a fixed table (no string is built per answer). */
const STATUS_TEXT: readonly string[] = Array.from({ length: 600 }, (_, i) => String(i));

/**
 * Takes proxied exchanges into the page's HTTP table, the way telemetry/http-metrics.ts counts
 * `mcp_http_requests_total`: long-lived responses when their headers go out, others when they end (499
 * for a client that left first). An error is a 5xx answer (the proxy's own 502/504 included); the series'
 * `classes` count answers by status class (1xx … 5xx).
 */
export class StatusHttpFeeder {
  readonly #feed: StatusFeed;

  constructor(feed: StatusFeed) {
    this.#feed = feed;
  }

  #record(ex: Exchange, status: number, seconds: number): void {
    const s = this.#feed.http.series(normalizeEndpoint(ex.url), ex.method);
    const ok = status < 500;
    s.record(this.#feed.clock(), seconds, ok, ok ? undefined : (STATUS_TEXT[status] ?? 'error'));
    const c = Math.floor(status / 100) - 1;
    if (c >= 0 && c < s.classes.length) s.classes[c] = (s.classes[c] as number) + 1;
  }

  /** Registers on the observation bus as `status_http` (a failure is the bus's to count, never the proxy's). */
  register(bus: ObserverRegistry<never>): ObserverHandle {
    return bus.register('status_http', { onResponse: (ex) => this.onResponse(ex), onEnd: (ex) => this.onEnd(ex) });
  }

  onResponse(ex: Exchange): void {
    if (ex.stream === undefined) return;
    this.#record(ex, ex.status, (ex.headersTime - ex.startTime) / 1000);
  }

  onEnd(ex: Exchange): void {
    if (ex.stream !== undefined) return;
    this.#record(ex, ex.outcome === 'client_abort' ? 499 : ex.status, (ex.endTime - ex.startTime) / 1000);
  }
}
