/**
 * The sliced hand-off of batched recorders to the SDK at each collection (telemetry/hand-off.ts): slices
 * bounded in SDK records, every flush in one final block; and, on the real SDK with traffic running
 * between the slices, collections that stay exact, never tear a family and never go backwards.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { PrometheusScraper } from '../../src/exporters/prometheus.ts';
import { BatchedCounter } from '../../src/telemetry/batched-counter.ts';
import { HandOffs } from '../../src/telemetry/hand-off.ts';
import { Instruments } from '../../src/telemetry/instruments.ts';
import { createMeterProvider } from '../../src/telemetry/provider.ts';
import { histogram, parseExposition, value } from '../fixtures/scrape.ts';

/** A recorder whose pieces make `records` SDK records each; logs what happens, in order. */
function recorder(name: string, pieces: readonly number[], log: string[]) {
  return {
    flush: () => log.push(`flush ${name}`),
    *steps(): Generator<number> {
      for (const n of pieces) {
        log.push(`${n}`);
        yield n;
      }
    },
  };
}

describe('HandOffs', () => {
  it('yields to the event loop after every slice of records, each slice at most one piece over', async () => {
    const log: string[] = [];
    const handOffs = new HandOffs(100, async () => log.push('yield'));
    handOffs.add(
      recorder(
        'a',
        Array.from({ length: 500 }, (_, i) => 1 + (i % 7)),
        log,
      ),
    );
    handOffs.add(
      recorder(
        'b',
        Array.from({ length: 300 }, () => 3),
        log,
      ),
    );
    await handOffs.run();
    const slices: number[] = [];
    let made = 0;
    for (const entry of log) {
      if (entry === 'yield') {
        slices.push(made);
        made = 0;
      } else if (!entry.startsWith('flush')) made += Number(entry);
    }
    expect(slices.length).toBeGreaterThan(20);
    for (const s of slices) {
      expect(s).toBeGreaterThanOrEqual(100);
      expect(s).toBeLessThanOrEqual(100 + 7 - 1);
    }
  });

  it('flushes every recorder after the last step, in one block with no yield between', async () => {
    const log: string[] = [];
    const handOffs = new HandOffs(10, async () => log.push('yield'));
    handOffs.add(recorder('a', [6, 6, 6], log));
    handOffs.add({ flush: () => log.push('flush plain') });
    handOffs.add(recorder('b', [20], log));
    await handOffs.run();
    expect(log.slice(-3)).toEqual(['flush a', 'flush plain', 'flush b']);
    expect(log.filter((e) => e === 'yield').length).toBe(2);
  });

  it('does not yield when the pending work is less than one slice', async () => {
    const log: string[] = [];
    const handOffs = new HandOffs(1000, async () => log.push('yield'));
    handOffs.add(recorder('a', [100, 200, 300], log));
    await handOffs.run();
    expect(log).not.toContain('yield');
    expect(log[log.length - 1]).toBe('flush a');
  });
});

describe('collections with the hand-off in slices, during traffic', () => {
  it('are exact, never tear a family, and never go backwards for any scraper, however they overlap', async () => {
    const scraper = new PrometheusScraper();
    const { provider, meter } = createMeterProvider({ readers: [scraper.reader], version: 'test' });
    // Small slices: every collection below yields to the traffic many times before its final block.
    const instruments = new Instruments(meter, { maxLabelValues: 1000, handOffSlice: 5 });
    const requests = new BatchedCounter(instruments, instruments.counter('mcp_http_requests_total'));
    const durations = instruments.histogram('mcp_http_request_duration_seconds');
    const a = requests.cell({ method: 'GET', endpoint: '/a', status_code: '200' });
    const b = requests.cell({ method: 'GET', endpoint: '/b', status_code: '200' });
    const d = durations.cell({ method: 'GET', endpoint: '/a' });
    const filler = Array.from({ length: 200 }, (_, i) => requests.cell({ method: 'POST', endpoint: `/f${i}`, status_code: '200' }));

    // Traffic: each turn of the event loop counts one request on /a and /b (same family) and one duration
    // (another family), together, plus filler that gives every collection work to slice.
    let ticks = 0;
    let running = true;
    const traffic = (async () => {
      while (running) {
        a.pending++;
        b.pending++;
        d.record(0.01 * (ticks % 50));
        for (let i = 0; i < 20; i++) (filler[(ticks * 20 + i) % filler.length] as (typeof filler)[number]).pending++;
        ticks++;
        await nextTurn();
      }
    })();

    let sawTrafficDuringAScrape = false;
    const scrapeLoop = async (): Promise<number[]> => {
      const seen: number[] = [];
      for (let i = 0; i < 12; i++) {
        const before = ticks;
        const families = parseExposition(await scraper.scrape());
        if (ticks > before) sawTrafficDuringAScrape = true;
        const atA = value(families, 'mcp_http_requests_total', { endpoint: '/a' });
        expect(value(families, 'mcp_http_requests_total', { endpoint: '/b' })).toBe(atA);
        const h = histogram(families, 'mcp_http_request_duration_seconds', { method: 'GET', endpoint: '/a' });
        expect(h?.count).toBe(atA);
        expect(h?.buckets['+Inf']).toBe(atA);
        seen.push(atA);
        await nextTurn(); // scrapes arrive as I/O: the next one is a later turn of the event loop
      }
      return seen;
    };
    const loops = await Promise.all([scrapeLoop(), scrapeLoop(), scrapeLoop()]);
    running = false;
    await traffic;

    expect(sawTrafficDuringAScrape).toBe(true);
    for (const seen of loops) {
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1] as number);
    }
    expect(new Set(loops.flat()).size).toBeGreaterThan(3);
    const last = parseExposition(await scraper.scrape());
    expect(value(last, 'mcp_http_requests_total', { endpoint: '/a' })).toBe(ticks);
    expect(value(last, 'mcp_http_requests_total', { method: 'POST' })).toBe(ticks * 20);
    expect(histogram(last, 'mcp_http_request_duration_seconds', { method: 'GET', endpoint: '/a' })?.count).toBe(ticks);
    await provider.shutdown();
  });
});
