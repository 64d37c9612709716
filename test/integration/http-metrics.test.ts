import { request } from 'node:http';
import { waitFor } from '../fixtures/wait.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { CATALOG } from '../../src/telemetry/catalog.ts';
import { histogram, scrape, value } from '../fixtures/scrape.ts';
import { readBody, startUpstream, type TestUpstream } from '../fixtures/upstream.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';

let upstream: TestUpstream | undefined;
let sidecar: TestSidecar | undefined;
afterEach(async () => {
  await sidecar?.close();
  await upstream?.close();
  sidecar = undefined;
  upstream = undefined;
});

/** `le` values as the composer's prometheus_client writes them. */
function expectedLe(buckets: readonly number[]): string[] {
  const go = (n: number) => (n >= 1_000_000 ? `1e+0${Math.log10(n)}` : Number.isInteger(n) ? `${n}.0` : String(n));
  return [...buckets.map(go), '+Inf'];
}

describe('the four HTTP families', () => {
  it('match the catalog exactly after a known traffic mix: counts, labels, buckets, sizes, 499, no query strings', async () => {
    let hangingSeen = false;
    upstream = await startUpstream(async (req, res) => {
      const path = req.url ?? '';
      if (path.startsWith('/api/v1/tools/calc.add/invoke')) {
        const body = await readBody(req);
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ success: true, result: body.length }));
      }
      if (path === '/api/v1/servers/abc/logs') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        return void res.write('data: hello\n\n');
      }
      if (path === '/hang') {
        hangingSeen = true;
        return;
      }
      if (path.startsWith('/api/v1/resources/')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        return void res.end('{"detail":"Resource not found"}');
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"tools":[],"total":0}');
    });
    sidecar = await startSidecar(upstream.url);
    const base = sidecar.proxyUrl;

    for (let i = 0; i < 3; i++) await (await fetch(`${base}/api/v1/tools?search=x&limit=10`)).text();
    const invokeBody = JSON.stringify({ arguments: { a: 1, b: 2, pad: 'x'.repeat(20) } });
    for (let i = 0; i < 2; i++) {
      await (
        await fetch(`${base}/api/v1/tools/calc.add/invoke?token=SECRET`, { method: 'POST', body: invokeBody, headers: { 'content-type': 'application/json' } })
      ).text();
    }
    await (await fetch(`${base}/api/v1/resources/file%3A%2F%2Fdocs%2Freadme.md?api_key=SECRET`)).text();

    // A client that gives up before the response: 499.
    const hang = request(`${base}/hang`);
    hang.on('error', () => undefined);
    hang.end();
    await waitFor(() => hangingSeen, { what: 'the upstream to see /hang' });
    hang.destroy();

    // An SSE stream: counted at its headers, open while open.
    const sse = await new Promise<import('node:http').IncomingMessage>((resolve) => request(`${base}/api/v1/servers/abc/logs`, resolve).end());
    let m = await scrape(sidecar.metricsUrl);
    await waitFor(async () => value((m = await scrape(sidecar!.metricsUrl)), 'mcp_http_requests_total', { status_code: '499' }) === 1, { what: 'the 499' });

    expect(value(m, 'mcp_http_requests_total', { method: 'GET', endpoint: '/api/v1/tools', status_code: '200' })).toBe(3);
    expect(value(m, 'mcp_http_requests_total', { method: 'POST', endpoint: '/api/v1/tools/{id}/invoke', status_code: '200' })).toBe(2);
    expect(value(m, 'mcp_http_requests_total', { method: 'GET', endpoint: '/api/v1/resources/{uri}', status_code: '404' })).toBe(1);
    expect(value(m, 'mcp_http_requests_total', { method: 'GET', endpoint: '/hang', status_code: '499' })).toBe(1);
    expect(value(m, 'mcp_http_requests_total', { method: 'GET', endpoint: '/api/v1/servers/{id}/logs', status_code: '200' })).toBe(1);
    expect(value(m, 'mcp_http_requests_total')).toBe(8);
    expect(value(m, 'sidecar_proxy_open_streams', { kind: 'sse' })).toBe(1);

    // Label sets and buckets are the catalog's, exactly.
    for (const name of ['mcp_http_requests_total', 'mcp_http_request_duration_seconds', 'mcp_http_request_size_bytes', 'mcp_http_response_size_bytes']) {
      const spec = CATALOG.find((f) => f.name === name)!;
      const fam = m.get(name)!;
      expect(fam.type).toBe(spec.kind === 'counter' ? 'COUNTER' : 'HISTOGRAM');
      const series = spec.kind === 'counter' ? fam.samples : fam.histograms;
      for (const s of series) expect(Object.keys(s.labels).sort()).toEqual([...spec.labels].sort());
      for (const h of fam.histograms) expect(Object.keys(h.buckets)).toEqual(expectedLe(spec.buckets!));
    }

    const invokeDuration = histogram(m, 'mcp_http_request_duration_seconds', { method: 'POST', endpoint: '/api/v1/tools/{id}/invoke' });
    expect(invokeDuration?.count).toBe(2);
    expect(invokeDuration?.buckets['+Inf']).toBe(2);
    const invokeRequestSize = histogram(m, 'mcp_http_request_size_bytes', { method: 'POST', endpoint: '/api/v1/tools/{id}/invoke' });
    expect(invokeRequestSize?.sum).toBe(2 * Buffer.byteLength(invokeBody));
    expect(invokeRequestSize?.buckets['10.0']).toBe(0);
    expect(invokeRequestSize?.buckets['100.0']).toBe(2);
    const toolsResponseSize = histogram(m, 'mcp_http_response_size_bytes', { method: 'GET', endpoint: '/api/v1/tools' });
    expect(toolsResponseSize?.sum).toBe(3 * Buffer.byteLength('{"tools":[],"total":0}'));

    // No query string, token or raw resource URI in any label.
    const text = await (await fetch(sidecar.metricsUrl, { headers: { authorization: 'Bearer test-metrics-token-0123456789' } })).text();
    expect(text).not.toContain('SECRET');
    expect(text).not.toContain('?');
    // The raw resource URI never becomes an HTTP endpoint (it is a resource_uri of the resource families).
    for (const name of ['mcp_http_requests_total', 'mcp_http_request_duration_seconds']) {
      expect(
        m
          .get(name)!
          .samples.concat(m.get(name)!.histograms.map((h) => ({ labels: h.labels, value: 0 })))
          .some((s) => s.labels['endpoint']?.includes('readme')),
      ).toBe(false);
    }

    sse.destroy();
    await waitFor(async () => value(await scrape(sidecar!.metricsUrl), 'sidecar_proxy_open_streams', { kind: 'sse' }) === 0, { what: 'the stream to close' });
    m = await scrape(sidecar.metricsUrl);
    expect(value(m, 'mcp_http_requests_total', { endpoint: '/api/v1/servers/{id}/logs' })).toBe(1);
    expect(histogram(m, 'mcp_http_response_size_bytes', { method: 'GET', endpoint: '/api/v1/servers/{id}/logs' })?.sum).toBe(
      Buffer.byteLength('data: hello\n\n'),
    );
  });

  it('keeps 10,000 distinct random paths within the label bound and counts the overflow', async () => {
    upstream = await startUpstream((_req, res) => res.end('x'));
    sidecar = await startSidecar(upstream.url);
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    const paths = new Set<string>();
    while (paths.size < 10_000) {
      let p = '/p/';
      for (let i = 0; i < 10; i++) p += letters[Math.floor(Math.random() * 26)];
      paths.add(p);
    }
    const queue = [...paths];
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        for (let p = queue.pop(); p !== undefined; p = queue.pop()) await (await fetch(`${sidecar!.proxyUrl}${p}`)).arrayBuffer();
      }),
    );
    const m = await scrape(sidecar.metricsUrl);
    const bound = 200;
    const requestSeries = m.get('mcp_http_requests_total')!.samples;
    expect(requestSeries.length).toBeLessThanOrEqual(bound + 1);
    expect(requestSeries.some((s) => s.labels['endpoint'] === '__other__')).toBe(true);
    expect(value(m, 'mcp_http_requests_total')).toBe(10_000);
    for (const name of ['mcp_http_request_duration_seconds', 'mcp_http_request_size_bytes', 'mcp_http_response_size_bytes']) {
      expect(m.get(name)!.histograms.length).toBeLessThanOrEqual(bound + 1);
      expect(value(m, 'sidecar_label_overflow_total', { family: name, label: 'endpoint' })).toBe(10_000 - bound);
    }
    expect(value(m, 'sidecar_label_overflow_total', { family: 'mcp_http_requests_total', label: 'endpoint' })).toBe(10_000 - bound);
  });
});
