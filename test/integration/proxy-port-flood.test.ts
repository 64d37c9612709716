/**
 * Holding connections to the proxy port, with the shapes that locked out the metrics port: silent
 * connections, one request then silence (kept alive), refused connections whose peer never closes its side.
 * While the attacker holds them, clients are served; afterwards the server has destroyed every one of them
 * (not only half-closed it) and its connection count is back to 0. The attackers never close their side.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/log.ts';
import { ObservationBus } from '../../src/observe/bus.ts';
import { UpstreamHealth } from '../../src/proxy/health.ts';
import { createProxy, type Proxy as ProxyServer } from '../../src/proxy/server.ts';
import { ProxyState } from '../../src/proxy/state.ts';
import { upstreamPoolFor } from '../../src/proxy/upstream.ts';
import { startUpstream, type TestUpstream } from '../fixtures/upstream.ts';
import { waitFor } from '../fixtures/wait.ts';

let upstream: TestUpstream | undefined;
let proxy: ProxyServer | undefined;
let closePool: (() => Promise<void>) | undefined;
const attackers: Socket[] = [];
afterEach(async () => {
  for (const s of attackers.splice(0)) s.destroy();
  await proxy?.close(0);
  await closePool?.();
  await upstream?.close();
  proxy = undefined;
  closePool = undefined;
  upstream = undefined;
});

/** A proxy built as main.ts builds it, from real flags. */
async function startProxy(flags: readonly string[]): Promise<number> {
  upstream = await startUpstream((_req, res) => res.end('served'));
  const config = loadConfig(['--upstream', upstream.url, '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--no-metrics-auth', ...flags], {});
  const pool = upstreamPoolFor(config);
  closePool = () => pool.destroy();
  proxy = createProxy(config, pool, new ProxyState(new UpstreamHealth(), new ObservationBus({ logger: createLogger({ level: 'silent' }) })));
  return (await proxy.listen()).port;
}

function held(): Promise<number> {
  return new Promise((resolve, reject) => proxy!.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

interface Attacker {
  readonly socket: Socket;
  received: string;
  /** The server closed its side (FIN or reset); the attacker never closes its own. */
  closed: boolean;
}

/** `n` connections that never close their own side (half-open when the server closes). */
async function flood(port: number, n = 256): Promise<Attacker[]> {
  const out: Attacker[] = [];
  for (let i = 0; i < n; i += 64) {
    const batch = await Promise.all(
      Array.from(
        { length: Math.min(64, n - i) },
        () =>
          new Promise<Socket>((resolve, reject) => {
            const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
            socket.once('connect', () => resolve(socket));
            socket.once('error', reject);
          }),
      ),
    );
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
  await waitFor(async () => (await held()) === n, { what: `the proxy to hold all ${n} connections` });
  return out;
}

async function served(proxyPort: number): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const res = await fetch(`http://127.0.0.1:${proxyPort}/ok/${i}`, { headers: { connection: 'close' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('served');
  }
}

/** Every attacker connection closed by the server — destroyed, not only half-closed — and its count back to 0. */
async function reclaimed(conns: readonly Attacker[]): Promise<void> {
  await waitFor(() => conns.every((a) => a.closed), { timeoutMs: 10_000, what: 'every attacker connection to be closed by the proxy' });
  await waitFor(async () => (await held()) === 0, { timeoutMs: 5000, what: 'the proxy to destroy every attacker connection' });
}

describe('holding connections to the proxy port', () => {
  it('256 silent connections: clients are served while they are held; each gets 408 at --client-headers-timeout and is destroyed', async () => {
    const port = await startProxy(['--client-headers-timeout', '500ms']);
    const conns = await flood(port);
    await served(port);
    await reclaimed(conns);
    expect(conns.filter((a) => a.received.startsWith('HTTP/1.1 408 ')).length).toBe(256);
  });

  it('256 connections that send one request and then stay silent (kept alive): clients are served while they are held; each is destroyed at --client-keepalive-timeout', async () => {
    const port = await startProxy(['--client-keepalive-timeout', '500ms']);
    const conns = await flood(port);
    for (const a of conns) a.socket.write('GET /once HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitFor(() => conns.every((a) => a.received.startsWith('HTTP/1.1 200 ') && a.received.endsWith('served')), {
      what: 'every attacker to get its answer',
    });
    expect(await held()).toBe(256);
    await served(port);
    await reclaimed(conns);
  });

  it('256 refused connections (absolute-form, garbage, a refused Transfer-Encoding) whose peer never closes: each is destroyed once its refusal is sent, before any timeout', async () => {
    const port = await startProxy(['--client-headers-timeout', '60s', '--client-keepalive-timeout', '60s']);
    const conns = await flood(port);
    const refusals = [
      'GET http://169.254.169.254/ HTTP/1.1\r\nHost: a\r\n\r\n',
      'NOT HTTP AT ALL\r\n\r\n',
      'POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\nzz garbage\r\n\r\n',
      'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n',
    ];
    conns.forEach((a, i) => {
      a.socket.write(refusals[i % refusals.length] as string);
    });
    await reclaimed(conns);
    expect(conns.every((a) => /^HTTP\/1\.1 4\d\d /.test(a.received))).toBe(true);
    await served(port);
  });
});
