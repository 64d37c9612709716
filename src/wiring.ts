/**
 * Wires the catalog's sources to the ledger and the inventory: the REST observer and the MCP tap on the
 * bus, the event stream, and the inventory's sources the selector switches as detection says (REST polls,
 * or the MCP-native inventory where there is no REST: learned from clients' listings and, per
 * `--mcp-inventory`, read on a session of its own) — with the recorders they feed and their self-health
 * gauges. Which source runs when is the `SourceSelector`'s (sources/selector.ts); what is built here is
 * built once, for the process.
 */
import type { SidecarConfig } from './config/load.ts';
import { DEFAULT_CHECK_EVERY_MS } from './config/reloading-file.ts';
import { readKeyFile, SecretFile, type SecretFileListener } from './config/secret-file.ts';
import type { StatusFeed } from './admin/status-feed.ts';
import type { SourcesView } from './admin/status-json.ts';
import { Inventory } from './ledger/inventory.ts';
import { Ledger } from './ledger/ledger.ts';
import type { Logger } from './log.ts';
import type { ObserverRegistry, OperationEvents } from './observe/bus.ts';
import type { UpstreamHealth } from './proxy/health.ts';
import { detectSources } from './sources/detect/detect.ts';
import { EventSubscriber } from './sources/events/subscriber.ts';
import type { McpOperation } from './sources/mcp/operations.ts';
import { McpTap } from './sources/mcp/tap.ts';
import { McpInventory } from './sources/poll/mcp-inventory.ts';
import { InventoryPoller } from './sources/poll/poller.ts';
import { SecretIds } from './sources/rest/auth.ts';
import { RestObserver } from './sources/rest/rest-observer.ts';
import { SourceSelector } from './sources/selector.ts';
import { BusSource, feedsSeen, type Source, type SwitchedSource } from './sources/source.ts';
import { lifecycleWithoutStream, SURFACES } from './sources/surfaces.ts';
import { CatalogRecorder } from './telemetry/catalog-recorder.ts';
import { EventMetrics } from './telemetry/event-metrics.ts';
import type { Exemplars } from './telemetry/exemplars.ts';
import type { Instruments } from './telemetry/instruments.ts';
import { observeInventory } from './telemetry/inventory-gauges.ts';
import { registerKnownValues } from './telemetry/known-values.ts';
import { McpMetrics } from './telemetry/mcp-metrics.ts';

export interface Sources {
  readonly ledger: Ledger;
  /** The inventory: sources hand it changes (`apply`), the gauges and the status page read it. */
  readonly inventory: Inventory;
  /** What detection found and the event stream's state, for the status page. */
  view(): SourcesView;
  start(): void;
  stop(): Promise<void>;
}

/** Logs a token file's reloads and failures (`{what}_reloaded`, `{what}_unreadable`), never the token. */
export function secretListener(logger: Logger, what: string): SecretFileListener {
  const words = what.replace(/_/g, ' ');
  return (event, detail) => {
    if (event === 'reloaded') logger.info({ event: `${what}_reloaded`, file: detail }, `${words} file changed: new token in use`);
    else logger.error({ event: `${what}_unreadable`, detail }, `${words} file unreadable: keeping the previous token`);
  };
}

/** What the catalog's sources feed beside the catalog families. */
export interface SourcesExtras {
  /** Exemplars of the tool, resource and MCP operation families (tracing on, filter not always_off). @default none */
  readonly exemplars?: Exemplars;
  /** The status page's feed: it gets every record the catalog recorder gets (a tee, not a second source). @default none */
  readonly status?: StatusFeed;
}

/** @param bus where the REST observer and the MCP tap register at `start()` (and MCP operations go). */
export function wireSources(
  config: SidecarConfig,
  instruments: Instruments,
  logger: Logger,
  health: UpstreamHealth,
  bus: ObserverRegistry<McpOperation> & OperationEvents<McpOperation>,
  extras: SourcesExtras = {},
): Sources {
  const { exemplars, status } = extras;
  const inventory = new Inventory({ maxKnownNames: config.maxKnownValues });
  const recorder = new CatalogRecorder(instruments, exemplars);
  const ledger = new Ledger(status === undefined ? recorder : status.tee(recorder));
  registerKnownValues(instruments, inventory, recorder, { mcpPathPrefix: config.mcpPathPrefix });
  observeInventory(instruments, inventory);
  const upstreamToken =
    config.upstreamTokenFile === undefined
      ? undefined
      : new SecretFile(config.upstreamTokenFile, DEFAULT_CHECK_EVERY_MS, secretListener(logger, 'upstream_token'));
  const token = upstreamToken === undefined ? {} : { token: () => upstreamToken.value() };

  // Proxied REST exchanges: facts to the ledger, lifecycle calls in flight to the inventory.
  const restObserver = new RestObserver(ledger, inventory, {
    captureLimit: config.bodyCaptureLimit,
    userId: {
      source: config.userIdSource,
      header: config.userIdHeader,
      ids: config.userIdKeyFile === undefined ? SecretIds.random() : new SecretIds(readKeyFile(config.userIdKeyFile)),
    },
  });
  // MCP-native inventory (without REST): one for the process, so what it learned (clients' listings, a
  // broadcasting upstream) outlives re-detection.
  const ownResponses = instruments.counter('sidecar_mcp_own_responses_seen_total');
  const mcpInventory =
    config.mcpInventory === 'off'
      ? undefined
      : new McpInventory(
          {
            origin: config.upstream,
            pathPrefix: config.mcpPathPrefix,
            mode: config.mcpInventory,
            separator: config.serverIdSeparator,
            intervalMs: config.pollIntervalMs,
            timeoutMs: config.pollTimeoutMs,
            ...token,
            clientSessions: () => mcpTap.sessionsActive('sse') + mcpTap.sessionsActive('streamable_http'),
            onOwnResponse: () => ownResponses.add(1),
          },
          inventory,
          logger,
        );
  instruments.observeGauge('sidecar_mcp_inventory_session', (observe) => {
    if (mcpInventory !== undefined) observe(mcpInventory.sessionOpen ? 1 : 0);
  });
  // MCP traffic (legacy SSE and streamable HTTP): correlated operations → ledger, semconv, self-health.
  const mcpMetrics = new McpMetrics(instruments, exemplars);
  const mcpTap = new McpTap(ledger, status === undefined ? mcpMetrics : status.teeMcp(mcpMetrics), bus, {
    captureLimit: config.bodyCaptureLimit,
    pathPrefix: config.mcpPathPrefix,
    ...(mcpInventory === undefined ? {} : { inventory: mcpInventory }),
    correlator: {
      pendingTimeoutMs: config.mcpPendingTimeoutMs,
      maxPendingPerSession: config.mcpMaxPending,
      maxSessions: config.mcpMaxSessions,
      sessionIdleTimeoutMs: config.mcpSessionIdleTimeoutMs,
    },
  });
  mcpMetrics.observe(instruments, mcpTap);

  // REST polls: one poller for the process, started and stopped as the REST API comes and goes.
  const pollOutcomes = instruments.counter('sidecar_inventory_polls_total');
  const poller = new InventoryPoller(
    { origin: config.upstream, intervalMs: config.pollIntervalMs, timeoutMs: config.pollTimeoutMs, ...token },
    inventory,
    {
      onFacts: (facts) => {
        for (const f of facts) ledger.lifecycle.fromInference(f);
      },
      onPoll: (outcome) => pollOutcomes.add(1, { outcome }),
    },
    logger,
  );
  instruments.observeGauge('sidecar_inventory_poll_up', (observe) => {
    const last = selector.inventory === poller ? poller.lastOutcome : undefined;
    if (last !== undefined) observe(last === 'ok' ? 1 : 0);
  });

  let subscriber: EventSubscriber | undefined;
  if (config.events === 'on') {
    const metrics = new EventMetrics(instruments);
    subscriber = new EventSubscriber(
      {
        origin: config.upstream,
        path: config.eventsPath,
        idleTimeoutMs: config.eventsIdleTimeoutMs,
        reconnectInitialMs: 500,
        reconnectMaxMs: config.eventsReconnectMaxMs,
        reprobeMs: config.eventsReprobeMs,
        maxEventBytes: Math.max(config.bodyCaptureLimit, 1024 * 1024),
        ...token,
      },
      {
        ledger,
        inventory,
        metrics,
        logger,
        reread: () => selector.reread(),
        // Worded from the detected surfaces, as `sources_detected` is, so that the two lines agree.
        withoutStream: () => lifecycleWithoutStream(selector.surfaces),
      },
    );
    metrics.observe(instruments, subscriber);
  }

  // The REST observer and the MCP tap register on the bus first, then the event stream starts.
  const always: Source[] = [
    new BusSource('rest_observer', () => {
      const handle = restObserver.register(bus);
      return () => handle.unregister();
    }),
    new BusSource('mcp_tap', () => mcpTap.register(bus)),
  ];
  if (subscriber !== undefined) always.push(subscriber);
  const switched: SwitchedSource[] = mcpInventory === undefined ? [poller] : [poller, mcpInventory];
  const selector = new SourceSelector({
    detect: () =>
      detectSources({ origin: config.upstream, eventsPath: config.eventsPath, mcpPathPrefix: config.mcpPathPrefix, timeoutMs: config.pollTimeoutMs, ...token }),
    always,
    switched,
    intervalMs: config.detectIntervalMs,
    logger,
  });
  instruments.observeGauge('sidecar_source_available', (observe) => {
    const surfaces = selector.surfaces;
    if (surfaces !== undefined) for (const s of SURFACES) observe(surfaces[s] ? 1 : 0, { source: s });
  });
  health.onChange((up) => {
    if (up) selector.upstreamUp();
  });

  return {
    ledger,
    inventory,
    view: () => {
      const detected = selector.surfaces;
      const running = selector.running();
      return {
        detected,
        stream: subscriber === undefined ? 'off' : (subscriber.status ?? 'connecting'),
        running: running.map((s) => s.name),
        feeds: detected === undefined ? [] : feedsSeen(running, detected),
      };
    },
    start: () => selector.start(),
    stop: () => selector.stop(),
  };
}
