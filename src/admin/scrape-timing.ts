/**
 * A debugging aid, off by default (`--debug-scrape-timing`): one log line per /metrics answer with a body,
 * saying how long it took, in how many slices it was written, and the longest turn of the event loop while
 * it was being collected and written — the longest time a proxied request arriving then could have waited
 * for the process. The bench (bench/scenarios/scrape.ts) reads these lines to report what a scrape costs
 * the event loop, measured inside the process under test.
 *
 * The turns are measured by a heartbeat: a `setImmediate` callback that reschedules itself while an answer
 * is open and notes the time between two of its runs (one turn of the loop, with whatever ran in it: the
 * scrape's own slices, I/O callbacks, garbage collection). Microsecond resolution, unlike a timer-based
 * delay monitor, whose 1 ms timer can neither see a block shorter than its interval nor place one. The
 * heartbeat keeps the loop from sleeping while an answer is open (it spins), which costs CPU during every
 * scrape: hence a debugging option, not one to run in production. Time the process spends descheduled by
 * the kernel counts as a long turn too (on a busy machine every figure is an upper bound).
 */
import type { ScrapeAnswer, ScrapeTimer } from './server.ts';

/** The log line's event name. */
export const SCRAPE_TIMING_EVENT = 'scrape_timing';

/** What one line says (milliseconds rounded to 0.01). */
export interface ScrapeTimingLine {
  readonly event: typeof SCRAPE_TIMING_EVENT;
  readonly format: ScrapeAnswer['format'];
  readonly gzip: boolean;
  readonly complete: boolean;
  readonly slices: number;
  readonly durationMs: number;
  /** The longest turn of the event loop from the request's arrival at the handler to the answer's end. */
  readonly longestTurnMs: number;
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

/** The longest turn seen while it was open. */
interface Window {
  longest: number;
}

export class ScrapeTimings implements ScrapeTimer {
  readonly #log: (line: ScrapeTimingLine) => void;
  readonly #open = new Set<Window>();
  #last = 0;
  #beating = false;
  readonly #beat = (): void => {
    const now = performance.now();
    const turn = now - this.#last;
    this.#last = now;
    for (const w of this.#open) if (turn > w.longest) w.longest = turn;
    if (this.#open.size > 0) setImmediate(this.#beat);
    else this.#beating = false;
  };

  constructor(log: (line: ScrapeTimingLine) => void) {
    this.#log = log;
  }

  /** Call when a /metrics request reaches its handler; call what it returns with the answer once it has ended. */
  start(): (answer: ScrapeAnswer | undefined) => void {
    const w: Window = { longest: 0 };
    this.#open.add(w);
    if (!this.#beating) {
      this.#beating = true;
      this.#last = performance.now();
      setImmediate(this.#beat);
    }
    return (answer) => {
      // The turn in progress (the one that ended the answer) counts too.
      w.longest = Math.max(w.longest, performance.now() - this.#last);
      this.#open.delete(w);
      if (answer === undefined) return;
      this.#log({
        event: SCRAPE_TIMING_EVENT,
        format: answer.format,
        gzip: answer.gzip,
        complete: answer.complete,
        slices: answer.slices,
        durationMs: round(answer.durationMs),
        longestTurnMs: round(w.longest),
      });
    };
  }
}
