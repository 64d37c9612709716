/**
 * A debugging aid, off by default (`--debug-scrape-timing`): one log line per /metrics answer with a body,
 * saying how long it took, in how many slices it was written, and the longest event-loop delay since the
 * previous answer (or since start-up). The bench (bench/scenarios/scrape.ts) reads these lines to report
 * what a scrape costs the event loop, measured inside the process under test.
 *
 * The delay comes from `perf_hooks.monitorEventLoopDelay` with a 1 ms timer, enabled only while the option
 * is on (about 1,000 wake-ups a second): its maximum is the longest interval between two of the timer's
 * callbacks, so the longest block of the event loop lies between that figure less 1 ms and that figure.
 * The window runs from one answer's end to the next's, so that the timer has ticked before a scrape begins
 * (the first interval after a reset is not measured); with scrapes overlapping, a line covers all of them.
 */
import { monitorEventLoopDelay, type ELDHistogram } from 'node:perf_hooks';
import type { ScrapeAnswer } from './server.ts';

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
  /** Longest interval between two 1 ms timer callbacks since the previous line: the longest block is at most this, and at least this less 1 ms. */
  readonly loopDelayMaxMs: number;
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

export class ScrapeTimings {
  readonly #delay: ELDHistogram;
  readonly #log: (line: ScrapeTimingLine) => void;

  constructor(log: (line: ScrapeTimingLine) => void) {
    this.#log = log;
    this.#delay = monitorEventLoopDelay({ resolution: 1 });
    this.#delay.enable();
  }

  /** Logs `answer` with the longest delay since the previous one, and starts the next window. */
  record(answer: ScrapeAnswer): void {
    const max = this.#delay.count === 0 ? 0 : this.#delay.max / 1e6;
    this.#delay.reset();
    this.#log({
      event: SCRAPE_TIMING_EVENT,
      format: answer.format,
      gzip: answer.gzip,
      complete: answer.complete,
      slices: answer.slices,
      durationMs: round(answer.durationMs),
      loopDelayMaxMs: round(max),
    });
  }

  stop(): void {
    this.#delay.disable();
  }
}
