// What the MCP tap must never do: change, hold or break the bytes. A scripted upstream speaks MCP badly on
// purpose (malformed JSON, non-JSON-RPC bodies, messages over the bound, a stream cut mid-event, JSON answers,
// id-null errors, a stateless server) and the test compares what each side sent with what the other got.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { CHANNEL_PREFIX } from '../../src/observe/channels.ts';
import type { Exchange } from '../../src/observe/exchange.ts';
import { waitFor } from '../fixtures/demo-composer.ts';
import { histogram, scrape, value } from '../fixtures/scrape.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';
import { isSidecarOwn, readBody, startUpstream, type TestUpstream } from '../fixtures/upstream.ts';

let upstream: TestUpstream | undefined;
let sidecar: TestSidecar | undefined;
afterEach(async () => {
  await sidecar?.close();
  await upstream?.close();
  sidecar = undefined;
  upstream = undefined;
});

/** A legacy-SSE upstream whose stream the test writes to, recording every POSTed body. */
function legacyUpstream(endpoint = '/messages/?session_id=0123abcd'): {
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  posted: Buffer[];
  written: Buffer[];
  stream: () => ServerResponse | undefined;
} {
  const posted: Buffer[] = [];
  const written: Buffer[] = [];
  let sse: ServerResponse | undefined;
  return {
    posted,
    written,
    stream: () => sse,
    handler: (req, res) => {
      // The sidecar's own requests (probe, source detection, inventory) never touch the script.
      if (isSidecarOwn(req)) return void res.writeHead(404).end();
      if (req.method === 'GET' && req.url === '/sse') {
        sse = res;
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        const first = Buffer.from(`event: endpoint\ndata: ${endpoint}\n\n`);
        written.push(first);
        res.write(first);
        return;
      }
      if (req.method === 'POST' && req.url?.startsWith(endpoint.slice(0, endpoint.indexOf('?')))) {
        void readBody(req).then((b) => {
          posted.push(b);
          res.writeHead(202).end('Accepted');
        });
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    },
  };
}

async function readAll(res: Response, into: Buffer[]): Promise<void> {
  const reader = res.body?.getReader();
  if (reader === undefined) return;
  try {
    for (let i = 0; i < 100_000; i++) {
      const { value: chunk, done } = await reader.read();
      if (done) return;
      into.push(Buffer.from(chunk));
    }
  } catch {
    // The proxy cut the connection because the upstream did: what arrived until then is compared.
  }
}

describe('MCP traffic the sidecar cannot read passes through unchanged and is counted', () => {
  it('legacy SSE: malformed, non-JSON-RPC and oversized POSTs and events, then a stream cut mid-event', async () => {
    const up = legacyUpstream();
    upstream = await startUpstream(up.handler);
    sidecar = await startSidecar(upstream.url);
    const proxy = sidecar.proxyUrl;

    const received: Buffer[] = [];
    const streamRes = await fetch(`${proxy}/sse`);
    const reading = readAll(streamRes, received);
    await waitFor(() => Buffer.concat(received).includes('session_id=0123abcd\n\n'), { what: 'the endpoint event' });

    const big = JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/call', params: { name: 'calc_echo', arguments: { text: 'x'.repeat(70_000) } } });
    const bodies = ['{"jsonrpc": "2.0", "method": ', '{"hello":"world"}', big, '[{"jsonrpc":"2.0","id":1,"method":"ping"},5]'];
    for (const body of bodies) {
      const r = await fetch(`${proxy}/messages/?session_id=0123abcd`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      expect(r.status).toBe(202);
      await r.text();
    }
    expect(up.posted.map((b) => b.toString('utf8'))).toEqual(bodies);

    const events = [
      'event: message\ndata: not json\n\n',
      'event: message\ndata: {"hello":1}\n\n',
      `event: message\r\ndata: {"jsonrpc":"2.0","id":5,"result":{"t":"${'y'.repeat(70_000)}"}}\r\n\r\n`,
      'event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n',
      'event: message\ndata: {"jsonrpc":"2.0","id":',
    ];
    for (const e of events) {
      const b = Buffer.from(e);
      up.written.push(b);
      up.stream()?.write(b);
    }
    const sent = Buffer.concat(up.written);
    await waitFor(() => Buffer.concat(received).length === sent.length, { what: 'every byte written to reach the client' });
    up.stream()?.socket?.destroy();
    await reading;
    expect(Buffer.concat(received).equals(sent)).toBe(true);

    await waitFor(async () => value(await scrape(sidecar!.metricsUrl), 'sidecar_mcp_sessions_active', { transport: 'sse' }) === 0, {
      what: 'the session to close',
    });
    const m = await scrape(sidecar.metricsUrl);
    expect(value(m, 'sidecar_mcp_unparsed_total', { reason: 'not_json' })).toBe(2);
    expect(value(m, 'sidecar_mcp_unparsed_total', { reason: 'not_jsonrpc' })).toBe(3);
    expect(value(m, 'sidecar_mcp_unparsed_total', { reason: 'too_large' })).toBe(2);
    expect(value(m, 'sidecar_mcp_unparsed_total', { reason: 'stream_cut' })).toBe(1);
    // The one readable request (ping, in the batch) was answered and timed.
    const ops = m.get('mcp_server_operation_duration_seconds')?.histograms ?? [];
    expect(ops.map((h) => [h.labels['mcp_method_name'], h.labels['error_type'], h.count])).toEqual([['ping', undefined, 1]]);
    expect(value(m, 'sidecar_mcp_pending_requests')).toBe(0);
    // The sidecar still proxies.
    expect((await fetch(`${proxy}/health`)).status).toBe(200);
  });

  it('learns a POST path the endpoint event announces outside the usual routes, and times calls POSTed there', async () => {
    const up = legacyUpstream('/mounted/elsewhere/?session_id=s1');
    upstream = await startUpstream(up.handler);
    sidecar = await startSidecar(upstream.url);
    const received: Buffer[] = [];
    const streamRes = await fetch(`${sidecar.proxyUrl}/sse`);
    const reading = readAll(streamRes, received);
    await waitFor(() => Buffer.concat(received).includes('session_id=s1\n\n'), { what: 'the endpoint event' });
    const r = await fetch(`${sidecar.proxyUrl}/mounted/elsewhere/?session_id=s1`, {
      method: 'POST',
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t"}}',
    });
    expect(r.status).toBe(202);
    await r.text();
    up.stream()?.write('event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{"content":[]}}\n\n');
    await waitFor(async () => value(await scrape(sidecar!.metricsUrl), 'mcp_tool_invocations_total', { tool_id: 't', status: 'success' }) === 1, {
      what: 'the call to be counted',
    });
    up.stream()?.end();
    await reading;
  });

  it('a POST for a session whose stream the sidecar never saw passes through and is counted unknown_session', async () => {
    const up = legacyUpstream();
    upstream = await startUpstream(up.handler);
    sidecar = await startSidecar(upstream.url);
    const body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"calc_add","arguments":{}}}';
    const r = await fetch(`${sidecar.proxyUrl}/messages/?session_id=never-announced`, { method: 'POST', body });
    expect(r.status).toBe(202);
    expect(up.posted[0]?.toString('utf8')).toBe(body);
    const m = await scrape(sidecar.metricsUrl);
    expect(value(m, 'sidecar_mcp_unparsed_total', { reason: 'unknown_session' })).toBe(1);
    expect(value(m, 'mcp_tool_invocations_total')).toBe(0);
  });
});

describe('streamable HTTP answered with JSON bodies', () => {
  it('correlates JSON answers, learns the session from the initialize answer, ends it on a 404, and counts unreadable answers', async () => {
    const answers: Array<{ status: number; headers: Record<string, string>; body: string }> = [];
    const received: string[] = [];
    upstream = await startUpstream((req, res) => {
      if (req.url !== '/mcp' || isSidecarOwn(req)) return void res.writeHead(404).end(); // the sidecar's own requests
      void readBody(req).then((b) => {
        received.push(b.toString('utf8'));
        const a = answers.shift() ?? { status: 500, headers: {}, body: '' };
        res.writeHead(a.status, a.headers).end(a.body);
      });
    });
    sidecar = await startSidecar(upstream.url);
    const post = async (body: string, session?: string) => {
      const res = await fetch(`${sidecar!.proxyUrl}/mcp`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(session ? { 'mcp-session-id': session } : {}) },
      });
      return { status: res.status, text: await res.text() };
    };
    const json = { 'content-type': 'application/json' };

    answers.push({
      status: 200,
      headers: { ...json, 'mcp-session-id': 'S1' },
      body: '{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-03-26","capabilities":{}}}',
    });
    expect((await post('{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}')).status).toBe(200);
    const isError = '{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"Unknown tool: nope"}],"isError":true}}';
    answers.push({ status: 200, headers: json, body: isError });
    expect((await post('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nope"}}', 'S1')).text).toBe(isError);
    answers.push({ status: 200, headers: json, body: '{"jsonrpc":"2.0","id":2,"res' });
    await post('{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"calc_add"}}', 'S1');
    answers.push({ status: 200, headers: json, body: `{"jsonrpc":"2.0","id":3,"result":{"t":"${'z'.repeat(70_000)}"}}` });
    expect((await post('{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"file:///big"}}', 'S1')).text.length).toBeGreaterThan(70_000);

    let m = await scrape(sidecar.metricsUrl);
    expect(value(m, 'sidecar_mcp_sessions_active', { transport: 'streamable_http' })).toBe(1);
    expect(value(m, 'mcp_tool_invocation_errors_total', { tool_id: 'nope', error_type: 'not_found' })).toBe(1);
    expect(value(m, 'sidecar_mcp_unparsed_total', { reason: 'not_json' })).toBe(1);
    expect(value(m, 'sidecar_mcp_unparsed_total', { reason: 'too_large' })).toBe(1);
    // Delivered but unreadable answers: their requests wait for the pending timeout (never guessed).
    expect(value(m, 'sidecar_mcp_pending_requests', { transport: 'streamable_http' })).toBe(2);
    const tools = m.get('mcp_server_operation_duration_seconds')?.histograms.find((h) => h.labels['mcp_method_name'] === 'tools/call');
    expect(tools?.labels['mcp_protocol_version']).toBe('2025-03-26');

    // The session is gone upstream: an id-null error answers the whole POST, and the session ends.
    answers.push({ status: 404, headers: json, body: '{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}' });
    expect((await post('{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"calc_add"}}', 'S1')).status).toBe(404);
    m = await scrape(sidecar.metricsUrl);
    expect(value(m, 'mcp_tool_invocation_errors_total', { tool_id: 'calc_add', error_type: 'jsonrpc_error' })).toBe(1);
    expect(value(m, 'sidecar_mcp_sessions_active', { transport: 'streamable_http' })).toBe(0);
    expect(value(m, 'sidecar_mcp_pending_requests')).toBe(0);
    expect(value(m, 'sidecar_mcp_pending_dropped_total', { reason: 'session_closed' })).toBe(2);
    expect(
      histogram(m, 'mcp_server_session_duration_seconds', { mcp_protocol_version: '2025-03-26', network_transport: 'tcp', network_protocol_name: 'http' })
        ?.count,
    ).toBe(1);
    expect(received).toHaveLength(5);
  });

  it('a stale session id the upstream answers with 404 fails its request and leaves no session behind', async () => {
    upstream = await startUpstream((req, res) => {
      void readBody(req).then(() =>
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}'),
      );
    });
    sidecar = await startSidecar(upstream.url);
    const body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"calc_add"}}';
    const res = await fetch(`${sidecar.proxyUrl}/mcp`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'mcp-session-id': 'stale' } });
    expect(res.status).toBe(404);
    await res.text();
    const m = await scrape(sidecar.metricsUrl);
    expect(value(m, 'mcp_tool_invocation_errors_total', { tool_id: 'calc_add', error_type: 'jsonrpc_error' })).toBe(1);
    expect(value(m, 'sidecar_mcp_sessions_active')).toBe(0);
    expect(m.get('mcp_server_session_duration_seconds')).toBeUndefined();
  });

  it('a server that assigns no session id: each POST is its own short-lived session, not counted as one', async () => {
    upstream = await startUpstream((req, res) => {
      void readBody(req).then(() =>
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end('[{"jsonrpc":"2.0","id":"a","result":{"content":[]}},{"jsonrpc":"2.0","id":"b","error":{"code":-32602,"message":"bad"}}]'),
      );
    });
    sidecar = await startSidecar(upstream.url);
    const body =
      '[{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"t1"}},{"jsonrpc":"2.0","id":"b","method":"tools/call","params":{"name":"t2"}}]';
    await (await fetch(`${sidecar.proxyUrl}/mcp`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })).text();
    const m = await scrape(sidecar.metricsUrl);
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: 't1', status: 'success' })).toBe(1);
    expect(value(m, 'mcp_tool_invocation_errors_total', { tool_id: 't2', error_type: 'invalid_params' })).toBe(1);
    expect(value(m, 'sidecar_mcp_sessions_active')).toBe(0);
    expect(m.get('mcp_server_session_duration_seconds')).toBeUndefined();
  });
});

describe('the MCP tap attaches only to MCP routes', () => {
  it('non-MCP exchanges get no body tap; MCP ones get one', async () => {
    upstream = await startUpstream((req, res) => void readBody(req).then(() => res.writeHead(202).end()));
    sidecar = await startSidecar(upstream.url, ['--mcp-path-prefix', '/composer']);
    const seen = new Map<string, number>();
    // Subscribed after the sidecar's own subscribers, so this runs once they have attached their taps.
    const onStart = (msg: unknown) => {
      const ex = msg as Exchange;
      seen.set(`${ex.method} ${ex.path}`, ex.taps?.length ?? 0);
    };
    subscribe(`${CHANNEL_PREFIX}:start`, onStart);
    try {
      for (const path of ['/api/v1/tools', '/tools', '/mcp', '/composer/mcp', '/composer/messages/?session_id=x']) {
        await (await fetch(`${sidecar.proxyUrl}${path}`, { method: 'POST', body: '{}' })).text();
      }
    } finally {
      unsubscribe(`${CHANNEL_PREFIX}:start`, onStart);
    }
    expect(Object.fromEntries(seen)).toEqual({
      'POST /api/v1/tools': 0,
      'POST /tools': 0,
      'POST /mcp': 0,
      'POST /composer/mcp': 1,
      'POST /composer/messages/': 1,
    });
  });
});
