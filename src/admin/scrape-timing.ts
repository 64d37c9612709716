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
 *
 * The line also gives where the long turns were ({@link ScrapeTimingLine.longTurns}): their start on the
 * monotonic clock that V8's CPU profiles use, so that a profile taken meanwhile (`--cpu-prof`) tells what
 * ran in each of them (bench/scrape-turns.ts reads the two together).
 */
import type { ScrapeAnswer, ScrapeTimer } from './server.ts';

/** The log line's event name. */
export const SCRAPE_TIMING_EVENT = 'scrape_timing';

/** Turns at least this long are listed in {@link ScrapeTimingLine.longTurns} (ms). */
export const LONG_TURN_MS = 1;

/** At most this many long turns are listed per answer (the longest are kept). */
export const MAX_LONG_TURNS = 32;

/** One long turn: its start in microseconds of the monotonic clock (`process.hrtime`), and its length in ms. */
export type LongTurn = readonly [startUs: number, ms: number];

/** What one line says (milliseconds rounded to 0.01). */
export interface ScrapeTimingLine {
  readonly event: typeof SCRAPE_TIMING_EVENT;
  readonly format: ScrapeAnswer['format'];
  readonly gzip: boolean;
  readonly complete: boolean;
  readonly slices: number;
  /** Of those, the gzip slices written as the last complete answer had them compressed (gzip-pieces.ts). */
  readonly reusedSlices?: number;
  readonly durationMs: number;
  /** The longest turn of the event loop from the request's arrival at the handler to the answer's end. */
  readonly longestTurnMs: number;
  /** The turns of at least {@link LONG_TURN_MS} in that time, in order (the longest {@link MAX_LONG_TURNS}). */
  readonly longTurns: readonly LongTurn[];
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

/** A `scrape_timing` line read back from the log (`j`: one parsed JSON log line), if `j` is one. Pure. */
export function readTimingLine(j: unknown): ScrapeTimingLine | undefined {
  if (typeof j !== 'object' || j === null) return undefined;
  const get = (key: string): unknown => Reflect.get(j, key);
  if (get('event') !== SCRAPE_TIMING_EVENT) return undefined;
  const turns = get('longTurns');
  const longTurns: LongTurn[] = [];
  if (Array.isArray(turns))
    for (const t of turns) {
      if (Array.isArray(t) && typeof t[0] === 'number' && typeof t[1] === 'number') longTurns.push([t[0], t[1]]);
    }
  return {
    event: SCRAPE_TIMING_EVENT,
    format: get('format') === 'openmetrics' ? 'openmetrics' : 'text',
    gzip: get('gzip') === true,
    complete: get('complete') === true,
    slices: Number(get('slices')),
    ...(typeof get('reusedSlices') === 'number' ? { reusedSlices: Number(get('reusedSlices')) } : {}),
    durationMs: Number(get('durationMs')),
    longestTurnMs: Number(get('longestTurnMs')),
    longTurns,
  };
}

/** The longest turn seen while it was open, and the long ones. */
interface Window {
  longest: number;
  readonly long: LongTurn[];
}

/** The monotonic clock of CPU profiles, in microseconds. */
const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** A turn of `ms` that has just ended, if it is long enough to list. */
function longTurnOf(ms: number): LongTurn | undefined {
  return ms >= LONG_TURN_MS ? [Math.round(monotonicUs() - ms * 1000), round(ms)] : undefined;
}

/** Adds `turn` to `long`, keeping the longest {@link MAX_LONG_TURNS}. */
function keep(long: LongTurn[], turn: LongTurn): void {
  if (long.length < MAX_LONG_TURNS) {
    long.push(turn);
    return;
  }
  let shortest = 0;
  for (let i = 1; i < long.length; i++) if ((long[i] as LongTurn)[1] < (long[shortest] as LongTurn)[1]) shortest = i;
  if ((long[shortest] as LongTurn)[1] < turn[1]) long.splice(shortest, 1, turn);
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
    const long = longTurnOf(turn);
    for (const w of this.#open) {
      if (turn > w.longest) w.longest = turn;
      if (long !== undefined) keep(w.long, long);
    }
    if (this.#open.size > 0) setImmediate(this.#beat);
    else this.#beating = false;
  };

  constructor(log: (line: ScrapeTimingLine) => void) {
    this.#log = log;
  }

  /** Call when a /metrics request reaches its handler; call what it returns with the answer once it has ended. */
  start(): (answer: ScrapeAnswer | undefined) => void {
    const w: Window = { longest: 0, long: [] };
    this.#open.add(w);
    if (!this.#beating) {
      this.#beating = true;
      this.#last = performance.now();
      setImmediate(this.#beat);
    }
    return (answer) => {
      // The turn in progress (the one that ended the answer) counts too.
      const turn = performance.now() - this.#last;
      w.longest = Math.max(w.longest, turn);
      const long = longTurnOf(turn);
      if (long !== undefined) keep(w.long, long);
      this.#open.delete(w);
      if (answer === undefined) return;
      this.#log({
        event: SCRAPE_TIMING_EVENT,
        format: answer.format,
        gzip: answer.gzip,
        complete: answer.complete,
        slices: answer.slices,
        ...(answer.reused === undefined ? {} : { reusedSlices: answer.reused }),
        durationMs: round(answer.durationMs),
        longestTurnMs: round(w.longest),
        longTurns: w.long.sort((a, b) => a[0] - b[0]),
      });
    };
  }
}
