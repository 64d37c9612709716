/**
 * A hostile or broken upstream: invalid HTTP, huge headers, endless bodies, never-ending SSE events and
 * event-stream lines, WebSockets that never close or flood. The client gets the right error, the failure is
 * counted, and what the sidecar holds stays bounded (back-pressure reaches the upstream; the MCP tap and
 * the event-stream client drop what exceeds their bounds).
 */
import { createHash } from 'node:crypto';
import { request, type IncomingMessage } from 'node:http';
import { connect, createServer, type Server, type Socket, type AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { scrape, value } from '../fixtures/scrape.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';
import { isSidecarOwn, startUpstream, type TestUpstream } from '../fixtures/upstream.ts';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

let upstream: TestUpstream | undefined;
let raw: { server: Server; sockets: Set<Socket> } | undefined;
let sidecar: TestSidecar | undefined;
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await sidecar?.close();
  await upstream?.close();
  if (raw !== undefined) {
    for (const s of raw.sockets) s.destroy();
    await new Promise<void>((r) => raw!.server.close(() => r()));
  }
  sidecar = undefined;
  upstream = undefined;
  raw = undefined;
});

/** A TCP upstream that answers every connection with `answer(socket, firstBytes)`. */
async function startRawUpstream(answer: (socket: Socket, head: string) => void): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    let answered = false;
    socket.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      if (!answered && head.includes('\r\n\r\n')) {
        answered = true;
        answer(socket, head);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  raw = { server, sockets };
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Samples `read` until it stops growing (bounded): the value it settled at. */
async function plateau(read: () => number, what: string): Promise<number> {
  let last = -1;
  for (let i = 0; i < 100; i++) {
    await sleep(200);
    const v = read();
    if (v === last && v > 0) return v;
    last = v;
  }
  throw new Error(`${what} never stopped growing`);
}

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function errors(kind: string): Promise<number> {
  return value(await scrape(sidecar!.metricsUrl), 'sidecar_proxy_errors_total', { kind });
}

describe('a hostile upstream', () => {
  it('invalid HTTP from the upstream gets the client a 502, counted', async () => {
    const url = await startRawUpstream((socket) => socket.end('HELLO THERE\r\n\r\n'));
    sidecar = await startSidecar(url);
    const res = await fetch(`${sidecar.proxyUrl}/api/v1/tools`);
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ error: 'upstream_unavailable' });
    const f = await scrape(sidecar.metricsUrl);
    expect(value(f, 'mcp_http_requests_total', { status_code: '502' })).toBe(1);
    expect(value(f, 'sidecar_proxy_errors_total', { kind: 'upstream_unavailable' })).toBeGreaterThanOrEqual(1);
  });

  it('huge or never-ending response headers get the client a 502 once 16 KiB are read (never buffered further)', async () => {
    let written = 0;
    const url = await startRawUpstream((socket, head) => {
      if (/user-agent: mcp-composer-sidecar/i.test(head)) return void socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
      socket.write('HTTP/1.1 200 OK\r\n');
      const line = Buffer.from(`X-Filler: ${'a'.repeat(1000)}\r\n`);
      const pump = (): void => {
        while (!socket.destroyed && written < 64 * 1024 * 1024) {
          written += line.length;
          if (!socket.write(line)) return void socket.once('drain', pump);
        }
      };
      pump();
    });
    sidecar = await startSidecar(url);
    const res = await fetch(`${sidecar.proxyUrl}/api/v1/tools`);
    expect(res.status).toBe(502);
    expect(written).toBeLessThan(64 * 1024 * 1024);
    expect(await errors('upstream_unavailable')).toBeGreaterThanOrEqual(1);
  });

  it('an endless body is streamed with back-pressure: a client that stops reading stops the upstream, and leaving ends it (499)', async () => {
    let written = 0;
    let upstreamClosed = false;
    upstream = await startUpstream((req, res) => {
      if (isSidecarOwn(req)) return void res.end('ok');
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 97);
      const pump = (): void => {
        while (!upstreamClosed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      res.on('close', () => (upstreamClosed = true));
      pump();
    });
    sidecar = await startSidecar(upstream.url);
    const response = await new Promise<IncomingMessage>((resolve) => {
      const req = request(`${sidecar!.proxyUrl}/download`, resolve);
      req.on('error', () => undefined);
      req.end();
    });
    response.pause();
    const stuck = await plateau(() => written, 'the upstream writing to a client that does not read');
    // Kernel socket buffers on both hops plus a chunk in each stream; nothing accumulates in the sidecar.
    expect(stuck).toBeLessThan(48 * 1024 * 1024);
    let read = 0;
    response.on('data', (c: Buffer) => {
      read += c.length;
      if (read > stuck + 16 * 1024 * 1024) response.destroy();
    });
    response.resume();
    for (let i = 0; i < 200 && !upstreamClosed; i++) await sleep(25);
    expect(upstreamClosed).toBe(true);
    const s = sidecar;
    for (let i = 0; i < 100 && value(await scrape(s.metricsUrl), 'mcp_http_requests_total', { status_code: '499' }) === 0; i++) await sleep(20);
    expect(value(await scrape(s.metricsUrl), 'mcp_http_requests_total', { status_code: '499', endpoint: '/download' })).toBe(1);
  });

  it('a never-ending SSE event without newlines on an MCP route, and an endless JSON answer, reach the client whole while the MCP tap stays bounded (too_large)', async () => {
    const MB = 1024 * 1024;
    const total = 48 * MB;
    const SSE_PREFIX = 'data: ';
    const JSON_PREFIX = '{"jsonrpc":"2.0","id":1,"result":{"x":"';
    upstream = await startUpstream((req, res) => {
      if (isSidecarOwn(req)) return void res.writeHead(404).end();
      const sse = req.url === '/sse';
      res.writeHead(200, { 'content-type': sse ? 'text/event-stream' : 'application/json' });
      if (!sse) req.resume();
      let sent = 0;
      const chunk = Buffer.alloc(256 * 1024, 120);
      res.write(sse ? SSE_PREFIX : JSON_PREFIX);
      const pump = (): void => {
        while (sent < total) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    sidecar = await startSidecar(upstream.url);
    const heapBefore = heapAfterGc();
    const sse = await fetch(`${sidecar.proxyUrl}/sse`);
    expect((await sse.arrayBuffer()).byteLength).toBe(total + SSE_PREFIX.length);
    const json = await fetch(`${sidecar.proxyUrl}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}',
    });
    expect((await json.arrayBuffer()).byteLength).toBe(total + JSON_PREFIX.length);
    const grown = heapAfterGc() - heapBefore;
    // 96 MiB passed through the tap; it kept at most its 64 KiB bound of each.
    expect(grown).toBeLessThan(16 * MB);
    const f = await scrape(sidecar.metricsUrl);
    expect(value(f, 'sidecar_mcp_unparsed_total', { reason: 'too_large' })).toBeGreaterThanOrEqual(2);
  });

  it("a never-ending line on the composer's event stream is cut at its bound, logged, and the stream reconnects", async () => {
    let connections = 0;
    upstream = await startUpstream((req, res) => {
      if (req.url?.split('?')[0] !== '/api/v1/events') return void res.writeHead(404).end();
      connections++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: ');
      const chunk = Buffer.alloc(64 * 1024, 120);
      const pump = (): void => {
        while (!res.destroyed) if (!res.write(chunk)) return void res.once('drain', pump);
      };
      res.on('close', () => undefined);
      pump();
    });
    sidecar = await startSidecar(upstream.url, ['--events-reconnect-max', '1s']);
    const s = sidecar;
    for (let i = 0; i < 200 && connections < 2; i++) await sleep(50);
    expect(connections).toBeGreaterThanOrEqual(2);
    expect(s.logs.some((l) => l.event === 'event_stream_disconnected' && l['reason'] === 'oversized_event')).toBe(true);
    // Proxying is unaffected.
    expect((await fetch(`${s.proxyUrl}/api/v1/health`)).status).toBe(404);
  });

  it('a WebSocket the upstream never closes ends when the client goes: both sockets are released and sidecar_proxy_open_streams returns to 0', async () => {
    let upstreamSocket: Socket | undefined;
    let upstreamClosed = false;
    upstream = await startUpstream((_req, res) => res.end('ok'));
    upstream.server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      upstreamSocket = socket;
      // The tunnel's end reaches it as a FIN (it would stay half-open forever if it were up to it).
      socket.on('end', () => (upstreamClosed = true));
      socket.on('close', () => (upstreamClosed = true));
      socket.on('error', () => undefined);
      // It never sends a frame, ignores every close frame and never closes its side.
    });
    sidecar = await startSidecar(upstream.url);
    const ws = new WebSocket(`${sidecar.proxyUrl.replace('http', 'ws')}/ws/logs`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    expect(upstreamSocket).toBeDefined();
    const open = async () => value(await scrape(sidecar!.metricsUrl), 'sidecar_proxy_open_streams', { kind: 'websocket' });
    expect(await open()).toBe(1);
    ws.terminate();
    for (let i = 0; i < 100 && !upstreamClosed; i++) await sleep(20);
    expect(upstreamClosed).toBe(true);
    for (let i = 0; i < 100 && (await open()) !== 0; i++) await sleep(20);
    expect(await open()).toBe(0);
  });

  it('a WebSocket upstream flooding a client that does not read is held back by back-pressure', async () => {
    let written = 0;
    let stop = false;
    upstream = await startUpstream((_req, res) => res.end('ok'));
    upstream.server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      socket.on('error', () => undefined);
      socket.on('close', () => (stop = true));
      const frame = Buffer.concat([Buffer.from([0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]), Buffer.alloc(65536, 1)]);
      const pump = (): void => {
        while (!stop) {
          written += frame.length;
          if (!socket.write(frame)) return void socket.once('drain', pump);
        }
      };
      pump();
    });
    sidecar = await startSidecar(upstream.url);
    const port = Number(new URL(sidecar.proxyUrl).port);
    const client = connect(port, '127.0.0.1');
    cleanups.push(() => client.destroy());
    client.on('error', () => undefined);
    client.write(
      'GET /ws/metrics HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await new Promise<void>((resolve) => client.once('data', () => resolve()));
    client.pause();
    const stuck = await plateau(() => written, 'the WebSocket flood');
    expect(stuck).toBeLessThan(48 * 1024 * 1024);
    client.destroy();
    for (let i = 0; i < 100 && !stop; i++) await sleep(20);
    expect(stop).toBe(true);
  });

  it('an upstream that dies mid-body after a Content-Length is cut on the client too (upstream_aborted), never a short body that looks complete', async () => {
    const url = await startRawUpstream((socket, head) => {
      if (/user-agent: mcp-composer-sidecar/i.test(head)) return void socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nonly a little');
      setTimeout(() => socket.destroy(), 50);
    });
    sidecar = await startSidecar(url);
    const outcome = await new Promise<{ complete: boolean; status: number }>((resolve) => {
      const req = request(`${sidecar!.proxyUrl}/partial`, (res) => {
        res.on('data', () => undefined);
        res.on('error', () => undefined);
        res.on('close', () => resolve({ complete: res.complete, status: res.statusCode ?? 0 }));
      });
      req.on('error', () => resolve({ complete: false, status: 0 }));
      req.end();
    });
    expect(outcome).toEqual({ complete: false, status: 200 });
    expect(await errors('upstream_aborted')).toBe(1);
  });
});
