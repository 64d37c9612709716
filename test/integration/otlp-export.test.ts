import diagnostics_channel from 'node:diagnostics_channel';
import { waitFor } from '../fixtures/wait.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { HTTP_DURATION_BUCKETS, SEMCONV_HTTP_DURATION_BUCKETS } from '../../src/telemetry/catalog.ts';
import { type Attrs, otlpEnv, startOtlpReceiver, type OtlpReceiver } from '../fixtures/otlp-receiver.ts';
import { histogram, scrape, value } from '../fixtures/scrape.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';
import { readBody, startUpstream, unusedPort, type TestUpstream, clientRequests } from '../fixtures/upstream.ts';

let upstream: TestUpstream | undefined;
let sidecar: TestSidecar | undefined;
let receiver: OtlpReceiver | undefined;
afterEach(async () => {
  await sidecar?.close();
  await upstream?.close();
  await receiver?.close();
  sidecar = undefined;
  upstream = undefined;
  receiver = undefined;
});

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';

/** Requests the upstream received from clients (not the sidecar's health probes). */
const proxied = clientRequests;

function composer(): Promise<TestUpstream> {
  return startUpstream(async (req, res) => {
    await readBody(req);
    if ((req.url ?? '').startsWith('/broken')) {
      res.writeHead(503, { 'content-type': 'application/json' });
      return void res.end('{"detail":"unavailable"}');
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"tools":[],"total":0}');
  });
}

describe('OTLP metrics push', () => {
  it('sends the catalog families and http.server.request.duration with exact values, while /metrics still answers', async () => {
    receiver = await startOtlpReceiver();
    upstream = await composer();
    sidecar = await startSidecar(upstream.url, [], {
      ...otlpEnv(receiver, { metrics: true }),
      OTEL_SERVICE_NAME: 'composer-sidecar-test',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test,k8s.pod.name=pod%2D1',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=team-a',
    });
    for (let i = 0; i < 5; i++) await (await fetch(`${sidecar.proxyUrl}/api/v1/tools?limit=1`)).text();
    for (let i = 0; i < 2; i++) await (await fetch(`${sidecar.proxyUrl}/api/v1/tools/calc.add/invoke`, { method: 'POST', body: '{"arguments":{}}' })).text();

    const r = receiver;
    await waitFor(
      () =>
        r.sum('mcp_http_requests_total', { method: 'POST' }) === 2 &&
        r.sum('mcp_http_requests_total', { method: 'GET' }) === 5 &&
        r.sum('mcp_tool_invocations_total') === 2,
      { what: 'the request counts' },
    );
    // The tool-invocation sum, classified from the proxied REST invokes, arrives with its exact value.
    expect(r.sum('mcp_tool_invocations_total', { tool_id: 'calc.add', status: 'success' })).toBe(2);
    expect(r.latest('mcp_tool_invocations_total')?.isMonotonic).toBe(true);
    expect(r.sum('mcp_http_requests_total', { method: 'GET', endpoint: '/api/v1/tools', status_code: '200' })).toBe(5);
    expect(r.sum('mcp_http_requests_total', { method: 'POST', endpoint: '/api/v1/tools/{id}/invoke', status_code: '200' })).toBe(2);
    expect(r.latest('mcp_http_requests_total')?.isMonotonic).toBe(true);

    const catalogDuration = r.histogram('mcp_http_request_duration_seconds', { method: 'GET', endpoint: '/api/v1/tools' });
    expect(catalogDuration?.count).toBe(5);
    expect(catalogDuration?.explicitBounds).toEqual([...HTTP_DURATION_BUCKETS]);

    const semconv = r.latest('http.server.request.duration');
    expect(semconv?.unit).toBe('s');
    const get = r.histogram('http.server.request.duration', { 'http.request.method': 'GET', 'http.route': '/api/v1/tools' });
    expect(get?.count).toBe(5);
    expect(get?.explicitBounds).toEqual([...SEMCONV_HTTP_DURATION_BUCKETS]);
    expect(get?.attributes).toEqual({
      'http.request.method': 'GET',
      'url.scheme': 'http',
      'http.route': '/api/v1/tools',
      'network.protocol.version': '1.1',
      'http.response.status_code': 200,
    });
    expect(r.histogram('http.server.request.duration', { 'http.request.method': 'POST', 'http.route': '/api/v1/tools/{id}/invoke' })?.count).toBe(2);

    expect(semconv?.resource['service.name']).toBe('composer-sidecar-test');
    expect(semconv?.resource['deployment.environment.name']).toBe('test');
    expect(semconv?.resource['k8s.pod.name']).toBe('pod-1');
    expect(r.heads.find((h) => h.path === '/v1/metrics')?.headers['x-tenant']).toBe('team-a');

    // The pull side is unaffected and sees the same instruments.
    const m = await scrape(sidecar.metricsUrl);
    expect(value(m, 'mcp_http_requests_total')).toBe(7);
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: 'calc.add', status: 'success' })).toBe(2);
    expect(histogram(m, 'mcp_http_request_duration_seconds', { method: 'GET', endpoint: '/api/v1/tools' })?.count).toBe(5);
    expect(m.get('http_server_request_duration_seconds')?.type).toBe('HISTOGRAM');
    expect(value(m, 'sidecar_otlp_export_failures_total', { signal: 'metrics' })).toBe(0);
  });
});

describe('OTLP metrics push with the delta temporality preference', () => {
  it('sends counters and histograms as deltas that add up to the totals once, and up/down counters as totals', async () => {
    receiver = await startOtlpReceiver();
    upstream = await startUpstream(async (req, res) => {
      await readBody(req);
      if (req.url === '/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        return void res.end('data: one\n\n');
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"tools":[],"total":0}');
    });
    sidecar = await startSidecar(upstream.url, [], { ...otlpEnv(receiver, { metrics: true }), OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta' });
    // One event stream, opened and closed: the up/down counter of open streams has a series (back at 0).
    await (await fetch(`${sidecar.proxyUrl}/stream`)).text();
    for (let i = 0; i < 5; i++) await (await fetch(`${sidecar.proxyUrl}/api/v1/tools?limit=1`)).text();
    for (let i = 0; i < 2; i++) await (await fetch(`${sidecar.proxyUrl}/api/v1/tools/calc.add/invoke`, { method: 'POST', body: '{"arguments":{}}' })).text();

    const r = receiver;
    const added = (name: string, want: Attrs) =>
      r
        .every(name)
        .reduce(
          (total, m) => total + m.points.filter((p) => Object.entries(want).every(([k, v]) => p.attributes[k] === v)).reduce((a, p) => a + (p.value ?? 0), 0),
          0,
        );
    const durations = () =>
      r
        .every('mcp_http_request_duration_seconds')
        .reduce(
          (total, m) => total + m.points.filter((p) => p.attributes['endpoint'] === '/api/v1/tools').reduce((a, p) => a + (p.histogram?.count ?? 0), 0),
          0,
        );
    await waitFor(
      () =>
        added('mcp_http_requests_total', { method: 'GET', endpoint: '/api/v1/tools' }) === 5 &&
        added('mcp_tool_invocations_total', {}) === 2 &&
        durations() === 5,
      {
        what: 'the deltas adding up to the counts',
      },
    );
    const exportsBefore = r.requests.metrics.length;
    // Later exports carry nothing new for series that did not move: the sums stay the totals, never counted twice.
    await waitFor(() => r.requests.metrics.length >= exportsBefore + 3, { what: 'three more exports' });
    expect(added('mcp_http_requests_total', { method: 'GET', endpoint: '/api/v1/tools', status_code: '200' })).toBe(5);
    expect(added('mcp_tool_invocations_total', { tool_id: 'calc.add', status: 'success' })).toBe(2);
    expect(durations()).toBe(5);
    expect(r.latest('mcp_http_requests_total')?.temporality).toBe(1);
    expect(r.latest('mcp_http_request_duration_seconds')?.temporality).toBe(1);
    // An up/down counter stays cumulative under the delta preference (OpenTelemetry's rule).
    const streams = r.every('sidecar_proxy_open_streams');
    expect(streams.length).toBeGreaterThan(3);
    for (const m of streams) expect(m.temporality).toBe(2);
    expect(r.sum('sidecar_proxy_open_streams', { kind: 'sse' })).toBe(0);
    // The Prometheus port still shows the totals.
    const families = await scrape(sidecar.metricsUrl);
    expect(value(families, 'mcp_http_requests_total', { method: 'GET', endpoint: '/api/v1/tools' })).toBe(5);
  });
});

describe('OTLP protocols', () => {
  it('uses http/protobuf by default, at the signal paths under the base endpoint', async () => {
    receiver = await startOtlpReceiver();
    upstream = await composer();
    const { OTEL_EXPORTER_OTLP_PROTOCOL: _json, ...env } = otlpEnv(receiver);
    sidecar = await startSidecar(upstream.url, [], { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: `${receiver.url}/` });
    await (await fetch(`${sidecar.proxyUrl}/api/v1/tools`)).text();
    const r = receiver;
    await waitFor(() => r.heads.some((h) => h.path === '/v1/metrics') && r.heads.some((h) => h.path === '/v1/traces'), { what: 'both signals' });
    for (const h of r.heads) expect(h.headers['content-type']).toBe('application/x-protobuf');
  });
});

describe('traces', () => {
  it('a request with a traceparent yields a SERVER span with that parent, and the upstream continues the trace from it', async () => {
    receiver = await startOtlpReceiver();
    upstream = await composer();
    sidecar = await startSidecar(upstream.url, [], otlpEnv(receiver, { traces: true }));
    const res = await fetch(`${sidecar.proxyUrl}/api/v1/tools/calc.add/invoke?token=QUERYSECRET`, {
      method: 'POST',
      body: '{"arguments":{"password":"ARGSECRET"}}',
      headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`, tracestate: 'vendor=abc', authorization: 'Bearer TOKENSECRET' },
    });
    expect(res.status).toBe(200);
    await res.text();

    const sent = proxied(upstream)[0]!.headers;
    const [version, traceId, spanId, flags] = String(sent.traceparent).split('-');
    expect(version).toBe('00');
    expect(traceId).toBe(TRACE_ID);
    expect(spanId).not.toBe(PARENT_SPAN_ID);
    expect(flags).toBe('01');
    expect(sent.tracestate).toBe('vendor=abc');

    const r = receiver;
    await waitFor(() => r.spans().length >= 1, { what: 'the span' });
    const span = r.spans()[0]!;
    expect(span.traceId).toBe(TRACE_ID);
    expect(span.parentSpanId).toBe(PARENT_SPAN_ID);
    expect(span.spanId).toBe(spanId);
    expect(span.kind).toBe(2);
    expect(span.name).toBe('POST /api/v1/tools/{id}/invoke');
    expect(span.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/api/v1/tools/{id}/invoke',
      'http.response.status_code': 200,
      'url.scheme': 'http',
      'server.address': '127.0.0.1',
      'network.protocol.version': '1.1',
    });
    for (const key of ['url.path', 'url.query', 'url.full', 'error.type']) expect(span.attributes).not.toHaveProperty(key);
    expect(JSON.stringify(r.requests.traces)).not.toMatch(/SECRET|token=|password/);
    expect(span.resource['service.name']).toBe('mcp-composer-sidecar');
  });

  it('starts a new trace without a traceparent and marks 5xx answers and unreachable upstreams as errors', async () => {
    receiver = await startOtlpReceiver();
    upstream = await composer();
    sidecar = await startSidecar(upstream.url, [], otlpEnv(receiver, { traces: true }));
    await (await fetch(`${sidecar.proxyUrl}/broken`)).text();
    const sent = String(proxied(upstream)[0]!.headers.traceparent);
    expect(sent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const r = receiver;
    await waitFor(() => r.spans().length >= 1, { what: 'the span' });
    const span = r.spans()[0]!;
    expect(span.parentSpanId).toBe('');
    expect(sent).toBe(`00-${span.traceId}-${span.spanId}-01`);
    expect(span.attributes['http.response.status_code']).toBe(503);
    expect(span.attributes['error.type']).toBe('503');
    expect(span.statusCode).toBe(2);

    await upstream.close();
    upstream = undefined;
    expect((await fetch(`${sidecar.proxyUrl}/api/v1/tools`)).status).toBe(502);
    await waitFor(() => r.spans().length >= 2, { what: 'the second span' });
    const failed = r.spans()[1]!;
    expect(failed.attributes['error.type']).toBe('upstream_unavailable');
    expect(failed.attributes['http.response.status_code']).toBe(502);
    expect(failed.statusCode).toBe(2);
  });
});

describe('collector down', () => {
  it('leaves proxying and /metrics unaffected, counts the failures, and logs one line per signal', async () => {
    upstream = await composer();
    const port = await unusedPort();
    sidecar = await startSidecar(upstream.url, [], {
      ...otlpEnv({ url: `http://127.0.0.1:${port}` }),
      OTEL_EXPORTER_OTLP_TIMEOUT: '200',
    });
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${sidecar.proxyUrl}/api/v1/tools`);
      expect(res.status).toBe(200);
      await res.text();
    }
    const s = sidecar;
    await waitFor(
      async () => {
        const m = await scrape(s.metricsUrl);
        return (
          value(m, 'sidecar_otlp_export_failures_total', { signal: 'metrics' }) >= 3 &&
          value(m, 'sidecar_otlp_export_failures_total', { signal: 'traces' }) >= 1
        );
      },
      { what: 'export failures to be counted' },
    );
    const m = await scrape(s.metricsUrl);
    expect(value(m, 'mcp_http_requests_total')).toBe(20);
    const exportLines = s.logs.filter((l) => String(l.event ?? '').startsWith('otlp_export'));
    expect(exportLines.map((l) => [l.event, l['signal']]).sort()).toEqual([
      ['otlp_export_failed', 'metrics'],
      ['otlp_export_failed', 'traces'],
    ]);
    expect(exportLines[0]?.['error']).toBe('ECONNREFUSED');
    expect(exportLines[0]?.['endpoint']).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/v1/(metrics|traces)$`));
  });
});

describe('with no OTEL_* variables', () => {
  it('registers no tracing subscriber and adds no trace context upstream', async () => {
    upstream = await composer();
    sidecar = await startSidecar(upstream.url, ['--access-log']);
    // The MCP operation channels have no other subscriber than tracing.
    expect(diagnostics_channel.hasSubscribers('mcp-composer-sidecar:mcp:operation:start')).toBe(false);
    expect(diagnostics_channel.hasSubscribers('mcp-composer-sidecar:mcp:operation:end')).toBe(false);
    await (await fetch(`${sidecar.proxyUrl}/api/v1/tools`)).text();
    await (await fetch(`${sidecar.proxyUrl}/api/v1/tools`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01` } })).text();
    expect(proxied(upstream)[0]!.headers.traceparent).toBeUndefined();
    // The client's own header passes through untouched.
    expect(proxied(upstream)[1]!.headers.traceparent).toBe(`00-${TRACE_ID}-${PARENT_SPAN_ID}-01`);
    const s = sidecar;
    await waitFor(() => s.logs.filter((l) => l.event === 'access').length === 2, { what: 'the access log' });
    for (const line of s.logs) expect(line).not.toHaveProperty('trace_id');
    const m = await scrape(s.metricsUrl);
    expect(m.has('http_server_request_duration_seconds')).toBe(false);
    expect(m.has('sidecar_otlp_export_failures_total')).toBe(false);
  });
});
