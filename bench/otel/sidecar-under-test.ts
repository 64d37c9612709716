/**
 * The sidecar's proxy, wired like src/main.ts, in one of the modes compared by ./http-instrumentation.ts.
 * Every mode has the same two metric readers (the Prometheus pull reader and an OTLP push reader whose
 * interval is longer than the run, so it never exports) and the catalog's HTTP families; modes differ in
 * what records `http.server.request.duration` and the SERVER spans:
 *
 * - `catalog`: nothing more (the baseline).
 * - `semconv-by-hand`: HttpServerDuration, registered on the proxy's observation bus.
 * - `semconv-instrumentation-http`: @opentelemetry/instrumentation-http (incoming requests only) on the
 *   same meter provider, registered for ESM with @opentelemetry/instrumentation/hook.mjs before node:http
 *   is imported.
 * - `traces-by-hand`: the sidecar's Tracing (ServerSpans), always-on sampler, discarding exporter.
 * - `traces-instrumentation-http`: instrumentation-http's SERVER spans on the same kind of tracer provider,
 *   with the W3C propagator and the AsyncLocalStorage context manager it needs registered globally.
 *
 * Prints `{"listening": url}` on stdout; on an IPC message `mark` it answers the process CPU time so far,
 * and (for span modes) how many spans were ended.
 */
import { register } from 'node:module';

const mode = process.argv[2] ?? 'catalog';
const upstreamUrl = process.argv[3] ?? 'http://127.0.0.1:8000';
const viaInstrumentation = mode.endsWith('instrumentation-http');
if (viaInstrumentation) {
  // Before anything imports node:http: the ESM hook lets the instrumentation see the builtin.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ['node:http', 'http'] } });
}

const { context, propagation } = await import('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
const { ExportResultCode, W3CTraceContextPropagator } = await import('@opentelemetry/core');
const { AlwaysOnSampler, BatchSpanProcessor, TracerProvider } = await import('@opentelemetry/sdk-trace');
const { loadConfig } = await import('../../src/config/load.ts');
const { ExportHealth } = await import('../../src/exporters/export-health.ts');
const { createOtlpMetricReader } = await import('../../src/exporters/otlp.ts');
const { PrometheusScraper } = await import('../../src/exporters/prometheus.ts');
const { createLogger } = await import('../../src/log.ts');
const { ObservationBus } = await import('../../src/observe/bus.ts');
const { UpstreamHealth } = await import('../../src/proxy/health.ts');
const { createProxy } = await import('../../src/proxy/server.ts');
const { ProxyState } = await import('../../src/proxy/state.ts');
const { upstreamPoolFor } = await import('../../src/proxy/upstream.ts');
const { HttpMetrics } = await import('../../src/telemetry/http-metrics.ts');
const { Instruments } = await import('../../src/telemetry/instruments.ts');
const { createMeterProvider, SDK_CARDINALITY_LIMIT } = await import('../../src/telemetry/provider.ts');
const { createResource } = await import('../../src/telemetry/resource.ts');
const { HttpServerDuration } = await import('../../src/telemetry/semconv-http.ts');
const { Tracing } = await import('../../src/telemetry/tracing.ts');

const config = loadConfig(
  ['--upstream', upstreamUrl, '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--no-metrics-auth', '--log-level', 'warn'],
  {
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
    OTEL_METRIC_EXPORT_INTERVAL: '3600000',
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_TRACES_SAMPLER: 'always_on',
  },
);
const logger = createLogger({ level: 'warn' });
const resource = createResource(config.otel, 'bench');
const metrics = config.otel.metrics;
const traces = config.otel.traces;
if (metrics === undefined || traces === undefined) throw new Error('bench configuration lost its OTLP settings');

const health = new UpstreamHealth();
const bus = new ObservationBus({ logger });
const state = new ProxyState(health, bus);
const scraper = new PrometheusScraper();
const otlpReader = await createOtlpMetricReader(metrics, new ExportHealth(logger), { cardinalityLimit: SDK_CARDINALITY_LIMIT });
const { provider, meter } = createMeterProvider({ readers: [scraper.reader, otlpReader], version: 'bench', resource });
const instruments = new Instruments(meter, { maxLabelValues: config.maxLabelValues });
new HttpMetrics(instruments, health).register(bus);

let spansEnded = 0;
const discard = {
  export(spans: unknown[], done: (r: { code: number }) => void) {
    spansEnded += spans.length;
    done({ code: ExportResultCode.SUCCESS });
  },
  shutdown: () => Promise.resolve(),
};

if (mode === 'semconv-by-hand') new HttpServerDuration(instruments).register(bus);
if (mode === 'traces-by-hand') {
  new Tracing({ config: traces, exporter: discard, resource, version: 'bench', propagate: true, maxRoutes: 200 }).start(bus);
}
if (viaInstrumentation) {
  const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');
  const instrumentation = new HttpInstrumentation({ enabled: false, disableOutgoingRequestInstrumentation: true });
  if (mode === 'semconv-instrumentation-http') {
    instrumentation.setMeterProvider(provider);
  } else {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    instrumentation.setTracerProvider(
      new TracerProvider({
        resource,
        sampler: new AlwaysOnSampler(),
        spanProcessors: [new BatchSpanProcessor({ exporter: discard, scheduledDelayMillis: 200 })],
      }),
    );
  }
  instrumentation.enable();
}

const pool = upstreamPoolFor(config);
const proxy = createProxy(config, pool, state);
const address = await proxy.listen();

process.on('message', (msg) => {
  if (msg === 'mark') {
    const cpu = process.cpuUsage();
    void scraper.scrape().then((text) => {
      process.send?.({ cpuMicros: cpu.user + cpu.system, spansEnded, semconvRecorded: text.includes('http_server_request_duration_seconds_count') });
    });
  }
});
process.stdout.write(`${JSON.stringify({ listening: `http://127.0.0.1:${address.port}` })}\n`);
