/**
 * Label flooding (#17 B1), on real sockets: a client that sends more distinct junk values than
 * `--max-label-values` allows — paths, tool names over MCP and REST, resource URIs — before the real ones
 * must not fold the composer's routes, tools or URIs into `__other__`; a name too long for its label is
 * counted as overflow; and a client's own `__other__` is told apart from the overflow.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_TEMPLATES, normalizeEndpoint } from '../../src/ledger/endpoint.ts';
import { OVERFLOW_VALUE } from '../../src/telemetry/catalog.ts';
import { startDemoComposer, waitFor, type DemoComposer } from '../fixtures/demo-composer.ts';
import { connectMcp, type ConnectedClient } from '../fixtures/mcp-client.ts';
import { histogram, scrape, value, type Family } from '../fixtures/scrape.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';
import { startUpstream, type TestUpstream } from '../fixtures/upstream.ts';

/** The default --max-label-values. */
const BOUND = 200;
const HTTP_FAMILIES = ['mcp_http_requests_total', 'mcp_http_request_duration_seconds', 'mcp_http_request_size_bytes', 'mcp_http_response_size_bytes'];
const TOOL_FAMILIES = ['mcp_tool_invocations_total', 'mcp_tool_invocation_duration_seconds', 'mcp_tool_invocation_errors_total'];

/** A word of letters only (`junk` + a, b, …, ba, …): the endpoint heuristics keep it as a word, so each is a new label value. */
function word(i: number): string {
  let w = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) w = String.fromCharCode(97 + ((n - 1) % 26)) + w;
  return `junk${w}`;
}

/** A concrete path for each route template. */
function pathOf(template: string): string {
  return template.replace('{id}', 'calc').replace('{name}', 'mytranslator').replace('{uri}', encodeURIComponent('calc://constants'));
}

/** Every label value of `label` a family has, histograms included. */
function labelValues(m: Map<string, Family>, name: string, label: string): Set<string> {
  const f = m.get(name);
  const sets = f === undefined ? [] : f.type === 'HISTOGRAM' ? f.histograms.map((h) => h.labels) : f.samples.map((s) => s.labels);
  return new Set(sets.map((l) => l[label] ?? ''));
}

async function inChunks<T>(items: readonly T[], size: number, run: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

const post = (url: string, body: unknown = {}) =>
  fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }).then((r) => r.text());

describe('junk paths, then the real routes', () => {
  let upstream: TestUpstream;
  let sidecar: TestSidecar | undefined;
  beforeAll(async () => {
    upstream = await startUpstream((_req, res) => res.end('ok'));
  });
  afterEach(async () => {
    await sidecar?.close();
    sidecar = undefined;
  });
  afterAll(() => upstream.close());

  it('label flooding with 250 unknown paths (top level and under /api/v1) leaves every composer route template counted under its own endpoint, in all four HTTP families', async () => {
    sidecar = await startSidecar(upstream.url);
    const junk = Array.from({ length: 250 }, (_, i) => (i % 2 === 0 ? `/${word(i)}` : `/api/v1/${word(i)}/more`));
    await inChunks(junk, 25, (p) => fetch(`${sidecar!.proxyUrl}${p}`).then((r) => r.text()));
    const routes = ROUTE_TEMPLATES.map((t) => ({ template: t, path: pathOf(t) }));
    for (const r of routes) expect(normalizeEndpoint(r.path), r.path).toBe(r.template);
    for (const r of routes) await (await fetch(`${sidecar.proxyUrl}${r.path}`)).text();

    const s = sidecar;
    const m = await waitFor(
      async () => {
        const x = await scrape(s.metricsUrl);
        return value(x, 'mcp_http_requests_total') === junk.length + routes.length ? x : undefined;
      },
      { what: 'every request to be counted' },
    );
    for (const family of HTTP_FAMILIES) {
      const endpoints = labelValues(m, family, 'endpoint');
      for (const r of routes) expect(endpoints.has(r.template), `${family}{endpoint="${r.template}"}`).toBe(true);
      expect(endpoints.has(OVERFLOW_VALUE), `${family} folded the junk`).toBe(true);
      // The bound of unknown values, the templates, and __other__.
      expect(endpoints.size, family).toBe(BOUND + ROUTE_TEMPLATES.length + 1);
    }
    for (const r of routes) expect(value(m, 'mcp_http_requests_total', { method: 'GET', endpoint: r.template }), r.template).toBe(1);
    expect(value(m, 'mcp_http_requests_total', { endpoint: OVERFLOW_VALUE })).toBe(junk.length - BOUND);
    expect(value(m, 'sidecar_label_overflow_total', { family: 'mcp_http_requests_total', label: 'endpoint', reason: 'limit' })).toBe(junk.length - BOUND);
  });
});

describe('against the demo composer', () => {
  let composer: DemoComposer;
  let sidecar: TestSidecar | undefined;
  let mcp: ConnectedClient | undefined;
  beforeAll(async () => {
    composer = await startDemoComposer(['--no-events']);
  }, 30_000);
  afterEach(async () => {
    await mcp?.client.close();
    await sidecar?.close();
    mcp = undefined;
    sidecar = undefined;
  });
  afterAll(() => composer.close());

  /** A fresh sidecar that has read the composer's inventory once (its tools are then known). */
  async function freshSidecar(): Promise<TestSidecar> {
    sidecar = await startSidecar(composer.url, ['--poll-interval', '200ms']);
    const s = sidecar;
    await waitFor(async () => (await scrape(s.metricsUrl)).has('mcp_tools_total'), { what: 'the first inventory poll' });
    return s;
  }

  it('label flooding with 300 unknown tool names over MCP and 300 over REST leaves a tool the inventory knows under its own tool_id in all three tool families', async () => {
    const s = await freshSidecar();
    mcp = await connectMcp('streamable_http', s.proxyUrl);
    const client = mcp.client;
    const names = Array.from({ length: 300 }, (_, i) => `nosuch_${i}`);
    await inChunks(names, 20, (name) => client.callTool({ name, arguments: {} }));
    await inChunks(names, 20, (name) => post(`${s.proxyUrl}/api/v1/tools/${name.replace('_', '.')}/invoke`, { arguments: {} }));
    // The known tools, once each way: a success and a failure (the errors family).
    await client.callTool({ name: 'calc_add', arguments: { a: 1, b: 2 } });
    await client.callTool({ name: 'calc_fail', arguments: {} });
    await post(`${s.proxyUrl}/api/v1/tools/calc.add/invoke`, { arguments: { a: 1, b: 2 } });
    await post(`${s.proxyUrl}/api/v1/tools/calc.fail/invoke`, { arguments: {} });

    const m = await waitFor(
      async () => {
        const x = await scrape(s.metricsUrl);
        return value(x, 'mcp_tool_invocations_total') === 604 ? x : undefined;
      },
      { what: 'every call to be counted' },
    );
    for (const tool of ['calc_add', 'calc.add']) {
      expect(value(m, 'mcp_tool_invocations_total', { tool_id: tool, status: 'success' }), tool).toBe(1);
      expect(histogram(m, 'mcp_tool_invocation_duration_seconds', { tool_id: tool })?.count, tool).toBe(1);
    }
    for (const tool of ['calc_fail', 'calc.fail']) {
      expect(value(m, 'mcp_tool_invocations_total', { tool_id: tool, status: 'error' }), tool).toBe(1);
      expect(value(m, 'mcp_tool_invocation_errors_total', { tool_id: tool, error_type: 'tool_error' }), tool).toBe(1);
    }
    // 600 unknown names: the first 200 have their series, the other 400 share __other__ in every family.
    for (const family of TOOL_FAMILIES) {
      expect(value(m, 'sidecar_label_overflow_total', { family, label: 'tool_id', reason: 'limit' }), family).toBe(400);
    }
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: OVERFLOW_VALUE })).toBe(400);
    expect(histogram(m, 'mcp_tool_invocation_duration_seconds', { tool_id: OVERFLOW_VALUE })?.count).toBe(400);
    // The semantic-convention family keeps the known tool apart too (300 unknown MCP names, 200 admitted).
    const op = m.get('mcp_server_operation_duration_seconds')?.histograms ?? [];
    expect(op.find((h) => h.labels['gen_ai_tool_name'] === 'calc_add')?.count).toBe(1);
    expect(op.filter((h) => h.labels['gen_ai_tool_name'] === OVERFLOW_VALUE).reduce((a, h) => a + h.count, 0)).toBe(100);
  }, 60_000);

  it('label flooding with 300 unknown resource URIs over MCP and REST leaves a URI the inventory knows under its own resource_uri', async () => {
    const s = await freshSidecar();
    mcp = await connectMcp('sse', s.proxyUrl);
    const client = mcp.client;
    const uris = Array.from({ length: 300 }, (_, i) => `nosuch://r/${i}`);
    await inChunks(uris.slice(0, 150), 20, (uri) => client.readResource({ uri }).catch(() => undefined));
    await inChunks(uris.slice(150), 20, (uri) => fetch(`${s.proxyUrl}/api/v1/resources/${encodeURIComponent(uri)}`).then((r) => r.text()));
    await client.readResource({ uri: 'calc://constants' });
    await (await fetch(`${s.proxyUrl}/api/v1/resources/${encodeURIComponent('clock://timezone')}`)).text();

    const m = await waitFor(
      async () => {
        const x = await scrape(s.metricsUrl);
        return value(x, 'mcp_resource_reads_total') === 302 ? x : undefined;
      },
      { what: 'every read to be counted' },
    );
    for (const uri of ['calc://constants', 'clock://timezone']) {
      expect(value(m, 'mcp_resource_reads_total', { resource_uri: uri, status: 'success' }), uri).toBe(1);
      expect(histogram(m, 'mcp_resource_read_duration_seconds', { resource_uri: uri })?.count, uri).toBe(1);
    }
    expect(value(m, 'mcp_resource_reads_total', { resource_uri: OVERFLOW_VALUE })).toBe(100);
    expect(value(m, 'sidecar_label_overflow_total', { family: 'mcp_resource_reads_total', label: 'resource_uri', reason: 'limit' })).toBe(100);
  }, 60_000);

  it('a tool name, tool id or resource URI too long for its label is recorded as __other__ and counted as too_long overflow', async () => {
    const s = await freshSidecar();
    mcp = await connectMcp('streamable_http', s.proxyUrl);
    await mcp.client.callTool({ name: `n${'x'.repeat(300)}`, arguments: {} });
    await post(`${s.proxyUrl}/api/v1/tools/t.${'y'.repeat(300)}/invoke`);
    await mcp.client.readResource({ uri: `nosuch://${'z'.repeat(1100)}` }).catch(() => undefined);
    await mcp.client.callTool({ name: 'calc_add', arguments: { a: 1, b: 1 } });

    const m = await waitFor(
      async () => {
        const x = await scrape(s.metricsUrl);
        return value(x, 'mcp_tool_invocations_total') === 3 && value(x, 'mcp_resource_reads_total') === 1 ? x : undefined;
      },
      { what: 'the calls to be counted' },
    );
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: OVERFLOW_VALUE, status: 'error' })).toBe(2);
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: 'calc_add' })).toBe(1);
    expect(value(m, 'mcp_resource_reads_total', { resource_uri: OVERFLOW_VALUE })).toBe(1);
    for (const family of TOOL_FAMILIES) expect(value(m, 'sidecar_label_overflow_total', { family, label: 'tool_id', reason: 'too_long' }), family).toBe(2);
    expect(value(m, 'sidecar_label_overflow_total', { family: 'mcp_resource_reads_total', label: 'resource_uri', reason: 'too_long' })).toBe(1);
    expect(value(m, 'sidecar_label_overflow_total', { family: 'mcp.server.operation.duration', label: 'gen_ai.tool.name', reason: 'too_long' })).toBe(1);
    expect(value(m, 'sidecar_label_overflow_total', { reason: 'limit' })).toBe(0);
    // Nothing of the long names reaches the scrape.
    const text = await (await fetch(s.metricsUrl, { headers: { authorization: 'Bearer test-metrics-token-0123456789' } })).text();
    expect(text).not.toContain('x'.repeat(50));
    expect(text).not.toContain('y'.repeat(50));
    expect(text).not.toContain('z'.repeat(50));
  }, 60_000);

  it('a tool a client literally names __other__ (over MCP and REST) is recorded as ___other__, never as the overflow, and no overflow is counted', async () => {
    const s = await freshSidecar();
    mcp = await connectMcp('sse', s.proxyUrl);
    await mcp.client.callTool({ name: '__other__', arguments: {} });
    await post(`${s.proxyUrl}/api/v1/tools/__other__/invoke`);
    await mcp.client.readResource({ uri: '__other__' }).catch(() => undefined);

    const m = await waitFor(
      async () => {
        const x = await scrape(s.metricsUrl);
        return value(x, 'mcp_tool_invocations_total') === 2 && value(x, 'mcp_resource_reads_total') === 1 ? x : undefined;
      },
      { what: 'the calls to be counted' },
    );
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: '___other__', status: 'error' })).toBe(2);
    expect(value(m, 'mcp_tool_invocation_errors_total', { tool_id: '___other__' })).toBe(2);
    expect(histogram(m, 'mcp_tool_invocation_duration_seconds', { tool_id: '___other__' })?.count).toBe(2);
    expect(value(m, 'mcp_resource_reads_total', { resource_uri: '___other__' })).toBe(1);
    for (const family of [...TOOL_FAMILIES, 'mcp_resource_reads_total']) {
      expect(value(m, family, { tool_id: OVERFLOW_VALUE }) + value(m, family, { resource_uri: OVERFLOW_VALUE }), family).toBe(0);
    }
    expect(value(m, 'sidecar_label_overflow_total')).toBe(0);
  }, 60_000);
});
