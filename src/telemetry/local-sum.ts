/**
 * The counter and up/down counter families, summed in process instead of in the SDK: an increment adds to
 * its series' cell, found once by its attributes (keyed-cells.ts) and usually kept by the caller, where an
 * SDK record hashes the attributes with a sort and a JSON.stringify on every call. The sums are the SDK's
 * sum aggregation, exactly: a counter drops negative values, both kinds drop values that are not numbers
 * (and the series does not begin then), a series exists from its first `add` (of 0 too) and is exported
 * from then on, cumulative from the moment it began.
 *
 * Like the histograms (local-histogram.ts), the families are read by every reader through its
 * {@link LateProducer} (exporters/late-producer.ts), in the reader's temporality for the family's kind:
 * a collection copies every value into one flat array at one instant (local-metrics.ts) and builds the
 * data points from the copy. So the SDK reads no synchronous instrument at all: its part of a collection
 * is the observable gauges.
 */
import { type Attributes, type Context, type Counter, type HrTime, type UpDownCounter, ValueType } from '@opentelemetry/api';
import { type AggregationTemporality, DataPointType, type MetricDescriptor, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { type DeltaState, deltaStart } from './delta.ts';
import { KeyedCells } from './keyed-cells.ts';

/** One series: its attributes (never changed once created), when it began and its value since then. */
export class SumCell {
  readonly attributes: Attributes;
  /** When the series began (its cumulative start time). */
  readonly startTime: HrTime;
  /**
   * The series' value. Callers that keep the cell change it directly (`cell.value++`); a counter's callers
   * only ever add (what {@link LocalSum.add} checks for others).
   */
  value = 0;

  constructor(attributes: Attributes, startTime: HrTime) {
    this.attributes = Object.freeze({ ...attributes });
    this.startTime = startTime;
  }
}

/** One counter (`monotonic`) or up/down counter family: its descriptor and series. */
export class LocalSum<A extends Attributes = Attributes> implements Counter<A>, UpDownCounter<A> {
  readonly descriptor: MetricDescriptor;
  readonly monotonic: boolean;
  /** Series in the order they began: the order of their data points. */
  readonly cells: SumCell[] = [];
  readonly #keyed: KeyedCells<SumCell>;

  constructor(name: string, description: string, unit: string, monotonic: boolean, now: () => HrTime) {
    this.descriptor = { name, description, unit, valueType: ValueType.DOUBLE };
    this.monotonic = monotonic;
    this.#keyed = new KeyedCells((attributes) => {
      const cell = new SumCell(attributes, now());
      this.cells.push(cell);
      return cell;
    });
  }

  /** The one cell of `attributes` (label values bounded by the caller), begun at 0 on first use; callers may keep it. */
  cell(attributes: A): SumCell {
    return this.#keyed.get(attributes);
  }

  /** The OpenTelemetry API's `add`, with the SDK's checks; `context` is not used (no exemplars here). */
  add(value: number, attributes?: A, _context?: Context): void {
    if (typeof value !== 'number' || (this.monotonic && value < 0)) return;
    this.#keyed.get(attributes ?? {}).value += value;
  }
}

/** A family's values at one instant (a family only appends series). */
export interface SumSnapshot {
  readonly family: LocalSum;
  readonly values: Float64Array;
}

/** Copies `family`'s values as they are now (synchronous: one instant for every family of a collection). */
export function sumSnapshot(family: LocalSum): SumSnapshot {
  const cells = family.cells;
  const values = new Float64Array(cells.length);
  for (let i = 0; i < cells.length; i++) values[i] = (cells[i] as SumCell).value;
  return { family, values };
}

/** A delta reader's state for the sums: the value it was last given of each series. */
export type SumDelta = DeltaState<SumCell, number>;

/**
 * A family's data points from its snapshot, cumulative or (with `last`) the differences since that
 * reader's previous collection, a series that did not move left out; `undefined` when there is none.
 */
export function sumData(snap: SumSnapshot, temporality: AggregationTemporality, now: HrTime, last: SumDelta | undefined): SumMetricData | undefined {
  const { family, values } = snap;
  const dataPoints: SumMetricData['dataPoints'] = [];
  for (let i = 0; i < values.length; i++) {
    const cell = family.cells[i] as SumCell;
    const value = values[i] as number;
    if (last === undefined) {
      dataPoints.push({ attributes: cell.attributes, startTime: cell.startTime, endTime: now, value });
      continue;
    }
    const reported = last.series.get(cell);
    if (reported !== undefined && (reported === value || (Number.isNaN(reported) && Number.isNaN(value)))) continue;
    last.series.set(cell, value);
    const startTime = deltaStart(last.since, cell.startTime);
    dataPoints.push({ attributes: cell.attributes, startTime, endTime: now, value: value - (reported ?? 0) });
  }
  if (dataPoints.length === 0) return undefined;
  return { descriptor: family.descriptor, aggregationTemporality: temporality, dataPointType: DataPointType.SUM, dataPoints, isMonotonic: family.monotonic };
}
