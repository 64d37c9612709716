/**
 * MCP inventory against real MCP SDK servers that are not the composer: mounted under a path prefix,
 * stateless with only `POST /mcp`, paginating their lists, naming tools in snake_case. Detection and the
 * inventory reach them where they are; a listing counts only when every page was seen; per-server counts
 * are never invented from a plain server's names.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { INVENTORY_USER_AGENT } from '../../src/sources/poll/mcp-session.ts';
import { connectMcp, type ConnectedClient } from '../fixtures/mcp-client.ts';
import { startMcpHttpServer, type HostedServer } from '../fixtures/mcp-servers.ts';
import { scrape, value, type Family } from '../fixtures/scrape.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';
import { waitFor } from '../fixtures/wait.ts';

let upstream: HostedServer | undefined;
const sidecars: TestSidecar[] = [];
const clients: ConnectedClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.client.close().catch(() => undefined);
  for (const s of sidecars.splice(0)) await s.close();
  await upstream?.close();
  upstream = undefined;
});

async function sidecarFor(url: string, extra: readonly string[]): Promise<TestSidecar> {
  const s = await startSidecar(url, extra);
  sidecars.push(s);
  return s;
}

async function client(kind: 'sse' | 'streamable_http', base: string): Promise<ConnectedClient> {
  const c = await connectMcp(kind, base);
  clients.push(c);
  return c;
}

function scrapeWhen(s: TestSidecar, ready: (m: Map<string, Family>) => boolean, what: string): Promise<Map<string, Family>> {
  return waitFor(
    async () => {
      const m = await scrape(s.metricsUrl);
      return ready(m) ? m : undefined;
    },
    { what },
  );
}

const own = (u: HostedServer, agent: string) =>
  u.requests.filter((r) => String(r.headers['user-agent'] ?? '') === agent).map((r) => `${r.method} ${(r.url ?? '').split('?')[0]}`);

describe('an MCP server mounted under --mcp-path-prefix /gw', () => {
  it('is detected there and its inventory read there (gauges present), and its traffic counted', async () => {
    upstream = await startMcpHttpServer({ prefix: '/gw' });
    const s = await sidecarFor(upstream.url, ['--mcp-path-prefix', '/gw', '--poll-interval', '300ms']);
    const m = await scrapeWhen(s, (x) => value(x, 'mcp_tools_total') === 4, 'the inventory');
    expect(value(m, 'sidecar_source_available', { source: 'streamable_http' })).toBe(1);
    expect(value(m, 'sidecar_source_available', { source: 'sse' })).toBe(1);
    expect(s.logs.find((l) => l.event === 'sources_detected')?.['found']).toEqual(['sse', 'streamable_http']);
    const probes = own(upstream, 'mcp-composer-sidecar-detect');
    expect(probes).toContain('POST /gw/mcp');
    expect(probes).toContain('GET /gw/sse');
    expect(probes.filter((p) => / \/(mcp|sse)$/.test(p))).toEqual([]);
    expect(own(upstream, INVENTORY_USER_AGENT).every((p) => p.endsWith(' /gw/mcp'))).toBe(true);
    const c = await client('streamable_http', `${s.proxyUrl}/gw`);
    await c.client.callTool({ name: 'get_weather', arguments: {} });
    await scrapeWhen(s, (x) => value(x, 'mcp_tool_invocations_total', { tool_id: 'get_weather', status: 'success' }) === 1, 'the tool call');
  });
});

describe('a stateless streamable-HTTP server that mounts only POST /mcp (GET /mcp is 404)', () => {
  it('is detected, without a GET or a session, and its traffic counted', async () => {
    upstream = await startMcpHttpServer({ mode: 'post-only' });
    const s = await sidecarFor(upstream.url, ['--poll-interval', '300ms']);
    const m = await scrapeWhen(
      s,
      (x) => (x.get('sidecar_source_available')?.samples.length ?? 0) === 5 && value(x, 'mcp_tools_total') === 4,
      'detection and the inventory',
    );
    expect(value(m, 'sidecar_source_available', { source: 'streamable_http' })).toBe(1);
    expect(value(m, 'sidecar_source_available', { source: 'sse' })).toBe(0);
    expect(own(upstream, 'mcp-composer-sidecar-detect').filter((p) => p.endsWith('/mcp'))).toEqual(['POST /mcp']);
    const c = await client('streamable_http', s.proxyUrl);
    for (let i = 0; i < 3; i++) await c.client.callTool({ name: 'get_time', arguments: {} });
    await scrapeWhen(s, (x) => value(x, 'mcp_tool_invocations_total', { tool_id: 'get_time', status: 'success' }) === 3, 'the tool calls');
  });
});

describe('paginated lists, --mcp-inventory passive', () => {
  const TOOLS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];

  it('counts 5 tools listed in pages of 2 once the client has read every page; a half-read listing changes nothing', async () => {
    upstream = await startMcpHttpServer({ tools: TOOLS, pageSize: 2 });
    const s = await sidecarFor(upstream.url, ['--mcp-inventory', 'passive']);
    await scrapeWhen(s, (x) => value(x, 'sidecar_source_available', { source: 'streamable_http' }) === 1, 'detection');
    const c = await client('streamable_http', s.proxyUrl);
    // The first page alone: nothing is known yet.
    const first = await c.client.listTools();
    expect(first.tools).toHaveLength(2);
    expect((await scrape(s.metricsUrl)).has('mcp_tools_total')).toBe(false);
    let cursor = first.nextCursor;
    while (cursor !== undefined) cursor = (await c.client.listTools({ cursor })).nextCursor;
    await scrapeWhen(s, (x) => value(x, 'mcp_tools_total') === 5, 'the complete listing');
    // A new listing read half-way, and a page asked for out of sequence: still the last complete one.
    const again = await c.client.listTools();
    await c.client.listTools({ cursor: again.nextCursor ?? '' });
    await c.client.listTools({ cursor: '4' });
    const m = await scrape(s.metricsUrl);
    expect(value(m, 'mcp_tools_total')).toBe(5);
    expect(m.has('mcp_tools_by_server')).toBe(false);
    expect(own(upstream, INVENTORY_USER_AGENT)).toEqual([]);
  });
});

describe('per-server counts from tool names', () => {
  const PLAIN = ['get_weather', 'get_time', 'list_files'];

  it('are not invented for a plain server with snake_case tools (the totals stay)', async () => {
    upstream = await startMcpHttpServer({ name: 'plain-server', tools: PLAIN });
    const s = await sidecarFor(upstream.url, ['--mcp-inventory', 'passive']);
    await scrapeWhen(s, (x) => value(x, 'sidecar_source_available', { source: 'sse' }) === 1, 'detection');
    await (await client('sse', s.proxyUrl)).client.listTools();
    const m = await scrapeWhen(s, (x) => value(x, 'mcp_tools_total') === 3, 'the listing');
    expect(m.has('mcp_tools_by_server')).toBe(false);
    expect(m.has('mcp_prompts_by_server')).toBe(false);
  });

  it('are split as told with --server-id-separator, and at _ for a server that names itself the composer', async () => {
    upstream = await startMcpHttpServer({ name: 'plain-server', tools: PLAIN });
    const told = await sidecarFor(upstream.url, ['--mcp-inventory', 'passive', '--server-id-separator', '_']);
    await scrapeWhen(told, (x) => value(x, 'sidecar_source_available', { source: 'sse' }) === 1, 'detection');
    await (await client('sse', told.proxyUrl)).client.listTools();
    const m = await scrapeWhen(told, (x) => value(x, 'mcp_tools_total') === 3 && x.has('mcp_tools_by_server'), 'the split listing');
    expect(value(m, 'mcp_tools_by_server', { server_id: 'get' })).toBe(2);
    expect(value(m, 'mcp_tools_by_server', { server_id: 'list' })).toBe(1);
    await upstream.close();

    upstream = await startMcpHttpServer({ name: 'mcp-server-composer', tools: ['calc_add', 'calc_echo', 'clock_now'] });
    const composer = await sidecarFor(upstream.url, ['--mcp-inventory', 'passive']);
    await scrapeWhen(composer, (x) => value(x, 'sidecar_source_available', { source: 'sse' }) === 1, 'detection');
    await (await client('sse', composer.proxyUrl)).client.listTools();
    const n = await scrapeWhen(composer, (x) => value(x, 'mcp_tools_total') === 3 && x.has('mcp_tools_by_server'), 'the composer listing');
    expect(value(n, 'mcp_tools_by_server', { server_id: 'calc' })).toBe(2);
    expect(value(n, 'mcp_tools_by_server', { server_id: 'clock' })).toBe(1);
  });
});
