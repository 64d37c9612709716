/**
 * Metric data aggregated outside the SDK (telemetry/local-metrics.ts: the histograms and counters), handed to every reader through
 * the MetricReader's own extension point, `metricProducers`: the reader asks each producer at every
 * collection, beside the SDK, and joins their scopes to the SDK's. A reader is made before the meter
 * provider and its instruments exist, so its producer is bound to the data later
 * ({@link LateProducer.bind}, done by telemetry/provider.ts for every reader it is given).
 *
 * The reader only appends the producer's scope after the SDK's. {@link mergeScopes} puts the metrics of
 * equal scopes back into one, in the order their instruments were declared, so an exposition or an OTLP
 * payload reads as if the SDK had aggregated everything itself.
 */
import { emptyResource } from '@opentelemetry/resources';
import type {
  AggregationTemporality,
  CollectionResult,
  IMetricReader,
  InstrumentType,
  MetricData,
  MetricProducer,
  ResourceMetrics,
  ScopeMetrics,
} from '@opentelemetry/sdk-metrics';

/** A reader's temporality for each kind of instrument (its exporter's preference). */
export type TemporalityOf = (type: InstrumentType) => AggregationTemporality;

/** What a {@link LateProducer} reads. */
export interface ProducedSource {
  /** The data points for one reader (`reader`: its own key, for the state delta temporality keeps), in its temporality for each kind. */
  collect(reader: object, temporality: TemporalityOf): Promise<ScopeMetrics>;
  /** Where an instrument of this name is among all of its meter's (declaration order); `undefined` when not known. */
  rank(name: string): number | undefined;
}

/** The producer of one reader; reports nothing until bound. */
export class LateProducer implements MetricProducer {
  readonly #temporality: TemporalityOf;
  #source: ProducedSource | undefined;

  /** @param temporality the reader's temporality for each kind of instrument, asked at each collection. */
  constructor(temporality: TemporalityOf) {
    this.#temporality = temporality;
  }

  /** Binds the data this producer reports; once. */
  bind(source: ProducedSource): void {
    if (this.#source !== undefined && this.#source !== source) throw new Error('a reader can report the data of one meter provider only');
    this.#source = source;
  }

  get source(): ProducedSource | undefined {
    return this.#source;
  }

  async collect(): Promise<CollectionResult> {
    const source = this.#source;
    const scopeMetrics = source === undefined ? [] : [await source.collect(this, this.#temporality)];
    // The reader keeps the SDK's resource and ignores this one.
    return { resourceMetrics: { resource: emptyResource(), scopeMetrics }, errors: [] };
  }
}

/** The producer each reader was made with (readers are made by prometheus.ts and otlp.ts). */
const producers = new WeakMap<IMetricReader, LateProducer>();

/** Records that `reader` was made with `producer` among its `metricProducers`. */
export function withProducer<R extends IMetricReader>(reader: R, producer: LateProducer): R {
  producers.set(reader, producer);
  return reader;
}

/** The producer `reader` was made with, if any. */
export function producerOf(reader: IMetricReader): LateProducer | undefined {
  return producers.get(reader);
}

function scopeId(scope: ScopeMetrics['scope']): string {
  return `${scope.name}\u0000${scope.version ?? ''}\u0000${scope.schemaUrl ?? ''}`;
}

/**
 * One scope for each distinct instrumentation scope, the first's place kept; the metrics of a scope that
 * received another's sorted by `rank` (stable; metrics without a rank after those with one). Pure: the
 * data points are not copied, and a collection without repeated scopes is returned as it is.
 */
export function mergeScopes(resourceMetrics: ResourceMetrics, rank: (name: string) => number | undefined): ResourceMetrics {
  const scopes = resourceMetrics.scopeMetrics;
  if (scopes.length < 2) return resourceMetrics;
  const merged = new Map<string, { scope: ScopeMetrics['scope']; metrics: MetricData[]; joined: boolean }>();
  for (const sm of scopes) {
    const id = scopeId(sm.scope);
    const into = merged.get(id);
    if (into === undefined) merged.set(id, { scope: sm.scope, metrics: [...sm.metrics], joined: false });
    else {
      into.metrics.push(...sm.metrics);
      into.joined = true;
    }
  }
  if (merged.size === scopes.length) return resourceMetrics;
  const scopeMetrics: ScopeMetrics[] = [];
  for (const { scope, metrics, joined } of merged.values()) {
    if (joined) {
      const key = (m: MetricData) => rank(m.descriptor.name) ?? Number.MAX_SAFE_INTEGER;
      metrics.sort((a, b) => key(a) - key(b));
    }
    scopeMetrics.push({ scope, metrics });
  }
  return { resource: resourceMetrics.resource, scopeMetrics };
}

/** The rank of a bound producer's source; none for an unbound one. */
export function rankOf(producer: LateProducer): (name: string) => number | undefined {
  return (name) => producer.source?.rank(name);
}
