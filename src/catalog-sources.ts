/**
 * Wires the catalog's sources to the ledger: proxied REST and MCP exchanges, the composer's surfaces as detected
 * (REST polling, or MCP-native inventory where there is no REST), and the event stream. Detection runs at
 * start, whenever the upstream comes back, and every `--detect-interval`; the inventory source follows it.
 */
import type { SidecarConfig } from './config/load.ts';
import { SecretFile, type SecretFileListener } from './config/secret-file.ts';
import { describeSources, detectSources, SOURCES, type Source } from './events/detect.ts';
import { McpInventory } from './events/mcp-inventory.ts';
import { InventoryPoller } from './events/poller.ts';
import { EventSubscriber } from './events/subscriber.ts';
import { Inventory } from './ledger/inventory.ts';
import { Ledger } from './ledger/ledger.ts';
import { RestObserver } from './ledger/rest-observer.ts';
import type { Logger } from './log.ts';
import type { McpOperation } from './mcp/operations.ts';
import type { ObservationBus } from './proxy/bus.ts';
import type { UpstreamHealth } from './proxy/health.ts';
import { CatalogRecorder } from './telemetry/catalog-recorder.ts';
import { EventMetrics } from './telemetry/event-metrics.ts';
import type { Instruments } from './telemetry/instruments.ts';
import { observeInventory } from './telemetry/inventory-gauges.ts';
import { McpTap } from './mcp/tap.ts';
import { McpMetrics } from './telemetry/mcp-metrics.ts';

export interface CatalogSources {
  readonly ledger: Ledger;
  readonly inventory: Inventory;
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

type InventorySource = { kind: 'rest'; poller: InventoryPoller } | { kind: 'mcp'; mcp: McpInventory; transport: string } | { kind: 'none' };

/** @param bus where the REST observer and the MCP tap register at `start()` (and MCP operations go). */
export function createCatalogSources(config: SidecarConfig, instruments: Instruments, logger: Logger, health: UpstreamHealth, bus: ObservationBus<McpOperation>): CatalogSources {
  const inventory = new Inventory();
  const ledger = new Ledger(new CatalogRecorder(instruments));
  observeInventory(instruments, inventory);
  const restObserver = new RestObserver(ledger, inventory, {
    captureLimit: config.bodyCaptureLimit,
    userId: { source: config.userIdSource, header: config.userIdHeader },
  });
  // MCP traffic (legacy SSE and streamable HTTP): correlated operations → ledger, semconv, self-health.
  const mcpMetrics = new McpMetrics(instruments);
  const mcpTap = new McpTap(ledger, mcpMetrics, bus, {
    captureLimit: config.bodyCaptureLimit,
    pathPrefix: config.mcpPathPrefix,
    correlator: {
      pendingTimeoutMs: config.mcpPendingTimeoutMs,
      maxPendingPerSession: config.mcpMaxPending,
      maxSessions: config.mcpMaxSessions,
      sessionIdleTimeoutMs: config.mcpSessionIdleTimeoutMs,
    },
  });
  mcpMetrics.observe(instruments, mcpTap);
  const upstreamToken = config.upstreamTokenFile === undefined ? undefined : new SecretFile(config.upstreamTokenFile, 1000, secretListener(logger, 'upstream_token'));
  const token = upstreamToken === undefined ? {} : { token: () => upstreamToken.value() };

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
      { ledger, inventory, metrics, logger, reread: () => void (current.kind === 'rest' ? current.poller.pollOnce() : current.kind === 'mcp' ? current.mcp.refresh() : undefined) },
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
    const want = available.rest ? 'rest' : available.streamable_http ? 'streamable_http' : available.sse ? 'sse' : available.tools_list ? 'tools_list' : 'none';
    const have = current.kind === 'rest' ? 'rest' : current.kind === 'mcp' ? current.transport : 'none';
    if (want === have) return;
    const old = current;
    current = { kind: 'none' };
    if (old.kind === 'rest') await old.poller.stop();
    if (old.kind === 'mcp') await old.mcp.stop();
    if (want === 'rest') {
      const poller = newPoller();
      current = { kind: 'rest', poller };
      poller.start();
    } else if (want !== 'none') {
      const mcp = new McpInventory(
        { origin: config.upstream, transport: want, separator: config.serverIdSeparator, intervalMs: config.pollIntervalMs, timeoutMs: config.pollTimeoutMs, ...token },
        inventory,
        logger,
      );
      current = { kind: 'mcp', mcp, transport: want };
      mcp.start();
    }
  };
  let detecting: Promise<void> | undefined;
  let stopped = false;
  const detect = (): Promise<void> =>
    (detecting ??= (async () => {
      const found = await detectSources({ origin: config.upstream, eventsPath: config.eventsPath, timeoutMs: config.pollTimeoutMs, ...token });
      if (stopped) return;
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
      if (last.kind === 'mcp') await last.mcp.stop();
      unsubscribeMcp?.();
      unsubscribeRest?.();
    },
  };
}
