import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { request } from 'node:http';
import { waitFor } from '../fixtures/wait.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { PROMETHEUS_CONTENT_TYPE } from '../../src/exporters/prometheus.ts';
import { clientRequests, startUpstream, unusedPort, type TestUpstream } from '../fixtures/upstream.ts';
import { startSidecar, TEST_TOKEN, type TestSidecar } from '../fixtures/sidecar.ts';
import { rawRequest } from '../fixtures/raw-http.ts';
import { withoutMemorySamples } from '../fixtures/scrape.ts';

let upstream: TestUpstream | undefined;
let sidecar: TestSidecar | undefined;
let dir: string | undefined;
afterEach(async () => {
  await sidecar?.close();
  await upstream?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  sidecar = undefined;
  upstream = undefined;
  dir = undefined;
});

function raw(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the metrics port', () => {
  it('refuses /metrics without a token and with a wrong token (401, WWW-Authenticate, no detail), serves it with the right one', async () => {
    upstream = await startUpstream((_req, res) => res.end('ok'));
    sidecar = await startSidecar(upstream.url);
    for (const headers of [
      {} as Record<string, string>,
      { authorization: 'Bearer wrong-token' },
      { authorization: `Basic ${Buffer.from(`x:${TEST_TOKEN}`).toString('base64')}` },
      { authorization: `Bearer ${TEST_TOKEN}x` },
    ]) {
      const res = await raw(sidecar.metricsUrl, headers);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="metrics"');
      expect(res.body.toString()).toBe('Unauthorized\n');
    }
    const ok = await raw(sidecar.metricsUrl, { authorization: `Bearer ${TEST_TOKEN}` });
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toBe(PROMETHEUS_CONTENT_TYPE);
    expect(ok.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(ok.body.toString()).toContain('# TYPE sidecar_upstream_up gauge');
    // A wrong token is never logged.
    expect(sidecar.rawLogs.join('')).not.toContain('wrong-token');
  });

  it('two Authorization headers (the right token twice, or the right one and another): 400 and logged, never "first one wins"', async () => {
    upstream = await startUpstream((_req, res) => res.end('ok'));
    sidecar = await startSidecar(upstream.url);
    const port = Number(new URL(sidecar.metricsUrl).port);
    const pairs = [
      [`Bearer ${TEST_TOKEN}`, `Bearer ${TEST_TOKEN}`],
      [`Bearer ${TEST_TOKEN}`, 'Bearer someone-elses-token'],
      ['Bearer someone-elses-token', `Bearer ${TEST_TOKEN}`],
    ];
    for (const [first, second] of pairs) {
      const answer = await rawRequest(port, `GET /metrics HTTP/1.1\r\nHost: a\r\nAuthorization: ${first}\r\nauthorization: ${second}\r\n\r\n`);
      expect(answer.status).toBe(400);
      expect(answer.text).not.toContain('# TYPE');
    }
    // One of them alone is still served.
    expect((await raw(sidecar.metricsUrl, { authorization: `Bearer ${TEST_TOKEN}` })).status).toBe(200);
    await waitFor(() => sidecar!.logs.some((l) => l.event === 'metrics_auth_failed' && l['reason'] === 'ambiguous'), { what: 'the refusal to be logged' });
    expect(sidecar.rawLogs.join('')).not.toContain('someone-elses-token');
  });

  it('serves gzip when asked, identical to the plain text', async () => {
    upstream = await startUpstream((_req, res) => res.end('ok'));
    sidecar = await startSidecar(upstream.url);
    await fetch(`${sidecar.proxyUrl}/x`);
    const plain = await raw(sidecar.metricsUrl, { authorization: `Bearer ${TEST_TOKEN}` });
    const zipped = await raw(sidecar.metricsUrl, { authorization: `Bearer ${TEST_TOKEN}`, 'accept-encoding': 'gzip, deflate' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(withoutMemorySamples(gunzipSync(zipped.body).toString())).toBe(withoutMemorySamples(plain.body.toString()));
  });

  it('answers /healthz always, /readyz 200 while the upstream answers probes and 503 when it stops', async () => {
    upstream = await startUpstream((_req, res) => res.end('ok'));
    sidecar = await startSidecar(upstream.url);
    const base = sidecar.metricsUrl.replace(/\/metrics$/, '');
    await waitFor(async () => (await raw(`${base}/readyz`)).status === 200, { what: '/readyz 200' });
    expect((await raw(`${base}/healthz`)).status).toBe(200);
    await upstream.close();
    upstream = undefined;
    await waitFor(async () => (await raw(`${base}/readyz`)).status === 503, { what: '/readyz 503' });
    expect((await raw(`${base}/healthz`)).status).toBe(200);
  });

  it('reports not ready from the start when the upstream is down', async () => {
    sidecar = await startSidecar(`http://127.0.0.1:${await unusedPort()}`);
    const base = sidecar.metricsUrl.replace(/\/metrics$/, '');
    await new Promise((r) => setTimeout(r, 200));
    expect((await raw(`${base}/readyz`)).status).toBe(503);
    expect((await raw(`${base}/healthz`)).status).toBe(200);
  });

  it('answers 404 for other paths and never proxies; the proxy port never serves the sidecar metrics', async () => {
    upstream = await startUpstream((req, res) => res.end(`upstream saw ${req.url}`));
    sidecar = await startSidecar(upstream.url);
    const base = sidecar.metricsUrl.replace(/\/metrics$/, '');
    for (const path of ['/', '/api/v1/health', '/sse', '/metrics/extra']) expect((await raw(`${base}${path}`)).status).toBe(404);
    expect(clientRequests(upstream).some((r) => r.url === '/sse')).toBe(false);
    const viaProxy = await raw(`${sidecar.proxyUrl}/metrics`, { authorization: `Bearer ${TEST_TOKEN}` });
    expect(viaProxy.body.toString()).toBe('upstream saw /metrics');
  });

  it('picks up a rotated token file (Kubernetes Secret symlink swap) without a restart', async () => {
    upstream = await startUpstream((_req, res) => res.end('ok'));
    dir = mkdtempSync(join(tmpdir(), 'sidecar-token-'));
    const file = join(dir, 'token');
    writeFileSync(file, 'first-token\n', { mode: 0o600 });
    sidecar = await startSidecar(upstream.url, ['--metrics-token-file', file]);
    expect((await raw(sidecar.metricsUrl, { authorization: 'Bearer first-token' })).status).toBe(200);
    writeFileSync(join(dir, 'token.new'), 'second-token', { mode: 0o600 });
    renameSync(join(dir, 'token.new'), file);
    await waitFor(async () => (await raw(sidecar!.metricsUrl, { authorization: 'Bearer second-token' })).status === 200, { what: 'the new token' });
    expect((await raw(sidecar.metricsUrl, { authorization: 'Bearer first-token' })).status).toBe(401);
  });
});
