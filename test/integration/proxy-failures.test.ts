import { request } from 'node:http';
import { waitFor } from '../fixtures/wait.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { startUpstream, unusedPort, type TestUpstream } from '../fixtures/upstream.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';

let upstream: TestUpstream | undefined;
let sidecar: TestSidecar | undefined;
afterEach(async () => {
  await sidecar?.close();
  await upstream?.close();
  sidecar = undefined;
  upstream = undefined;
});

describe('failure semantics', () => {
  it('answers 502 {"error":"upstream_unavailable"} when the upstream refuses connections', async () => {
    sidecar = await startSidecar(`http://127.0.0.1:${await unusedPort()}`);
    const res = await fetch(`${sidecar.proxyUrl}/api/v1/health`);
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ error: 'upstream_unavailable' });
  });

  it('answers 502 when the upstream resets the connection before sending headers', async () => {
    upstream = await startUpstream((req, res) => {
      if (req.url === '/reset') req.socket.destroy();
      else res.end('ok');
    });
    sidecar = await startSidecar(upstream.url);
    const res = await fetch(`${sidecar.proxyUrl}/reset`);
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ error: 'upstream_unavailable' });
  });

  it('answers 504 {"error":"upstream_timeout"} when the upstream sends no headers in time', async () => {
    upstream = await startUpstream((req, res) => {
      if (req.url !== '/slow') res.end('ok');
      // /slow never answers; the upstream closes it when the test ends.
    });
    sidecar = await startSidecar(upstream.url, ['--upstream-headers-timeout', '300ms']);
    const res = await fetch(`${sidecar.proxyUrl}/slow`);
    expect(res.status).toBe(504);
    expect(await res.json()).toEqual({ error: 'upstream_timeout' });
  });

  it('destroys the client connection when the upstream dies mid-body (never a truncated response that looks complete)', async () => {
    upstream = await startUpstream((req, res) => {
      if (req.url !== '/partial') return void res.end('ok');
      res.writeHead(200, { 'content-length': '100000' });
      res.write(Buffer.alloc(30_000, 97), () => setTimeout(() => req.socket.destroy(), 20));
    });
    sidecar = await startSidecar(upstream.url);
    const outcome = await new Promise<{ complete: boolean; bytes: number; error: string | undefined }>((resolve) => {
      const req = request(`${sidecar!.proxyUrl}/partial`, (res) => {
        let bytes = 0;
        let error: string | undefined;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
        res.on('close', () => resolve({ complete: res.complete, bytes, error }));
      });
      req.end();
    });
    expect(outcome.complete).toBe(false);
    expect(outcome.bytes).toBeLessThan(100_000);
    expect(outcome.error).toBeDefined();
  });

  it('aborts the upstream request when the client goes away', async () => {
    let upstreamClosedEarly = false;
    let upstreamGotRequest = false;
    upstream = await startUpstream((req, res) => {
      if (req.url !== '/hang') return void res.end('ok');
      upstreamGotRequest = true;
      res.on('close', () => {
        upstreamClosedEarly = !res.writableFinished;
      });
    });
    sidecar = await startSidecar(upstream.url);
    const req = request(`${sidecar.proxyUrl}/hang`);
    req.on('error', () => undefined);
    req.end();
    await waitFor(() => upstreamGotRequest, { what: 'the upstream to receive the request' });
    req.destroy();
    await waitFor(() => upstreamClosedEarly, { what: 'the upstream to see the abort' });
    expect(upstreamClosedEarly).toBe(true);
  });

  it('refuses absolute-form and CONNECT requests without contacting the upstream', async () => {
    upstream = await startUpstream((_req, res) => res.end('ok'));
    sidecar = await startSidecar(upstream.url);
    const { port } = new URL(sidecar.proxyUrl);
    const status = (method: string, path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method, path, headers: { host: 'evil.example' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        // Node's client reports a CONNECT answer on 'connect', not as a response.
        req.on('connect', (res, socket) => {
          socket.destroy();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    expect(await status('GET', 'http://evil.example/steal')).toBe(400);
    expect(await status('CONNECT', 'evil.example:443')).toBe(405);
    expect(upstream.requests.filter((r) => r.method === 'CONNECT' || (r.url ?? '').includes('steal'))).toHaveLength(0);
  });
});
