// Authentication, authorization and rate limiting of the demo composer's REST API: the real composer's
// 401 bodies (with and without WWW-Authenticate), the read-only token's 403, and 429 with Retry-After.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestJson, startDemoComposer, type DemoComposer } from '../fixtures/demo-composer.ts';

const TOKEN = 'demo-full-token';
const READONLY = 'demo-read-token';

function jwt(payload: Record<string, unknown>): string {
  const part = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}.c2lnbmF0dXJl`;
}

describe('demo composer auth', () => {
  let composer: DemoComposer;
  const get = (path: string, headers: Record<string, string> = {}) => requestJson(`${composer.url}${path}`, { headers });

  beforeAll(async () => {
    composer = await startDemoComposer(['--servers', '1', '--auth-token', TOKEN, '--readonly-token', READONLY]);
  });
  afterAll(() => composer.close());

  it('no credentials: 401 {"detail":"Authentication required"} with WWW-Authenticate: Bearer', async () => {
    const r = await get('/api/v1/servers');
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ detail: 'Authentication required' });
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('a wrong bearer token: 401 authentication_failed "Invalid token" without WWW-Authenticate', async () => {
    const r = await get('/api/v1/servers', { authorization: 'Bearer wrong' });
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ error: 'authentication_failed', message: 'Invalid token', details: {} });
    expect(r.headers.get('www-authenticate')).toBeNull();
  });

  it('a wrong X-API-Key: 401 authentication_failed "Invalid API key" without WWW-Authenticate', async () => {
    const r = await get('/api/v1/servers', { 'x-api-key': 'wrong' });
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ error: 'authentication_failed', message: 'Invalid API key', details: {} });
    expect(r.headers.get('www-authenticate')).toBeNull();
  });

  it('an expired JWT: 401 authentication_failed "Token expired"; an unexpired unknown one is an invalid token', async () => {
    const expired = await get('/api/v1/servers', { authorization: `Bearer ${jwt({ sub: 'x', exp: 1_000_000_000 })}` });
    expect(expired).toMatchObject({ status: 401, body: { error: 'authentication_failed', message: 'Token expired', details: {} } });
    const future = await get('/api/v1/servers', { authorization: `Bearer ${jwt({ sub: 'x', exp: 4_000_000_000 })}` });
    expect(future.body).toMatchObject({ message: 'Invalid token' });
  });

  it('the full token (bearer or X-API-Key) is let in', async () => {
    expect((await get('/api/v1/servers', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await get('/api/v1/servers', { 'x-api-key': TOKEN })).status).toBe(200);
  });

  it('the read-only token reads, and gets 403 insufficient_permissions with required_scopes on writes', async () => {
    expect((await get('/api/v1/tools', { authorization: `Bearer ${READONLY}` })).status).toBe(200);
    const r = await requestJson(`${composer.url}/api/v1/servers/calc/restart`, { method: 'POST', headers: { authorization: `Bearer ${READONLY}` } });
    expect(r.status).toBe(403);
    expect(r.body).toEqual({
      error: 'insufficient_permissions',
      message: "Insufficient permissions: 'servers:write' scope required",
      required_scopes: ['servers:write'],
    });
  });

  it('health, version, /tools, /sse and unknown routes need no credentials (and /__demo/ is absent without --test-control)', async () => {
    for (const path of ['/api/v1/health', '/api/v1/health/detailed', '/api/v1/version', '/tools']) {
      expect((await get(path)).status, path).toBe(200);
    }
    expect(await get('/api/v1/nope')).toMatchObject({ status: 404, body: { detail: 'Not Found' } });
    // Without --test-control the /__demo/ routes do not exist.
    expect(await get('/__demo/state')).toMatchObject({ status: 404, body: { detail: 'Not Found' } });
    const abort = new AbortController();
    const sse = await fetch(`${composer.url}/sse`, { signal: abort.signal });
    expect(sse.status).toBe(200);
    abort.abort();
  });

  it('the event stream and the Prometheus endpoint need the same auth as REST', async () => {
    expect((await get('/api/v1/events')).status).toBe(401);
    expect((await get('/api/v1/metrics/prometheus')).status).toBe(401);
    expect((await get('/api/v1/metrics/prometheus', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });
});

describe('demo composer rate limit', () => {
  let composer: DemoComposer;
  beforeAll(async () => {
    composer = await startDemoComposer(['--servers', '0', '--rate-limit', '5']);
  });
  afterAll(() => composer.close());

  it('answers 429 with a JSON body and Retry-After past N requests per second per client', async () => {
    const answers = [];
    for (let i = 0; i < 20; i++) answers.push(await requestJson(`${composer.url}/api/v1/health`, { headers: { 'x-api-key': 'client-a' } }));
    const limited = answers.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(answers.filter((r) => r.status === 200).length).toBeLessThanOrEqual(10);
    const first = limited[0];
    expect(first?.body).toEqual({ error: 'rate_limit_exceeded', message: 'Rate limit exceeded: 5 requests per second', retry_after: 1 });
    expect(first?.headers.get('retry-after')).toBe('1');
  });

  it('counts each client separately', async () => {
    for (let i = 0; i < 20; i++) await requestJson(`${composer.url}/api/v1/health`, { headers: { 'x-api-key': 'client-b' } });
    expect((await requestJson(`${composer.url}/api/v1/health`, { headers: { 'x-api-key': 'client-c' } })).status).toBe(200);
  });
});
