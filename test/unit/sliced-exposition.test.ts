/**
 * The exposition written in slices (exporters/exposition.ts, both serialisers): for any slice size the
 * slices joined are byte for byte the text of the serialisers as they were before slicing
 * (test/fixtures/unsliced-serializers.ts), in both formats, with and without exemplars; slices end at
 * series boundaries and are bounded in size. Pure: no sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { joinSlices, SLICE_SAMPLES } from '../../src/exporters/exposition.ts';
import { serializeOpenMetrics, sliceOpenMetrics } from '../../src/exporters/openmetrics-serializer.ts';
import { serializePrometheus, slicePrometheus } from '../../src/exporters/prometheus-serializer.ts';
import { manySeries, sampleLines, someExemplars, type ManySeries } from '../fixtures/many-series.ts';
import { unslicedOpenMetrics, unslicedPrometheus } from '../fixtures/unsliced-serializers.ts';

let many: ManySeries;
let data: ResourceMetrics;

beforeAll(async () => {
  many = manySeries();
  data = await many.collect();
});
afterAll(() => many.shutdown());

/** The most sample lines one series writes (a histogram: its buckets, `_sum` and `_count`). */
function largestSeries(d: ResourceMetrics): number {
  let most = 1;
  for (const scope of d.scopeMetrics) {
    for (const m of scope.metrics) {
      for (const dp of m.dataPoints) {
        const v = dp.value;
        if (typeof v === 'object' && 'buckets' in v) most = Math.max(most, v.buckets.counts.length + 2);
      }
    }
  }
  return most;
}

describe('the sliced exposition of over 20,000 series', () => {
  it('has over 20,000 sample lines', () => {
    expect(sampleLines(unslicedPrometheus(data)).length).toBeGreaterThan(20_000);
  });

  it('joins to the bytes of the unsliced 0.0.4 serialiser, whatever the slice size', () => {
    const oracle = unslicedPrometheus(data);
    for (const size of [1, 7, 100, SLICE_SAMPLES, 4096, 1e9, Infinity]) expect(joinSlices(slicePrometheus(data, size).slices)).toBe(oracle);
    expect(joinSlices(slicePrometheus(data).slices)).toBe(oracle);
    expect(serializePrometheus(data).text).toBe(oracle);
  });

  it('joins to the bytes of the unsliced OpenMetrics serialiser, with and without exemplars, whatever the slice size', () => {
    const plain = unslicedOpenMetrics(data);
    const withExemplars = unslicedOpenMetrics(data, someExemplars);
    expect(withExemplars).not.toBe(plain);
    expect(withExemplars).toContain(' # {trace_id="');
    for (const size of [1, 13, SLICE_SAMPLES, Infinity]) {
      expect(joinSlices(sliceOpenMetrics(data, undefined, size).slices)).toBe(plain);
      expect(joinSlices(sliceOpenMetrics(data, someExemplars, size).slices)).toBe(withExemplars);
    }
    expect(joinSlices(sliceOpenMetrics(data, someExemplars).slices)).toBe(withExemplars);
    expect(serializeOpenMetrics(data, someExemplars).text).toBe(withExemplars);
  });

  it('cuts slices only between series, each holding at least the slice size and at most one series more', () => {
    const most = largestSeries(data);
    expect(most).toBeGreaterThan(10);
    for (const [name, slices] of [
      ['text', [...slicePrometheus(data).slices]],
      ['openmetrics', [...sliceOpenMetrics(data, someExemplars).slices]],
    ] as const) {
      expect(slices.length, name).toBeGreaterThan(20);
      for (const [i, slice] of slices.entries()) {
        const lines = sampleLines(slice);
        expect(slice.endsWith('\n'), name).toBe(true);
        expect(lines.length, name).toBeLessThanOrEqual(SLICE_SAMPLES + most - 1);
        if (i === slices.length - 1) continue;
        expect(lines.length, name).toBeGreaterThanOrEqual(SLICE_SAMPLES);
        // A histogram series is never split: a slice never ends inside one.
        const last = lines[lines.length - 1] ?? '';
        expect(last, name).not.toMatch(/_bucket\{/);
        if (name === 'text') expect(last).not.toMatch(/_sum[{ ]/);
        else expect(last).not.toMatch(/_count[{ ]/);
      }
    }
  });

  it('serialises nothing until a slice is taken, and only the slices taken', () => {
    let looked = 0;
    const counting: typeof someExemplars = (instrument, attributes) => {
      looked++;
      return someExemplars(instrument, attributes);
    };
    const sliced = sliceOpenMetrics(data, counting);
    expect(looked).toBe(0);
    const it = sliced.slices[Symbol.iterator]();
    it.next();
    const afterOne = looked;
    expect(afterOne).toBeGreaterThan(0);
    for (let r = it.next(); r.done !== true; r = it.next());
    expect(looked).toBeGreaterThan(afterOne);
  });

  it('ends the OpenMetrics text with # EOF in its last slice only', () => {
    const slices = [...sliceOpenMetrics(data).slices];
    expect(slices.filter((s) => s.includes('# EOF')).length).toBe(1);
    expect(slices[slices.length - 1]?.endsWith('# EOF\n')).toBe(true);
  });
});

describe('a sliced exposition of nothing', () => {
  it('is empty text, and only # EOF in OpenMetrics', async () => {
    const empty: ResourceMetrics = { resource: data.resource, scopeMetrics: [] };
    expect([...slicePrometheus(empty).slices]).toEqual([]);
    expect([...sliceOpenMetrics(empty).slices]).toEqual(['# EOF\n']);
  });
});
