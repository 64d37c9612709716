/**
 * From a latency bucket to the trace of the call in it, end to end: real MCP SDK clients call tools, read a
 * resource and get a prompt through the sidecar (tracing to an OTLP receiver) in front of the demo
 * composer; a real Prometheus (1 s scrapes, exemplar storage) negotiates OpenMetrics, and the exemplars it
 * stores for the tool-call histogram and counter, the MCP operation histogram and the HTTP duration
 * histogram name spans the receiver got for those calls. The filter decides which measurements qualify.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startDemoComposer, waitFor, type DemoComposer } from '../fixtures/demo-composer.ts';
import { connectMcp, type ConnectedClient } from '../fixtures/mcp-client.ts';
import { otlpEnv, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../fixtures/otlp-receiver.ts';
import { startPrometheus, type TestPrometheus } from '../fixtures/prometheus.ts';
import { startSidecar, TEST_TOKEN, type TestSidecar } from '../fixtures/sidecar.ts';
import { MISSING_PROMETHEUS, PROMETHEUS } from '../fixtures/tools.ts';

const OPENMETRICS = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5';
const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

let composer: DemoComposer | undefined;
const sidecars: TestSidecar[] = [];
let receiver: OtlpReceiver | undefined;
let prom: TestPrometheus | undefined;
const clients: ConnectedClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.client.close();
  await prom?.close();
  for (const s of sidecars.splice(0)) await s.close();
  await composer?.close();
  await receiver?.close();
  prom = composer = receiver = undefined;
});

interface StoredExemplars {
  readonly seriesLabels: Record<string, string>;
  readonly exemplars: Array<{ labels: { trace_id?: string; span_id?: string }; value: string; timestamp: number }>;
}

async function exemplarsOf(p: TestPrometheus, selector: string): Promise<StoredExemplars[]> {
  const now = Date.now() / 1000;
  return p.api<StoredExemplars[]>(`query_exemplars?query=${encodeURIComponent(selector)}&start=${now - 600}&end=${now + 60}`);
}

/** Exemplar (trace, span) pairs of a selector. */
const pairs = (stored: StoredExemplars[]) =>
  stored.flatMap((s) =>
    s.exemplars.map((e) => ({ trace: e.labels.trace_id ?? '', span: e.labels.span_id ?? '', value: Number(e.value), series: s.seriesLabels })),
  );

async function scrapeOpenMetrics(s: TestSidecar): Promise<string> {
  const res = await fetch(s.metricsUrl, { headers: { authorization: `Bearer ${TEST_TOKEN}`, accept: OPENMETRICS } });
  return res.text();
}

describe.skipIf(PROMETHEUS === undefined)(`exemplars in a real Prometheus${PROMETHEUS === undefined ? ` (skipped: ${MISSING_PROMETHEUS})` : ''}`, () => {
  it('the tool-call histogram, its counter, the MCP operation and HTTP histograms link to the spans of those calls', async () => {
    receiver = await startOtlpReceiver();
    composer = await startDemoComposer();
    const sidecar = await startSidecar(composer.url, [], otlpEnv(receiver, { traces: true }));
    sidecars.push(sidecar);
    const p = (prom = await startPrometheus({ target: new URL(sidecar.metricsUrl).host, token: TEST_TOKEN, flags: ['--enable-feature=exemplar-storage'] }));
    for (const kind of ['streamable_http', 'sse'] as const) {
      const c = await connectMcp(kind, sidecar.proxyUrl);
      clients.push(c);
      for (const ms of [20, 150, 700]) expect((await c.client.callTool({ name: 'clock_sleep', arguments: { ms } })).isError ?? false).toBe(false);
      await c.client.getPrompt({ name: 'calc_explain', arguments: { topic: 'sums' } });
      await c.client.readResource({ uri: 'file:///demo/readme.txt' });
    }
    // A REST invocation in the client's own trace.
    const rest = await fetch(`${sidecar.proxyUrl}/api/v1/tools/calc.add/invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${CLIENT_TRACE}-00f067aa0ba902b7-01` },
      body: JSON.stringify({ arguments: { a: 2, b: 3 } }),
    });
    expect(rest.status).toBe(200);
    await rest.text();
    const r = receiver;
    const toolSpans = await waitFor(
      () => {
        const s = r.spans().filter((x) => x.name === 'tools/call clock_sleep');
        return s.length === 6 ? s : undefined;
      },
      { what: 'the six tools/call spans', timeoutMs: 15_000 },
    );
    const spanKey = (s: { trace: string; span: string }) => `${s.trace}/${s.span}`;
    const toolKeys = new Set(toolSpans.map((s: ReceivedSpan) => `${s.traceId}/${s.spanId}`));

    // The tool-call histogram: each exemplar is the span of a clock_sleep call, in the bucket of its duration.
    const buckets = await waitFor(
      async () => {
        const got = pairs(await exemplarsOf(p, 'mcp_tool_invocation_duration_seconds_bucket{tool_id="clock_sleep"}'));
        return got.length >= 3 ? got : undefined;
      },
      { what: 'tool-call exemplars in Prometheus', timeoutMs: 20_000, intervalMs: 250 },
    );
    const BOUNDS = [0, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, Infinity];
    for (const e of buckets) {
      expect(toolKeys.has(spanKey(e)), `${spanKey(e)} is a tools/call span`).toBe(true);
      // In its own bucket: at most its bound, above the bound below.
      const le = e.series['le'] === '+Inf' ? Infinity : Number(e.series['le']);
      expect(e.value).toBeLessThanOrEqual(le);
      expect(e.value).toBeGreaterThan(BOUNDS[BOUNDS.indexOf(le) - 1] ?? -1);
      // The measurement is the span's own duration (both are the sidecar's clock for that call).
      const span = toolSpans.find((s) => s.traceId === e.trace && s.spanId === e.span)!;
      expect(Math.abs(Number(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1e9 - e.value)).toBeLessThan(0.001);
    }
    // Calls of different durations landed in different buckets; the slowest exemplar is a 700 ms call.
    expect(new Set(buckets.map((e) => e.series['le'])).size).toBeGreaterThanOrEqual(2);
    const slowest = buckets.reduce((a, b) => (b.value > a.value ? b : a));
    expect(slowest.value).toBeGreaterThanOrEqual(0.7);

    // The REST call's exemplar is in the client's trace, on the sidecar's SERVER span of that request.
    const restExemplars = await waitFor(
      async () => {
        const got = pairs(await exemplarsOf(p, 'mcp_tool_invocation_duration_seconds_bucket{tool_id="calc.add"}'));
        return got.length > 0 ? got : undefined;
      },
      { what: 'the REST call exemplar', timeoutMs: 10_000, intervalMs: 250 },
    );
    expect(restExemplars.map((e) => e.trace)).toEqual([CLIENT_TRACE]);
    const restSpan = await waitFor(() => r.spans().find((s) => s.traceId === CLIENT_TRACE && s.spanId === restExemplars[0]?.span), {
      what: 'the REST SERVER span',
    });
    expect(restSpan.name).toBe('POST /api/v1/tools/{id}/invoke');

    // The tool counter.
    const counted = pairs(await exemplarsOf(p, 'mcp_tool_invocations_total{tool_id="clock_sleep"}'));
    expect(counted.length).toBeGreaterThan(0);
    for (const e of counted) expect(toolKeys.has(spanKey(e))).toBe(true);

    // mcp.server.operation.duration covers prompts/get (the catalog has no prompt histogram) and resources/read.
    const promptSpans = new Set(
      r
        .spans()
        .filter((s) => s.name === 'prompts/get calc_explain')
        .map((s) => `${s.traceId}/${s.spanId}`),
    );
    const prompts = pairs(await exemplarsOf(p, 'mcp_server_operation_duration_seconds_bucket{mcp_method_name="prompts/get"}'));
    expect(prompts.length).toBeGreaterThan(0);
    for (const e of prompts) expect(promptSpans.has(spanKey(e))).toBe(true);
    const reads = pairs(await exemplarsOf(p, 'mcp_resource_read_duration_seconds_bucket'));
    const readSpans = new Set(
      r
        .spans()
        .filter((s) => s.name === 'resources/read')
        .map((s) => `${s.traceId}/${s.spanId}`),
    );
    expect(reads.length).toBeGreaterThan(0);
    for (const e of reads) expect(readSpans.has(spanKey(e))).toBe(true);

    // The HTTP duration histogram links to the SERVER span of a proxied request (an SSE stream's span, whose
    // time to headers is recorded, is exported when the stream closes: close the sessions first).
    const http = pairs(await exemplarsOf(p, 'mcp_http_request_duration_seconds_bucket'));
    expect(http.length).toBeGreaterThan(0);
    for (const c of clients.splice(0)) await c.client.close();
    const serverSpans = await waitFor(
      () => {
        const byKey = new Map(
          r
            .spans()
            .filter((s) => s.kind === 2 && /^(GET|POST|DELETE) /.test(s.name))
            .map((s) => [`${s.traceId}/${s.spanId}`, s]),
        );
        return http.every((e) => byKey.has(spanKey(e))) ? byKey : undefined;
      },
      { what: 'the SERVER spans of the HTTP exemplars', timeoutMs: 15_000 },
    );
    expect(new Set(http.map((e) => serverSpans.get(spanKey(e))?.name)).size).toBeGreaterThan(0);
  }, 90_000);
});

describe('the exemplar filter', () => {
  it('trace_based leaves out measurements in unsampled spans, always_on keeps them, always_off and no tracing write none', async () => {
    receiver = await startOtlpReceiver();
    composer = await startDemoComposer();
    const env = (extra: Record<string, string>) => ({ ...otlpEnv(receiver!, { traces: true }), OTEL_TRACES_SAMPLER: 'always_off', ...extra });
    const variants = {
      traceBased: await startSidecar(composer.url, [], env({})),
      alwaysOn: await startSidecar(composer.url, [], env({ OTEL_METRICS_EXEMPLAR_FILTER: 'always_on' })),
      alwaysOff: await startSidecar(composer.url, [], env({ OTEL_METRICS_EXEMPLAR_FILTER: 'always_off', OTEL_TRACES_SAMPLER: 'always_on' })),
      untraced: await startSidecar(composer.url, [], { OTEL_METRICS_EXEMPLAR_FILTER: 'always_on' }),
    };
    sidecars.push(...Object.values(variants));
    for (const s of Object.values(variants)) {
      const c = await connectMcp('streamable_http', s.proxyUrl);
      clients.push(c);
      await c.client.callTool({ name: 'clock_sleep', arguments: { ms: 10 } });
    }
    const exemplarLines = async (s: TestSidecar) => (await scrapeOpenMetrics(s)).split('\n').filter((l) => l.includes(' # {'));
    expect(await exemplarLines(variants.traceBased)).toEqual([]);
    const on = await exemplarLines(variants.alwaysOn);
    expect(on.some((l) => l.startsWith('mcp_tool_invocation_duration_seconds_bucket{tool_id="clock_sleep",le="0.05"}'))).toBe(true);
    expect(on.some((l) => l.startsWith('mcp_tool_invocations_total{tool_id="clock_sleep",status="success"}'))).toBe(true);
    // always_on links unsampled spans: real trace ids that no backend received.
    const traceIds = on.map((l) => /trace_id="([0-9a-f]{32})"/.exec(l)?.[1]);
    expect(traceIds.every((t) => t !== undefined && t !== '0'.repeat(32))).toBe(true);
    expect(await exemplarLines(variants.alwaysOff)).toEqual([]);
    expect(await exemplarLines(variants.untraced)).toEqual([]);
    expect(variants.untraced.logs.some((l) => l.event === 'otel_config' && String(l['note']).includes('OTEL_METRICS_EXEMPLAR_FILTER has no effect'))).toBe(
      true,
    );
  }, 60_000);
});
