/**
 * Every kind of composer (docs/composers.md, docs/composer-api.md): as released (legacy SSE only, no REST, no
 * events, DNS-rebinding protection), with the REST app mounted, and full fidelity. The sidecar reports
 * which surfaces it found, serves what they can feed and nothing it would have to guess, and counts MCP
 * tool calls exactly on every transport the composer has.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startDemoComposer, waitFor, type DemoComposer } from '../fixtures/demo-composer.ts';
import { connectMcp, type ConnectedClient, type McpKind } from '../fixtures/mcp-client.ts';
import { fetchResolvingTo127 } from '../fixtures/named-host.ts';
import { scrape, value, type Family } from '../fixtures/scrape.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';
import { startUpstream } from '../fixtures/upstream.ts';

let composer: DemoComposer | undefined;
let sidecar: TestSidecar | undefined;
const clients: ConnectedClient[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.client.close().catch(() => undefined);
  for (const f of cleanups.splice(0)) await f();
  await sidecar?.close();
  await composer?.close();
  sidecar = composer = undefined;
});

interface Profile {
  readonly name: 'released' | 'rest' | 'full';
  readonly sources: Record<string, 0 | 1>;
  readonly transports: readonly McpKind[];
  /** Families that must be present, and absent, after MCP traffic and a poll. */
  readonly present: readonly string[];
  readonly absent: readonly string[];
}

const PROFILES: readonly Profile[] = [
  {
    name: 'released',
    sources: { rest: 0, events: 0, sse: 1, streamable_http: 0, tools_list: 1 },
    transports: ['sse'],
    present: [
      'mcp_tools_total',
      'mcp_prompts_total',
      'mcp_resources_total',
      'mcp_tools_by_server',
      'mcp_prompts_by_server',
      'mcp_tool_invocations_total',
      'mcp_http_requests_total',
    ],
    absent: [
      'mcp_composer_info',
      'mcp_composer_uptime_seconds',
      'mcp_servers_total',
      'mcp_servers_running',
      'mcp_servers_failed',
      'mcp_tool_conflicts_total',
      'mcp_server_crashes_total',
      'sidecar_inventory_poll_up',
    ],
  },
  {
    name: 'rest',
    sources: { rest: 1, events: 0, sse: 1, streamable_http: 1, tools_list: 1 },
    transports: ['sse', 'streamable_http'],
    present: [
      'mcp_composer_info',
      'mcp_servers_total',
      'mcp_tools_total',
      'mcp_tools_by_server',
      'mcp_tool_conflicts_total',
      'mcp_tool_invocations_total',
      'sidecar_inventory_poll_up',
    ],
    absent: [],
  },
  {
    name: 'full',
    sources: { rest: 1, events: 1, sse: 1, streamable_http: 1, tools_list: 1 },
    transports: ['sse', 'streamable_http'],
    present: ['mcp_composer_info', 'mcp_servers_total', 'mcp_tools_total', 'mcp_tool_invocations_total', 'sidecar_event_stream_connected'],
    absent: [],
  },
];

async function scrapeWhen(ready: (m: Map<string, Family>) => boolean, what: string): Promise<Map<string, Family>> {
  return waitFor(
    async () => {
      const m = await scrape(sidecar!.metricsUrl);
      return ready(m) ? m : undefined;
    },
    { what, timeoutMs: 15_000 },
  );
}

describe.each(PROFILES)('a composer of profile $name', (p) => {
  it('is detected as such, serves what its surfaces can feed and nothing else, and counts MCP tool calls exactly', async () => {
    composer = await startDemoComposer(['--profile', p.name]);
    sidecar = await startSidecar(composer.url, ['--poll-interval', '300ms']);
    let m = await scrapeWhen(
      (x) => (x.get('sidecar_source_available')?.samples.length ?? 0) === 5 && value(x, 'mcp_tools_total') > 0,
      'detection and inventory',
    );
    for (const [source, v] of Object.entries(p.sources)) expect(value(m, 'sidecar_source_available', { source }), source).toBe(v);
    const detected = sidecar.logs.find((l) => l.event === 'sources_detected');
    expect(detected?.['found']).toEqual(Object.keys(p.sources).filter((k) => p.sources[k] === 1));

    for (const kind of p.transports) {
      const c = await connectMcp(kind, sidecar.proxyUrl);
      clients.push(c);
      for (let i = 0; i < 3; i++) await c.client.callTool({ name: 'calc_add', arguments: { a: i, b: 1 } });
      await c.client.callTool({ name: 'calc_fail', arguments: {} });
      await c.client.callTool({ name: 'calc_nope', arguments: {} });
    }
    const n = p.transports.length;
    m = await scrapeWhen((x) => value(x, 'mcp_tool_invocations_total') >= 5 * n, 'the tool calls');
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: 'calc_add', status: 'success' })).toBe(3 * n);
    expect(value(m, 'mcp_tool_invocation_errors_total', { tool_id: 'calc_fail', error_type: 'tool_error' })).toBe(n);
    expect(value(m, 'mcp_tool_invocation_errors_total', { tool_id: 'calc_nope', error_type: 'not_found' })).toBe(n);
    expect(value(m, 'mcp_tool_invocations_total')).toBe(5 * n);
    for (const f of p.present) expect(m.has(f), `${f} is served`).toBe(true);
    for (const f of p.absent) expect(m.has(f), `${f} is absent, not zero-filled`).toBe(false);
    if (p.name === 'released') {
      // Per-server counts come from the {server}_{name} MCP names.
      expect(value(m, 'mcp_tools_by_server', { server_id: 'calc' })).toBe(4);
      expect(value(m, 'mcp_tools_by_server')).toBe(value(m, 'mcp_tools_total'));
    }
  });
});

describe('Host handling in front of a released composer (DNS-rebinding protection)', () => {
  it("sends the upstream's own authority, so a client addressing composer.example.svc completes an MCP session", async () => {
    composer = await startDemoComposer(['--profile', 'released']);
    sidecar = await startSidecar(composer.url);
    const named = fetchResolvingTo127();
    cleanups.push(named.close);
    const port = new URL(sidecar.proxyUrl).port;
    const c = await connectMcp('sse', `http://composer.example.svc:${port}`, named.fetch);
    clients.push(c);
    const r = await c.client.callTool({ name: 'calc_add', arguments: { a: 2, b: 2 } });
    expect(r.isError ?? false).toBe(false);
  });

  it('with --preserve-host forwards the foreign Host and the composer refuses it with 421 (why it is not the default)', async () => {
    composer = await startDemoComposer(['--profile', 'released']);
    sidecar = await startSidecar(composer.url, ['--preserve-host']);
    const named = fetchResolvingTo127();
    cleanups.push(named.close);
    const port = new URL(sidecar.proxyUrl).port;
    const res = await named.fetch(`http://composer.example.svc:${port}/sse`, { headers: { accept: 'text/event-stream' } });
    expect(res.status).toBe(421);
    await res.body?.cancel();
    await expect(connectMcp('sse', `http://composer.example.svc:${port}`, named.fetch)).rejects.toThrow();
  });
});

describe('MCP-native inventory', () => {
  it('follows notifications/tools/list_changed within a second, without waiting for a poll', async () => {
    composer = await startDemoComposer(['--profile', 'released']);
    sidecar = await startSidecar(composer.url, ['--poll-interval', '60s']);
    const first = await scrapeWhen((x) => value(x, 'mcp_tools_total') > 0, 'the first inventory');
    const before = value(first, 'mcp_tools_total');
    const filesBefore = value(first, 'mcp_tools_by_server', { server_id: 'files' });
    const c = await connectMcp('sse', sidecar.proxyUrl);
    clients.push(c);
    await c.client.callTool({ name: 'files_register_tool', arguments: { name: 'extra' } });
    const m = await waitFor(
      async () => {
        const x = await scrape(sidecar!.metricsUrl);
        return value(x, 'mcp_tools_total') === before + 1 ? x : undefined;
      },
      { what: 'the new tool to be counted', timeoutMs: 1000, intervalMs: 20 },
    );
    expect(value(m, 'mcp_tools_by_server', { server_id: 'files' })).toBe(filesBefore + 1);
  });
});

describe('a composer with nothing but the plain GET /tools', () => {
  it('takes the tool inventory from GET /tools and serves nothing else it cannot know', async () => {
    const tools = ['calc_add', 'calc_echo', 'clock_now', 'clock_echo', 'files_list_files'].map((name) => ({
      name,
      description: '',
      inputSchema: { type: 'object' },
    }));
    const upstream = await startUpstream((req, res) => {
      if (req.method === 'GET' && req.url === '/tools') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ tools, total: tools.length }));
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"detail":"Not Found"}');
    });
    cleanups.push(() => upstream.close());
    sidecar = await startSidecar(upstream.url, ['--poll-interval', '300ms']);
    const m = await scrapeWhen((x) => value(x, 'mcp_tools_total') === 5, 'the tools from GET /tools');
    expect(value(m, 'sidecar_source_available', { source: 'tools_list' })).toBe(1);
    expect(value(m, 'sidecar_source_available', { source: 'sse' })).toBe(0);
    expect(value(m, 'mcp_tools_by_server', { server_id: 'calc' })).toBe(2);
    expect(value(m, 'mcp_tools_by_server', { server_id: 'files' })).toBe(1);
    for (const absent of ['mcp_prompts_total', 'mcp_resources_total', 'mcp_servers_total', 'mcp_composer_info']) expect(m.has(absent), absent).toBe(false);
  });
});
