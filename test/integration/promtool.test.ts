import { afterEach, describe, expect, it } from 'vitest';
import { scrapeText } from '../fixtures/scrape.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';
import { MISSING_PROMETHEUS, PROMTOOL, promtoolCheckMetrics } from '../fixtures/tools.ts';
import { startUpstream, type TestUpstream } from '../fixtures/upstream.ts';

let upstream: TestUpstream | undefined;
let sidecar: TestSidecar | undefined;
afterEach(async () => {
  await sidecar?.close();
  await upstream?.close();
  sidecar = undefined;
  upstream = undefined;
});

describe.skipIf(PROMTOOL === undefined)(`promtool check metrics${PROMTOOL === undefined ? ` (skipped: ${MISSING_PROMETHEUS})` : ''}`, () => {
  it('finds no problem in a real scrape of the HTTP families and the self-health families', async () => {
    upstream = await startUpstream((req, res) => {
      if (req.url === '/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        return void res.write(': hello\n\n');
      }
      res.writeHead(req.url === '/missing' ? 404 : 200);
      res.end('x'.repeat(2000));
    });
    sidecar = await startSidecar(upstream.url);
    for (const p of ['/api/v1/tools', '/missing', '/api/v1/servers/abc/restart', '/a"quote\\back']) await (await fetch(`${sidecar.proxyUrl}${p}`)).text();
    const ctl = new AbortController();
    const sse = await fetch(`${sidecar.proxyUrl}/events`, { signal: ctl.signal });
    const text = await scrapeText(sidecar.metricsUrl);
    ctl.abort();
    await sse.body?.cancel().catch(() => undefined);
    expect(text).toContain('mcp_http_requests_total');
    expect(text).toContain('sidecar_proxy_open_streams');
    const { status, output } = promtoolCheckMetrics(text);
    expect(output).toBe('');
    expect(status).toBe(0);
  });
});
