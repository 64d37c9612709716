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
 * the SDK; `LocalMetrics.collect` (local-metrics.ts) answers with the data points of these families and of
 * the counters (local-sum.ts) in the reader's temporality (cumulative for Prometheus; cumulative or delta
 * for OTLP, as its exporter prefers), every family copied at one instant.
 */
import { type Attributes, type HrTime, ValueType } from '@opentelemetry/api';
import { type AggregationTemporality, DataPointType, type HistogramMetricData, type MetricDescriptor } from '@opentelemetry/sdk-metrics';
import { type DeltaState, deltaStart } from './delta.ts';
import { KeyedCells } from './keyed-cells.ts';

/**
 * Bucket counts a collection copies into data points between two yields to the event loop (a 15-bucket
 * series is 15: about 300 series per slice, well under a millisecond).
 */
export const COLLECT_SLICE = 5000;

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

/**
 * A family's state at one instant: every series' counts, sum, count and whether it was taken, copied into
 * flat arrays (one `set` per series), so the data points can be built later, in slices, from what the
 * family held at that instant while measurements go on.
 */
export interface HistogramSnapshot {
  readonly family: LocalHistogram;
  /** The series that existed at the instant (a family only appends). */
  readonly size: number;
  /** Buckets per series. */
  readonly stride: number;
  readonly counts: Float64Array;
  readonly sums: Float64Array;
  readonly totals: Float64Array;
  readonly taken: Uint8Array;
}

/** Copies `family`'s series as they are now (synchronous: one instant for every family of a collection). */
export function histogramSnapshot(family: LocalHistogram): HistogramSnapshot {
  const size = family.cells.length;
  const stride = family.boundaries.length + 1;
  const counts = new Float64Array(size * stride);
  const sums = new Float64Array(size);
  const totals = new Float64Array(size);
  const taken = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    const cell = family.cells[i] as HistogramCell;
    if (!cell.taken) continue;
    taken[i] = 1;
    counts.set(cell.counts, i * stride);
    sums[i] = cell.sum;
    totals[i] = cell.count;
  }
  return { family, size, stride, counts, sums, totals, taken };
}

/**
 * A family's data points in one reader's temporality, from its snapshot; `undefined` when it has none.
 * Yields to the event loop (`pause`) whenever {@link COLLECT_SLICE} bucket counts were copied since the last yield.
 */
export async function histogramData(
  snap: HistogramSnapshot,
  temporality: AggregationTemporality,
  now: HrTime,
  last: HistogramDelta | undefined,
  pause: () => Promise<void>,
): Promise<HistogramMetricData | undefined> {
  const { family, stride } = snap;
  const dataPoints: HistogramMetricData['dataPoints'] = [];
  const boundaries = [...family.boundaries];
  let budget = COLLECT_SLICE;
  for (let i = 0; i < snap.size; i++) {
    // A series exists from its first measurement, as in the SDK (a cell can be made before it has one).
    if (snap.taken[i] === 0) continue;
    budget -= stride;
    if (budget <= 0) {
      budget = COLLECT_SLICE;
      await pause();
    }
    const cell = family.cells[i] as HistogramCell;
    const counts = snap.counts.subarray(i * stride, (i + 1) * stride);
    const sum = snap.sums[i] as number;
    const count = snap.totals[i] as number;
    if (last === undefined) {
      // A loop, not Array.from: that goes through the typed array's iterator, several times slower.
      const copy = new Array<number>(stride);
      for (let b = 0; b < stride; b++) copy[b] = counts[b] as number;
      dataPoints.push({
        attributes: cell.attributes,
        startTime: cell.startTime,
        endTime: now,
        value: { min: undefined, max: undefined, sum, count, buckets: { boundaries, counts: copy } },
      });
      continue;
    }
    let reported = last.series.get(cell);
    if (reported === undefined) last.series.set(cell, (reported = { counts: new Float64Array(stride), sum: 0, count: 0, taken: false }));
    if (reported.count === count && reported.taken) continue;
    reported.taken = true;
    const delta = new Array<number>(stride);
    for (let b = 0; b < stride; b++) {
      delta[b] = (counts[b] as number) - (reported.counts[b] as number);
      reported.counts[b] = counts[b] as number;
    }
    const startTime = deltaStart(last.since, cell.startTime);
    dataPoints.push({
      attributes: cell.attributes,
      startTime,
      endTime: now,
      value: { min: undefined, max: undefined, sum: sum - reported.sum, count: count - reported.count, buckets: { boundaries, counts: delta } },
    });
    reported.sum = sum;
    reported.count = count;
  }
  if (dataPoints.length === 0) return undefined;
  return { descriptor: family.descriptor, aggregationTemporality: temporality, dataPointType: DataPointType.HISTOGRAM, dataPoints };
}

/** A delta reader's state for the histograms. */
export type HistogramDelta = DeltaState<HistogramCell, Reported>;
