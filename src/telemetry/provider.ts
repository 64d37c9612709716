/**
 * The OpenTelemetry MeterProvider every instrument lives on. Readers (the Prometheus pull reader, and
 * OTLP push readers when configured) all see the same instruments.
 */
import type { Meter } from '@opentelemetry/api';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { MeterProvider, type IMetricReader, type ViewOptions } from '@opentelemetry/sdk-metrics';
import { producerOf } from '../exporters/late-producer.ts';
import { ALL_FAMILIES, type FamilySpec } from './catalog.ts';
import { LocalMetrics } from './local-metrics.ts';

export const METER_NAME = 'mcp-composer-sidecar';

/**
 * Series per instrument before the SDK folds further ones into `otel.metric.overflow`. The sidecar bounds
 * each traffic label itself (`--max-label-values`), so this limit is set above the product of those
 * bounds and never decides what is exported.
 */
export const SDK_CARDINALITY_LIMIT = 100_000;

/**
 * One view per family of the SDK's instruments: the cardinality limit above. Only the gauges are SDK
 * instruments: histograms and counters are aggregated by the sidecar (local-metrics.ts), so a view of
 * theirs would match nothing.
 */
export function catalogViews(families: readonly FamilySpec[] = ALL_FAMILIES): ViewOptions[] {
  const views: ViewOptions[] = [];
  for (const f of families) {
    if (f.kind === 'gauge') views.push({ instrumentName: f.name, meterName: METER_NAME, aggregationCardinalityLimit: SDK_CARDINALITY_LIMIT });
  }
  return views;
}

export interface ProviderOptions {
  readonly readers: IMetricReader[];
  readonly resource?: Resource;
  readonly version: string;
}

/** The meter every instrument is made on: the SDK's (the gauges), and the families aggregated beside it (local-metrics.ts). */
export interface SidecarMeter {
  readonly sdk: Meter;
  readonly local: LocalMetrics;
}

/**
 * The provider, and the meter Instruments is made on. Every reader must be one made by prometheus.ts or
 * otlp.ts (with a late producer, late-producer.ts): it is bound here to the meter's local families, so
 * that every reader sees every family.
 * @throws for a reader made without a late producer (it would never see the histograms and counters).
 */
export function createMeterProvider(opts: ProviderOptions): { provider: MeterProvider; meter: SidecarMeter } {
  const local = new LocalMetrics({ name: METER_NAME, version: opts.version });
  for (const reader of opts.readers) {
    const producer = producerOf(reader);
    if (producer === undefined)
      throw new Error('a metric reader must be made by PrometheusScraper or createOtlpMetricReader (it would miss the histograms and counters)');
    producer.bind(local);
  }
  const provider = new MeterProvider({
    resource: opts.resource ?? resourceFromAttributes({ 'service.name': 'mcp-composer-sidecar', 'service.version': opts.version }),
    readers: opts.readers,
    views: catalogViews(),
  });
  return { provider, meter: { sdk: provider.getMeter(METER_NAME, opts.version), local } };
}
