/**
 * Wires the sidecar together: proxy → observations → instruments → exporters, plus the metrics port, and
 * — only when the `OTEL_*` variables ask for them (config.otel) — OTLP metrics push and tracing.
 * `startSidecar` returns once both ports are bound; `shutdown` drains in order: stop accepting, end
 * long-lived streams, let in-flight requests finish (within the grace period), flush exporters, close.
 */
import type { AddressInfo } from 'node:net';
import { FileToken, InlineToken, type TokenSource } from './admin/token.ts';
import { createAdminServer } from './admin/server.ts';
import { TlsFiles } from './admin/tls.ts';
import type { SidecarConfig } from './config/load.ts';
import { memoryLimitOf, readSystemFile } from './config/memory.ts';
import { DEFAULT_CHECK_EVERY_MS } from './config/reloading-file.ts';
import { ErrorCodes, SidecarError } from './errors.ts';
import { ExpositionConflicts } from './exporters/exposition-conflicts.ts';
import { PrometheusScraper } from './exporters/prometheus.ts';
import type { Logger } from './log.ts';
import type { McpOperation } from './sources/mcp/operations.ts';
import { ObservationBus, type ObserverHandle } from './observe/bus.ts';
import { registerFaultObserver } from './observe/fault-observer.ts';
import { UpstreamHealth, UpstreamProbe } from './proxy/health.ts';
import { createProxy } from './proxy/server.ts';
import { ProxyState } from './proxy/state.ts';
import { upstreamPoolFor } from './proxy/upstream.ts';
import { HttpMetrics } from './telemetry/http-metrics.ts';
import { Instruments } from './telemetry/instruments.ts';
import { createMeterProvider } from './telemetry/provider.ts';
import { AuthFailureLog } from './admin/auth-log.ts';
import { ScrapeTimings } from './admin/scrape-timing.ts';
import { registerAccessLog } from './telemetry/access-log.ts';
import { secretListener, wireSources } from './wiring.ts';
import { describeExportError, ExportHealth } from './exporters/export-health.ts';
import { createOtlpMetricReader, createOtlpSpanExporter } from './exporters/otlp.ts';
import { Exemplars } from './telemetry/exemplars.ts';
import { observeMemory } from './telemetry/memory-gauges.ts';
import { createResource } from './telemetry/resource.ts';
import { installSdkDiagnostics } from './telemetry/sdk-diag.ts';
import { HttpServerDuration } from './telemetry/semconv-http.ts';
import type { Tracing } from './telemetry/tracing.ts';
import { SDK_CARDINALITY_LIMIT } from './telemetry/provider.ts';
import type { IMetricReader } from '@opentelemetry/sdk-metrics';
import { StatusFeed, StatusHttpFeeder } from './admin/status-feed.ts';
import { buildStatus } from './admin/status-json.ts';

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

/** How long exporters may take to send what they hold at shutdown. */
export const EXPORT_FLUSH_TIMEOUT_MS = 5000;

export interface SidecarDeps {
  readonly logger: Logger;
  readonly version: string;
  /**
   * Registers more observers on the observation bus (embedding, tests), before the sidecar's own, so
   * theirs run after these in every hook. @default none
   */
  readonly observe?: (bus: ObservationBus<McpOperation>) => void;
}

function urlOf(addr: AddressInfo, scheme = 'http'): string {
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return `${scheme}://${host}:${addr.port}`;
}

function tokenSource(config: SidecarConfig, logger: Logger): TokenSource | null {
  const auth = config.metricsAuth;
  if (auth.kind === 'none') return null;
  if (auth.kind === 'inline') return new InlineToken(auth.token);
  return new FileToken(auth.path, DEFAULT_CHECK_EVERY_MS, secretListener(logger, 'metrics_token'));
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
  const { otel } = config;
  for (const note of otel.notes) logger.warn({ event: 'otel_config', note }, note);
  const uninstallSdkDiagnostics = installSdkDiagnostics(logger, otel.sdkLogLevel);
  const resource = createResource(otel, version);
  // OTLP push (metrics, traces) only when configured: otherwise none of it exists and no request pays for it.
  const exportHealth = otel.metrics !== undefined || otel.traces !== undefined ? new ExportHealth(logger) : undefined;
  let tracing: Tracing | undefined;
  // Tracing is loaded, and registers its observers on the bus, only when configured.
  if (otel.traces !== undefined && exportHealth !== undefined) {
    const { Tracing } = await import('./telemetry/tracing.ts');
    tracing = new Tracing({
      config: otel.traces,
      exporter: await createOtlpSpanExporter(otel.traces.exporter, exportHealth),
      resource,
      version,
      propagate: otel.propagateTraceContext,
      maxRoutes: config.maxLabelValues,
    });
  }
  const traced = tracing;
  // Exemplars link measurements to spans: only with tracing, and not with OTEL_METRICS_EXEMPLAR_FILTER=always_off.
  const exemplars =
    traced !== undefined && otel.exemplarFilter !== 'always_off'
      ? new Exemplars({ filter: otel.exemplarFilter, contextOf: (origin) => traced.contextOf(origin) })
      : undefined;
  const conflicts = new ExpositionConflicts(logger);
  const scraper = new PrometheusScraper({ exemplars, onConflict: conflicts.report });
  const readers: IMetricReader[] = [scraper.reader];
  if (otel.metrics !== undefined && exportHealth !== undefined) {
    readers.push(await createOtlpMetricReader(otel.metrics, exportHealth, { cardinalityLimit: SDK_CARDINALITY_LIMIT }));
  }
  const { provider, meter } = createMeterProvider({ readers, version, resource });
  const instruments = new Instruments(meter, { maxLabelValues: config.maxLabelValues });
  exportHealth?.attach(instruments.counter('sidecar_otlp_export_failures_total'));
  conflicts.attach(instruments.counter('sidecar_exposition_conflicts_total'));
  instruments.startAtZero('sidecar_exposition_conflicts_total');
  // Every observer and tap runs behind the bus's one guard: a failure is counted here, never seen by a client.
  const observerErrors = instruments.counter('sidecar_observer_errors_total');
  const bus = new ObservationBus<McpOperation>({
    logger,
    countFailure: (observer) => observerErrors.add(1, { observer }),
    // A first failure must be an increase Prometheus sees: each observer's series exists at 0 from its registration.
    registered: (observer) => instruments.startAtZero('sidecar_observer_errors_total', { observer }),
  });
  if (config.testObserverFault === 'throw') {
    logger.warn({ event: 'test_observer_fault' }, 'TEST ONLY (--test-observer-fault / SIDECAR_TEST_OBSERVER_FAULT): an observer throws on every hook');
    registerFaultObserver(bus);
  }
  deps.observe?.(bus);
  const state = new ProxyState(health, bus);
  const observers: ObserverHandle[] = [new HttpMetrics(instruments, health, exemplars).register(bus)];
  if (otel.metrics !== undefined) observers.push(new HttpServerDuration(instruments).register(bus));
  // The status page's ring: fed beside the catalog recorder (ledger tee) and beside the HTTP families.
  const status = new StatusFeed({ maxLabelValues: config.maxLabelValues });
  observers.push(new StatusHttpFeeder(status).register(bus));
  // Every catalog fact beyond HTTP goes through the ledger (one source per fact).
  const sources = wireSources(config, instruments, logger, health, bus, { exemplars, status });
  traced?.start(bus);
  if (config.accessLog) observers.push(registerAccessLog(bus, logger, traced === undefined ? undefined : (ex) => traced.spanContextOf(ex)));
  /** Unregisters every observer, then lets the exporters send what they hold (bounded). */
  const stopTelemetry = async (): Promise<void> => {
    for (const o of observers) o.unregister();
    status.close();
    await traced?.shutdown(EXPORT_FLUSH_TIMEOUT_MS);
    await provider
      .shutdown({ timeoutMillis: EXPORT_FLUSH_TIMEOUT_MS })
      .catch((err: unknown) => logger.warn({ event: 'exporter_shutdown_failed', err: describeExportError(err) }, 'exporter shutdown failed'));
    uninstallSdkDiagnostics();
  };

  const pool = upstreamPoolFor(config);
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
  const connectionsShed = instruments.counter('sidecar_metrics_port_connections_shed_total');
  const tls =
    config.metricsTls === undefined
      ? undefined
      : new TlsFiles(config.metricsTls, DEFAULT_CHECK_EVERY_MS, (event, detail) => {
          if (event === 'reloaded')
            logger.info({ event: 'metrics_tls_reloaded', file: detail }, 'metrics port certificate files changed: new certificate in use');
          else logger.error({ event: 'metrics_tls_invalid', detail }, 'metrics port certificate files unusable: keeping the previous certificate');
        });
  const admin = createAdminServer({
    tls,
    listen: config.metricsListen,
    token: tokenSource(config, logger),
    scrape: (format) => scraper.collect(format),
    ready: () => !draining && health.probeOk,
    onAuthFailure: (addr, reason) => authLog.record(addr, reason),
    onScrapeError: (err) => logger.error({ event: 'scrape_failed', err: String(err) }, 'metrics collection failed'),
    onConnectionShed: (reason) => connectionsShed.add(1, { reason }),
    status: () =>
      buildStatus({
        version,
        upstream: config.upstream.origin,
        feed: status,
        upstreamUp: () => health.up,
        ready: () => !draining && health.probeOk,
        sources: () => sources.view(),
        inventory: sources.inventory,
        collect: async () => {
          const { resourceMetrics, errors } = await scraper.reader.collect();
          if (errors.length > 0) throw new AggregateError(errors, 'metrics collection reported errors');
          return resourceMetrics;
        },
      }),
    scrapeTimer: config.debugScrapeTiming ? new ScrapeTimings((line) => logger.info(line, 'metrics answer written')) : undefined,
  });
  instruments.observeGauge('sidecar_metrics_port_connections', (observe) => observe(admin.connections()));
  observeMemory(instruments, { limitBytes: memoryLimitOf(config.memoryLimit, readSystemFile)?.bytes });

  let proxyAddress: AddressInfo;
  try {
    proxyAddress = await bind('proxy', () => proxy.listen(), `${config.listen.host}:${config.listen.port}`);
  } catch (err) {
    await pool.close();
    await stopTelemetry();
    throw err;
  }
  let metricsAddress: AddressInfo;
  try {
    metricsAddress = await bind('metrics port', () => admin.listen(), `${config.metricsListen.host}:${config.metricsListen.port}`);
  } catch (err) {
    await proxy.close(0);
    await pool.close();
    await stopTelemetry();
    throw err;
  }
  void probe.start();
  sources.start();

  const proxyUrl = urlOf(proxyAddress);
  const metricsUrl = `${urlOf(metricsAddress, tls === undefined ? 'http' : 'https')}/metrics`;
  logger.info(
    {
      event: 'listening',
      proxy: proxyUrl,
      metrics: metricsUrl,
      status: metricsUrl.replace(/\/metrics$/, '/status'),
      upstream: config.upstream.origin,
      metricsAuth: config.metricsAuth.kind === 'none' ? 'none' : 'bearer',
      metricsTls: tls === undefined ? 'off' : tls.paths.clientCa === undefined ? 'on' : 'client_certificates',
    },
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
        await sources.stop();
        authLog.flush();
        await stopTelemetry();
        await pool.destroy().catch(() => undefined);
        await admin.close();
        logger.info({ event: 'stopped' }, 'sidecar stopped');
      })();
      return stopping;
    },
  };
}
