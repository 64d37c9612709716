/**
 * Exemplar reservoirs and the exemplar filter, without sockets: one exemplar per bucket aligned with the
 * SDK's buckets, the last one offered; one per counter series sampled uniformly within a collection
 * period; bounded series; `trace_based`, `always_on` (and `always_off`: no Exemplars at all); and what an
 * OpenMetrics scrape of recorders with exemplars writes.
 */
import { TraceFlags, type SpanContext } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { PrometheusScraper } from '../../src/exporters/prometheus.ts';
import { CatalogRecorder } from '../../src/telemetry/catalog-recorder.ts';
import { TOOL_BUCKETS } from '../../src/telemetry/catalog.ts';
import { BucketReservoir, CounterReservoir, EXEMPLAR_SERIES_LIMIT, Exemplars } from '../../src/telemetry/exemplars.ts';
import { canonicalKey as seriesKey } from '../../src/telemetry/keyed-cells.ts';
import { Instruments } from '../../src/telemetry/instruments.ts';
import { createMeterProvider } from '../../src/telemetry/provider.ts';

let n = 0;
function span(sampled = true): SpanContext {
  n++;
  return { traceId: n.toString(16).padStart(32, 'a'), spanId: n.toString(16).padStart(16, 'b'), traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE };
}

describe('BucketReservoir', () => {
  it('keeps at most one exemplar per bucket, in the bucket the SDK counts the value in (le inclusive, +Inf last)', () => {
    const r = new BucketReservoir([0.1, 1, 10]);
    expect(r.buckets).toHaveLength(4);
    expect(r.buckets.every((b) => b === undefined)).toBe(true);
    const [a, b, c, d] = [span(), span(), span(), span()];
    r.offer(0.1, a, 1); // exactly on a bound: that bucket
    r.offer(0.5, b, 2);
    r.offer(1e9, c, 3);
    r.offer(0, d, 4);
    expect(r.buckets.map((e) => e?.value)).toEqual([0, 0.5, undefined, 1e9]);
    expect(r.buckets[0]?.traceId).toBe(d.traceId);
    expect(r.buckets[3]).toMatchObject({ traceId: c.traceId, spanId: c.spanId, value: 1e9, timeMs: 3 });
    expect(r.buckets).toHaveLength(4);
  });

  it("replaces a bucket's exemplar with the last measurement offered to it", () => {
    const r = new BucketReservoir(TOOL_BUCKETS);
    for (let i = 0; i < 1000; i++) r.offer(0.2 + i / 1e6, span(), i);
    const last = r.buckets[3];
    expect(last?.timeMs).toBe(999);
    expect(last?.value).toBeCloseTo(0.200999, 9);
    expect(r.buckets.filter((e) => e !== undefined)).toHaveLength(1);
  });
});

describe('CounterReservoir', () => {
  it('keeps the first measurement of a period, then the n-th with probability 1/n', () => {
    const draws = [0.99, 0.2, 0.49, 0.1];
    const r = new CounterReservoir(() => draws.shift() ?? 0.99);
    const spans = [span(), span(), span(), span(), span()];
    r.offer(1, spans[0]!, 1); // first: kept
    r.offer(1, spans[1]!, 2); // n=2: floor(0.99×2) = 1, not 0: the first stays
    expect(r.total?.traceId).toBe(spans[0]!.traceId);
    r.offer(1, spans[2]!, 3); // n=3: floor(0.2*3)=0 → replaces
    expect(r.total?.traceId).toBe(spans[2]!.traceId);
    r.offer(1, spans[3]!, 4); // n=4: floor(0.49*4)=1 → kept
    expect(r.total?.traceId).toBe(spans[2]!.traceId);
    r.collected();
    r.offer(1, spans[4]!, 5); // a new period: the first is kept whatever the draw
    expect(r.total?.traceId).toBe(spans[4]!.traceId);
  });

  it('samples uniformly: over many periods each position of a period is kept about equally often', () => {
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const r = new CounterReservoir(random);
    const kept = [0, 0, 0, 0];
    const periods = 4000;
    for (let p = 0; p < periods; p++) {
      const spans = [span(), span(), span(), span()];
      for (const s of spans) r.offer(1, s, p);
      kept[spans.findIndex((s) => s.traceId === r.total?.traceId)]!++;
      r.collected();
    }
    for (const k of kept) expect(k / periods).toBeGreaterThan(0.2);
    for (const k of kept) expect(k / periods).toBeLessThan(0.3);
  });
});

describe('Exemplars', () => {
  const origin = { name: 'an exchange' };

  it('trace_based: only measurements in a sampled span, never without a valid span context or an origin', () => {
    const spans = new Map<object, SpanContext>();
    const ex = new Exemplars({ filter: 'trace_based', contextOf: (o) => spans.get(o) });
    expect(ex.contextFor(undefined)).toBeUndefined();
    expect(ex.contextFor(origin)).toBeUndefined();
    spans.set(origin, span(false));
    expect(ex.contextFor(origin)).toBeUndefined();
    const sampled = span(true);
    spans.set(origin, sampled);
    expect(ex.contextFor(origin)).toBe(sampled);
    spans.set(origin, { traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: TraceFlags.SAMPLED });
    expect(ex.contextFor(origin)).toBeUndefined();
  });

  it('always_on: measurements in any span, sampled or not', () => {
    const unsampled = span(false);
    const ex = new Exemplars({ filter: 'always_on', contextOf: () => unsampled });
    expect(ex.contextFor(origin)).toBe(unsampled);
  });

  it('finds a series by its attributes whatever their order, and gives at most EXEMPLAR_SERIES_LIMIT series a reservoir', () => {
    const ex = new Exemplars({ filter: 'always_on', contextOf: () => undefined, now: () => 42 });
    const tools = ex.histogram('mcp_tool_invocation_duration_seconds');
    const s = span();
    tools.offer({ b: '2', a: '1' }, 0.3, s);
    expect(ex.lookup('mcp_tool_invocation_duration_seconds', { a: '1', b: '2' })?.buckets?.[3]).toMatchObject({ traceId: s.traceId, value: 0.3, timeMs: 42 });
    expect(ex.lookup('mcp_tool_invocation_duration_seconds', { a: '1' })).toBeUndefined();
    expect(ex.lookup('mcp_tool_invocations_total', { a: '1', b: '2' })).toBeUndefined();
    expect(seriesKey({ b: '2', a: '1' })).toBe(seriesKey({ a: '1', b: '2' }));
    expect(seriesKey({ a: '1,b' })).not.toBe(seriesKey({ a: '1', b: '' }));
    // A value holding the old separators no longer spells another series' key.
    expect(seriesKey({ a: '1\u0000b\u0001' })).not.toBe(seriesKey({ a: '1', b: '' }));
    for (let i = 0; i < EXEMPLAR_SERIES_LIMIT + 50; i++) tools.offer({ tool_id: `t${i}` }, 0.3, s);
    expect(ex.lookup('mcp_tool_invocation_duration_seconds', { tool_id: `t${EXEMPLAR_SERIES_LIMIT - 2}` })).toBeDefined();
    expect(ex.lookup('mcp_tool_invocation_duration_seconds', { tool_id: `t${EXEMPLAR_SERIES_LIMIT + 10}` })).toBeUndefined();
  });

  it('refuses a family that has no exemplars (a programming error)', () => {
    const ex = new Exemplars({ filter: 'always_on', contextOf: () => undefined });
    expect(() => ex.histogram('mcp_http_response_size_bytes')).toThrow('is not a histogram with exemplars');
    expect(() => ex.counter('mcp_http_requests_total')).toThrow('is not a counter with exemplars');
  });

  it('starts a new counter sampling period at each OpenMetrics collection', () => {
    const draws = [0.99];
    const ex = new Exemplars({ filter: 'always_on', contextOf: () => undefined, random: () => draws.shift() ?? 0.99 });
    const calls = ex.counter('mcp_tool_invocations_total');
    const [a, b, c] = [span(), span(), span()];
    calls.offer({ tool_id: 'x' }, 1, a);
    calls.offer({ tool_id: 'x' }, 1, b);
    expect(ex.lookup('mcp_tool_invocations_total', { tool_id: 'x' })?.total?.traceId).toBe(a.traceId);
    ex.collected();
    calls.offer({ tool_id: 'x' }, 1, c);
    expect(ex.lookup('mcp_tool_invocations_total', { tool_id: 'x' })?.total?.traceId).toBe(c.traceId);
  });
});

describe('recorders with exemplars, scraped', () => {
  function setup(exemplars?: Exemplars) {
    const scraper = new PrometheusScraper({ exemplars });
    const { provider, meter } = createMeterProvider({ readers: [scraper.reader], version: 'test' });
    const instruments = new Instruments(meter, { maxLabelValues: 200 });
    return { scraper, provider, instruments };
  }

  it('a tool call seen on a traced object carries its span to the duration bucket and the counter of OpenMetrics, never to 0.0.4', async () => {
    const spans = new Map<object, SpanContext>();
    const exemplars = new Exemplars({ filter: 'trace_based', contextOf: (o) => spans.get(o), now: () => 1_700_000_000_000 });
    const { scraper, provider, instruments } = setup(exemplars);
    const recorder = new CatalogRecorder(instruments, exemplars);
    const slowCall = {};
    const unsampledCall = {};
    const slow = span(true);
    spans.set(slowCall, slow);
    spans.set(unsampledCall, span(false));
    recorder.toolCall({ source: 'mcp', toolId: 'calc_add', ok: true, durationSeconds: 7.5, origin: slowCall });
    recorder.toolCall({ source: 'mcp', toolId: 'calc_add', ok: true, durationSeconds: 0.02, origin: unsampledCall });
    recorder.toolCall({ source: 'event', toolId: 'calc_add', ok: true, durationSeconds: 0.03, transport: 'stdio' });
    recorder.resourceRead({ source: 'rest', resourceUri: 'file:///a', ok: true, durationSeconds: 0.3, origin: slowCall });
    const om = await scraper.scrape('openmetrics');
    const withExemplar = om.split('\n').filter((l) => l.includes(' # {'));
    expect(withExemplar).toEqual([
      `mcp_tool_invocations_total{tool_id="calc_add",status="success"} 3 # {trace_id="${slow.traceId}",span_id="${slow.spanId}"} 1 1700000000.000`,
      `mcp_tool_invocation_duration_seconds_bucket{tool_id="calc_add",le="10.0"} 3 # {trace_id="${slow.traceId}",span_id="${slow.spanId}"} 7.5 1700000000.000`,
      `mcp_resource_read_duration_seconds_bucket{resource_uri="file:///a",le="0.5"} 1 # {trace_id="${slow.traceId}",span_id="${slow.spanId}"} 0.3 1700000000.000`,
    ]);
    expect(await scraper.scrape('text')).not.toContain('#{');
    expect(await scraper.scrape('text')).not.toContain(' # ');
    await provider.shutdown();
  });

  it('a local HTTP histogram series shows the exemplar of its reservoir; without exemplars OpenMetrics shows none', async () => {
    const exemplars = new Exemplars({ filter: 'always_on', contextOf: () => undefined, now: () => 5000 });
    const on = setup(exemplars);
    const cell = on.instruments.histogram('mcp_http_request_duration_seconds').cell({ method: 'GET', endpoint: '/x' });
    const s = span();
    cell.record(0.2);
    exemplars.histogram('mcp_http_request_duration_seconds').of(cell.attributes)?.offer(0.2, s, exemplars.now());
    expect((await on.scraper.scrape('openmetrics')).split('\n').filter((l) => l.includes(' # {'))).toEqual([
      `mcp_http_request_duration_seconds_bucket{method="GET",endpoint="/x",le="0.25"} 1 # {trace_id="${s.traceId}",span_id="${s.spanId}"} 0.2 5.000`,
    ]);
    await on.provider.shutdown();

    const off = setup();
    off.instruments.histogram('mcp_http_request_duration_seconds').cell({ method: 'GET', endpoint: '/x' }).record(0.2);
    new CatalogRecorder(off.instruments).toolCall({ source: 'mcp', toolId: 't', ok: true, durationSeconds: 1, origin: {} });
    const om = await off.scraper.scrape('openmetrics');
    expect(om).toContain('mcp_http_request_duration_seconds_bucket{method="GET",endpoint="/x",le="0.25"} 1\n');
    expect(om).not.toContain(' # {');
    await off.provider.shutdown();
  });
});
