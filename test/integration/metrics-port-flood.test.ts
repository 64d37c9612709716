/**
 * Locking out the metrics port by holding connections to it: silent connections, one request then silence
 * (kept alive), stalled TLS handshakes, trickled heads, refused connections whose peer never closes. While
 * the attacker holds 256 connections (the port's maximum), an authorised scrape, `/healthz` and `/readyz`
 * are answered; afterwards every attacker connection is reclaimed by the server and the count returns to 0.
 *
 * The port's bounds are shortened here (connections.ts: internal limits) so the reclaim is seen in about a
 * second; the last test runs the real sidecar with its default bounds.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { METRICS_PORT_LIMITS, type MetricsPortLimits } from '../../src/admin/connections.ts';
import { createAdminServer, type AdminServer } from '../../src/admin/server.ts';
import { TlsFiles } from '../../src/admin/tls.ts';
import { InlineToken } from '../../src/admin/token.ts';
import { makePki, type Pki } from '../fixtures/certs.ts';
import { scrape, value } from '../fixtures/scrape.ts';
import { startSidecar, TEST_TOKEN, type TestSidecar } from '../fixtures/sidecar.ts';
import { startUpstream, type TestUpstream } from '../fixtures/upstream.ts';
import { waitFor } from '../fixtures/wait.ts';

const TOKEN = 'flood-test-token-0123456789abcdef';
const EXPOSITION = '# HELP flood_test_up A test family\n# TYPE flood_test_up gauge\nflood_test_up 1\n';

/** Short bounds, so a test sees the reclaim in about a second. */
const SHORT: MetricsPortLimits = {
  maxConnections: 256,
  handshakeTimeoutMs: 500,
  headersTimeoutMs: 500,
  requestTimeoutMs: 1000,
  keepAliveTimeoutMs: 500,
  idleTimeoutMs: 2000,
  refusalFlushMs: 300,
};

let admin: AdminServer | undefined;
let pki: Pki | undefined;
let sidecar: TestSidecar | undefined;
let upstream: TestUpstream | undefined;
const attackers: Socket[] = [];
afterEach(async () => {
  for (const s of attackers.splice(0)) s.destroy();
  await admin?.close();
  await sidecar?.close();
  await upstream?.close();
  pki?.remove();
  admin = undefined;
  sidecar = undefined;
  upstream = undefined;
  pki = undefined;
});

interface Attacker {
  readonly socket: Socket;
  received: string;
  /** The server closed its side (FIN or reset). The attacker never closes its own. */
  closed: boolean;
}

/** A connection that stays half-open when the server closes its side: it never closes its own. */
function openHalfOpen(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Opens `n` connections (in batches), recording what each receives and whether the server closed it. */
async function flood(port: number, n = 256): Promise<Attacker[]> {
  const out: Attacker[] = [];
  for (let i = 0; i < n; i += 64) {
    const batch = await Promise.all(Array.from({ length: Math.min(64, n - i) }, () => openHalfOpen(port)));
    for (const socket of batch) {
      const a: Attacker = { socket, received: '', closed: false };
      socket.on('data', (d: Buffer) => (a.received += d.toString('latin1')));
      socket.on('end', () => (a.closed = true));
      socket.on('close', () => (a.closed = true));
      socket.on('error', () => undefined);
      attackers.push(socket);
      out.push(a);
    }
  }
  // The client sees its connection established before the server has accepted it.
  if (admin !== undefined) await waitFor(() => admin!.connections() === n, { what: `the port to hold all ${n} connections` });
  return out;
}

async function startPort(limits: MetricsPortLimits = SHORT, tls?: TlsFiles): Promise<{ base: string; port: number }> {
  admin = createAdminServer({
    listen: { host: '127.0.0.1', port: 0 },
    token: new InlineToken(TOKEN),
    scrape: async () => ({ slices: [EXPOSITION] }),
    ready: () => true,
    tls,
    limits,
  });
  const { port } = await admin.listen();
  return { base: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`, port };
}

/** One request on a new connection that it closes after the answer; the status and body. */
function get(url: string, opts: { token?: string; ca?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { connection: 'close', ...(opts.token !== undefined ? { authorization: `Bearer ${opts.token}` } : {}) };
    const onResponse = (res: import('node:http').IncomingMessage): void => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    };
    const req = url.startsWith('https:')
      ? httpsRequest(url, { agent: false, headers, ca: readFileSync(opts.ca as string), timeout: 5000 }, onResponse)
      : httpRequest(url, { agent: false, headers, timeout: 5000 }, onResponse);
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} in 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** Three rounds of what Prometheus and kubelet ask, each answered while the attacker holds its connections. */
async function probesAnswered(base: string, ca?: string): Promise<void> {
  for (let round = 0; round < 3; round++) {
    expect(await get(`${base}/metrics`, { token: TOKEN, ca })).toEqual({ status: 200, body: EXPOSITION });
    expect(await get(`${base}/healthz`, { ca })).toEqual({ status: 200, body: 'ok\n' });
    expect(await get(`${base}/readyz`, { ca })).toEqual({ status: 200, body: 'ready\n' });
  }
}

/** Every attacker connection closed by the server — destroyed, not only half-closed — and the port's count back to 0 (bounded wait). */
async function reclaimed(conns: readonly Attacker[]): Promise<void> {
  await waitFor(() => conns.every((a) => a.closed), { timeoutMs: 10_000, what: 'every attacker connection to be closed by the server' });
  await waitFor(() => admin!.connections() === 0, { timeoutMs: 5000, what: 'the connection count to return to 0' });
}

describe('locking out the metrics port by holding connections', () => {
  it('256 silent connections (never a byte): scrape, /healthz and /readyz are answered while they are held; each is closed with 408 after the head timeout', async () => {
    const { base, port } = await startPort();
    const conns = await flood(port);
    expect(admin!.connections()).toBe(256);
    await probesAnswered(base);
    await reclaimed(conns);
    // Those not recycled to admit a probe were answered 408 and destroyed (not left half-closed).
    expect(conns.filter((a) => a.received.startsWith('HTTP/1.1 408 ')).length).toBeGreaterThan(200);
  });

  it('256 connections that send one /healthz and then stay silent (kept alive): probes are answered while they are held; each is closed after the keep-alive timeout', async () => {
    const { base, port } = await startPort();
    const conns = await flood(port);
    for (const a of conns) a.socket.write('GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitFor(() => conns.every((a) => a.received.startsWith('HTTP/1.1 200 ') && a.received.endsWith('\r\n0\r\n\r\n')), {
      what: 'every attacker to get its /healthz answer',
    });
    expect(admin!.connections()).toBe(256);
    await probesAnswered(base);
    await reclaimed(conns);
  });

  it('256 stalled TLS handshakes (half silent, half stopping inside a ClientHello): probes over HTTPS are answered while they are held; each is closed after the handshake timeout', async () => {
    pki = makePki();
    const cert = pki.server();
    const { base, port } = await startPort(SHORT, new TlsFiles({ cert: cert.cert, key: cert.key, clientCa: undefined }));
    const conns = await flood(port);
    // A TLS record header announcing a 512-byte handshake message, then only its first bytes.
    for (const a of conns.slice(128)) a.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]));
    expect(admin!.connections()).toBe(256);
    await probesAnswered(base, pki.ca);
    await reclaimed(conns);
  });

  it('256 slowloris connections trickling a head: probes are answered while they are held; each is closed with 408 when the head timeout expires', async () => {
    const { base, port } = await startPort();
    const conns = await flood(port);
    for (const a of conns) a.socket.write('GET /metrics HTTP/1.1\r\nHost: a\r\n');
    const drip = setInterval(() => {
      for (const a of conns) if (!a.closed) a.socket.write('X-Slow: 1\r\n');
    }, 100);
    try {
      await probesAnswered(base);
      await reclaimed(conns);
    } finally {
      clearInterval(drip);
    }
  });

  it('256 refused connections (not HTTP) whose peer never closes: each gets its 400 and is destroyed at once, never left half-closed', async () => {
    const { base, port } = await startPort({
      ...SHORT,
      headersTimeoutMs: 60_000,
      requestTimeoutMs: 120_000,
      keepAliveTimeoutMs: 60_000,
      idleTimeoutMs: 120_000,
    });
    const conns = await flood(port);
    for (const a of conns) a.socket.write('NOT HTTP AT ALL\r\n\r\n');
    // No timeout can be what closes them here: only the destroy after the refusal.
    await reclaimed(conns);
    expect(conns.every((a) => a.received.startsWith('HTTP/1.1 400 '))).toBe(true);
    await probesAnswered(base);
  });

  it('closing the port does not wait for stalled TLS handshakes to time out', async () => {
    pki = makePki();
    const cert = pki.server();
    const { port } = await startPort({ ...SHORT, handshakeTimeoutMs: 60_000 }, new TlsFiles({ cert: cert.cert, key: cert.key, clientCa: undefined }));
    const conns = await flood(port, 16);
    const closing = admin!.close();
    admin = undefined;
    await closing;
    await waitFor(() => conns.every((a) => a.closed), { timeoutMs: 5000, what: 'every handshaking connection to be closed' });
  });

  it('with its default bounds, the real sidecar answers scrape, /healthz and /readyz while 256 silent connections are held, and counts the connections it recycled', async () => {
    upstream = await startUpstream((_req, res) => res.end('ok'));
    sidecar = await startSidecar(upstream.url);
    const base = sidecar.metricsUrl.replace(/\/metrics$/, '');
    const port = Number(new URL(base).port);
    await waitFor(async () => (await get(`${base}/readyz`)).status === 200, { what: 'the sidecar to be ready' });
    const conns = await flood(port);
    await waitFor(async () => value(await scrape(sidecar!.metricsUrl), 'sidecar_metrics_port_connections') === 256, {
      what: 'the port to hold 256 connections',
    });
    const before = value(await scrape(sidecar.metricsUrl), 'sidecar_metrics_port_connections_shed_total', { reason: 'evicted' });
    for (let round = 0; round < 3; round++) {
      expect((await get(`${base}/healthz`)).status).toBe(200);
      expect((await get(`${base}/readyz`)).status).toBe(200);
      expect((await get(sidecar.metricsUrl, { token: TEST_TOKEN })).status).toBe(200);
    }
    expect(conns.filter((a) => !a.closed).length).toBeGreaterThan(200);
    const f = await scrape(sidecar.metricsUrl);
    // The first probe's connection recycled an attacker's; each later one took the slot the previous one left.
    expect(value(f, 'sidecar_metrics_port_connections_shed_total', { reason: 'evicted' }) - before).toBeGreaterThanOrEqual(1);
    expect(value(f, 'sidecar_metrics_port_connections_shed_total', { reason: 'refused' })).toBe(0);
  });
});

describe('the metrics port’s default bounds', () => {
  it('exist and are seconds, not minutes: 256 connections, TLS handshake 5 s, head 5 s, request 10 s, keep-alive 5 s, silence 30 s', () => {
    expect(METRICS_PORT_LIMITS).toEqual({
      maxConnections: 256,
      handshakeTimeoutMs: 5000,
      headersTimeoutMs: 5000,
      requestTimeoutMs: 10_000,
      keepAliveTimeoutMs: 5000,
      idleTimeoutMs: 30_000,
      refusalFlushMs: 1000,
    });
  });

  it('are what a metrics port gets when none are given', () => {
    admin = createAdminServer({ listen: { host: '127.0.0.1', port: 0 }, token: null, scrape: async () => ({ slices: [''] }), ready: () => true });
    const { server } = admin;
    expect(server.headersTimeout).toBe(5000);
    expect(server.requestTimeout).toBe(10_000);
    expect(server.keepAliveTimeout).toBe(5000);
    expect(server.timeout).toBe(30_000);
  });
});
