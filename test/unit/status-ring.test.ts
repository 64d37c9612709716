// The status page's ring (src/admin/status-ring.ts) and its feed (status-feed.ts), without sockets and with a
// fake clock: windows, quantiles, bounds, expiry, and the tee that puts the feed beside the catalog recorder.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StatusFeed, StatusHttpFeeder, STATUS_MAX_SERIES } from '../../src/admin/status-feed.ts';
import {
  binOf,
  binUpper,
  binValue,
  BUCKET_MS,
  BUCKETS,
  OTHER,
  quantile,
  Series,
  SKETCH_BINS,
  sparkOf,
  windowOf,
  WindowTable,
} from '../../src/admin/status-ring.ts';
import type { RequestFact, ResourceReadFact, ToolCallFact } from '../../src/ledger/facts.ts';
import type { CatalogSink } from '../../src/ledger/ledger.ts';
import type { LifecycleFact } from '../../src/ledger/lifecycle.ts';
import { Exchange } from '../../src/observe/exchange.ts';

const MAX_REL_ERROR = 2 ** (1 / 8) - 1;

describe('latency sketch', () => {
  it('puts every duration in one bin: bin 0 at or below 100 µs (and NaN, zero, negatives), the last bin beyond 105 s', () => {
    expect(binOf(0)).toBe(0);
    expect(binOf(-1)).toBe(0);
    expect(binOf(Number.NaN)).toBe(0);
    expect(binOf(1e-4)).toBe(0);
    expect(binOf(1.0001e-4)).toBe(1);
    expect(binOf(1000)).toBe(SKETCH_BINS - 1);
    expect(binOf(Infinity)).toBe(SKETCH_BINS - 1);
    expect(binUpper(SKETCH_BINS - 2)).toBeCloseTo(1e-4 * 2 ** 20);
    fc.assert(
      fc.property(fc.double({ min: 1e-6, max: 1e4, noNaN: true }), (d) => {
        const b = binOf(d);
        expect(b).toBeGreaterThanOrEqual(0);
        expect(b).toBeLessThan(SKETCH_BINS);
        if (b > 0 && b < SKETCH_BINS - 1) {
          expect(d).toBeLessThanOrEqual(binUpper(b) * (1 + 1e-12));
          expect(d).toBeGreaterThan(binUpper(b - 1) * (1 - 1e-12));
        }
      }),
    );
  });

  it('reads any duration between 100 µs and 105 s back within ±9 %', () => {
    fc.assert(
      fc.property(fc.double({ min: 1.0001e-4, max: 100, noNaN: true }), (d) => {
        expect(Math.abs(binValue(binOf(d)) / d - 1)).toBeLessThanOrEqual(MAX_REL_ERROR + 1e-9);
      }),
    );
  });

  it('quantiles of 1 … 1000 ms are the true ones within the bin error, and undefined without data', () => {
    const s = new Series('t', '');
    for (let i = 1; i <= 1000; i++) s.record(0, i / 1000, true, undefined);
    const w = windowOf(s, 0, BUCKETS, -1);
    for (const [q, v] of [
      [w.p50, 0.5],
      [w.p95, 0.95],
      [w.p99, 0.99],
    ] as const)
      expect(Math.abs((q ?? 0) / v - 1)).toBeLessThanOrEqual(MAX_REL_ERROR + 0.01);
    expect(quantile(new Uint32Array(SKETCH_BINS), 0, 0.5)).toBeUndefined();
  });
});

describe('windows, with a fake clock', () => {
  it('counts the last minute and the last five minutes separately, with rates over the time covered', () => {
    const s = new Series('t', '');
    const start = 1_000_000 * BUCKET_MS;
    // One call per second for five minutes, the last 60 of them failing.
    for (let sec = 0; sec < 300; sec++) s.record(start + sec * 1000, 0.01, sec < 240, sec < 240 ? undefined : 'timeout');
    const now = start + 299_999;
    const w1 = windowOf(s, now, 6, start);
    const w5 = windowOf(s, now, BUCKETS, start);
    expect(w1).toMatchObject({ calls: 60, errors: 60 });
    expect(w5).toMatchObject({ calls: 300, errors: 60 });
    expect(w1.rate).toBeCloseTo(1, 1);
    expect(w5.rate).toBeCloseTo(1, 1);
    expect(s.total).toBe(300);
    expect(s.totalErrors).toBe(60);
    expect(s.lastErrorType).toBe('timeout');
  });

  it('a window never reaches before the ring started: a young ring is not diluted', () => {
    const s = new Series('t', '');
    const start = 5 * BUCKET_MS + 3000;
    for (let i = 0; i < 20; i++) s.record(start + i * 100, 0.001, true, undefined);
    expect(windowOf(s, start + 2000, BUCKETS, start).rate).toBeCloseTo(10, 5);
  });

  it('expires what is older than five minutes: a bucket is zeroed when the ring comes round to it', () => {
    const s = new Series('t', '');
    s.record(0, 0.5, false, 'internal');
    s.record(1, 0.5, true, undefined);
    expect(windowOf(s, 1, BUCKETS, 0).calls).toBe(2);
    // Same slot, five minutes later: the old bucket is reused, not added to.
    s.record(BUCKETS * BUCKET_MS, 0.001, true, undefined);
    const w = windowOf(s, BUCKETS * BUCKET_MS, BUCKETS, 0);
    expect(w).toMatchObject({ calls: 1, errors: 0 });
    expect(w.p99).toBeLessThan(0.01);
    // Nothing recorded for five more minutes: the windows are empty, the totals stay.
    expect(windowOf(s, 2 * BUCKETS * BUCKET_MS, BUCKETS, 0)).toMatchObject({ calls: 0, errors: 0, p95: undefined });
    expect(s.total).toBe(3);
    expect(s.totalErrors).toBe(1);
  });

  it('sparklines have one point per bucket, oldest first, with gaps as null p95', () => {
    const s = new Series('t', '');
    const t0 = 100 * BUCKET_MS;
    for (let i = 0; i < 10; i++) s.record(t0 + i, 0.2, true, undefined);
    const now = t0 + 2 * BUCKET_MS + 5000;
    const { rate, p95 } = sparkOf(s, now, 0);
    expect(rate).toHaveLength(BUCKETS);
    expect(p95).toHaveLength(BUCKETS);
    expect(rate[BUCKETS - 3]).toBeCloseTo(1, 5);
    expect(rate[BUCKETS - 1]).toBe(0);
    expect(p95[BUCKETS - 3]).toBeCloseTo(binValue(binOf(0.2)));
    expect(p95[BUCKETS - 2]).toBeNull();
  });
});

describe('bounds', () => {
  it('admits the first maxNames names, as the labels do, and records later ones under __other__', () => {
    const t = new WindowTable({ maxNames: 3, maxSeries: 100 });
    for (const n of ['a', 'b', 'c', 'd', 'e']) t.series(n).record(0, 0.01, true, undefined);
    t.series('a').record(0, 0.01, true, undefined);
    const byName = new Map(t.all().map((s) => [s.name, s.total]));
    expect(byName).toEqual(
      new Map([
        ['a', 2],
        ['b', 1],
        ['c', 1],
        [OTHER, 2],
      ]),
    );
    expect(t.size).toBe(3);
  });

  it('holds at most maxSeries (name, variant) pairs however many variants arrive', () => {
    const t = new WindowTable({ maxNames: 100, maxSeries: 4 });
    for (let i = 0; i < 50; i++) t.series('/x', `M${i}`).record(0, 0.01, true, undefined);
    expect(t.size).toBe(4);
    expect(t.all().at(-1)).toMatchObject({ name: OTHER, total: 46 });
  });

  it('never holds more than STATUS_MAX_SERIES series per table, whatever --max-label-values says', () => {
    const feed = new StatusFeed({ maxLabelValues: 100_000, now: () => 0 });
    for (let i = 0; i < STATUS_MAX_SERIES + 50; i++) feed.toolCall({ source: 'mcp', toolId: `t${i}`, ok: true, durationSeconds: 0.01 });
    expect(feed.tools.size).toBe(STATUS_MAX_SERIES);
    expect(feed.tools.all().reduce((a, s) => a + s.total, 0)).toBe(STATUS_MAX_SERIES + 50);
  });
});

class Recorder implements CatalogSink {
  readonly calls: ToolCallFact[] = [];
  readonly reads: ResourceReadFact[] = [];
  readonly requests: RequestFact[] = [];
  readonly lifecycles: LifecycleFact[] = [];
  toolCall(f: ToolCallFact): void {
    this.calls.push(f);
  }
  resourceRead(f: ResourceReadFact): void {
    this.reads.push(f);
  }
  request(f: RequestFact): void {
    this.requests.push(f);
  }
  lifecycle(f: LifecycleFact): void {
    this.lifecycles.push(f);
  }
}

describe('the feed', () => {
  it('tee hands every record to the catalog recorder and the same ones to the page', () => {
    const feed = new StatusFeed({ maxLabelValues: 200, now: () => 5000 });
    const primary = new Recorder();
    const sink = feed.tee(primary);
    sink.toolCall({ source: 'rest', toolId: 'calc.add', ok: true, durationSeconds: 0.02 });
    sink.toolCall({ source: 'mcp', toolId: 'calc_fail', ok: false, errorType: 'tool_error', durationSeconds: 0.03 });
    sink.resourceRead({ source: 'mcp', resourceUri: 'file:///a', ok: true, durationSeconds: 0.01 });
    sink.request({ kind: 'rate_limited', endpoint: '/x', userId: 'u' });
    sink.lifecycle({ kind: 'crash', serverId: 'calc' });
    sink.lifecycle({ kind: 'restart', serverId: 'calc', reason: 'crash' });
    sink.lifecycle({ kind: 'config_reload', ok: false });
    expect([primary.calls.length, primary.reads.length, primary.requests.length, primary.lifecycles.length]).toEqual([2, 1, 1, 3]);
    expect(feed.tools.all().map((s) => [s.name, s.total, s.totalErrors, s.lastErrorType])).toEqual([
      ['calc.add', 1, 0, undefined],
      ['calc_fail', 1, 1, 'tool_error'],
    ]);
    expect(feed.resources.all()[0]?.total).toBe(1);
    expect(feed.servers.get('calc')).toMatchObject({ crashes: 1, restarts: 1, lastCrashAt: 5000 });
    expect(feed.config).toEqual({ reloads: 1, reloadFailures: 1, validationErrors: 0 });
  });

  it('a failure of the feed never reaches the caller nor the catalog recorder: it is counted', () => {
    let broken = false;
    const feed = new StatusFeed({
      maxLabelValues: 200,
      now: () => {
        if (broken) throw new Error('clock failed');
        return 0;
      },
    });
    const primary = new Recorder();
    const sink = feed.tee(primary);
    broken = true;
    expect(() => sink.toolCall({ source: 'mcp', toolId: 'x', ok: true, durationSeconds: 0.01 })).not.toThrow();
    expect(primary.calls).toHaveLength(1);
    expect(feed.failures).toBe(1);
  });

  it('counts HTTP exchanges as the HTTP families do: streams at their headers, others at their end, 499 when the client left', () => {
    let now = 0;
    const feed = new StatusFeed({ maxLabelValues: 200, now: () => now });
    const http = new StatusHttpFeeder(feed);
    const ex = (method: string, url: string, status: number, extra: Partial<Pick<Exchange, 'stream' | 'outcome'>> = {}) => {
      const e = new Exchange(method, url, {}, 0);
      e.status = status;
      e.headersTime = 5;
      e.endTime = 20;
      Object.assign(e, extra);
      return e;
    };
    const sse = ex('GET', '/sse', 200, { stream: 'sse' });
    http.onResponse(sse);
    http.onEnd(sse);
    const abort = ex('GET', '/api/v1/tools?secret=1', 200, { outcome: 'client_abort' });
    http.onResponse(abort);
    http.onEnd(abort);
    const bad = ex('POST', '/api/v1/tools/calc.add/invoke', 502);
    http.onResponse(bad);
    http.onEnd(bad);
    now = 1000;
    const rows = feed.http
      .all()
      .map((s) => ({ name: s.name, method: s.variant, total: s.total, errors: s.totalErrors, classes: [...s.classes], last: s.lastErrorType }));
    expect(rows).toEqual([
      { name: '/sse', method: 'GET', total: 1, errors: 0, classes: [0, 1, 0, 0, 0], last: undefined },
      { name: '/api/v1/tools', method: 'GET', total: 1, errors: 0, classes: [0, 0, 0, 1, 0], last: undefined },
      { name: '/api/v1/tools/{id}/invoke', method: 'POST', total: 1, errors: 1, classes: [0, 0, 0, 0, 1], last: '502' },
    ]);
    const first = feed.http.all()[0];
    expect(first === undefined ? undefined : windowOf(first, now, BUCKETS, 0).p50).toBeCloseTo(binValue(binOf(0.005)));
  });
});
