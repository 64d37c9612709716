import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startUpstream, type TestUpstream } from '../fixtures/upstream.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';

let upstream: TestUpstream | undefined;
let sidecar: TestSidecar | undefined;
afterEach(async () => {
  await sidecar?.close();
  await upstream?.close();
  sidecar = undefined;
  upstream = undefined;
});

function get(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; rawHeaders: string[] }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('header handling (RFC 7230 §6.1)', () => {
  it('strips hop-by-hop request headers and those named in Connection, keeps end-to-end ones, sets X-Forwarded-*', async () => {
    upstream = await startUpstream((_req, res) => res.end('ok'));
    sidecar = await startSidecar(upstream.url);
    const { status } = await get(`${sidecar.proxyUrl}/echo`, {
      connection: 'keep-alive, x-secret-hop',
      'keep-alive': 'timeout=5',
      'x-secret-hop': 'must not pass',
      te: 'trailers',
      'proxy-authorization': 'Basic Zm9vOmJhcg==',
      'x-end-to-end': 'kept',
      authorization: 'Bearer upstream-token',
      'x-forwarded-for': '203.0.113.9',
      host: 'composer.example.svc',
    });
    expect(status).toBe(200);
    const seen = upstream.requests.find((r) => r.url === '/echo');
    expect(seen).toBeDefined();
    const h = seen!.headers;
    expect(h['x-secret-hop']).toBeUndefined();
    expect(h['keep-alive']).toBeUndefined();
    expect(h['te']).toBeUndefined();
    expect(h['proxy-authorization']).toBeUndefined();
    expect(h['x-end-to-end']).toBe('kept');
    expect(h['authorization']).toBe('Bearer upstream-token');
    expect(h['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-host']).toBe('composer.example.svc');
    // The upstream sees its own authority, as behind nginx's proxy_pass (MCP servers refuse foreign Hosts).
    expect(h['host']).toBe(`127.0.0.1:${upstream.port}`);
  });

  it("keeps the client's Host with --preserve-host", async () => {
    upstream = await startUpstream((_req, res) => res.end('ok'));
    sidecar = await startSidecar(upstream.url, ['--preserve-host']);
    await get(`${sidecar.proxyUrl}/x`, { host: 'composer.example.svc' });
    const seen = upstream.requests.find((r) => r.url === '/x');
    expect(seen?.headers['host']).toBe('composer.example.svc');
    expect(seen?.headers['x-forwarded-host']).toBe('composer.example.svc');
  });

  it('strips hop-by-hop response headers and keeps repeated end-to-end ones such as Set-Cookie', async () => {
    upstream = await startUpstream((_req, res) => {
      res.setHeader('connection', 'x-upstream-hop');
      res.setHeader('x-upstream-hop', 'drop me');
      res.setHeader('proxy-authenticate', 'Basic');
      res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
      res.setHeader('x-response-id', 'abc');
      res.end('ok');
    });
    sidecar = await startSidecar(upstream.url);
    const { headers } = await get(`${sidecar.proxyUrl}/r`, {});
    expect(headers['x-upstream-hop']).toBeUndefined();
    expect(headers['proxy-authenticate']).toBeUndefined();
    expect(headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(headers['x-response-id']).toBe('abc');
  });
});

describe('the access log', () => {
  it('logs one line per request with the route template, never the raw path or query string', async () => {
    upstream = await startUpstream((_req, res) => res.end('ok'));
    sidecar = await startSidecar(upstream.url, ['--access-log']);
    await get(`${sidecar.proxyUrl}/api/v1/tools/calc.add?token=SECRET-QUERY`, { authorization: 'Bearer SECRET-HEADER' });
    const line = sidecar.logs.find((l) => l.event === 'access');
    expect(line).toMatchObject({ method: 'GET', endpoint: '/api/v1/tools/{id}', status: 200, outcome: 'ok' });
    const all = sidecar.rawLogs.join('');
    expect(all).not.toContain('SECRET');
    expect(all).not.toContain('calc.add');
  });
});
