/**
 * What the batched recorders (batched-counter.ts) hand to the SDK at every
 * collection, done in slices: with traffic spread over many series, a collection can find tens of
 * thousands of buffered values (up to 127 per histogram series, plus every counter cell that moved), and
 * recording them all at once would block the event loop for tens of milliseconds.
 *
 * {@link HandOffs.run} runs at the start of every collection (Instruments.beforeCollect: one batch
 * observable callback, which the SDK awaits before it reads any storage). It first hands pending work over
 * piece by piece, yielding to the event loop whenever {@link HAND_OFF_SLICE} SDK records have been made
 * since the last yield, and then calls every recorder's `flush` in one synchronous block: what arrived
 * during the yields is handed over there, and the SDK reads its storages right after it, with only
 * microtasks in between. So a collection still sees every measurement made before that block, of every
 * family at once, and no I/O runs between the last hand-off and the read: a family is never torn, and
 * counts are exact. The slices only move earlier the work that the final block would otherwise do.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

/** SDK records made between two yields to the event loop (~0.3–0.8 µs each: at most about 0.5 ms per slice). */
export const HAND_OFF_SLICE = 500;

/** One recorder's hand-off. */
export interface HandOff {
  /** Hands everything pending to the SDK, at once (the final block of a collection). */
  flush(): void;
  /**
   * Hands pending work over piece by piece: each step hands one piece (e.g. one series) and yields how many
   * SDK records it made. Optional; without it, all the work is done by {@link flush}.
   */
  steps?(): Iterable<number>;
}

export class HandOffs {
  readonly #handOffs: HandOff[] = [];
  readonly #slice: number;
  readonly #yield: () => Promise<unknown>;
  /** The latest collection's hand-off, settled once its final block has run. */
  #latest: Promise<void> = Promise.resolve();

  /** @param yieldToLoop how to let the event loop run (tests count the calls). */
  constructor(slice = HAND_OFF_SLICE, yieldToLoop: () => Promise<unknown> = () => nextTurn()) {
    this.#slice = slice;
    this.#yield = yieldToLoop;
  }

  add(handOff: HandOff): void {
    this.#handOffs.push(handOff);
  }

  get size(): number {
    return this.#handOffs.length;
  }

  /** The hand-off of one collection: the steps, in slices of about {@link HAND_OFF_SLICE} records, then every flush at once. */
  run(): Promise<void> {
    const run = this.#run();
    this.#latest = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * Settles right after the final block of the latest collection's hand-off, failed or not. A reader asks
   * the SDK first and its other producers after, in one synchronous step, so a producer that waits for this
   * reads its data in the microtasks after that block, with no I/O in between (local-histogram.ts).
   */
  settled(): Promise<void> {
    return this.#latest;
  }

  async #run(): Promise<void> {
    let made = 0;
    for (const handOff of this.#handOffs) {
      if (handOff.steps === undefined) continue;
      for (const records of handOff.steps()) {
        made += records;
        if (made >= this.#slice) {
          made = 0;
          await this.#yield();
        }
      }
    }
    this.flush();
  }

  /** Every recorder's flush, in one synchronous block. */
  flush(): void {
    for (const handOff of this.#handOffs) handOff.flush();
  }
}
