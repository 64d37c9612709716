/**
 * A counter (or up/down counter) whose increments are summed in process, per series, and added to its OpenTelemetry counter at
 * the start of every collection ({@link Instruments.beforeCollect}), so that a request costs an integer
 * increment instead of an SDK record (which hashes the attributes with sort and JSON.stringify on every
 * call: ~0.4 µs). Values stay exact: every collection, and so every scrape and OTLP export, sees every
 * increment made before it; the SDK remains the only place that aggregates and exports.
 */
import type { Attributes, Counter, UpDownCounter } from '@opentelemetry/api';
import type { Instruments } from './instruments.ts';
import { KeyedCells } from './keyed-cells.ts';

/** One series: its attributes (never changed once created) and the increments not yet added to the SDK (negative for an up/down counter going down). */
export interface CounterCell {
  readonly attributes: Attributes;
  pending: number;
}

export class BatchedCounter {
  readonly #counter: Counter | UpDownCounter;
  readonly #cells: CounterCell[] = [];
  readonly #keyed = new KeyedCells((attributes) => this.cell(attributes));

  /** `counter` must not be recorded elsewhere with the same attributes (it would still be exact, just not batched). */
  constructor(instruments: Instruments, counter: Counter | UpDownCounter) {
    this.#counter = counter;
    instruments.beforeCollect(
      () => this.flush(),
      () => this.steps(),
    );
  }

  /**
   * A new series, which exists from now on (as the SDK's would after its first record, even if its
   * increments later add up to 0). Create it when its first increment happens; callers keep the cell (one
   * per distinct attribute set, from bounded label values) and change `pending`. Two cells with equal
   * attributes are allowed and stay exact.
   */
  cell(attributes: Attributes): CounterCell {
    const cell: CounterCell = { attributes: Object.freeze({ ...attributes }), pending: 0 };
    this.#counter.add(0, cell.attributes);
    this.#cells.push(cell);
    return cell;
  }

  /** The one cell of `attributes`, made on first use: for callers that do not keep their cells. */
  cellOf(attributes: Attributes): CounterCell {
    return this.#keyed.get(attributes);
  }

  /** Adds pending increments series by series, yielding 1 for each SDK record (hand-off.ts slices the collection with it). */
  *steps(): Generator<number> {
    const cells = this.#cells;
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i] as CounterCell;
      if (cell.pending === 0) continue;
      const n = cell.pending;
      cell.pending = 0;
      this.#counter.add(n, cell.attributes);
      yield 1;
    }
  }

  /** Adds every pending increment to the SDK counter. */
  flush(): void {
    const cells = this.#cells;
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i] as CounterCell;
      if (cell.pending === 0) continue;
      const n = cell.pending;
      cell.pending = 0;
      this.#counter.add(n, cell.attributes);
    }
  }
}
