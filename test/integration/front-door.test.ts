/**
 * The composer's DNS-rebinding defences moved to the front door (`--allowed-hosts`, `--allowed-origins`):
 * on plain requests and on WebSocket upgrades, against a plain upstream that records what reaches it and
 * against a real MCP SDK server with DNS-rebinding protection on. A refused request never reaches the
 * upstream and is counted once in `sidecar_proxy_errors_total{kind}`.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { z } from 'zod';
import { rawRequest } from '../fixtures/raw-http.ts';
import { scrape, value } from '../fixtures/scrape.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';
import { clientRequests, readBody, startUpstream, type TestUpstream } from '../fixtures/upstream.ts';

let upstream: TestUpstream | undefined;
let sidecar: TestSidecar | undefined;
let mcpServer: { server: Server; port: number; seen: IncomingMessage[]; close(): Promise<void> } | undefined;
let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  await sidecar?.close();
  await upstream?.close();
  await mcpServer?.close();
  client = undefined;
  sidecar = undefined;
  upstream = undefined;
  mcpServer = undefined;
});

const errors = async (s: TestSidecar, kind: string): Promise<number> => value(await scrape(s.metricsUrl), 'sidecar_proxy_errors_total', { kind });
const portOf = (s: TestSidecar): number => Number(new URL(s.proxyUrl).port);

/** An upstream that answers every request and accepts WebSocket upgrades (recording both). */
async function recordingUpstream(): Promise<{ u: TestUpstream; upgrades: IncomingMessage[] }> {
  const upgrades: IncomingMessage[] = [];
  const u = await startUpstream(async (req, res) => {
    await readBody(req);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`origin=${req.headers.origin ?? '-'}`);
  });
  u.server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    upgrades.push(req);
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.on('error', () => undefined);
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  });
  return { u, upgrades };
}

/** Opens a WebSocket through the proxy; resolves with the status of the handshake's answer (101 when open). */
function wsHandshake(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, handshakeTimeout: 3000 });
    ws.once('open', () => {
      ws.terminate();
      resolve({ status: 101, body: '' });
    });
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        ws.terminate();
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    ws.once('error', reject);
  });
}

describe('Origin at the front door', () => {
  it('DNS rebinding / cross-site request from a browser page (Origin: http://evil.example) gets 403 origin_not_allowed and never reaches the upstream', async () => {
    const { u } = await recordingUpstream();
    upstream = u;
    sidecar = await startSidecar(u.url);
    for (const method of ['GET', 'POST'] as const) {
      const res = await request(`${sidecar.proxyUrl}/mcp`, {
        method,
        headers: { origin: 'http://evil.example', 'content-type': 'application/json' },
        body: method === 'POST' ? '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' : null,
      });
      expect(res.statusCode, method).toBe(403);
      expect(res.headers['content-type']).toBe('application/json');
      expect(await res.body.text()).toBe('{"error":"origin_not_allowed"}');
    }
    expect(clientRequests(u)).toEqual([]);
    expect(await errors(sidecar, 'origin_not_allowed')).toBe(2);
    // A client without Origin (every non-browser MCP client) is not affected.
    const plain = await request(`${sidecar.proxyUrl}/mcp`);
    expect(await plain.body.text()).toBe('origin=-');
    expect(clientRequests(u)).toHaveLength(1);
  });

  it('an allowed origin passes, its Origin header forwarded unchanged; another origin, two Origin fields and Origin: null are refused', async () => {
    const { u } = await recordingUpstream();
    upstream = u;
    sidecar = await startSidecar(u.url, ['--allowed-origins', 'https://app.example,http://localhost:6274']);
    const ok = await request(`${sidecar.proxyUrl}/api/v1/tools`, { headers: { origin: 'https://app.example' } });
    expect(ok.statusCode).toBe(200);
    expect(await ok.body.text()).toBe('origin=https://app.example');
    const port = portOf(sidecar);
    for (const origin of [
      'Origin: https://evil.example',
      'Origin: https://app.example\r\nOrigin: https://evil.example',
      'Origin: null',
      'Origin: http://app.example',
    ]) {
      const r = await rawRequest(port, `GET /api/v1/tools HTTP/1.1\r\nHost: 127.0.0.1\r\n${origin}\r\n\r\n`);
      expect(r.status, origin).toBe(403);
      expect(r.text.endsWith('{"error":"origin_not_allowed"}'), origin).toBe(true);
    }
    expect(clientRequests(u).map((r) => r.headers.origin)).toEqual(['https://app.example']);
    expect(await errors(sidecar, 'origin_not_allowed')).toBe(4);
  });

  it('cross-site WebSocket hijacking (an upgrade with a foreign Origin) gets 403 and never reaches the upstream; an allowed origin is tunnelled', async () => {
    const { u, upgrades } = await recordingUpstream();
    upstream = u;
    sidecar = await startSidecar(u.url, ['--allowed-origins', 'https://app.example']);
    const ws = sidecar.proxyUrl.replace('http', 'ws');
    expect(await wsHandshake(`${ws}/ws/logs`, { origin: 'http://evil.example' })).toEqual({ status: 403, body: '{"error":"origin_not_allowed"}' });
    expect(upgrades).toEqual([]);
    expect(await wsHandshake(`${ws}/ws/logs`, { origin: 'https://app.example' })).toEqual({ status: 101, body: '' });
    expect(upgrades.map((r) => r.headers.origin)).toEqual(['https://app.example']);
    expect(await errors(sidecar, 'origin_not_allowed')).toBe(1);
  });
});

describe('Host at the front door', () => {
  it('DNS rebinding with a foreign Host (evil.example resolved to the pod) gets 421 host_not_allowed and never reaches the upstream, on requests and upgrades', async () => {
    const { u, upgrades } = await recordingUpstream();
    upstream = u;
    sidecar = await startSidecar(u.url, ['--allowed-hosts', 'mcp.example.com,127.0.0.1']);
    const port = portOf(sidecar);
    for (const host of ['evil.example', `evil.example:${port}`, 'mcp.example.com.evil.example']) {
      const r = await rawRequest(port, `GET /sse HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      expect(r.status, host).toBe(421);
      expect(r.text.endsWith('{"error":"host_not_allowed"}'), host).toBe(true);
    }
    const up = await rawRequest(
      port,
      `GET /ws/logs HTTP/1.1\r\nHost: evil.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    );
    expect(up.status).toBe(421);
    expect(up.text.endsWith('{"error":"host_not_allowed"}')).toBe(true);
    expect(clientRequests(u)).toEqual([]);
    expect(upgrades).toEqual([]);
    expect(await errors(sidecar, 'host_not_allowed')).toBe(4);
  });

  it('an allowed Host passes (a name on any port, host:port, any case), and the upstream still gets its own authority', async () => {
    const { u } = await recordingUpstream();
    upstream = u;
    sidecar = await startSidecar(u.url, ['--allowed-hosts', 'MCP.example.com,127.0.0.1']);
    const port = portOf(sidecar);
    for (const host of ['mcp.example.com', 'mcp.example.com:8080', `127.0.0.1:${port}`]) {
      const r = await rawRequest(port, `GET /api/v1/tools HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(r.status, host).toBe(200);
    }
    expect(clientRequests(u).map((r) => [r.headers.host, r.headers['x-forwarded-host']])).toEqual([
      [`127.0.0.1:${u.port}`, 'mcp.example.com'],
      [`127.0.0.1:${u.port}`, 'mcp.example.com:8080'],
      [`127.0.0.1:${u.port}`, `127.0.0.1:${port}`],
    ]);
    expect(await errors(sidecar, 'host_not_allowed')).toBe(0);
  });
});

/** A real MCP SDK server (stateless streamable HTTP) with the SDK's DNS-rebinding protection on. */
async function guardedMcpServer(): Promise<NonNullable<typeof mcpServer>> {
  const seen: IncomingMessage[] = [];
  const sockets = new Set<Socket>();
  let port = 0;
  const server = createServer((req, res) => {
    seen.push(req);
    const mcp = new McpServer({ name: 'guarded', version: '1.0.0' });
    mcp.registerTool('echo', { description: 'Echo', inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableDnsRebindingProtection: true,
      allowedHosts: [`127.0.0.1:${port}`],
      allowedOrigins: ['https://app.example'],
    });
    res.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    void mcp.connect(transport).then(() => transport.handleRequest(req, res));
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'attacker', version: '1' } },
});

/** POSTs an MCP initialize with the given Host and Origin, as a rebinding page's fetch would. */
async function initialize(port: number, host: string, origin?: string): Promise<number> {
  const r = await rawRequest(
    port,
    `POST /mcp HTTP/1.1\r\nHost: ${host}\r\n${origin === undefined ? '' : `Origin: ${origin}\r\n`}Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${Buffer.byteLength(INITIALIZE)}\r\nConnection: close\r\n\r\n${INITIALIZE}`,
  );
  return r.status ?? 0;
}

const mcpClientRequests = (s: NonNullable<typeof mcpServer>): IncomingMessage[] =>
  s.seen.filter((r) => !String(r.headers['user-agent'] ?? '').startsWith('mcp-composer-sidecar'));

describe('in front of an MCP SDK server with DNS-rebinding protection', () => {
  it("DNS rebinding: without --allowed-hosts the Host rewrite bypasses the server's own check (why the check moved to the sidecar)", async () => {
    mcpServer = await guardedMcpServer();
    // Directly, the SDK server refuses the attacker's Host.
    expect(await initialize(mcpServer.port, 'evil.example')).toBe(403);
    sidecar = await startSidecar(`http://127.0.0.1:${mcpServer.port}`);
    // Through the sidecar it arrives with the upstream's own authority and is accepted.
    expect(await initialize(portOf(sidecar), 'evil.example')).toBe(200);
  });

  it("DNS rebinding: with --allowed-hosts and --allowed-origins the attacker's Host (421) and Origin (403) are refused before the server, and a real SDK client works", async () => {
    mcpServer = await guardedMcpServer();
    sidecar = await startSidecar(`http://127.0.0.1:${mcpServer.port}`, ['--allowed-hosts', '127.0.0.1,localhost', '--allowed-origins', 'https://app.example']);
    const port = portOf(sidecar);
    const before = mcpClientRequests(mcpServer).length;
    expect(await initialize(port, 'evil.example')).toBe(421);
    expect(await initialize(port, `evil.example:${port}`, 'https://app.example')).toBe(421);
    expect(await initialize(port, `127.0.0.1:${port}`, 'http://evil.example')).toBe(403);
    expect(mcpClientRequests(mcpServer).length).toBe(before);
    // A browser page of the allowed origin, on an allowed host, gets through to the server.
    expect(await initialize(port, `localhost:${port}`, 'https://app.example')).toBe(200);

    client = new Client({ name: 'front-door-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${sidecar.proxyUrl}/mcp`)));
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
    expect(await client.callTool({ name: 'echo', arguments: { text: 'hi' } })).toMatchObject({ content: [{ type: 'text', text: 'hi' }] });
    expect(await errors(sidecar, 'host_not_allowed')).toBe(2);
    expect(await errors(sidecar, 'origin_not_allowed')).toBe(1);
  });
});
