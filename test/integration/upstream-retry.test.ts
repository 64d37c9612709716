/**
 * The keep-alive race: the upstream closes a pooled connection just as the proxy writes a request on it
 * (before any response byte). An idempotent request without a body is sent once more on a new connection;
 * a POST never is; either way the exchange is counted exactly once.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { scrape, value } from '../fixtures/scrape.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';

interface RawUpstream {
  readonly url: string;
  /** Request lines of the client requests received (`GET /flaky/2`), in order, resends included. */
  readonly received: string[];
  close(): Promise<void>;
}

/**
 * A minimal HTTP/1.1 upstream on raw sockets: answers 200 with keep-alive, except that a request for a path
 * under `/flaky` that is not the first request on its connection makes it drop the connection without
 * answering (the race, made deterministic), and `/always-reset` is always dropped.
 */
async function startRawUpstream(): Promise<RawUpstream> {
  const received: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    let served = 0;
    socket.on('data', (d: Buffer) => {
      buffered += d.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end !== -1; end = buffered.indexOf('\r\n\r\n')) {
        const head = buffered.slice(0, end);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        const line = head.slice(0, head.indexOf(' HTTP/'));
        const path = line.split(' ')[1] ?? '';
        const own = /user-agent: mcp-composer-sidecar/i.test(head);
        if (!own) received.push(line);
        if (path === '/always-reset' || (path.startsWith('/flaky') && served > 0)) {
          socket.destroy();
          return;
        }
        served++;
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: keep-alive\r\nkeep-alive: timeout=30\r\n\r\nok`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

let upstream: RawUpstream | undefined;
let sidecar: TestSidecar | undefined;
afterEach(async () => {
  await sidecar?.close();
  await upstream?.close();
  sidecar = undefined;
  upstream = undefined;
});

async function counts(s: TestSidecar): Promise<{ ok: number; bad: number; retried: number }> {
  const f = await scrape(s.metricsUrl);
  return {
    ok: value(f, 'mcp_http_requests_total', { status_code: '200' }),
    bad: value(f, 'mcp_http_requests_total', { status_code: '502' }),
    retried: value(f, 'sidecar_proxy_errors_total', { kind: 'upstream_retried' }),
  };
}

async function settled(s: TestSidecar, want: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const c = await counts(s);
    if (c.ok + c.bad >= want) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a keep-alive connection the upstream closes under a request', () => {
  it('an idempotent GET is resent once on a new connection, answered 200 and counted once', async () => {
    upstream = await startRawUpstream();
    sidecar = await startSidecar(upstream.url);
    expect((await fetch(`${sidecar.proxyUrl}/flaky/1`)).status).toBe(200);
    const second = await fetch(`${sidecar.proxyUrl}/flaky/2`);
    expect(second.status).toBe(200);
    expect(await second.text()).toBe('ok');
    // The upstream saw /flaky/2 twice: once on the connection it dropped, once on the new one.
    expect(upstream.received).toEqual(['GET /flaky/1', 'GET /flaky/2', 'GET /flaky/2']);
    await settled(sidecar, 2);
    expect(await counts(sidecar)).toEqual({ ok: 2, bad: 0, retried: 1 });
  });

  it('a POST is never resent: the client gets 502 and the upstream saw it once', async () => {
    upstream = await startRawUpstream();
    sidecar = await startSidecar(upstream.url);
    expect((await fetch(`${sidecar.proxyUrl}/flaky/1`)).status).toBe(200);
    for (const body of [undefined, '{"a":1}']) {
      // Leaves a connection that has served one request in the pool (the first time, this GET meets the
      // dropped connection itself and is resent: the one retry counted below).
      expect((await fetch(`${sidecar.proxyUrl}/flaky/1`)).status).toBe(200);
      const res = await fetch(`${sidecar.proxyUrl}/flaky/post`, { method: 'POST', ...(body !== undefined ? { body } : {}) });
      expect(res.status).toBe(502);
    }
    expect(upstream.received.filter((l) => l === 'POST /flaky/post')).toHaveLength(2);
    await settled(sidecar, 5);
    expect(await counts(sidecar)).toEqual({ ok: 3, bad: 2, retried: 1 });
  });

  it('a GET is resent at most once: when the second attempt fails too, the client gets one 502', async () => {
    upstream = await startRawUpstream();
    sidecar = await startSidecar(upstream.url);
    expect((await fetch(`${sidecar.proxyUrl}/always-reset`)).status).toBe(502);
    expect(upstream.received).toEqual(['GET /always-reset', 'GET /always-reset']);
    await settled(sidecar, 1);
    expect(await counts(sidecar)).toEqual({ ok: 0, bad: 1, retried: 1 });
  });

  it('--no-upstream-retry never resends: the GET gets 502', async () => {
    upstream = await startRawUpstream();
    sidecar = await startSidecar(upstream.url, ['--no-upstream-retry']);
    expect((await fetch(`${sidecar.proxyUrl}/flaky/1`)).status).toBe(200);
    expect((await fetch(`${sidecar.proxyUrl}/flaky/2`)).status).toBe(502);
    expect(upstream.received).toEqual(['GET /flaky/1', 'GET /flaky/2']);
    await settled(sidecar, 2);
    expect(await counts(sidecar)).toEqual({ ok: 1, bad: 1, retried: 0 });
  });
});
