// The three kinds of composer the demo emulates (--profile released|rest|full, composer-api.md):
// which surfaces exist, DNS-rebinding protection on the released one, and auto-restart only where built in.
import { request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoState, requestJson, startDemoComposer, waitFor, type DemoComposer } from '../fixtures/demo-composer.ts';

/** A raw request with a chosen Host header (fetch would send the URL's); resolves with the status and up to 200 bytes. */
function withHost(url: string, path: string, method: string, host: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers: { host, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
        if (text.length >= 200 || res.headers['content-type']?.startsWith('text/event-stream')) res.destroy();
      });
      res.on('close', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

describe('profile released (the real `serve` command)', () => {
  let composer: DemoComposer;
  beforeAll(async () => {
    composer = await startDemoComposer(['--profile', 'released', '--servers', '2', '--test-control']);
  });
  afterAll(() => composer.close());

  it('has no /api/v1 at all: every path answers 404 {"detail":"Not Found"}', async () => {
    for (const path of ['/api/v1/health', '/api/v1/servers', '/api/v1/events', '/api/v1/metrics/prometheus', '/mcp']) {
      expect(await requestJson(`${composer.url}${path}`), path).toMatchObject({ status: 404, body: { detail: 'Not Found' } });
    }
  });

  it('serves the plain GET /tools listing', async () => {
    const r = await requestJson(`${composer.url}/tools`);
    expect(r.status).toBe(200);
    expect((r.body as { total: number }).total).toBe(7);
  });

  it('answers 421 on /sse and /messages/ to a Host that is not local, and accepts localhost on any port', async () => {
    expect(await withHost(composer.url, '/sse', 'GET', 'composer.example.svc')).toEqual({ status: 421, text: 'Invalid Host header' });
    expect(await withHost(composer.url, '/sse', 'GET', 'composer.example.svc:8000')).toMatchObject({ status: 421 });
    expect(await withHost(composer.url, '/messages/?session_id=x', 'POST', 'composer.example.svc')).toMatchObject({ status: 421 });
    expect((await withHost(composer.url, '/sse', 'GET', 'localhost:1234')).status).toBe(200);
    expect((await withHost(composer.url, '/sse', 'GET', '[::1]:80')).status).toBe(200);
  });

  it('speaks MCP over legacy SSE', async () => {
    const client = new Client({ name: 'released-test', version: '1.0.0' });
    await client.connect(new SSEClientTransport(new URL(`${composer.url}/sse`)));
    try {
      const r = (await client.callTool({ name: 'calc_add', arguments: { a: 1, b: 2 } })) as CallToolResult;
      expect(r.content).toEqual([{ type: 'text', text: '3' }]);
    } finally {
      await client.close();
    }
  });

  it('leaves a crashed child crashed: no restart is scheduled, its tools fail', async () => {
    const calc = (await demoState(composer.url)).servers.find((s) => s.id === 'calc');
    process.kill(calc?.pid ?? 0, 'SIGKILL');
    const after = await waitFor(async () => (await demoState(composer.url)).servers.find((s) => s.id === 'calc' && s.state === 'crashed'), {
      what: 'calc crashed',
    });
    expect(after).toMatchObject({ state: 'crashed', pid: null, restart_count: 0, restart_pending: false });
    const client = new Client({ name: 'released-test', version: '1.0.0' });
    await client.connect(new SSEClientTransport(new URL(`${composer.url}/sse`)));
    try {
      const r = (await client.callTool({ name: 'calc_add', arguments: { a: 1, b: 2 } })) as CallToolResult;
      expect(r.isError).toBe(true);
      expect(r.content).toEqual([{ type: 'text', text: "Error executing tool add: Server 'calc' is not running" }]);
    } finally {
      await client.close();
    }
    expect((await demoState(composer.url)).servers.find((s) => s.id === 'calc')?.state).toBe('crashed');
  });
});

describe('profile rest (REST mounted, no event stream)', () => {
  let composer: DemoComposer;
  beforeAll(async () => {
    composer = await startDemoComposer(['--profile', 'rest', '--servers', '1']);
  });
  afterAll(() => composer.close());

  it('serves REST but not the event stream, and no DNS-rebinding check', async () => {
    expect((await requestJson(`${composer.url}/api/v1/health`)).status).toBe(200);
    expect(await requestJson(`${composer.url}/api/v1/events`)).toMatchObject({ status: 404, body: { detail: 'Not Found' } });
    expect((await withHost(composer.url, '/sse', 'GET', 'composer.example.svc')).status).toBe(200);
  });

  it('speaks MCP over streamable HTTP too', async () => {
    const client = new Client({ name: 'rest-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${composer.url}/mcp`)));
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('calc_add');
    } finally {
      await client.close();
    }
  });
});

describe('profile full (default)', () => {
  it('serves the event stream', async () => {
    const composer = await startDemoComposer(['--servers', '0']);
    try {
      const abort = new AbortController();
      const r = await fetch(`${composer.url}/api/v1/events`, { signal: abort.signal });
      expect(r.status).toBe(200);
      abort.abort();
    } finally {
      await composer.close();
    }
  });
});
