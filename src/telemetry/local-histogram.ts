/**
 * The histogram families, aggregated in process instead of in the SDK: a measurement adds 1 to its bucket
 * and the value to its series' sum, in a cell found by one string key (keyed-cells.ts), where an SDK
 * record hashes its attributes with a sort and a JSON.stringify and allocates on every call (about half
 * of what observing one MCP call cost, bench/micro/mcp.ts). Nothing is pre-aggregated away: the buckets,
 * sums and counts are the SDK's explicit-bucket aggregation, exactly (the same `le` rule: a value equal to
 * a boundary falls in that boundary's bucket; NaN, negative and non-number values are dropped, as the SDK
 * drops them).
 *
 * Every reader still sees them as ordinary OpenTelemetry metric data: each reader has a
 * {@link LateProducer} (exporters/late-producer.ts), which the MetricReader asks at every collection beside
 * the SDK; {@link LocalHistograms.collect} answers with the families' data points in the reader's
 * temporality (cumulative for Prometheus; cumulative or delta for OTLP, as its exporter prefers), taken at
 * the collection's hand-off point (hand-off.ts), the same instant the SDK reads its own storages, so one
 * collection shows every family at one instant.
 */
import { type Attributes, type HrTime, ValueType } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import {
  AggregationTemporality,
  DataPointType,
  type HistogramMetricData,
  type MetricDescriptor,
  type MetricData,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { ProducedSource } from '../exporters/late-producer.ts';
import { KeyedCells } from './keyed-cells.ts';

/** The index of the bucket of `value`: the first boundary `>= value`, or the last (+Inf) bucket (the SDK's `binarySearchUB`). */
export function bucketIndex(boundaries: readonly number[], value: number): number {
  let lo = 0;
  let hi = boundaries.length - 1;
  let index = boundaries.length;
  while (hi >= lo) {
    const mid = (lo + hi) >>> 1;
    if ((boundaries[mid] as number) < value) lo = mid + 1;
    else {
      index = mid;
      hi = mid - 1;
    }
  }
  return index;
}

/**
 * Whether the SDK would take `value` into a histogram series: a number, not negative. NaN is taken (the
 * series then exists) but, as in the SDK's aggregator, changes no bucket, sum or count.
 */
function recordable(value: number): boolean {
  return typeof value === 'number' && !(value < 0);
}

/** One series: its attributes (never changed once created), bucket counts, sum and count since it was made. */
export class HistogramCell {
  readonly attributes: Attributes;
  /** When the series began (its cumulative start time). */
  readonly startTime: HrTime;
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  /** Whether a measurement was taken (a series is exported from then on, as in the SDK, even if it was NaN). */
  taken = false;
  readonly #boundaries: readonly number[];

  constructor(boundaries: readonly number[], attributes: Attributes, startTime: HrTime) {
    this.#boundaries = boundaries;
    this.attributes = Object.freeze({ ...attributes });
    this.startTime = startTime;
    this.counts = new Float64Array(boundaries.length + 1);
  }

  record(value: number): void {
    if (!recordable(value)) return;
    this.taken = true;
    if (Number.isNaN(value)) return;
    this.count++;
    this.sum += value;
    const i = bucketIndex(this.#boundaries, value);
    this.counts[i] = (this.counts[i] as number) + 1;
  }
}

/** What one reader was last given of a series (delta temporality reports the difference). */
interface Reported {
  readonly counts: Float64Array;
  sum: number;
  count: number;
  /** Whether the series was reported once (a NaN-only series is reported once, at 0, as the SDK does). */
  taken: boolean;
}

/** One histogram family: its descriptor, boundaries and series. */
export class LocalHistogram<A extends Attributes = Attributes> {
  readonly descriptor: MetricDescriptor;
  readonly boundaries: readonly number[];
  /** Series in the order they were made: the order of their data points. */
  readonly cells: HistogramCell[] = [];
  readonly #keyed: KeyedCells<HistogramCell>;

  constructor(name: string, description: string, unit: string, boundaries: readonly number[], now: () => HrTime) {
    this.descriptor = { name, description, unit, valueType: ValueType.DOUBLE };
    this.boundaries = Object.freeze([...boundaries]);
    this.#keyed = new KeyedCells((attributes) => {
      const cell = new HistogramCell(this.boundaries, attributes, now());
      this.cells.push(cell);
      return cell;
    });
  }

  /** The series of `attributes` (label values bounded by the caller), made on first use; callers may keep it. */
  cell(attributes: A): HistogramCell {
    return this.#keyed.get(attributes);
  }

  /** Records `value` in the series of `attributes`. */
  record(value: number, attributes: A): void {
    // Checked first so that a series' labels are written as its first recorded measurement wrote them (as in the SDK).
    if (recordable(value)) this.#keyed.get(attributes).record(value);
  }
}

/** A family's data points in one reader's temporality; `undefined` when it has none. */
function metricData(family: LocalHistogram, temporality: AggregationTemporality, now: HrTime, last: DeltaState | undefined): HistogramMetricData | undefined {
  const dataPoints: HistogramMetricData['dataPoints'] = [];
  const boundaries = [...family.boundaries];
  for (const cell of family.cells) {
    // A series exists from its first measurement, as in the SDK (a cell can be made before it has one).
    if (!cell.taken) continue;
    if (last === undefined) {
      dataPoints.push({
        attributes: cell.attributes,
        startTime: cell.startTime,
        endTime: now,
        value: { min: undefined, max: undefined, sum: cell.sum, count: cell.count, buckets: { boundaries, counts: Array.from(cell.counts) } },
      });
      continue;
    }
    let reported = last.series.get(cell);
    if (reported === undefined) last.series.set(cell, (reported = { counts: new Float64Array(cell.counts.length), sum: 0, count: 0, taken: false }));
    if (reported.count === cell.count && reported.taken) continue;
    reported.taken = true;
    const counts = new Array<number>(cell.counts.length);
    for (let i = 0; i < counts.length; i++) {
      counts[i] = (cell.counts[i] as number) - (reported.counts[i] as number);
      reported.counts[i] = cell.counts[i] as number;
    }
    const sum = cell.sum - reported.sum;
    const count = cell.count - reported.count;
    reported.sum = cell.sum;
    reported.count = cell.count;
    const startTime = last.since === undefined || isBefore(last.since, cell.startTime) ? cell.startTime : last.since;
    dataPoints.push({
      attributes: cell.attributes,
      startTime,
      endTime: now,
      value: { min: undefined, max: undefined, sum, count, buckets: { boundaries, counts } },
    });
  }
  if (dataPoints.length === 0) return undefined;
  return { descriptor: family.descriptor, aggregationTemporality: temporality, dataPointType: DataPointType.HISTOGRAM, dataPoints };
}

function isBefore(a: HrTime, b: HrTime): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

/** A delta reader's state: what it was given of each series, and when it last collected. */
interface DeltaState {
  readonly series: WeakMap<HistogramCell, Reported>;
  since: HrTime | undefined;
}

/**
 * Every local histogram family of one meter, in the order they were declared, and the collection answer
 * every reader's {@link LateProducer} gets. Owned by the meter (provider.ts); families are declared by
 * Instruments, the only module that makes instruments.
 */
export class LocalHistograms implements ProducedSource {
  readonly #scope: InstrumentationScope;
  readonly #families: LocalHistogram[] = [];
  readonly #rank = new Map<string, number>();
  readonly #delta = new WeakMap<object, DeltaState>();
  readonly #now: () => HrTime;
  /** Resolves at the current collection's hand-off point (Instruments sets it; at once until then). */
  #point: () => Promise<void> = () => Promise.resolve();

  /** @param scope the meter's instrumentation scope: the data points are reported in it. */
  constructor(scope: InstrumentationScope, now: () => HrTime = () => millisToHrTime(Date.now())) {
    this.#scope = scope;
    this.#now = now;
  }

  /** A new family (Instruments declares each histogram of the catalog once). */
  family<A extends Attributes>(name: string, description: string, unit: string, boundaries: readonly number[]): LocalHistogram<A> {
    const family = new LocalHistogram<A>(name, description, unit, boundaries, this.#now);
    this.#families.push(family);
    return family;
  }

  /** The order of every instrument of the meter (SDK ones included), by name: merged scopes are written in it. */
  order(names: readonly string[]): void {
    for (const name of names) if (!this.#rank.has(name)) this.#rank.set(name, this.#rank.size);
  }

  /** Where the snapshot of a collection is taken: after `point()` resolves (Instruments: the hand-off's final block). */
  synchronizeWith(point: () => Promise<void>): void {
    this.#point = point;
  }

  rank(name: string): number | undefined {
    return this.#rank.get(name);
  }

  async collect(reader: object, temporality: AggregationTemporality): Promise<ScopeMetrics> {
    await this.#point();
    const now = this.#now();
    let last: DeltaState | undefined;
    if (temporality === AggregationTemporality.DELTA) {
      last = this.#delta.get(reader);
      if (last === undefined) this.#delta.set(reader, (last = { series: new WeakMap(), since: undefined }));
    }
    const metrics: MetricData[] = [];
    for (const family of this.#families) {
      const data = metricData(family, temporality, now, last);
      if (data !== undefined) metrics.push(data);
    }
    if (last !== undefined) last.since = now;
    return { scope: this.#scope, metrics };
  }
}
