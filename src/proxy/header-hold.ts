/**
 * The headers of event streams, held back for a moment. A proxy that writes an answer's headers the moment
 * they arrive sends them alone whenever the upstream's first event comes in a read of its own, which is
 * how most MCP servers answer a streamable-HTTP `tools/call` (headers flushed, the event a few hundred
 * microseconds later): one more write and one more segment per call than a proxy that waits for the body.
 * A proxy that waits for the body never shows a silent stream's headers at all. So the headers of an
 * event stream whose body has not started go out with its first chunk, or after {@link HEADER_HOLD_MS}
 * at the latest, on their own.
 *
 * One timer for every held stream, in two generations: a stream held during one period is flushed at the
 * end of the next, so each is held at least one period and at most two (plus the timer's lateness), and a
 * proxy with thousands of streams opening arms one timer, not thousands.
 */

/** What is held: its {@link HeldHeaders.flushIfSilent} sends the headers unless the body already carried them. */
export interface HeldHeaders {
  flushIfSilent(): void;
}

/**
 * The shortest hold of an event stream's headers, ms (the longest is twice as long). 1 ms covered an idle
 * upstream's gap between headers and first event, not a loaded one's: with the composer sharing its core,
 * 19–57 % of streamable-HTTP answers still left as two writes, and the timer fired about twice per call.
 * At 10 ms, 2–5 % (see docs/performance.md). @default 10
 */
export const HEADER_HOLD_MS = 10;

export class HeaderHold {
  readonly #periodMs: number;
  /** Held during the current period: flushed at the end of the next one. */
  #young: HeldHeaders[] = [];
  /** Held during the previous period: flushed when the timer fires. */
  #old: HeldHeaders[] = [];
  #timer: NodeJS.Timeout | undefined = undefined;

  /** @param periodMs the hold's period. @default HEADER_HOLD_MS */
  constructor(periodMs: number = HEADER_HOLD_MS) {
    this.#periodMs = periodMs;
  }

  /** Streams held now. */
  get size(): number {
    return this.#young.length + this.#old.length;
  }

  /** Holds `h`'s headers until the end of the next period. */
  hold(h: HeldHeaders): void {
    this.#young.push(h);
    if (this.#timer === undefined) this.#arm();
  }

  #arm(): void {
    this.#timer = setTimeout(this.#tick, this.#periodMs);
    this.#timer.unref();
  }

  readonly #tick = (): void => {
    const due = this.#old;
    this.#old = this.#young;
    this.#young = [];
    this.#timer = undefined;
    if (this.#old.length > 0) this.#arm();
    // One stream's failure must not keep the others' headers back (flushIfSilent is not expected to throw).
    for (const h of due) {
      try {
        h.flushIfSilent();
      } catch {
        // A response Node refuses to flush is closed by its own error path.
      }
    }
  };
}
