/**
 * Wires the sidecar together: proxy → observations → instruments → exporters, plus the metrics port.
 * `startSidecar` returns once both ports are bound; `shutdown` drains in order: stop accepting, end
 * long-lived streams, let in-flight requests finish (within the grace period), flush exporters, close.
 */
import type { AddressInfo } from 'node:net';
import { FileToken, InlineToken, type TokenSource } from './admin/token.ts';
import { createAdminServer } from './admin/server.ts';
import type { SidecarConfig } from './config/load.ts';
import { ErrorCodes, SidecarError } from './errors.ts';
import { PrometheusScraper } from './exporters/prometheus.ts';
import type { Logger } from './log.ts';
import { UpstreamHealth, UpstreamProbe } from './proxy/health.ts';
import { createProxy } from './proxy/server.ts';
import { ProxyState } from './proxy/state.ts';
import { createUpstreamPool } from './proxy/upstream.ts';
import { HttpMetrics } from './telemetry/http-metrics.ts';
import { Instruments } from './telemetry/instruments.ts';
import { createMeterProvider } from './telemetry/provider.ts';
import { AuthFailureLog } from './admin/auth-log.ts';
import { subscribeAccessLog } from './telemetry/access-log.ts';
import { CatalogRecorder } from './telemetry/catalog-recorder.ts';
import { Ledger } from './ledger/ledger.ts';
import { Inventory } from './ledger/inventory.ts';
import { RestObserver } from './ledger/rest-observer.ts';
import { InventoryPoller } from './events/poller.ts';
import { observeInventory } from './telemetry/inventory-gauges.ts';
import { SecretFile, type SecretFileListener } from './config/secret-file.ts';
import { McpTap } from './mcp/tap.ts';
import { McpMetrics } from './telemetry/mcp-metrics.ts';

export interface Sidecar {
  /** Base URL of the proxy port, e.g. `http://127.0.0.1:8080`. */
  readonly proxyUrl: string;
  /** URL of the metrics endpoint, e.g. `http://127.0.0.1:9464/metrics`. */
  readonly metricsUrl: string;
  readonly proxyAddress: AddressInfo;
  readonly metricsAddress: AddressInfo;
  /** Drains and closes everything; idempotent. */
  shutdown(): Promise<void>;
}

export interface SidecarDeps {
  readonly logger: Logger;
  readonly version: string;
}

function urlOf(addr: AddressInfo): string {
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return `http://${host}:${addr.port}`;
}

function secretListener(logger: Logger, what: string): SecretFileListener {
  return (event, detail) => {
    if (event === 'reloaded') logger.info({ event: `${what}_reloaded`, file: detail }, `${what.replace('_', ' ')} file changed: new token in use`);
    else logger.error({ event: `${what}_unreadable`, detail }, `${what.replace('_', ' ')} file unreadable: keeping the previous token`);
  };
}

function tokenSource(config: SidecarConfig, logger: Logger): TokenSource | null {
  const auth = config.metricsAuth;
  if (auth.kind === 'none') return null;
  if (auth.kind === 'inline') return new InlineToken(auth.token);
  return new FileToken(auth.path, 1000, secretListener(logger, 'metrics_token'));
}

async function bind(what: string, listen: () => Promise<AddressInfo>, where: string): Promise<AddressInfo> {
  try {
    return await listen();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new SidecarError(ErrorCodes.SIDECAR_E_LISTEN, `cannot listen on ${where} for the ${what} (${code})`, { cause: err });
  }
}

export async function startSidecar(config: SidecarConfig, deps: SidecarDeps): Promise<Sidecar> {
  const { logger, version } = deps;
  const health = new UpstreamHealth();
  const state = new ProxyState(health);
  const scraper = new PrometheusScraper();
  const { provider, meter } = createMeterProvider({ readers: [scraper.reader], version });
  const instruments = new Instruments(meter, { maxLabelValues: config.maxLabelValues });
  const unsubscribeHttp = new HttpMetrics(instruments, health).subscribe();
  // Every catalog fact beyond HTTP goes through the ledger (one source per fact).
  const inventory = new Inventory();
  const ledger = new Ledger(new CatalogRecorder(instruments));
  observeInventory(instruments, inventory);
  const unsubscribeRest = new RestObserver(ledger, inventory, {
    captureLimit: config.bodyCaptureLimit,
    userId: { source: config.userIdSource, header: config.userIdHeader },
  }).subscribe();
  // MCP traffic (legacy SSE and streamable HTTP): correlated operations → ledger, semconv, self-health.
  const mcpMetrics = new McpMetrics(instruments);
  const mcpTap = new McpTap(ledger, mcpMetrics, {
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
  const unsubscribeMcp = mcpTap.subscribe();
  const upstreamToken = config.upstreamTokenFile === undefined ? undefined : new SecretFile(config.upstreamTokenFile, 1000, secretListener(logger, 'upstream_token'));
  const pollOutcomes = instruments.counter('sidecar_inventory_polls_total');
  const poller = new InventoryPoller(
    { origin: config.upstream, intervalMs: config.pollIntervalMs, timeoutMs: config.pollTimeoutMs, ...(upstreamToken !== undefined ? { token: () => upstreamToken.value() } : {}) },
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
    const last = poller.lastOutcome;
    if (last !== undefined) observe(last === 'ok' ? 1 : 0);
  });
  const unsubscribeAccessLog = config.accessLog ? subscribeAccessLog(logger) : () => undefined;

  const pool = createUpstreamPool({
    origin: config.upstream,
    connections: config.upstreamConnections,
    connectTimeoutMs: config.upstreamConnectTimeoutMs,
    headersTimeoutMs: config.upstreamHeadersTimeoutMs,
    bodyTimeoutMs: config.upstreamBodyTimeoutMs,
    keepAliveTimeoutMs: config.upstreamKeepAliveTimeoutMs,
  });
  const proxy = createProxy(config, pool, state);
  const probe = new UpstreamProbe(
    { origin: config.upstream, path: config.probePath, host: config.upstream.host, intervalMs: config.probeIntervalMs, timeoutMs: config.probeTimeoutMs },
    health,
  );
  health.onChange((up) => {
    if (up) logger.info({ event: 'upstream_up', upstream: config.upstream.origin }, 'upstream is reachable');
    else logger.warn({ event: 'upstream_down', upstream: config.upstream.origin }, 'upstream is unreachable');
  });

  let draining = false;
  const authLog = new AuthFailureLog(logger);
  const admin = createAdminServer({
    listen: config.metricsListen,
    token: tokenSource(config, logger),
    scrape: () => scraper.scrape(),
    ready: () => !draining && health.probeOk,
    onAuthFailure: (addr, reason) => authLog.record(addr, reason),
    onScrapeError: (err) => logger.error({ event: 'scrape_failed', err: String(err) }, 'metrics collection failed'),
  });

  const proxyAddress = await bind('proxy', () => proxy.listen(), `${config.listen.host}:${config.listen.port}`);
  let metricsAddress: AddressInfo;
  try {
    metricsAddress = await bind('metrics port', () => admin.listen(), `${config.metricsListen.host}:${config.metricsListen.port}`);
  } catch (err) {
    await proxy.close(0);
    await pool.close();
    throw err;
  }
  void probe.start();
  poller.start();

  const proxyUrl = urlOf(proxyAddress);
  const metricsUrl = `${urlOf(metricsAddress)}/metrics`;
  logger.info(
    { event: 'listening', proxy: proxyUrl, metrics: metricsUrl, upstream: config.upstream.origin, metricsAuth: config.metricsAuth.kind === 'none' ? 'none' : 'bearer' },
    `proxying ${proxyUrl} -> ${config.upstream.origin}; metrics on ${metricsUrl}`,
  );

  let stopping: Promise<void> | undefined;
  return {
    proxyUrl,
    metricsUrl,
    proxyAddress,
    metricsAddress,
    shutdown() {
      stopping ??= (async () => {
        draining = true;
        logger.info({ event: 'draining', inFlight: state.inFlight, graceMs: config.shutdownGraceMs }, 'shutting down: draining in-flight requests');
        await proxy.close(config.shutdownGraceMs);
        await probe.close();
        await poller.stop();
        unsubscribeMcp();
        unsubscribeRest();
        unsubscribeHttp();
        unsubscribeAccessLog();
        authLog.flush();
        await provider.shutdown().catch((err: unknown) => logger.warn({ event: 'exporter_shutdown_failed', err: String(err) }, 'exporter shutdown failed'));
        await pool.destroy().catch(() => undefined);
        await admin.close();
        logger.info({ event: 'stopped' }, 'sidecar stopped');
      })();
      return stopping;
    },
  };
}
