import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HEADER_HOLD_MS, HeaderHold, type HeldHeaders } from '../../src/proxy/header-hold.ts';

function held(log: string[], name: string, fail = false): HeldHeaders {
  return {
    flushIfSilent() {
      log.push(name);
      if (fail) throw new Error('refused');
    },
  };
}

describe('the hold of event-stream headers', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('flushes a held stream no sooner than one period and no later than two', () => {
    const log: string[] = [];
    const hold = new HeaderHold(HEADER_HOLD_MS);
    hold.hold(held(log, 'a'));
    vi.advanceTimersByTime(HEADER_HOLD_MS);
    expect(log).toEqual([]);
    vi.advanceTimersByTime(HEADER_HOLD_MS);
    expect(log).toEqual(['a']);
    expect(hold.size).toBe(0);
  });

  it('holds a stream added just before the timer fires a whole period more, not a moment', () => {
    const log: string[] = [];
    const hold = new HeaderHold(10);
    hold.hold(held(log, 'early'));
    vi.advanceTimersByTime(9);
    hold.hold(held(log, 'late'));
    vi.advanceTimersByTime(1);
    expect(log).toEqual([]);
    vi.advanceTimersByTime(10);
    expect(log).toEqual(['early', 'late']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('arms one timer for many streams, and none once nothing is held', () => {
    const log: string[] = [];
    const hold = new HeaderHold(5);
    for (let i = 0; i < 1000; i++) hold.hold(held(log, String(i)));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(10);
    expect(log).toHaveLength(1000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('flushes the other streams when one of them throws', () => {
    const log: string[] = [];
    const hold = new HeaderHold(1);
    hold.hold(held(log, 'a'));
    hold.hold(held(log, 'broken', true));
    hold.hold(held(log, 'c'));
    vi.advanceTimersByTime(2);
    expect(log).toEqual(['a', 'broken', 'c']);
  });
});
