/**
 * Every family the sidecar aggregates in process — the histograms (local-histogram.ts), the counters and
 * up/down counters (local-sum.ts) — and the collection answer every reader's {@link LateProducer} gets
 * (exporters/late-producer.ts). Owned by the meter (provider.ts); families are declared by Instruments,
 * the only module that makes instruments. The SDK keeps the observable gauges alone.
 *
 * A collection copies every family in one synchronous step (one typed-array `set` per histogram series,
 * one value per counter series): that is the instant it shows, the same for every family, so no family
 * is torn (two series incremented together are read together) and counts never go backwards for a reader.
 * The data points are then built from the copies in slices, yielding to the event loop between them;
 * measurements made meanwhile belong to the next collection, and two collections (two readers, two
 * scrapes) that overlap each have their own copies.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Attributes, HrTime } from '@opentelemetry/api';
import { type InstrumentationScope, millisToHrTime } from '@opentelemetry/core';
import { AggregationTemporality, InstrumentType, type MetricData, type ScopeMetrics } from '@opentelemetry/sdk-metrics';
import type { ProducedSource, TemporalityOf } from '../exporters/late-producer.ts';
import { COLLECT_SLICE, type HistogramDelta, histogramData, histogramSnapshot, LocalHistogram } from './local-histogram.ts';
import { LocalSum, type SumDelta, sumData, sumSnapshot } from './local-sum.ts';

type Family = { readonly kind: 'histogram'; readonly family: LocalHistogram } | { readonly kind: 'sum'; readonly family: LocalSum };

/** A delta reader's state, per kind of family. */
interface DeltaState {
  readonly histograms: HistogramDelta;
  readonly sums: SumDelta;
}

export class LocalMetrics implements ProducedSource {
  readonly #scope: InstrumentationScope;
  readonly #families: Family[] = [];
  readonly #rank = new Map<string, number>();
  readonly #delta = new WeakMap<object, DeltaState>();
  readonly #now: () => HrTime;
  readonly #pause: () => Promise<void>;

  /**
   * @param scope the meter's instrumentation scope: the data points are reported in it.
   * @param now the clock of start and end times. @default Date.now, as an HrTime
   * @param pause how a collection lets the event loop run between slices (tests count the calls). @default setImmediate
   */
  constructor(scope: InstrumentationScope, now: () => HrTime = () => millisToHrTime(Date.now()), pause: () => Promise<void> = () => nextTurn()) {
    this.#scope = scope;
    this.#now = now;
    this.#pause = pause;
  }

  /** A new histogram family (Instruments declares each histogram of the catalog once). */
  histogram<A extends Attributes>(name: string, description: string, unit: string, boundaries: readonly number[]): LocalHistogram<A> {
    const family = new LocalHistogram<A>(name, description, unit, boundaries, this.#now);
    this.#families.push({ kind: 'histogram', family });
    return family;
  }

  /** A new counter (`monotonic`) or up/down counter family. */
  sum<A extends Attributes>(name: string, description: string, unit: string, monotonic: boolean): LocalSum<A> {
    const family = new LocalSum<A>(name, description, unit, monotonic, this.#now);
    this.#families.push({ kind: 'sum', family });
    return family;
  }

  /** The order of every instrument of the meter (SDK ones included), by name: merged scopes are written in it. */
  order(names: readonly string[]): void {
    for (const name of names) if (!this.#rank.has(name)) this.#rank.set(name, this.#rank.size);
  }

  rank(name: string): number | undefined {
    return this.#rank.get(name);
  }

  /**
   * The data points of every family for one reader (`reader`: its own key, for the state delta
   * temporality keeps), in the temporality it selects for each kind, as they were when the collection began.
   */
  async collect(reader: object, temporality: TemporalityOf): Promise<ScopeMetrics> {
    const now = this.#now();
    const snapshots = this.#families.map((f) =>
      f.kind === 'histogram' ? { kind: f.kind, snap: histogramSnapshot(f.family) } : { kind: f.kind, snap: sumSnapshot(f.family) },
    );
    const delta = AggregationTemporality.DELTA;
    const histogramsIn = temporality(InstrumentType.HISTOGRAM);
    const countersIn = temporality(InstrumentType.COUNTER);
    const updownsIn = temporality(InstrumentType.UP_DOWN_COUNTER);
    const state = histogramsIn === delta || countersIn === delta || updownsIn === delta ? this.#deltaOf(reader) : undefined;
    const histogramDelta = histogramsIn === delta ? state?.histograms : undefined;
    const sumDelta = state?.sums;
    const metrics: MetricData[] = [];
    let budget = COLLECT_SLICE;
    for (const s of snapshots) {
      let data: MetricData | undefined;
      if (s.kind === 'histogram') data = await histogramData(s.snap, histogramsIn, now, histogramDelta, this.#pause);
      else {
        const t = s.snap.family.monotonic ? countersIn : updownsIn;
        data = sumData(s.snap, t, now, t === delta ? sumDelta : undefined);
        budget -= s.snap.values.length;
        if (budget <= 0) {
          budget = COLLECT_SLICE;
          await this.#pause();
        }
      }
      if (data !== undefined) metrics.push(data);
    }
    if (histogramDelta !== undefined) histogramDelta.since = now;
    if (sumDelta !== undefined && (countersIn === delta || updownsIn === delta)) sumDelta.since = now;
    return { scope: this.#scope, metrics };
  }

  /** What the delta reader `reader` was given so far, made at its first delta collection. */
  #deltaOf(reader: object): DeltaState {
    let state = this.#delta.get(reader);
    if (state === undefined) {
      state = { histograms: { series: new WeakMap(), since: undefined }, sums: { series: new WeakMap(), since: undefined } };
      this.#delta.set(reader, state);
    }
    return state;
  }
}
