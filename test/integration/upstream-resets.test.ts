/**
 * An upstream whose body ends by an error — a TCP reset (RST) whatever the framing: close-delimited (no
 * Content-Length, not chunked), chunked and cut inside a chunk, a Content-Length it never reaches — must
 * reach the client as a broken connection, never as a complete response: no terminating chunk, no
 * keep-alive, counted as `upstream_aborted`. A close-delimited body ended by a clean FIN is a complete
 * response and must still pass as one.
 *
 * undici reports a close-delimited body ended by ECONNRESET as complete (client-h1.js, onHttpSocketError:
 * the "full body on macOS" workaround); the proxy tells the two apart on the socket the request was written
 * on (proxy/upstream-socket.ts).
 */
import { request } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { rawRequest } from '../fixtures/raw-http.ts';
import { scrape, value } from '../fixtures/scrape.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';

let raw: { server: Server; sockets: Set<Socket> } | undefined;
let sidecar: TestSidecar | undefined;
afterEach(async () => {
  await sidecar?.close();
  if (raw !== undefined) {
    for (const s of raw.sockets) s.destroy();
    await new Promise<void>((r) => raw!.server.close(() => r()));
  }
  sidecar = undefined;
  raw = undefined;
});

/** How the upstream ends the body it started. */
type Ending = 'reset' | 'fin';

/** A TCP upstream: the sidecar's own requests get an empty 200; every other request gets `head + body`, then `ending`. */
async function startUpstream(head: string, body: string, ending: Ending): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let seen = '';
    socket.on('data', (d: Buffer) => {
      seen += d.toString('latin1');
      if (!seen.includes('\r\n\r\n')) return;
      if (/user-agent: mcp-composer-sidecar/i.test(seen)) {
        seen = '';
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      // Let the head and the partial body reach the sidecar first, then end the connection.
      socket.write(head + body, () => setTimeout(() => (ending === 'reset' ? socket.resetAndDestroy() : socket.end()), 50));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  raw = { server, sockets };
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The body of a chunked response, and whether its terminating chunk arrived. */
function dechunk(text: string): { body: string; terminated: boolean } {
  let rest = text.slice(text.indexOf('\r\n\r\n') + 4);
  let body = '';
  for (;;) {
    const eol = rest.indexOf('\r\n');
    if (eol === -1) return { body, terminated: false };
    const size = Number.parseInt(rest.slice(0, eol), 16);
    if (Number.isNaN(size)) return { body, terminated: false };
    if (size === 0) return { body, terminated: rest.slice(eol + 2).startsWith('\r\n') };
    if (rest.length < eol + 2 + size + 2) return { body: body + rest.slice(eol + 2), terminated: false };
    body += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

/** What an HTTP client makes of the response: the status, whether it completed, the body it read. */
function fetchThrough(url: string): Promise<{ status: number; complete: boolean; body: string; error: boolean }> {
  return new Promise((resolve) => {
    let status = 0;
    let body = '';
    let complete = false;
    let error = false;
    const req = request(url, (res) => {
      status = res.statusCode ?? 0;
      res.setEncoding('latin1');
      res.on('data', (d: string) => (body += d));
      res.on('error', () => (error = true));
      res.on('end', () => (complete = res.complete));
      res.on('close', () => resolve({ status, complete, body, error }));
    });
    req.on('error', () => resolve({ status, complete: false, body, error: true }));
    req.end();
  });
}

/** Sends `payload` on a raw socket; how the sidecar ended the connection: `fin`, `ECONNRESET`, or `timeout`. */
function endingOf(port: number, payload: string): Promise<{ text: string; ending: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => finish('timeout'), 5000);
    function finish(ending: string): void {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, ending });
    }
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('end', () => finish('fin'));
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? 'error'));
    socket.write(payload);
  });
}

async function outcomes(): Promise<unknown[]> {
  for (let i = 0; i < 100; i++) {
    const lines = sidecar!.logs.filter((l) => l.event === 'access' && l['endpoint'] !== undefined && !String(l['endpoint']).startsWith('/api/v1/'));
    if (lines.length > 0) return lines.map((l) => l['outcome']);
    await new Promise((r) => setTimeout(r, 20));
  }
  return [];
}

async function aborted(): Promise<number> {
  return value(await scrape(sidecar!.metricsUrl), 'sidecar_proxy_errors_total', { kind: 'upstream_aborted' });
}

const SHAPES: ReadonlyArray<{ name: string; head: string; body: string }> = [
  { name: 'close-delimited JSON', head: 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n', body: '{"items":[1,2,3' },
  {
    name: 'chunked, cut inside a chunk',
    head: 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n',
    body: '20\r\n{"items":[1,2,3',
  },
  { name: 'Content-Length never reached', head: 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n', body: '{"items":[1,2,3' },
  {
    name: 'close-delimited SSE',
    head: 'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n\r\n',
    body: 'data: {"n":1}\n\ndata: {"n":',
  },
];

describe('an upstream reset mid-body', () => {
  for (const shape of SHAPES) {
    it(`${shape.name} + RST: the client sees a broken connection (no terminating chunk, not kept alive), counted as upstream_aborted`, async () => {
      const url = await startUpstream(shape.head, shape.body, 'reset');
      sidecar = await startSidecar(url, ['--access-log']);
      const port = Number(new URL(sidecar.proxyUrl).port);
      const answer = await rawRequest(port, 'GET /items HTTP/1.1\r\nHost: a\r\n\r\n', { timeoutMs: 5000 });
      expect(answer.status).toBe(200);
      expect(answer.closedByServer).toBe(true);
      expect(dechunk(answer.text).terminated).toBe(false);
      expect(await outcomes()).toEqual(['upstream_aborted']);
      expect(await aborted()).toBe(1);
    });
  }

  it('close-delimited + RST seen by an HTTP client: the response never completes', async () => {
    const url = await startUpstream(SHAPES[0]!.head, SHAPES[0]!.body, 'reset');
    sidecar = await startSidecar(url);
    const got = await fetchThrough(`${sidecar.proxyUrl}/items`);
    expect(got.status).toBe(200);
    expect(got.complete).toBe(false);
    expect(await aborted()).toBe(1);
  });

  it('close-delimited + RST to an HTTP/1.0 client (close-delimited on its side too): its connection is reset, never closed cleanly', async () => {
    const url = await startUpstream(SHAPES[0]!.head, SHAPES[0]!.body, 'reset');
    sidecar = await startSidecar(url);
    const port = Number(new URL(sidecar.proxyUrl).port);
    const how = await endingOf(port, 'GET /items HTTP/1.0\r\n\r\n');
    expect(how.ending).toBe('ECONNRESET');
    expect(await aborted()).toBe(1);
  });
  it('close-delimited + clean FIN is a complete response: the whole body, a terminating chunk, outcome ok, nothing counted as aborted', async () => {
    const url = await startUpstream(SHAPES[0]!.head, '{"items":[1,2,3]}', 'fin');
    sidecar = await startSidecar(url, ['--access-log']);
    const port = Number(new URL(sidecar.proxyUrl).port);
    const answer = await rawRequest(port, 'GET /items HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', { timeoutMs: 5000 });
    expect(answer.status).toBe(200);
    expect(dechunk(answer.text)).toEqual({ body: '{"items":[1,2,3]}', terminated: true });
    const got = await fetchThrough(`${sidecar.proxyUrl}/items`);
    expect(got).toEqual({ status: 200, complete: true, body: '{"items":[1,2,3]}', error: false });
    expect(await outcomes()).toEqual(['ok', 'ok']);
    expect(await aborted()).toBe(0);
  });

  it('close-delimited SSE + clean FIN: every event arrives and the stream ends cleanly', async () => {
    const url = await startUpstream(SHAPES[3]!.head, 'data: {"n":1}\n\ndata: {"n":2}\n\n', 'fin');
    sidecar = await startSidecar(url);
    const got = await fetchThrough(`${sidecar.proxyUrl}/events`);
    expect(got).toEqual({ status: 200, complete: true, body: 'data: {"n":1}\n\ndata: {"n":2}\n\n', error: false });
    expect(await aborted()).toBe(0);
  });
  it('a refused WebSocket upgrade whose close-delimited answer is reset: the client connection is reset, never closed as if complete; a clean FIN still ends it cleanly', async () => {
    const upgrade =
      'GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
    const head = 'HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\n\r\n';
    for (const ending of ['reset', 'fin'] as const) {
      const url = await startUpstream(head, ending === 'reset' ? '{"error":"forb' : '{"error":"forbidden"}', ending);
      sidecar = await startSidecar(url);
      const port = Number(new URL(sidecar.proxyUrl).port);
      const seen = await endingOf(port, upgrade);
      expect(seen.text).toMatch(/^HTTP\/1\.1 403 /);
      if (ending === 'reset') {
        expect(seen.ending).toBe('ECONNRESET');
        expect(await aborted()).toBe(1);
      } else {
        expect(seen.ending).toBe('fin');
        expect(seen.text.endsWith('\r\n\r\n{"error":"forbidden"}')).toBe(true);
        expect(await aborted()).toBe(0);
      }
      await sidecar.close();
      sidecar = undefined;
      for (const s of raw!.sockets) s.destroy();
      await new Promise<void>((r) => raw!.server.close(() => r()));
      raw = undefined;
    }
  });
});
