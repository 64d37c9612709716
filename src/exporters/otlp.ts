/**
 * OTLP push: the periodic metric reader that sits beside the Prometheus pull reader on the same meter
 * provider (so both see the same instruments), and the span exporter of the tracer provider. The exporter
 * package of the configured protocol is imported only when that protocol is configured (the gRPC one
 * loads @grpc/grpc-js), so an unconfigured sidecar loads none of them.
 *
 * Every option is passed explicitly from config/otel-env.ts. The exporter libraries also read a few
 * `OTEL_EXPORTER_OTLP_*` variables of the process themselves, for what the sidecar does not set: TLS
 * files (`…_CERTIFICATE`, `…_CLIENT_KEY`, `…_CLIENT_CERTIFICATE`, gRPC's `…_INSECURE`) and, for gRPC, the
 * headers (sent as metadata; the values are the same the sidecar parsed and validated).
 *
 * Failed exports are retried by the exporters (exponential back-off on 429/502/503/504 and connection
 * errors, within the export timeout), then observed by {@link ExportHealth}. Nothing here is on the
 * proxy's path: exports run on their own timers.
 */
import { AggregationTemporality, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { loggableEndpoint, type OtlpExporterConfig, type OtlpMetricsConfig } from '../config/otel-env.ts';
import { AccountedMetricExporter, AccountedSpanExporter, type ExportHealth } from './export-health.ts';
import { LateProducer, rankOf, withProducer } from './late-producer.ts';

/** Options shared by the HTTP exporters of both signals. */
function httpOptions(cfg: OtlpExporterConfig) {
  return {
    url: cfg.url,
    headers: { ...cfg.headers },
    timeoutMillis: cfg.timeoutMs,
    // The libraries type it as their own string enum, whose values are exactly these.
    compression: cfg.compression as never,
  };
}

function grpcOptions(cfg: OtlpExporterConfig) {
  return { url: cfg.url, timeoutMillis: cfg.timeoutMs, compression: cfg.compression as never };
}

async function createMetricExporter(cfg: OtlpMetricsConfig): Promise<PushMetricExporter> {
  const { AggregationTemporalityPreference } = await import('@opentelemetry/exporter-metrics-otlp-http');
  const temporalityPreference = {
    cumulative: AggregationTemporalityPreference.CUMULATIVE,
    delta: AggregationTemporalityPreference.DELTA,
    lowmemory: AggregationTemporalityPreference.LOWMEMORY,
  }[cfg.temporality];
  switch (cfg.exporter.protocol) {
    case 'http/json': {
      const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-http');
      return new OTLPMetricExporter({ ...httpOptions(cfg.exporter), temporalityPreference });
    }
    case 'http/protobuf': {
      const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-proto');
      return new OTLPMetricExporter({ ...httpOptions(cfg.exporter), temporalityPreference });
    }
    case 'grpc': {
      const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-grpc');
      return new OTLPMetricExporter({ ...grpcOptions(cfg.exporter), temporalityPreference });
    }
  }
}

export interface OtlpMetricReaderOptions {
  /** Series per instrument the reader keeps; the sidecar bounds its labels itself. */
  readonly cardinalityLimit: number;
}

/** The OTLP push reader; its export results go to `health`. */
export async function createOtlpMetricReader(
  cfg: OtlpMetricsConfig,
  health: ExportHealth,
  opts: OtlpMetricReaderOptions,
): Promise<PeriodicExportingMetricReader> {
  const exporter = await createMetricExporter(cfg);
  health.register('metrics', loggableEndpoint(cfg.exporter.url));
  // Families aggregated outside the SDK (late-producer.ts) are reported in the exporter's temporality for their kind.
  const producer = new LateProducer((type) => exporter.selectAggregationTemporality?.(type) ?? AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({
    exporter: new AccountedMetricExporter(exporter, health, rankOf(producer)),
    exportIntervalMillis: cfg.intervalMs,
    exportTimeoutMillis: cfg.timeoutMs,
    cardinalityLimits: { default: opts.cardinalityLimit },
    metricProducers: [producer],
  });
  return withProducer(reader, producer);
}

/** The OTLP span exporter; its export results go to `health`. */
export async function createOtlpSpanExporter(cfg: OtlpExporterConfig, health: ExportHealth): Promise<SpanExporter> {
  let exporter: SpanExporter;
  switch (cfg.protocol) {
    case 'http/json': {
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
      exporter = new OTLPTraceExporter(httpOptions(cfg));
      break;
    }
    case 'http/protobuf': {
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
      exporter = new OTLPTraceExporter(httpOptions(cfg));
      break;
    }
    case 'grpc': {
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-grpc');
      exporter = new OTLPTraceExporter(grpcOptions(cfg));
      break;
    }
  }
  health.register('traces', loggableEndpoint(cfg.url));
  return new AccountedSpanExporter(exporter, health);
}
