/**
 * The Prometheus pull reader: OpenTelemetry's PrometheusExporter used as a MetricReader with its own
 * server disabled (`preventServerStart`); the metrics port (admin/) serves what
 * {@link PrometheusScraper.scrape} returns.
 *
 * The exporter's `getMetricsRequestHandler` is not used as-is: it always answers `200` with
 * `Content-Type: text/plain` (even when collection fails), cannot gzip, and its serializer writes
 * histogram `_count`/`_sum` before the buckets and `le="1"` where the composer writes `le="1.0"`. The
 * same two steps it performs — `collect()`, then serialise — are done here with
 * {@link serializePrometheus}, and admin/ owns the HTTP answer.
 */
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { serializePrometheus } from './prometheus-serializer.ts';

/** The text exposition format's content type (version 0.0.4). */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export class PrometheusScraper {
  readonly reader: PrometheusExporter;
  readonly #onConflict: ((names: readonly string[]) => void) | undefined;

  /** @param onConflict told of families dropped because two instruments share a name with different types. */
  constructor(onConflict?: (names: readonly string[]) => void) {
    this.reader = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true, withoutTargetInfo: true });
    this.#onConflict = onConflict;
  }

  /**
   * Collects every instrument and returns the exposition text.
   * @throws when collection fails or reports errors (the caller answers 500).
   */
  async scrape(): Promise<string> {
    const { resourceMetrics, errors } = await this.reader.collect();
    if (errors.length > 0) throw new AggregateError(errors, 'metrics collection reported errors');
    const { text, conflicts } = serializePrometheus(resourceMetrics);
    if (conflicts.length > 0) this.#onConflict?.(conflicts);
    return text;
  }
}
