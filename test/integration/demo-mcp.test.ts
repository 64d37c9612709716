// MCP through the demo composer with real SDK clients over both transports (legacy SSE and streamable
// HTTP): listing and calling tools backed by the children, the FastMCP isError quirks, resources, prompts,
// list_changed notifications, tool.invoked events per transport, and the transports' answers to bad input.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError, ToolListChangedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requestJson, startDemoComposer, waitFor, type DemoComposer } from '../fixtures/demo-composer.ts';
import { openEventStream, type EventStreamReader } from '../fixtures/event-stream.ts';

type Kind = 'sse' | 'streamable_http';

function transportFor(kind: Kind, url: string): SSEClientTransport | StreamableHTTPClientTransport {
  return kind === 'sse' ? new SSEClientTransport(new URL(`${url}/sse`)) : new StreamableHTTPClientTransport(new URL(`${url}/mcp`));
}

const text = (r: CallToolResult): string => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

describe('demo composer MCP', () => {
  let composer: DemoComposer;
  const clients: Client[] = [];
  let stream: EventStreamReader | undefined;

  async function connect(kind: Kind): Promise<Client> {
    const client = new Client({ name: 'demo-test', version: '1.0.0' });
    await client.connect(transportFor(kind, composer.url));
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    composer = await startDemoComposer(['--test-control', '--keepalive-interval', '100ms']);
  });
  afterEach(async () => {
    stream?.close();
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  });
  afterAll(() => composer.close());

  for (const kind of ['sse', 'streamable_http'] as const) {
    describe(`over ${kind}`, () => {
      it('lists the prefixed tools of every child and calls one on its owner', async () => {
        const client = await connect(kind);
        const names = (await client.listTools()).tools.map((t) => t.name);
        expect(names).toEqual(expect.arrayContaining(['calc_add', 'calc_echo', 'calc_fail', 'calc_crash', 'clock_sleep', 'clock_echo', 'files_list_files']));
        expect(text((await client.callTool({ name: 'calc_add', arguments: { a: 20, b: 22 } })) as CallToolResult)).toBe('42');
        expect(text((await client.callTool({ name: 'clock_sleep', arguments: { ms: 20 } })) as CallToolResult)).toBe('slept 20 ms');
      });

      it('the failing tool answers a result with isError, not a JSON-RPC error', async () => {
        const client = await connect(kind);
        const r = (await client.callTool({ name: 'calc_fail', arguments: { message: 'nope' } })) as CallToolResult;
        expect(r.isError).toBe(true);
        expect(text(r)).toBe('Error: nope');
      });

      it('an unknown tool answers isError with "Unknown tool: <name>" (the FastMCP quirk)', async () => {
        const client = await connect(kind);
        const r = (await client.callTool({ name: 'no_such_tool', arguments: {} })) as CallToolResult;
        expect(r).toEqual({ content: [{ type: 'text', text: 'Unknown tool: no_such_tool' }], isError: true });
      });

      it('reads static and templated resources; an unknown URI is JSON-RPC error -32002', async () => {
        const client = await connect(kind);
        const uris = (await client.listResources()).resources.map((r) => r.uri);
        expect(uris).toEqual(expect.arrayContaining(['calc://constants', 'file:///demo/readme.txt']));
        expect((await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate)).toEqual([
          'clock://time/{zone}',
          'file:///demo/notes/{name}',
        ]);
        const read = await client.readResource({ uri: 'file:///demo/notes/todo' });
        expect(read.contents[0]).toMatchObject({ uri: 'file:///demo/notes/todo', text: 'Note todo' });
        const err = await client.readResource({ uri: 'file:///nowhere' }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(McpError);
        expect((err as McpError).code).toBe(-32002);
      });

      it('lists and gets prompts', async () => {
        const client = await connect(kind);
        expect((await client.listPrompts()).prompts.map((p) => p.name)).toEqual(['calc_explain', 'clock_schedule', 'files_summarize']);
        const p = await client.getPrompt({ name: 'calc_explain', arguments: { topic: 'sums' } });
        expect(p.messages[0]?.content).toEqual({ type: 'text', text: 'Explain sums in one paragraph.' });
      });

      it(`announces each call as tool.invoked with transport ${kind}`, async () => {
        stream = await openEventStream(`${composer.url}/api/v1/events`);
        await stream.next((e) => e.event === 'snapshot');
        const client = await connect(kind);
        await client.callTool({ name: 'calc_echo', arguments: { text: kind } });
        await client.callTool({ name: 'calc_fail', arguments: {} });
        const ok = await stream.next((e) => e.event === 'tool.invoked' && (e.json as { data: { tool_id: string } }).data.tool_id === 'calc_echo');
        expect((ok.json as { data: unknown }).data).toMatchObject({ tool_id: 'calc_echo', success: true, transport: kind });
        const bad = await stream.next((e) => e.event === 'tool.invoked' && (e.json as { data: { tool_id: string } }).data.tool_id === 'calc_fail');
        expect((bad.json as { data: unknown }).data).toMatchObject({ success: false, error_type: 'tool_error', transport: kind });
      });
    });
  }

  it('a child that grows its tool list makes the composer send notifications/tools/list_changed', async () => {
    // Legacy SSE: its one stream is open from the start. (Over streamable HTTP a notification sent before the
    // client has opened its GET stream is dropped by the SDK transport, as with the real composer.)
    const client = await connect('sse');
    let notified = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      notified += 1;
    });
    await client.callTool({ name: 'files_register_tool', arguments: { name: 'hello' } });
    await waitFor(() => notified > 0, { what: 'tools/list_changed' });
    await waitFor(async () => (await client.listTools()).tools.some((t) => t.name === 'files_hello'), { what: 'files_hello listed' });
    expect(text((await client.callTool({ name: 'files_hello', arguments: { text: 'hi' } })) as CallToolResult)).toBe('hi');
  });

  it('the SSE endpoint event names the Python parameter session_id', async () => {
    const abort = new AbortController();
    const res = await fetch(`${composer.url}/sse`, { signal: abort.signal });
    const reader = res.body?.getReader();
    let got = '';
    while (reader && !got.includes('\n\n')) {
      const { value, done } = await reader.read();
      if (done) break;
      got += new TextDecoder().decode(value);
    }
    abort.abort();
    expect(got).toMatch(/^event: endpoint\ndata: \/messages\/\?session_id=[0-9a-f-]{36}\n\n/);
  });

  it('bad transport input gets the SDK and Starlette answers, and the composer stays up', async () => {
    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
      requestJson(`${composer.url}${path}`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      });
    expect(await post('/mcp', '{not json')).toMatchObject({ status: 400, body: { jsonrpc: '2.0', error: { code: -32700 }, id: null } });
    expect(await post('/mcp', '{"jsonrpc":"2.0","id":1,"method":"tools/list"}', { 'mcp-session-id': 'unknown' })).toMatchObject({
      status: 404,
      body: { error: { code: -32001 } },
    });
    expect((await post('/mcp', '{"jsonrpc":"2.0","id":1,"method":"tools/list"}')).status).toBe(400);
    expect(await post('/messages/', '{}')).toMatchObject({ status: 400, text: 'session_id is required' });
    expect(await post('/messages/?session_id=00000000-0000-0000-0000-000000000000', '{}')).toMatchObject({ status: 404, text: 'Could not find session' });
    expect((await requestJson(`${composer.url}/api/v1/health`)).status).toBe(200);
  });

  it('a stdio client call (test control) is announced with transport stdio', async () => {
    stream = await openEventStream(`${composer.url}/api/v1/events`);
    await stream.next((e) => e.event === 'snapshot');
    const r = await requestJson(`${composer.url}/__demo/stdio/tools/call`, {
      method: 'POST',
      body: JSON.stringify({ name: 'calc_add', arguments: { a: 1, b: 2 } }),
    });
    expect(r.body).toMatchObject({ success: true, result: { content: [{ text: '3' }] } });
    const e = await stream.next((x) => x.event === 'tool.invoked');
    expect((e.json as { data: unknown }).data).toMatchObject({ tool_id: 'calc_add', success: true, transport: 'stdio' });
  });
});
