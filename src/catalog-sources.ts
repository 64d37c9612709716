/**
 * Wires the catalog's sources to the ledger: proxied REST and MCP exchanges, the composer's surfaces as detected
 * (REST polling, or MCP-native inventory where there is no REST: learned from clients' listings and, per
 * `--mcp-inventory`, read on a session of its own), and the event stream. Detection runs at start, whenever
 * the upstream comes back, and every `--detect-interval`; the inventory source follows it.
 */
import type { SidecarConfig } from './config/load.ts';
import { DEFAULT_CHECK_EVERY_MS } from './config/reloading-file.ts';
import { readKeyFile, SecretFile, type SecretFileListener } from './config/secret-file.ts';
import { SecretIds } from './sources/rest/auth.ts';
import { describeSources, detectSources, SOURCES, type Source } from './sources/detect/detect.ts';
import { McpInventory } from './sources/poll/mcp-inventory.ts';
import { InventoryPoller } from './sources/poll/poller.ts';
import { EventSubscriber } from './sources/events/subscriber.ts';
import { Inventory } from './ledger/inventory.ts';
import { Ledger } from './ledger/ledger.ts';
import { RestObserver } from './sources/rest/rest-observer.ts';
import type { Logger } from './log.ts';
import type { McpOperation } from './sources/mcp/operations.ts';
import type { ObserverRegistry, OperationEvents } from './observe/bus.ts';
import type { UpstreamHealth } from './proxy/health.ts';
import { CatalogRecorder } from './telemetry/catalog-recorder.ts';
import type { Exemplars } from './telemetry/exemplars.ts';
import { EventMetrics } from './telemetry/event-metrics.ts';
import type { Instruments } from './telemetry/instruments.ts';
import { observeInventory } from './telemetry/inventory-gauges.ts';
import { registerKnownValues } from './telemetry/known-values.ts';
import { McpTap } from './sources/mcp/tap.ts';
import { McpMetrics } from './telemetry/mcp-metrics.ts';
import type { StatusFeed } from './admin/status-feed.ts';
import type { SourcesView } from './admin/status-json.ts';

export interface CatalogSources {
  readonly ledger: Ledger;
  readonly inventory: Inventory;
  /** What detection found and the event stream's state, for the status page. */
  view(): SourcesView;
  start(): void;
  stop(): Promise<void>;
}

export function secretListener(logger: Logger, what: string): SecretFileListener {
  const words = what.replace(/_/g, ' ');
  return (event, detail) => {
    if (event === 'reloaded') logger.info({ event: `${what}_reloaded`, file: detail }, `${words} file changed: new token in use`);
    else logger.error({ event: `${what}_unreadable`, detail }, `${words} file unreadable: keeping the previous token`);
  };
}

type InventorySource = { kind: 'rest'; poller: InventoryPoller } | { kind: 'mcp'; mcp: McpInventory } | { kind: 'none' };

/** What the catalog's sources feed beside the catalog families. */
export interface CatalogSourcesExtras {
  /** Exemplars of the tool, resource and MCP operation families (tracing on, filter not always_off). @default none */
  readonly exemplars?: Exemplars;
  /** The status page's feed: it gets every record the catalog recorder gets (a tee, not a second source). @default none */
  readonly status?: StatusFeed;
}

/** @param bus where the REST observer and the MCP tap register at `start()` (and MCP operations go). */

export function createCatalogSources(config: SidecarConfig, instruments: Instruments, logger: Logger, health: UpstreamHealth, bus: ObserverRegistry<McpOperation> & OperationEvents<McpOperation>, extras: CatalogSourcesExtras = {}): CatalogSources {
  const { exemplars, status } = extras;
  const inventory = new Inventory({ maxKnownNames: config.maxKnownValues });
  const recorder = new CatalogRecorder(instruments, exemplars);
  const ledger = new Ledger(status === undefined ? recorder : status.tee(recorder));
  registerKnownValues(instruments, inventory, recorder, { mcpPathPrefix: config.mcpPathPrefix });
  observeInventory(instruments, inventory);
  const restObserver = new RestObserver(ledger, inventory, {
    captureLimit: config.bodyCaptureLimit,
    userId: { source: config.userIdSource, header: config.userIdHeader, ids: config.userIdKeyFile === undefined ? SecretIds.random() : new SecretIds(readKeyFile(config.userIdKeyFile)) },
  });
  const upstreamToken = config.upstreamTokenFile === undefined ? undefined : new SecretFile(config.upstreamTokenFile, DEFAULT_CHECK_EVERY_MS, secretListener(logger, 'upstream_token'));
  const token = upstreamToken === undefined ? {} : { token: () => upstreamToken.value() };
  // MCP-native inventory (without REST): one for the process, so what it learned (clients' listings, a
  // broadcasting upstream) outlives re-detection.
  const ownResponses = instruments.counter('sidecar_mcp_own_responses_seen_total');
  const mcpInventory =
    config.mcpInventory === 'off'
      ? undefined
      : new McpInventory(
          {
            origin: config.upstream, pathPrefix: config.mcpPathPrefix, mode: config.mcpInventory, separator: config.serverIdSeparator,
            intervalMs: config.pollIntervalMs, timeoutMs: config.pollTimeoutMs, ...token,
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

  const pollOutcomes = instruments.counter('sidecar_inventory_polls_total');
  const newPoller = () =>
    new InventoryPoller(
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
  let current: InventorySource = { kind: 'none' };
  instruments.observeGauge('sidecar_inventory_poll_up', (observe) => {
    const last = current.kind === 'rest' ? current.poller.lastOutcome : undefined;
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
        ledger, inventory, metrics, logger, reread: () => void (current.kind === 'rest' ? current.poller.pollOnce() : current.kind === 'mcp' ? current.mcp.refresh() : undefined),
        // Worded from the detected sources, as `sources_detected` is, so that the two lines agree.
        withoutStream: () => (!detected ? undefined : available.rest ? 'from REST polling and proxied REST calls' : 'from nowhere: without a REST API either, server lifecycle cannot be seen'),
      },
    );
    metrics.observe(instruments, subscriber);
  }

  // Source detection, and the inventory source that follows it.
  const available: Record<Source, boolean> = { rest: false, events: false, sse: false, streamable_http: false, tools_list: false };
  let detected = false;
  instruments.observeGauge('sidecar_source_available', (observe) => {
    if (!detected) return;
    for (const s of SOURCES) observe(available[s] ? 1 : 0, { source: s });
  });
  const switchInventory = async (): Promise<void> => {
    const surfaces = { streamable_http: available.streamable_http, sse: available.sse, tools_list: available.tools_list };
    if (!available.rest && mcpInventory !== undefined) {
      // MCP inventory also re-points its own reads when the surfaces change.
      if (current.kind === 'rest') await current.poller.stop();
      current = { kind: 'mcp', mcp: mcpInventory };
      mcpInventory.use(surfaces);
      return;
    }
    const want = available.rest ? 'rest' : 'none';
    if (want === current.kind) return;
    const old = current;
    current = { kind: 'none' };
    if (old.kind === 'rest') await old.poller.stop();
    if (old.kind === 'mcp') await old.mcp.suspend();
    if (want === 'rest') {
      const poller = newPoller();
      current = { kind: 'rest', poller };
      poller.start();
    }
  };
  let detecting: Promise<void> | undefined;
  let stopped = false;
  const detect = (): Promise<void> =>
    (detecting ??= (async () => {
      const detection = await detectSources({ origin: config.upstream, eventsPath: config.eventsPath, mcpPathPrefix: config.mcpPathPrefix, timeoutMs: config.pollTimeoutMs, ...token });
      if (stopped) return;
      const found = detection.sources;
      if (detection.composer) mcpInventory?.identify();
      let changed = !detected;
      for (const s of SOURCES) {
        const v = found[s];
        if (v !== undefined && v !== available[s]) {
          available[s] = v;
          changed = true;
        }
      }
      if (Object.keys(found).length > 0) {
        detected = true;
        if (changed) {
          const d = describeSources(available);
          logger.info(
            { event: 'sources_detected', found: d.found, missing: d.missing, sees: d.sees, blind: d.blind },
            `composer serves: ${d.found.join(', ') || 'nothing the sidecar recognises'}; the sidecar sees ${d.sees.join('; ')}${d.blind.length > 0 ? `; it cannot see ${d.blind.join('; ')}` : ''}`,
          );
        }
        await switchInventory();
      }
    })().finally(() => (detecting = undefined)));
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void detect().finally(schedule), config.detectIntervalMs);
    timer.unref();
  };
  health.onChange((up) => {
    if (up && !stopped) void detect();
  });

  let unsubscribeRest: (() => void) | undefined;
  let unsubscribeMcp: (() => void) | undefined;
  return {
    ledger,
    inventory,
    view() {
      return { detected: detected ? { ...available } : undefined, stream: subscriber === undefined ? 'off' : (subscriber.status ?? 'connecting') };
    },
    start() {
      const rest = restObserver.register(bus);
      unsubscribeRest = () => rest.unregister();
      unsubscribeMcp = mcpTap.register(bus);
      subscriber?.start();
      void detect().finally(schedule);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await detecting?.catch(() => undefined);
      await subscriber?.stop();
      const last = current;
      current = { kind: 'none' };
      if (last.kind === 'rest') await last.poller.stop();
      await mcpInventory?.stop();
      unsubscribeMcp?.();
      unsubscribeRest?.();
    },
  };
}
