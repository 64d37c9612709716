/**
 * The counters and up/down counters aggregated in process (telemetry/local-sum.ts) and the collection of
 * every local family at one instant (telemetry/local-metrics.ts): against the SDK's own sum aggregation as
 * the oracle, per reader and per temporality, and on the real SDK reader with traffic running between the
 * turns of overlapping collections.
 */
import type { Attributes } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { AggregationTemporality, InstrumentType, MeterProvider, type ResourceMetrics, type SumMetricData } from '@opentelemetry/sdk-metrics';
import fc from 'fast-check';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { joinSlices } from '../../src/exporters/exposition.ts';
import { PrometheusScraper } from '../../src/exporters/prometheus.ts';
import { slicePrometheus } from '../../src/exporters/prometheus-serializer.ts';
import { Instruments } from '../../src/telemetry/instruments.ts';
import { COLLECT_SLICE } from '../../src/telemetry/local-histogram.ts';
import { LocalMetrics } from '../../src/telemetry/local-metrics.ts';
import { createMeterProvider, METER_NAME } from '../../src/telemetry/provider.ts';
import { countedSeries, countedTraffic } from '../fixtures/counted-traffic.ts';
import { histogram, parseExposition, value } from '../fixtures/scrape.ts';

function setup() {
  const a = new PrometheusScraper();
  const b = new PrometheusScraper();
  const { provider, meter } = createMeterProvider({ readers: [a.reader, b.reader], version: 'test' });
  const instruments = new Instruments(meter, { maxLabelValues: 200 });
  return { a, b, provider, instruments, counter: instruments.counter('mcp_http_requests_total') };
}

const sample = (text: string, status: string): number | undefined => {
  const m = new RegExp(`^mcp_http_requests_total\\{method="GET",endpoint="/x",status_code="${status}"\\} (\\d+)$`, 'm').exec(text);
  return m === null ? undefined : Number(m[1]);
};

describe('local counters', () => {
  it('are exact at every collection, for every reader, and absent until their series begins', async () => {
    const { a, b, provider, counter } = setup();
    expect(sample(await a.scrape(), '200')).toBeUndefined();
    const ok = counter.cell({ method: 'GET', endpoint: '/x', status_code: '200' });
    const gone = counter.cell({ method: 'GET', endpoint: '/x', status_code: '499' });
    for (let i = 0; i < 1000; i++) ok.value++;
    gone.value += 3;
    expect(sample(await a.scrape(), '200')).toBe(1000);
    ok.value++;
    // Each reader sees everything counted before its own collection.
    const textB = await b.scrape();
    expect(sample(textB, '200')).toBe(1001);
    expect(sample(textB, '499')).toBe(3);
    expect(sample(await a.scrape(), '200')).toBe(1001);
    expect(sample(await a.scrape(), '200')).toBe(1001);
    await provider.shutdown();
  });

  it('give one cell to one series, whichever order its attributes are written in (two callers add up)', async () => {
    const { a, provider, counter } = setup();
    const one = counter.cell({ method: 'GET', endpoint: '/x', status_code: '200' });
    const two = counter.cell({ status_code: '200', endpoint: '/x', method: 'GET' });
    expect(two).toBe(one);
    one.value += 2;
    two.value += 5;
    counter.add(1, { method: 'GET', endpoint: '/x', status_code: '200' });
    expect(sample(await a.scrape(), '200')).toBe(8);
    await provider.shutdown();
  });

  it('never let a caller change the attributes of a series', () => {
    const { counter } = setup();
    const attributes = { method: 'GET', endpoint: '/x', status_code: '200' };
    const cell = counter.cell(attributes);
    attributes.endpoint = '/y';
    expect(cell.attributes['endpoint']).toBe('/x');
    expect(Object.isFrozen(cell.attributes)).toBe(true);
  });

  it('an up/down series exists from its first change, even when the changes add up to 0 between two collections', async () => {
    const scraper = new PrometheusScraper();
    const { provider, meter } = createMeterProvider({ readers: [scraper.reader], version: 'test' });
    const instruments = new Instruments(meter, { maxLabelValues: 200 });
    const streams = instruments.updown('sidecar_proxy_open_streams');
    expect(await scraper.scrape()).not.toContain('sidecar_proxy_open_streams{');
    const sse = streams.cell({ kind: 'sse' });
    sse.value++;
    sse.value--;
    expect(await scraper.scrape()).toContain('sidecar_proxy_open_streams{kind="sse"} 0');
    sse.value += 3;
    sse.value--;
    expect(await scraper.scrape()).toContain('sidecar_proxy_open_streams{kind="sse"} 2');
    await provider.shutdown();
  });
});

/** The oracle: the SDK's own counter and up/down counter on a plain reader. */
function sdk() {
  const reader = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true, withoutTargetInfo: true });
  const provider = new MeterProvider({ readers: [reader] });
  const meter = provider.getMeter(METER_NAME, 'test');
  return { reader, provider, counter: meter.createCounter('c_total'), updown: meter.createUpDownCounter('u') };
}

const exposition = (rm: ResourceMetrics) => joinSlices(slicePrometheus(rm).slices);
const samples = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

/**
 * Integers and fractions, and the values the SDK drops or keeps as they are (negative, NaN, infinite, not a
 * number). No values near the largest double: the SDK adds partial sums, a local series each value, and
 * only there can the two orders of addition overflow differently.
 */
const increment = fc.oneof(
  fc.integer({ min: 0, max: 1000 }),
  fc.double({ min: -100, max: 100, noNaN: true }),
  fc.constantFrom(0, -0, -1, Number.NaN, Infinity, -Infinity, JSON.parse('"1"') as number),
);
const series = fc.constantFrom<Attributes>({ k: 'a', m: 'GET' }, { m: 'GET', k: 'a' }, { k: 'b', m: 'GET' }, { k: 'a\u0000"q"\n', m: 'POST' }, {});

describe('local sums against the SDK', () => {
  it('export exactly what the SDK counter and up/down counter export for the same adds, collection after collection', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.boolean(), series, increment), { maxLength: 150 }), fc.integer({ min: 1, max: 4 }), async (adds, collections) => {
        const local = new LocalMetrics({ name: METER_NAME, version: 'test' });
        const ours = { counter: local.sum('c_total', '', '', true), updown: local.sum('u', '', '', false) };
        const oracle = sdk();
        const per = Math.ceil(adds.length / collections);
        for (let c = 0; c < collections; c++) {
          for (const [monotonic, attributes, v] of adds.slice(c * per, (c + 1) * per)) {
            (monotonic ? ours.counter : ours.updown).add(v, attributes);
            (monotonic ? oracle.counter : oracle.updown).add(v, attributes);
          }
          const { resourceMetrics } = await oracle.reader.collect();
          const theirs = samples(exposition(resourceMetrics));
          const mine = samples(
            exposition({ resource: resourceMetrics.resource, scopeMetrics: [await local.collect({}, () => AggregationTemporality.CUMULATIVE)] }),
          );
          const values = (lines: string[]) => lines.map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))] as const);
          const [a, b] = [values(mine), values(theirs)];
          expect(a.map(([k]) => k)).toEqual(b.map(([k]) => k));
          // The SDK adds each collection's partial sum to its total; a local series adds each value to its
          // total: past the first collection fractions can differ in their last bits, never more.
          for (const [i, [, x]] of a.entries()) {
            const y = (b[i] as (typeof b)[number])[1];
            if (c === 0 || !Number.isFinite(x) || !Number.isFinite(y)) expect(x).toBe(y);
            else expect(Math.abs(x - y)).toBeLessThanOrEqual(Math.max(1, Math.abs(x)) * 1e-12);
          }
        }
        await oracle.provider.shutdown();
      }),
      { numRuns: 300 },
    );
  });

  it('report a counter in each reader’s own temporality for it: differences to a delta reader, totals to a cumulative one', async () => {
    let t = 1_000;
    const local = new LocalMetrics({ name: 'm' }, () => [t++, 0]);
    const requests = local.sum('c_total', '', '', true);
    const open = local.sum('u', '', '', false);
    // The OTLP exporters' delta preference: counters (and histograms) delta, up/down counters cumulative.
    const deltaPreference = (type: InstrumentType) =>
      type === InstrumentType.UP_DOWN_COUNTER ? AggregationTemporality.CUMULATIVE : AggregationTemporality.DELTA;
    const deltaA = {};
    const deltaB = {};
    const points = async (reader: object, temporality: (type: InstrumentType) => AggregationTemporality) =>
      Object.fromEntries(
        (await local.collect(reader, temporality)).metrics.map((m) => [
          m.descriptor.name,
          {
            temporality: m.aggregationTemporality,
            points: (m as SumMetricData).dataPoints.map((p) => ({ series: p.attributes['s'], value: p.value, start: p.startTime[0] })),
          },
        ]),
      );
    requests.add(2, { s: 'x' });
    requests.add(3, { s: 'y' });
    open.add(1, { s: 'z' });
    expect(await points(deltaA, deltaPreference)).toEqual({
      c_total: {
        temporality: AggregationTemporality.DELTA,
        points: [
          { series: 'x', value: 2, start: 1000 },
          { series: 'y', value: 3, start: 1001 },
        ],
      },
      u: { temporality: AggregationTemporality.CUMULATIVE, points: [{ series: 'z', value: 1, start: 1002 }] },
    });
    requests.add(1, { s: 'x' });
    open.add(1, { s: 'z' });
    // Only the series that moved; its start is the reader's previous collection. The up/down counter stays cumulative.
    expect(await points(deltaA, deltaPreference)).toEqual({
      c_total: { temporality: AggregationTemporality.DELTA, points: [{ series: 'x', value: 1, start: 1003 }] },
      u: { temporality: AggregationTemporality.CUMULATIVE, points: [{ series: 'z', value: 2, start: 1002 }] },
    });
    expect((await points(deltaA, deltaPreference))['c_total']).toBeUndefined();
    // Another delta reader has seen nothing yet; a cumulative one always sees the totals.
    expect((await points(deltaB, deltaPreference))['c_total']?.points.map((p) => p.value)).toEqual([3, 3]);
    expect((await points(deltaA, () => AggregationTemporality.CUMULATIVE))['c_total']?.points.map((p) => [p.value, p.start])).toEqual([
      [3, 1000],
      [3, 1001],
    ]);
  });

  it('let the event loop run while a collection of many counter series is built (an immediate runs before it ends)', async () => {
    const local = new LocalMetrics({ name: 'm' });
    const counter = local.sum('c_total', '', '', true);
    for (let i = 0; i < 2 * COLLECT_SLICE; i++) counter.add(1, { i });
    local.sum('d_total', '', '', true).add(1);
    let fired = false;
    setImmediate(() => (fired = true));
    const collecting = local.collect({}, () => AggregationTemporality.CUMULATIVE);
    const firedBeforeEnd = await collecting.then(() => fired);
    expect(firedBeforeEnd).toBe(true);
    expect((await collecting).metrics.map((m) => (m as SumMetricData).dataPoints.length)).toEqual([2 * COLLECT_SLICE, 1]);
  });
});

describe('collections of the local families during traffic', () => {
  it('are exact, never tear a family, and never go backwards for any scraper, however they overlap', async () => {
    const { scraper, provider, instruments, a, b, d } = countedSeries();
    // More series than one slice of a collection, in a family declared before the two above: every
    // collection yields to the traffic at least once between copying them and building their data points.
    const tools = instruments.counter('mcp_tool_invocations_total');
    const filler = Array.from({ length: COLLECT_SLICE + 200 }, (_, i) => tools.cell({ tool_id: `t${i}`, status: 'success' }));

    const traffic = countedTraffic(a, b, d, filler, 20, 0.01);

    let sawTrafficDuringAScrape = false;
    const scrapeLoop = async (): Promise<number[]> => {
      const seen: number[] = [];
      for (let i = 0; i < 12; i++) {
        const before = traffic.turns;
        const families = parseExposition(await scraper.scrape());
        if (traffic.turns > before) sawTrafficDuringAScrape = true;
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
    await traffic.stop();

    expect(sawTrafficDuringAScrape).toBe(true);
    for (const seen of loops) {
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1] as number);
    }
    expect(new Set(loops.flat()).size).toBeGreaterThan(3);
    const last = parseExposition(await scraper.scrape());
    expect(value(last, 'mcp_http_requests_total', { endpoint: '/a' })).toBe(traffic.turns);
    expect(value(last, 'mcp_tool_invocations_total', { status: 'success' })).toBe(traffic.turns * 20);
    expect(histogram(last, 'mcp_http_request_duration_seconds', { method: 'GET', endpoint: '/a' })?.count).toBe(traffic.turns);
    await provider.shutdown();
  });
});
