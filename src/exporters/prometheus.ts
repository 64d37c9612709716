/**
 * The Prometheus pull reader: OpenTelemetry's PrometheusExporter used as a MetricReader with its own
 * server disabled (`preventServerStart`); the metrics port (admin/) writes what
 * {@link PrometheusScraper.collect} returns, in the format the scraper negotiated (negotiate.ts).
 *
 * The exporter's `getMetricsRequestHandler` is not used as-is: it always answers `200` with
 * `Content-Type: text/plain` (even when collection fails), cannot gzip or negotiate OpenMetrics, and its
 * serializer writes histogram `_count`/`_sum` before the buckets and `le="1"` where the composer writes
 * `le="1.0"`. The same two steps it performs — `collect()`, then serialise — are done here with
 * {@link slicePrometheus} or {@link sliceOpenMetrics}, and admin/ owns the HTTP answer.
 *
 * A scrape is collected in full first (so a failed collection is known before any answer is sent) and
 * then serialised slice by slice as the answer is written (as Prometheus's own `promhttp` gathers, then
 * encodes family by family into the response): the collection is one consistent snapshot (telemetry/local-metrics.ts),
 * the slices read only that snapshot.
 */
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { AggregationTemporality, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { LateProducer, mergeScopes, rankOf, withProducer } from './late-producer.ts';
import { joinSlices, type SlicedExposition } from './exposition.ts';
import { CONTENT_TYPES, type ExpositionFormat } from './negotiate.ts';
import { sliceOpenMetrics, type ExemplarLookup } from './openmetrics-serializer.ts';
import { slicePrometheus } from './prometheus-serializer.ts';

export { CONTENT_TYPES, negotiateFormat, type ExpositionFormat } from './negotiate.ts';

/** The text exposition format's content type (version 0.0.4). */
export const PROMETHEUS_CONTENT_TYPE = CONTENT_TYPES.text;

/** Where OpenMetrics scrapes read exemplars (telemetry/exemplars.ts). */
export interface ExemplarSource {
  readonly lookup: ExemplarLookup;
  /** Called after each OpenMetrics scrape: the counters' sampling periods end with a collection. */
  collected(): void;
}

/** One collected scrape, ready to be written: iterating `slices` serialises the next slice of the snapshot. */
export interface CollectedScrape {
  readonly slices: Iterable<string>;
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
  readonly #rank: (name: string) => number | undefined;

  constructor(opts: ScraperOptions = {}) {
    const producer = new LateProducer(() => AggregationTemporality.CUMULATIVE);
    this.reader = withProducer(
      new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true, withoutTargetInfo: true, metricProducers: [producer] }),
      producer,
    );
    this.#rank = rankOf(producer);
    this.#onConflict = opts.onConflict;
    this.#exemplars = opts.exemplars;
  }

  /**
   * Collects every instrument; returns the exposition in `format`, serialised slice by slice as it is
   * iterated (each slice a few hundred series; see exposition.ts). Conflicts are reported here, before the
   * first slice; an OpenMetrics scrape ends its exemplars' sampling period once its last slice is written.
   * @throws when collection fails or reports errors (the caller answers 500).
   */
  async collect(format: ExpositionFormat = 'text'): Promise<CollectedScrape> {
    const resourceMetrics = await this.collectMetrics();
    let sliced: SlicedExposition;
    let slices: Iterable<string>;
    const exemplars = this.#exemplars;
    if (format === 'openmetrics') {
      sliced = sliceOpenMetrics(resourceMetrics, exemplars?.lookup);
      slices = exemplars === undefined ? sliced.slices : endingWith(sliced.slices, () => exemplars.collected());
    } else {
      sliced = slicePrometheus(resourceMetrics);
      slices = sliced.slices;
    }
    if (sliced.conflicts.length > 0) this.#onConflict?.(sliced.conflicts);
    return { slices };
  }

  /**
   * Collects every instrument: the SDK's and the locally aggregated ones (late-producer.ts) in one scope,
   * in the order they were declared.
   * @throws when collection fails or reports errors.
   */
  async collectMetrics(): Promise<ResourceMetrics> {
    const { resourceMetrics, errors } = await this.reader.collect();
    if (errors.length > 0) throw new AggregateError(errors, 'metrics collection reported errors');
    return mergeScopes(resourceMetrics, this.#rank);
  }

  /**
   * Collects every instrument and returns the exposition text in `format`, whole.
   * @throws when collection fails or reports errors.
   */
  async scrape(format: ExpositionFormat = 'text'): Promise<string> {
    return joinSlices((await this.collect(format)).slices);
  }
}

/** `slices`, then `done()` once the last one has been taken. */
function* endingWith(slices: Iterable<string>, done: () => void): Generator<string> {
  yield* slices;
  done();
}
