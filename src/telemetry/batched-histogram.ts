/**
 * A histogram whose values are buffered in process, per series, and recorded into its OpenTelemetry
 * histogram in batches: when a series' buffer is full, and at the start of every collection
 * ({@link Instruments.beforeCollect}). Every value is recorded, exactly and in order, through the SDK's own
 * `record` (the API has no weighted record, so nothing is pre-aggregated); what changes is when: in a
 * tight loop, with the SDK's code and data hot in the caches, instead of one record at a time between
 * two proxied requests. Every collection sees every value recorded before it.
 *
 * With exemplars on (exemplars.ts), each series also has its exemplar reservoir, offered at record time
 * (when the measurement's span is known), not at flush.
 */
import type { Attributes, Histogram } from '@opentelemetry/api';
import type { BucketReservoir, FamilyReservoirs } from './exemplars.ts';
import type { Instruments } from './instruments.ts';

/** Values buffered per series before they are recorded. @default 128 */
export const HISTOGRAM_BATCH = 128;

/** One series: its attributes (never changed once created) and its buffered values. */
export class HistogramCell {
  readonly attributes: Attributes;
  /** The series' exemplar reservoir; `undefined` without exemplars (or past their series limit). */
  readonly exemplars: BucketReservoir | undefined;
  readonly #histogram: Histogram;
  readonly #values: Float64Array;
  #length = 0;

  constructor(histogram: Histogram, attributes: Attributes, batch: number, exemplars?: FamilyReservoirs<BucketReservoir>) {
    this.#histogram = histogram;
    this.attributes = Object.freeze({ ...attributes });
    this.#values = new Float64Array(batch);
    this.exemplars = exemplars?.of(this.attributes);
  }

  record(value: number): void {
    this.#values[this.#length++] = value;
    if (this.#length === this.#values.length) this.flush();
  }

  /** Records every buffered value into the SDK histogram; returns how many. */
  flush(): number {
    const n = this.#length;
    this.#length = 0;
    const values = this.#values;
    const histogram = this.#histogram;
    const attributes = this.attributes;
    for (let i = 0; i < n; i++) histogram.record(values[i] as number, attributes);
    return n;
  }
}

export class BatchedHistogram {
  readonly #histogram: Histogram;
  readonly #batch: number;
  readonly #exemplars: FamilyReservoirs<BucketReservoir> | undefined;
  readonly #cells: HistogramCell[] = [];

  /** @param exemplars the family's exemplar reservoirs, when exemplars are on. */
  constructor(instruments: Instruments, histogram: Histogram, batch = HISTOGRAM_BATCH, exemplars?: FamilyReservoirs<BucketReservoir>) {
    this.#histogram = histogram;
    this.#batch = batch;
    this.#exemplars = exemplars;
    instruments.beforeCollect(
      () => this.flush(),
      () => this.steps(),
    );
  }

  /** A new series; callers keep the cell (one per distinct attribute set, from bounded label values). */
  cell(attributes: Attributes): HistogramCell {
    const cell = new HistogramCell(this.#histogram, attributes, this.#batch, this.#exemplars);
    this.#cells.push(cell);
    return cell;
  }

  /** Records the buffered values series by series, yielding how many each series recorded (hand-off.ts slices the collection with it). */
  *steps(): Generator<number> {
    const cells = this.#cells;
    for (let i = 0; i < cells.length; i++) {
      const n = (cells[i] as HistogramCell).flush();
      if (n > 0) yield n;
    }
  }

  /** Records every buffered value of every series. */
  flush(): void {
    for (const cell of this.#cells) cell.flush();
  }
}
