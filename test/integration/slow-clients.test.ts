/**
 * Slow and idle clients on the proxy port (slowloris, R.U.D.Y., connection floods): they never stop other
 * clients being served, are closed by the configured timeouts, and what they hold is capped by
 * `--max-connections`.
 */
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openSocket, rawRequest, statusOf } from '../fixtures/raw-http.ts';
import { scrape, value } from '../fixtures/scrape.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';
import { clientRequests, startUpstream, type TestUpstream } from '../fixtures/upstream.ts';

let upstream: TestUpstream | undefined;
let sidecar: TestSidecar | undefined;
const attackers: Socket[] = [];
afterEach(async () => {
  for (const s of attackers.splice(0)) s.destroy();
  await sidecar?.close();
  await upstream?.close();
  sidecar = undefined;
  upstream = undefined;
});

interface Tracked {
  readonly socket: Socket;
  received: string;
  closed: boolean;
}

function track(socket: Socket): Tracked {
  const t: Tracked = { socket, received: '', closed: false };
  socket.on('data', (d: Buffer) => (t.received += d.toString('latin1')));
  socket.on('close', () => (t.closed = true));
  socket.on('error', () => undefined);
  attackers.push(socket);
  return t;
}

async function openMany(port: number, n: number): Promise<Tracked[]> {
  const out: Tracked[] = [];
  for (let i = 0; i < n; i += 100) {
    const batch = await Promise.all(Array.from({ length: Math.min(100, n - i) }, () => openSocket(port)));
    for (const s of batch) out.push(track(s));
  }
  return out;
}

async function waitUntil(cond: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  for (let waited = 0; !(await cond()); waited += 50) {
    if (waited >= ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('slow and idle clients', () => {
  it('slowloris: 1,000 idle or trickling connections do not stop other clients being served, and each is closed with 408 when --client-headers-timeout expires', async () => {
    upstream = await startUpstream((_req, res) => res.end('ok'));
    sidecar = await startSidecar(upstream.url, ['--client-headers-timeout', '5s']);
    const port = Number(new URL(sidecar.proxyUrl).port);
    const conns = await openMany(port, 1000);
    // Half never send a byte; half send a request line and then one header line every 250 ms, forever.
    const tricklers = conns.slice(500);
    for (const t of tricklers) t.socket.write('GET /api/v1/tools HTTP/1.1\r\nHost: a\r\n');
    const drip = setInterval(() => {
      for (const t of tricklers) if (!t.closed) t.socket.write('X-Slow: 1\r\n');
    }, 250);
    try {
      // Meanwhile other clients are served, sequentially and in parallel.
      let openDuringService = 0;
      for (let i = 0; i < 10; i++) expect((await fetch(`${sidecar.proxyUrl}/ok/${i}`)).status).toBe(200);
      const parallel = await Promise.all(Array.from({ length: 20 }, (_, i) => fetch(`${sidecar!.proxyUrl}/par/${i}`).then((r) => r.status)));
      openDuringService = conns.filter((t) => !t.closed).length;
      expect(parallel.every((s) => s === 200)).toBe(true);
      expect(openDuringService).toBeGreaterThan(0);
      // Then the timeout reaps every attacker, each with a 408.
      await waitUntil(() => conns.every((t) => t.closed), 'every slow connection to be closed by the sidecar');
    } finally {
      clearInterval(drip);
    }
    expect(conns.filter((t) => statusOf(t.received) === 408)).toHaveLength(1000);
    expect(
      clientRequests(upstream)
        .map((r) => r.url)
        .filter((u) => !(u ?? '').startsWith('/ok/') && !(u ?? '').startsWith('/par/')),
    ).toEqual([]);
    expect(value(await scrape(sidecar.metricsUrl), 'sidecar_proxy_errors_total', { kind: 'client_error' })).toBe(1000);
  });

  it('connection flood: past --max-connections new connections are closed at once (counted as connection_limit); as the headers timeout reaps idle ones, clients are served again', async () => {
    upstream = await startUpstream((_req, res) => res.end('ok'));
    sidecar = await startSidecar(upstream.url, ['--max-connections', '50', '--client-headers-timeout', '1s']);
    const port = Number(new URL(sidecar.proxyUrl).port);
    const held = await openMany(port, 50);
    // The 51st connection is accepted by the kernel and closed by the sidecar without a byte.
    const refused = await rawRequest(port, 'GET /over-the-limit HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(refused.status).toBeUndefined();
    expect(refused.closedByServer).toBe(true);
    await waitUntil(() => held.every((t) => t.closed), 'the idle connections to be reaped');
    expect((await fetch(`${sidecar.proxyUrl}/after`)).status).toBe(200);
    const f = await scrape(sidecar.metricsUrl);
    expect(value(f, 'sidecar_proxy_errors_total', { kind: 'connection_limit' })).toBeGreaterThanOrEqual(1);
    expect(clientRequests(upstream).map((r) => r.url)).toEqual(['/after']);
  });

  it('slow body (R.U.D.Y.): a request body trickled past --client-request-timeout is cut with 408 and the upstream request is aborted', async () => {
    let upstreamSawAbort = false;
    upstream = await startUpstream((req, res) => {
      // Only the client's POST (the sidecar's own probes also reach this upstream).
      if (req.method === 'POST') req.on('close', () => void (req.complete || (upstreamSawAbort = true)));
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    sidecar = await startSidecar(upstream.url, ['--client-headers-timeout', '500ms', '--client-request-timeout', '1500ms']);
    const port = Number(new URL(sidecar.proxyUrl).port);
    const t = track(await openSocket(port));
    t.socket.write('POST /api/v1/tools/calc.add/invoke HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{');
    const drip = setInterval(() => !t.closed && t.socket.write(' '), 100);
    try {
      await waitUntil(() => t.closed, 'the slow body to be cut');
    } finally {
      clearInterval(drip);
    }
    expect(statusOf(t.received)).toBe(408);
    await waitUntil(() => upstreamSawAbort, 'the upstream to see its request aborted', 5000);
    // Other clients were never affected.
    expect((await fetch(`${sidecar.proxyUrl}/ok`)).status).toBe(200);
  });
});
