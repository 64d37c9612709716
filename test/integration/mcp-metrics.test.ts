// MCP-aware metrics through the sidecar: real MCP SDK clients over legacy SSE and streamable HTTP, through
// the sidecar, to the demo composer. Counts come from MCP traffic only (the sidecar's own inventory polls
// hit the composer's REST API, which these families never count).
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MCP_CHANNEL_PREFIX } from '../../src/observe/channels.ts';
import type { McpOperation } from '../../src/sources/mcp/operations.ts';
import { startDemoComposer, waitFor, type DemoComposer } from '../fixtures/demo-composer.ts';
import { connectMcp, MCP_KINDS, rawStreamablePost, type ConnectedClient, type McpKind } from '../fixtures/mcp-client.ts';
import { histogram, scrape, scrapeText, value, type Family } from '../fixtures/scrape.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';
import { PROMTOOL, promtoolCheckMetrics } from '../fixtures/tools.ts';

let composer: DemoComposer;
let sidecar: TestSidecar | undefined;
const clients: ConnectedClient[] = [];

beforeAll(async () => {
  composer = await startDemoComposer(['--servers', '3']);
});
afterAll(() => composer.close());
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.client.close().catch(() => undefined)));
  await sidecar?.close();
  sidecar = undefined;
});

async function connect(kind: McpKind): Promise<Client> {
  if (sidecar === undefined) throw new Error('no sidecar');
  const c = await connectMcp(kind, sidecar.proxyUrl);
  clients.push(c);
  return c.client;
}

async function metrics(): Promise<Map<string, Family>> {
  if (sidecar === undefined) throw new Error('no sidecar');
  return scrape(sidecar.metricsUrl);
}

const call = (client: Client, name: string, args: Record<string, unknown> = {}) => client.callTool({ name, arguments: args }) as Promise<CallToolResult>;

describe.each(MCP_KINDS)('MCP over %s through the sidecar', (kind) => {
  it('counts N tools/call exactly, with K isError results as tool_error and J unknown tools as not_found', async () => {
    sidecar = await startSidecar(composer.url);
    const client = await connect(kind);
    const N = 9;
    const K = 2;
    const J = 3;
    for (let i = 0; i < N - K - J; i++) expect((await call(client, 'calc_add', { a: i, b: 1 })).isError).toBeFalsy();
    for (let i = 0; i < K; i++) expect((await call(client, 'calc_fail', { message: 'no' })).isError).toBe(true);
    for (let i = 0; i < J; i++) expect((await call(client, `no_such_tool_${i % 2}`)).isError).toBe(true);

    const m = await metrics();
    expect(value(m, 'mcp_tool_invocations_total')).toBe(N);
    expect(value(m, 'mcp_tool_invocations_total', { status: 'success' })).toBe(N - K - J);
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: 'calc_add', status: 'success' })).toBe(N - K - J);
    expect(value(m, 'mcp_tool_invocations_total', { status: 'error' })).toBe(K + J);
    expect(value(m, 'mcp_tool_invocation_errors_total')).toBe(K + J);
    expect(value(m, 'mcp_tool_invocation_errors_total', { tool_id: 'calc_fail', error_type: 'tool_error' })).toBe(K);
    expect(value(m, 'mcp_tool_invocation_errors_total', { error_type: 'not_found' })).toBe(J);
    expect(histogram(m, 'mcp_tool_invocation_duration_seconds', { tool_id: 'calc_add' })?.count).toBe(N - K - J);

    // The semantic-convention family, alongside: every request method, tools/call with gen_ai.tool.name.
    const ops = m.get('mcp_server_operation_duration_seconds');
    expect(ops?.type).toBe('HISTOGRAM');
    const toolCalls = ops?.histograms.filter((h) => h.labels['mcp_method_name'] === 'tools/call') ?? [];
    expect(toolCalls.reduce((a, h) => a + h.count, 0)).toBe(N);
    const failed = toolCalls.filter((h) => h.labels['error_type'] === 'tool_error');
    expect(failed.reduce((a, h) => a + h.count, 0)).toBe(K + J);
    for (const h of toolCalls) {
      expect(h.labels).toMatchObject({ network_transport: 'tcp', network_protocol_name: 'http', gen_ai_operation_name: 'execute_tool' });
      expect(h.labels['mcp_protocol_version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
    expect(ops?.histograms.find((h) => h.labels['mcp_method_name'] === 'initialize')?.count).toBe(1);
    expect(value(m, 'sidecar_mcp_sessions_active', { transport: kind })).toBe(1);
    expect(value(m, 'sidecar_mcp_pending_requests')).toBe(0);
    expect(value(m, 'sidecar_mcp_unparsed_total')).toBe(0);
    expect(value(m, 'sidecar_mcp_unmatched_responses_total')).toBe(0);
    // Read by the envelope scanner: only the initialize result (the inventory reads its serverInfo) went
    // to the full parser.
    expect(value(m, 'sidecar_mcp_scan_fallbacks_total', { reason: 'list_result' })).toBe(1);
    expect(value(m, 'sidecar_mcp_scan_fallbacks_total')).toBe(1);
  });

  it('times a 300 ms tool end to end: it lands in the 0.1–0.5 s bucket', async () => {
    sidecar = await startSidecar(composer.url);
    const client = await connect(kind);
    expect((await call(client, 'clock_sleep', { ms: 300 })).isError).toBeFalsy();
    const h = histogram(await metrics(), 'mcp_tool_invocation_duration_seconds', { tool_id: 'clock_sleep' });
    expect(h?.count).toBe(1);
    expect(h?.buckets['0.1']).toBe(0);
    expect(h?.buckets['0.5']).toBe(1);
  });

  it('counts resources/read (success and -32002) and prompts/get', async () => {
    sidecar = await startSidecar(composer.url);
    const client = await connect(kind);
    await client.readResource({ uri: 'file:///demo/readme.txt' });
    await client.readResource({ uri: 'file:///demo/notes/todo?secret=1' });
    await expect(client.readResource({ uri: 'file:///nowhere' })).rejects.toThrow();
    await client.getPrompt({ name: 'calc_explain', arguments: { topic: 'sums' } });
    const m = await metrics();
    expect(value(m, 'mcp_resource_reads_total', { resource_uri: 'file:///demo/readme.txt', status: 'success' })).toBe(1);
    expect(value(m, 'mcp_resource_reads_total', { resource_uri: 'file:///demo/notes/todo', status: 'success' })).toBe(1);
    expect(value(m, 'mcp_resource_reads_total', { resource_uri: 'file:///nowhere', status: 'error' })).toBe(1);
    expect(histogram(m, 'mcp_resource_read_duration_seconds', { resource_uri: 'file:///demo/readme.txt' })?.count).toBe(1);
    const ops = m.get('mcp_server_operation_duration_seconds')?.histograms ?? [];
    const prompt = ops.filter((h) => h.labels['mcp_method_name'] === 'prompts/get');
    expect(prompt.map((h) => [h.labels['gen_ai_prompt_name'], h.count])).toEqual([['calc_explain', 1]]);
    const reads = ops.filter((h) => h.labels['mcp_method_name'] === 'resources/read');
    expect(reads.reduce((a, h) => a + h.count, 0)).toBe(3);
    // -32002 is the caller's mistake for the conventions: a status code, no error.type (the catalog says error).
    expect(reads.find((h) => h.labels['rpc_response_status_code'] === '-32002')?.labels['error_type']).toBeUndefined();
    expect(reads.find((h) => h.labels['rpc_response_status_code'] === '-32002')?.count).toBe(1);
    // No resource URI (let alone its query) becomes a semantic-convention attribute.
    expect(ops.every((h) => !('mcp_resource_uri' in h.labels))).toBe(true);
  });

  it('two concurrent sessions using the same JSON-RPC ids do not cross-correlate', async () => {
    sidecar = await startSidecar(composer.url);
    const [a, b] = await Promise.all([connect(kind), connect(kind)]);
    if (a === undefined || b === undefined) throw new Error('clients');
    // Same call sequence on both: the SDK numbers requests from 0, so these carry the same ids.
    const [slow, fast] = await Promise.all([call(a, 'clock_sleep', { ms: 300 }), call(b, 'calc_fail')]);
    expect(slow.isError).toBeFalsy();
    expect(fast.isError).toBe(true);
    const m = await metrics();
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: 'clock_sleep', status: 'success' })).toBe(1);
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: 'calc_fail', status: 'error' })).toBe(1);
    expect(histogram(m, 'mcp_tool_invocation_duration_seconds', { tool_id: 'clock_sleep' })?.buckets['0.1']).toBe(0);
    expect(value(m, 'mcp_tool_invocation_errors_total', { tool_id: 'clock_sleep' })).toBe(0);
    expect(value(m, 'sidecar_mcp_sessions_active', { transport: kind })).toBe(2);
    expect(value(m, 'sidecar_mcp_unmatched_responses_total')).toBe(0);
  });

  it('a client that disconnects with a call pending: the call is counted as cancelled and the pending map empties', async () => {
    sidecar = await startSidecar(composer.url);
    const client = await connect(kind);
    const pendingCall = call(client, 'clock_sleep', { ms: 3000 }).catch((err: unknown) => err);
    await waitFor(async () => value(await metrics(), 'sidecar_mcp_pending_requests', { transport: kind }) === 1, { what: 'the call to be pending' });
    await client.close();
    await pendingCall;
    await waitFor(async () => value(await metrics(), 'sidecar_mcp_pending_requests') === 0, { what: 'the pending map to empty' });
    const m = await metrics();
    expect(value(m, 'mcp_tool_invocation_errors_total', { tool_id: 'clock_sleep', error_type: 'cancelled' })).toBe(1);
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: 'clock_sleep', status: 'error' })).toBe(1);
    expect(value(m, 'sidecar_mcp_pending_dropped_total', { reason: kind === 'sse' ? 'session_closed' : 'client_gone' })).toBe(1);
    if (kind === 'sse') {
      // Closing the legacy stream ends the session.
      expect(value(m, 'sidecar_mcp_sessions_active', { transport: 'sse' })).toBe(0);
      expect(m.get('mcp_server_session_duration_seconds')?.histograms[0]?.count).toBe(1);
    }
  });
});

describe('MCP operations beyond the transports', () => {
  it('counts what the scanner leaves to the full parser exactly as what it reads itself: a duplicate name, a deep argument, a tools/list', async () => {
    sidecar = await startSidecar(composer.url);
    const c = await connectMcp('streamable_http', sidecar.proxyUrl);
    clients.push(c);
    const transport = c.transport as StreamableHTTPClientTransport;
    const deep = `${'['.repeat(600)}${']'.repeat(600)}`;
    const bodies = [
      // JSON.parse keeps the last of two equal names: so does the count.
      '{"jsonrpc":"2.0","id":"d1","method":"tools/call","params":{"name":"calc_fail","name":"calc_add","arguments":{"a":1,"b":2}}}',
      `{"jsonrpc":"2.0","id":"d2","method":"tools/call","params":{"name":"calc_add","arguments":{"a":1,"b":2,"deep":${deep}}}}`,
      '{"jsonrpc":"2.0","id":"d3","method":"tools/call","params":{"name":"calc_add","arguments":{"a":2,"b":2}}}',
    ];
    for (const body of bodies) expect((await rawStreamablePost(sidecar.proxyUrl, transport, body)).status).toBe(200);
    await c.client.listTools();
    const m = await metrics();
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: 'calc_add' })).toBe(3);
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: 'calc_fail' })).toBe(0);
    expect(value(m, 'sidecar_mcp_scan_fallbacks_total', { reason: 'duplicate_key' })).toBe(1);
    expect(value(m, 'sidecar_mcp_scan_fallbacks_total', { reason: 'depth' })).toBe(1);
    // The initialize result and the tools/list result.
    expect(value(m, 'sidecar_mcp_scan_fallbacks_total', { reason: 'list_result' })).toBe(2);
    expect(value(m, 'sidecar_mcp_scan_fallbacks_total', { reason: 'internal' })).toBe(0);
    expect(value(m, 'sidecar_mcp_unparsed_total')).toBe(0);
  });

  it('counts a raw JSON-RPC batch per message (streamable HTTP)', async () => {
    sidecar = await startSidecar(composer.url);
    const c = await connectMcp('streamable_http', sidecar.proxyUrl);
    clients.push(c);
    const batch = [
      { jsonrpc: '2.0', id: 'b1', method: 'tools/call', params: { name: 'calc_add', arguments: { a: 1, b: 2 } } },
      { jsonrpc: '2.0', id: 'b2', method: 'tools/call', params: { name: 'calc_fail', arguments: {} } },
      { jsonrpc: '2.0', id: 'b3', method: 'resources/read', params: { uri: 'calc://constants' } },
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } },
    ];
    const answer = await rawStreamablePost(sidecar.proxyUrl, c.transport as StreamableHTTPClientTransport, JSON.stringify(batch));
    expect(answer.status).toBe(200);
    for (const id of ['b1', 'b2', 'b3']) expect(answer.text).toContain(`"id":"${id}"`);
    const m = await metrics();
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: 'calc_add', status: 'success' })).toBe(1);
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: 'calc_fail', status: 'error' })).toBe(1);
    expect(value(m, 'mcp_resource_reads_total', { resource_uri: 'calc://constants', status: 'success' })).toBe(1);
    expect(value(m, 'sidecar_mcp_pending_requests')).toBe(0);
  });

  it('publishes one start and one end per request, with trace context from params._meta and no session id', async () => {
    sidecar = await startSidecar(composer.url);
    const starts: McpOperation[] = [];
    const ends: McpOperation[] = [];
    const onStart = (m: unknown) => starts.push(m as McpOperation);
    const onEnd = (m: unknown) => ends.push(m as McpOperation);
    subscribe(`${MCP_CHANNEL_PREFIX}:operation:start`, onStart);
    subscribe(`${MCP_CHANNEL_PREFIX}:operation:end`, onEnd);
    try {
      const c = await connectMcp('streamable_http', sidecar.proxyUrl);
      clients.push(c);
      const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      await c.client.callTool({ name: 'calc_add', arguments: { a: 1, b: 2 }, _meta: { traceparent, tracestate: 'k=v' } });
      const op = ends.find((o) => o.method === 'tools/call');
      expect(op).toMatchObject({ method: 'tools/call', transport: 'streamable_http', toolName: 'calc_add', traceparent, tracestate: 'k=v', outcome: 'ok' });
      expect(op?.protocolVersion).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(op?.endTime).toBeGreaterThanOrEqual(op?.startTime ?? Infinity);
      expect(starts.map((o) => o.method)).toEqual(ends.map((o) => o.method));
      expect(starts).toContain(op);
      // The session key is opaque: the session id appears nowhere in the operation.
      const sessionId = (c.transport as StreamableHTTPClientTransport).sessionId ?? 'none';
      expect(JSON.stringify({ ...op, requestExchange: undefined })).not.toContain(sessionId);
    } finally {
      unsubscribe(`${MCP_CHANNEL_PREFIX}:operation:start`, onStart);
      unsubscribe(`${MCP_CHANNEL_PREFIX}:operation:end`, onEnd);
    }
  });

  it('records a request unanswered past --mcp-pending-timeout as error_type="timeout" and its late answer as unmatched', async () => {
    sidecar = await startSidecar(composer.url, ['--mcp-pending-timeout', '200ms']);
    const client = await connect('sse');
    expect((await call(client, 'clock_sleep', { ms: 1200 })).isError).toBeFalsy();
    const m = await metrics();
    expect(value(m, 'mcp_tool_invocation_errors_total', { tool_id: 'clock_sleep', error_type: 'timeout' })).toBe(1);
    expect(value(m, 'sidecar_mcp_pending_dropped_total', { reason: 'timeout' })).toBe(1);
    expect(value(m, 'sidecar_mcp_unmatched_responses_total')).toBe(1);
    expect(value(m, 'sidecar_mcp_pending_requests')).toBe(0);
  });

  it('never exports or logs session ids, arguments, results or query strings; the exposition passes promtool', async () => {
    sidecar = await startSidecar(composer.url, ['--access-log']);
    const secrets = ['arg-secret-4f1c', 'query-secret-9d2e'];
    const c = await connectMcp('streamable_http', sidecar.proxyUrl);
    clients.push(c);
    const legacy = await connect('sse');
    for (const client of [c.client, legacy]) {
      expect((await call(client, 'calc_echo', { text: secrets[0] })).content).toEqual([{ type: 'text', text: secrets[0] }]);
      await client.readResource({ uri: `file:///demo/notes/n?token=${secrets[1]}` });
    }
    const sessionId = (c.transport as StreamableHTTPClientTransport).sessionId ?? 'none';
    const text = await scrapeText(sidecar.metricsUrl);
    const logs = sidecar.rawLogs.join('');
    for (const secret of [...secrets, sessionId]) {
      expect(text).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
    expect(text).toContain('mcp_server_operation_duration_seconds_bucket');
    if (PROMTOOL !== undefined) {
      // The catalog's inventory gauges are named `*_total` (sic, the composer's names, kept for dashboards):
      // promtool's lint says so; nothing else may be reported.
      const problems = promtoolCheckMetrics(text)
        .output.split('\n')
        .filter((l) => l.trim() !== '' && !l.includes('non-counter metrics should not have "_total" suffix'));
      expect(problems).toEqual([]);
    }
  });

  it('ends a streamable-HTTP session on DELETE and records its duration', async () => {
    sidecar = await startSidecar(composer.url);
    const c = await connectMcp('streamable_http', sidecar.proxyUrl);
    clients.push(c);
    expect(value(await metrics(), 'sidecar_mcp_sessions_active', { transport: 'streamable_http' })).toBe(1);
    await (c.transport as StreamableHTTPClientTransport).terminateSession();
    const m = await metrics();
    expect(value(m, 'sidecar_mcp_sessions_active', { transport: 'streamable_http' })).toBe(0);
    const sessions = m.get('mcp_server_session_duration_seconds')?.histograms ?? [];
    expect(sessions.map((h) => h.count)).toEqual([1]);
    expect(sessions[0]?.labels).toMatchObject({ network_transport: 'tcp', network_protocol_name: 'http' });
    expect(Object.keys(sessions[0]?.labels ?? {})).not.toContain('mcp_session_id');
  });
});
