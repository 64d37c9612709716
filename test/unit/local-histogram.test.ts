import type { Attributes } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import {
  AggregationTemporality,
  AggregationType,
  type HistogramMetricData,
  MeterProvider,
  type ResourceMetrics,
  type ViewOptions,
} from '@opentelemetry/sdk-metrics';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { joinSlices } from '../../src/exporters/exposition.ts';
import { PrometheusScraper } from '../../src/exporters/prometheus.ts';
import { slicePrometheus } from '../../src/exporters/prometheus-serializer.ts';
import { HTTP_DURATION_BUCKETS } from '../../src/telemetry/catalog.ts';
import { Instruments } from '../../src/telemetry/instruments.ts';
import { canonicalKey, KeyedCells } from '../../src/telemetry/keyed-cells.ts';
import { bucketIndex, COLLECT_SLICE } from '../../src/telemetry/local-histogram.ts';
import { LocalMetrics } from '../../src/telemetry/local-metrics.ts';
import { createMeterProvider, METER_NAME } from '../../src/telemetry/provider.ts';

const FAMILY = 'mcp_http_request_duration_seconds';

function local() {
  const scraper = new PrometheusScraper();
  const { provider, meter } = createMeterProvider({ readers: [scraper.reader], version: 'test' });
  const instruments = new Instruments(meter, { maxLabelValues: 200 });
  return { scraper, provider, instruments };
}

/** The oracle: the SDK's own explicit-bucket histogram, with the view the sidecar gave it before, on a plain reader. */
function sdk() {
  const reader = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true, withoutTargetInfo: true });
  const view: ViewOptions = {
    instrumentName: FAMILY,
    aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [...HTTP_DURATION_BUCKETS], recordMinMax: false } },
  };
  const provider = new MeterProvider({ readers: [reader], views: [view] });
  const histogram = provider.getMeter(METER_NAME, 'test').createHistogram(FAMILY, { advice: { explicitBucketBoundaries: [...HTTP_DURATION_BUCKETS] } });
  return { reader, provider, histogram };
}

const exposition = (rm: ResourceMetrics) => joinSlices(slicePrometheus(rm).slices);
const familyLines = (text: string) => text.split('\n').filter((l) => l.startsWith(FAMILY));
const isSum = (line: string) => line.startsWith(`${FAMILY}_sum`);

/** Values around every boundary, and the values the SDK drops. */
const measurement = fc.oneof(
  fc.constantFrom(...HTTP_DURATION_BUCKETS),
  fc.double({ min: 0, max: 100, noNaN: true }),
  fc.constantFrom(0, -0, -1, Number.NaN, Infinity, Number.MAX_VALUE, Number.MIN_VALUE),
);
const series = fc.constantFrom<Attributes>(
  { method: 'GET', endpoint: '/a' },
  { endpoint: '/a', method: 'GET' },
  { method: 'POST', endpoint: '/a' },
  { method: 'GET', endpoint: '/b\u0000"quoted"\n' },
);

describe('local histograms', () => {
  it('export exactly what the SDK histogram exports for the same measurements: buckets, sums, counts and series', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(series, measurement), { maxLength: 200 }), fc.integer({ min: 1, max: 4 }), async (records, collections) => {
        const ours = local();
        const oracle = sdk();
        const family = ours.instruments.histogram(FAMILY);
        const per = Math.ceil(records.length / collections);
        for (let c = 0; c < collections; c++) {
          for (const [attributes, value] of records.slice(c * per, (c + 1) * per)) {
            family.record(value, attributes as { method: string; endpoint: string });
            oracle.histogram.record(value, attributes);
          }
          const theirs = familyLines(exposition((await oracle.reader.collect()).resourceMetrics));
          const mine = familyLines(exposition(await ours.scraper.collectMetrics()));
          expect(mine.filter((l) => !isSum(l))).toEqual(theirs.filter((l) => !isSum(l)));
          // The SDK adds each collection's partial sum to its total; a local series adds each value to its
          // total: past the first collection the two can differ in the last bits of the sum, never more.
          const sums = (lines: string[]) => lines.filter(isSum).map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
          const [a, b] = [sums(mine), sums(theirs)];
          expect(a.length).toBe(b.length);
          for (const [i, x] of a.entries()) {
            const y = b[i] as number;
            if (c === 0 || !Number.isFinite(x)) expect(x).toBe(y);
            else expect(Math.abs(x - y)).toBeLessThanOrEqual(Math.abs(x) * 1e-12);
          }
        }
        await ours.provider.shutdown();
        await oracle.provider.shutdown();
      }),
      { numRuns: 300 },
    );
  });

  it('put a value equal to a boundary in that boundary’s bucket, as the SDK does', () => {
    const boundaries = [0.1, 0.5, 1];
    expect([0, 0.1, 0.1000001, 0.5, 1, 1.5, Infinity].map((v) => bucketIndex(boundaries, v))).toEqual([0, 0, 1, 1, 2, 3, 3]);
    expect(bucketIndex([], 5)).toBe(0);
  });

  it('are written in the order the instruments were declared, in the one scope of the meter', async () => {
    const { scraper, provider, instruments } = local();
    instruments.histogram('mcp_tool_invocation_duration_seconds').record(1, { tool_id: 't' });
    instruments.counter('mcp_tool_invocations_total').add(1, { tool_id: 't', status: 'success' });
    const rm = await scraper.collectMetrics();
    expect(rm.scopeMetrics).toHaveLength(1);
    const names = rm.scopeMetrics[0]?.metrics.map((m) => m.descriptor.name);
    expect(names?.indexOf('mcp_tool_invocations_total')).toBeLessThan(names?.indexOf('mcp_tool_invocation_duration_seconds') ?? -1);
    await provider.shutdown();
  });

  it('report differences to a delta reader and totals to a cumulative one, each reader on its own', async () => {
    let t = 1_000;
    const histograms = new LocalMetrics({ name: 'm' }, () => [t++, 0]);
    const family = histograms.histogram('h', '', '', [1, 2]);
    const deltaA = {};
    const deltaB = {};
    const points = async (reader: object, temporality: AggregationTemporality) =>
      ((await histograms.collect(reader, () => temporality)).metrics[0] as HistogramMetricData | undefined)?.dataPoints.map((p) => ({
        series: p.attributes['s'],
        counts: p.value.buckets.counts,
        sum: p.value.sum,
        count: p.value.count,
        start: p.startTime[0],
      }));
    family.record(0.5, { s: 'x' });
    family.record(1.5, { s: 'x' });
    family.record(3, { s: 'y' });
    expect(await points(deltaA, AggregationTemporality.DELTA)).toEqual([
      { series: 'x', counts: [1, 1, 0], sum: 2, count: 2, start: 1000 },
      { series: 'y', counts: [0, 0, 1], sum: 3, count: 1, start: 1001 },
    ]);
    family.record(1, { s: 'x' });
    // Only the series that moved; its start is the reader's previous collection.
    expect(await points(deltaA, AggregationTemporality.DELTA)).toEqual([{ series: 'x', counts: [1, 0, 0], sum: 1, count: 1, start: 1002 }]);
    expect(await points(deltaA, AggregationTemporality.DELTA)).toBeUndefined();
    // Another delta reader has seen nothing yet; a cumulative one always sees the totals.
    expect((await points(deltaB, AggregationTemporality.DELTA))?.map((p) => p.count)).toEqual([3, 1]);
    expect(await points(deltaA, AggregationTemporality.CUMULATIVE)).toEqual([
      { series: 'x', counts: [2, 1, 0], sum: 3, count: 3, start: 1000 },
      { series: 'y', counts: [0, 0, 1], sum: 3, count: 1, start: 1001 },
    ]);
  });

  it('build a large collection in slices, yielding between them, from the series as they were when it began', async () => {
    const pauses: Array<() => void> = [];
    // Each yield waits until the test lets it go, so measurements can land between slices.
    const histograms = new LocalMetrics(
      { name: 'm' },
      () => [1, 0],
      () => new Promise<void>((resolve) => pauses.push(resolve)),
    );
    const first = histograms.histogram('a', '', '', [1]);
    const second = histograms.histogram('b', '', '', [1]);
    const many = COLLECT_SLICE;
    for (let i = 0; i < many; i++) first.record(0.5, { i });
    second.record(2, { s: 'old' });
    const pending = histograms.collect({}, () => AggregationTemporality.CUMULATIVE);
    // Overlapping: a second collection (another reader) begins after more traffic.
    await Promise.resolve();
    for (let i = 0; i < many; i++) first.record(5, { i });
    first.record(0.5, { i: 'new series' });
    second.record(0.5, { s: 'old' });
    const later = histograms.collect({}, () => AggregationTemporality.CUMULATIVE);
    for (let turns = 0; turns < 20 && pauses.length > 0; turns++) {
      for (const go of pauses.splice(0)) go();
      await new Promise((r) => setImmediate(r));
    }
    const [a, b] = await Promise.all([pending, later]);
    const counts = (scope: typeof a, name: string) =>
      (scope.metrics.find((m) => m.descriptor.name === name) as HistogramMetricData).dataPoints.map((p) => p.value.buckets.counts.join(','));
    // The first collection: every series of family a once below the boundary, b's one value above; nothing later.
    expect(counts(a, 'a')).toHaveLength(many);
    expect(new Set(counts(a, 'a'))).toEqual(new Set(['1,0']));
    expect(counts(a, 'b')).toEqual(['0,1']);
    // The second: what was recorded before it began, the new series included.
    expect(counts(b, 'a')).toHaveLength(many + 1);
    expect(new Set(counts(b, 'a').slice(0, many))).toEqual(new Set(['1,1']));
    expect(counts(b, 'b')).toEqual(['1,1']);
  });

  it('let the event loop run while a collection of many series is built (a timer fires before it ends)', async () => {
    const histograms = new LocalMetrics({ name: 'm' });
    const family = histograms.histogram('h', '', '', [1, 2, 3]);
    for (let i = 0; i < COLLECT_SLICE; i++) family.record(i % 4, { i });
    let fired = false;
    setImmediate(() => (fired = true));
    const collecting = histograms.collect({}, () => AggregationTemporality.CUMULATIVE);
    const firedBeforeEnd = await collecting.then(() => fired);
    expect(firedBeforeEnd).toBe(true);
    expect(((await collecting).metrics[0] as HistogramMetricData).dataPoints).toHaveLength(COLLECT_SLICE);
  });

  it('drop what the SDK drops (NaN, negative, not a number) without making its series move', async () => {
    const { scraper, provider, instruments } = local();
    const family = instruments.histogram(FAMILY);
    for (const v of [Number.NaN, -1, -Infinity, JSON.parse('"1"')]) family.record(v, { method: 'GET', endpoint: '/a' });
    family.record(0.2, { method: 'GET', endpoint: '/a' });
    const text = await scraper.scrape();
    expect(text).toContain(`${FAMILY}_count{method="GET",endpoint="/a"} 1\n`);
    expect(text).toContain(`${FAMILY}_sum{method="GET",endpoint="/a"} 0.2\n`);
    await provider.shutdown();
  });
});

describe('series keys (keyed-cells.ts)', () => {
  it('series-key forgery: a label value holding the separators of another series’ key stays its own series', () => {
    const made: Attributes[] = [];
    const cells = new KeyedCells((attributes) => {
      made.push(attributes);
      return attributes;
    });
    const real = { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'calc' };
    // Shape 1: one value that spells out a second attribute in any separator-based encoding.
    const forged1 = { 'mcp.method.name': `tools/call\u0000gen_ai.tool.name\u0001calc` };
    const forged2 = { 'mcp.method.name': `tools/call${canonicalKey({ 'gen_ai.tool.name': 'calc' })}` };
    // Shape 2: the same text split differently between a name and its value, and a number against its text.
    const split = { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'calc', x: '1' };
    const shifted = { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'calc', x: 1 };
    // Shape 3: an array against the text of its JSON.
    const list = { 'mcp.method.name': ['tools/call'] };
    const listText = { 'mcp.method.name': '["tools/call"]' };
    const all = [real, forged1, forged2, split, shifted, list, listText];
    for (const a of all) cells.get(a);
    expect(cells.size).toBe(all.length);
    expect(made).toEqual(all);
    expect(new Set(all.map(canonicalKey)).size).toBe(all.length);
    expect(cells.get({ 'mcp.method.name': ['tools/call'] })).toBe(cells.get(list));
  });

  it('finds one series for the same attributes written in another order, and skips undefined values', () => {
    const cells = new KeyedCells((attributes) => ({ attributes }));
    const a = cells.get({ method: 'GET', endpoint: '/a' });
    expect(cells.get({ endpoint: '/a', method: 'GET' })).toBe(a);
    expect(cells.get({ endpoint: '/a', method: 'GET', status: undefined })).toBe(a);
    expect(cells.get({ method: 'GET', endpoint: '/b' })).not.toBe(a);
    expect(cells.size).toBe(2);
  });
});
