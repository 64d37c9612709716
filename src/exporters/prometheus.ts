/**
 * The Prometheus pull reader: OpenTelemetry's PrometheusExporter used as a MetricReader with its own
 * server disabled (`preventServerStart`); the metrics port (admin/) serves what
 * {@link PrometheusScraper.scrape} returns, in the format the scraper negotiated (negotiate.ts).
 *
 * The exporter's `getMetricsRequestHandler` is not used as-is: it always answers `200` with
 * `Content-Type: text/plain` (even when collection fails), cannot gzip or negotiate OpenMetrics, and its
 * serializer writes histogram `_count`/`_sum` before the buckets and `le="1"` where the composer writes
 * `le="1.0"`. The same two steps it performs — `collect()`, then serialise — are done here with
 * {@link serializePrometheus} or {@link serializeOpenMetrics}, and admin/ owns the HTTP answer.
 */
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { CONTENT_TYPES, type ExpositionFormat } from './negotiate.ts';
import { serializeOpenMetrics, type ExemplarLookup } from './openmetrics-serializer.ts';
import { serializePrometheus } from './prometheus-serializer.ts';

export { CONTENT_TYPES, negotiateFormat, type ExpositionFormat } from './negotiate.ts';

/** The text exposition format's content type (version 0.0.4). */
export const PROMETHEUS_CONTENT_TYPE = CONTENT_TYPES.text;

/** Where OpenMetrics scrapes read exemplars (telemetry/exemplars.ts). */
export interface ExemplarSource {
  readonly lookup: ExemplarLookup;
  /** Called after each OpenMetrics scrape: the counters' sampling periods end with a collection. */
  collected(): void;
}

export interface ScraperOptions {
  /** Told of families dropped because two instruments share a name with different types. */
  readonly onConflict?: (names: readonly string[]) => void;
  /** Exemplars for OpenMetrics scrapes; none without (the 0.0.4 text never has any). */
  readonly exemplars?: ExemplarSource | undefined;
}

export class PrometheusScraper {
  readonly reader: PrometheusExporter;
  readonly #onConflict: ((names: readonly string[]) => void) | undefined;
  readonly #exemplars: ExemplarSource | undefined;

  constructor(opts: ScraperOptions = {}) {
    this.reader = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true, withoutTargetInfo: true });
    this.#onConflict = opts.onConflict;
    this.#exemplars = opts.exemplars;
  }

  /**
   * Collects every instrument and returns the exposition text in `format`.
   * @throws when collection fails or reports errors (the caller answers 500).
   */
  async scrape(format: ExpositionFormat = 'text'): Promise<string> {
    const { resourceMetrics, errors } = await this.reader.collect();
    if (errors.length > 0) throw new AggregateError(errors, 'metrics collection reported errors');
    let result;
    if (format === 'openmetrics') {
      result = serializeOpenMetrics(resourceMetrics, this.#exemplars?.lookup);
      this.#exemplars?.collected();
    } else {
      result = serializePrometheus(resourceMetrics);
    }
    if (result.conflicts.length > 0) this.#onConflict?.(result.conflicts);
    return result.text;
  }
}
