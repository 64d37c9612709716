import { describe, expect, it } from 'vitest';
import { LONG_TURN_MS, MAX_LONG_TURNS, readTimingLine, SCRAPE_TIMING_EVENT, ScrapeTimings, type ScrapeTimingLine } from '../../src/admin/scrape-timing.ts';
import type { ScrapeAnswer } from '../../src/admin/server.ts';

const ANSWER: ScrapeAnswer = { format: 'text', gzip: false, complete: true, slices: 3, durationMs: 12.5 };
const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Holds the event loop for `ms` (a turn at least that long). */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

/** Times one answer during which `turns` turns each block the loop for `ms`. */
async function timed(turns: number, ms: number): Promise<{ line: ScrapeTimingLine; fromUs: number; toUs: number }> {
  const lines: ScrapeTimingLine[] = [];
  const timings = new ScrapeTimings((l) => lines.push(l));
  const fromUs = nowUs();
  const end = timings.start();
  for (let i = 0; i < turns; i++) {
    await nextTurn();
    block(ms);
  }
  await nextTurn();
  end(ANSWER);
  const toUs = nowUs();
  const line = lines[0];
  if (line === undefined || lines.length !== 1) throw new Error(`expected one line, got ${lines.length}`);
  return { line, fromUs, toUs };
}

describe('--debug-scrape-timing lines', () => {
  it('places a turn that blocked the loop on the monotonic clock of CPU profiles', async () => {
    const { line, fromUs, toUs } = await timed(1, 6);
    expect(line.longestTurnMs).toBeGreaterThanOrEqual(6);
    const blocked = line.longTurns.filter(([, ms]) => ms >= 6);
    expect(blocked.length).toBeGreaterThanOrEqual(1);
    for (const [startUs, ms] of line.longTurns) {
      expect(ms).toBeGreaterThanOrEqual(LONG_TURN_MS);
      expect(startUs).toBeGreaterThanOrEqual(fromUs - 1);
      expect(startUs + ms * 1000).toBeLessThanOrEqual(toUs + 1);
    }
  });

  it('lists at most the longest turns, in the order they happened', async () => {
    const { line } = await timed(MAX_LONG_TURNS + 8, 1.5);
    expect(line.longTurns).toHaveLength(MAX_LONG_TURNS);
    const starts = line.longTurns.map(([startUs]) => startUs);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    for (const [, ms] of line.longTurns) expect(ms).toBeGreaterThanOrEqual(1.5);
  });

  it('reads a logged line back as it was written, and nothing from other lines', async () => {
    const { line } = await timed(2, 2);
    expect(readTimingLine(JSON.parse(JSON.stringify(line)))).toEqual(line);
    expect(readTimingLine({ event: 'listening' })).toBeUndefined();
    expect(readTimingLine(undefined)).toBeUndefined();
    const garbled = readTimingLine({ event: SCRAPE_TIMING_EVENT, format: 'gopher', longTurns: [[1, 2], 'x', [3], [4, '5'], null] });
    expect(garbled?.format).toBe('text');
    expect(garbled?.longTurns).toEqual([[1, 2]]);
  });
});
