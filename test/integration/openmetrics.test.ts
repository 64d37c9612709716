/**
 * OpenMetrics by negotiation on the real metrics port: Prometheus's Accept header gets OpenMetrics 1.0.0,
 * every other request the composer's 0.0.4 text, byte for byte as before, both gzipped when asked; promtool
 * reads each, and a real Prometheus negotiates OpenMetrics (its metadata shows what only that format
 * carries: counter family names without `_total`, and units).
 */
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { CONTENT_TYPES } from '../../src/exporters/negotiate.ts';
import { waitFor } from '../fixtures/demo-composer.ts';
import { startPrometheus, type TestPrometheus } from '../fixtures/prometheus.ts';
import { withoutMemorySamples } from '../fixtures/scrape.ts';
import { startSidecar, TEST_TOKEN, type TestSidecar } from '../fixtures/sidecar.ts';
import { MISSING_PROMETHEUS, PROMETHEUS, PROMTOOL, promtoolCheckMetrics } from '../fixtures/tools.ts';
import { startUpstream, type TestUpstream } from '../fixtures/upstream.ts';

const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

let upstream: TestUpstream | undefined;
let sidecar: TestSidecar | undefined;
let prom: TestPrometheus | undefined;
afterEach(async () => {
  await prom?.close();
  await sidecar?.close();
  await upstream?.close();
  prom = sidecar = upstream = undefined;
});

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

function get(url: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { authorization: `Bearer ${TEST_TOKEN}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** An answer's text without the memory gauges' samples, which change from one scrape to the next. */
const stable = (body: Buffer) => withoutMemorySamples(body.toString());

/** Sample lines without comments (and without exemplars). */
const samples = (text: string) =>
  text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.replace(/ # \{.*$/, ''))
    .sort();

async function sidecarWithTraffic(): Promise<TestSidecar> {
  upstream = await startUpstream((req, res) => {
    res.writeHead(req.url === '/missing' ? 404 : 200);
    res.end('x'.repeat(300));
  });
  const s = await startSidecar(upstream.url, ['--poll-interval', '1h']);
  for (const p of ['/api/v1/tools', '/missing', '/api/v1/servers/abc/restart', '/a"quote\\back']) await (await fetch(`${s.proxyUrl}${p}`)).text();
  return s;
}

describe('OpenMetrics by negotiation', () => {
  it("answers Prometheus's Accept with OpenMetrics 1.0.0 and everything else with the same 0.0.4 bytes, gzipped alike", async () => {
    sidecar = await sidecarWithTraffic();
    const url = sidecar.metricsUrl;
    const TEXT_ACCEPTS = [undefined, '*/*', 'text/plain;version=0.0.4', 'application/json', 'application/openmetrics-text;version=0.0.1'];
    // The state settles (source detection, the first probes); then every text answer in a burst is the same.
    const burst = await waitFor(
      async () => {
        const first = await get(url, {});
        const texts = await Promise.all(TEXT_ACCEPTS.map((a) => get(url, a === undefined ? {} : { accept: a })));
        const om = await get(url, { accept: PROMETHEUS_ACCEPT });
        const omGzip = await get(url, { accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'gzip' });
        const textGzip = await get(url, { 'accept-encoding': 'gzip' });
        const last = await get(url, {});
        return stable(first.body) === stable(last.body) ? { first, texts, om, omGzip, textGzip } : undefined;
      },
      { what: 'two equal scrapes around a burst', timeoutMs: 15_000 },
    );
    for (const t of burst.texts) {
      expect(t.status).toBe(200);
      expect(t.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(stable(t.body)).toBe(stable(burst.first.body));
    }
    expect(burst.first.headers['vary']).toBe('Accept, Accept-Encoding');
    expect(burst.om.headers['content-type']).toBe(CONTENT_TYPES.openmetrics);
    expect(burst.om.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    const om = burst.om.body.toString();
    expect(om.endsWith('# EOF\n')).toBe(true);
    expect(om).toContain('# TYPE mcp_http_requests counter\n');
    expect(om).toContain('# UNIT mcp_http_request_duration_seconds seconds\n');
    // The same series, whichever the format.
    expect(samples(withoutMemorySamples(om))).toEqual(samples(stable(burst.first.body)));
    expect(burst.omGzip.headers['content-encoding']).toBe('gzip');
    expect(burst.omGzip.headers['content-type']).toBe(CONTENT_TYPES.openmetrics);
    expect(stable(gunzipSync(burst.omGzip.body))).toBe(withoutMemorySamples(om));
    expect(burst.textGzip.headers['content-encoding']).toBe('gzip');
    expect(stable(gunzipSync(burst.textGzip.body))).toBe(stable(burst.first.body));
    // HEAD negotiates the same way and sends no body.
    const head = await new Promise<Answer>((resolve, reject) => {
      const req = request(url, { method: 'HEAD', headers: { authorization: `Bearer ${TEST_TOKEN}`, accept: PROMETHEUS_ACCEPT } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.alloc(0) }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe(CONTENT_TYPES.openmetrics);
  });

  it.skipIf(PROMTOOL === undefined)(
    `promtool check metrics reads each format${PROMTOOL === undefined ? ` (skipped: ${MISSING_PROMETHEUS})` : ''}`,
    async () => {
      sidecar = await sidecarWithTraffic();
      const text = (await get(sidecar.metricsUrl, {})).body.toString();
      const om = (await get(sidecar.metricsUrl, { accept: PROMETHEUS_ACCEPT })).body.toString();
      const checkedText = promtoolCheckMetrics(text);
      expect(checkedText.output).toBe('');
      expect(checkedText.status).toBe(0);
      // promtool reads only the 0.0.4 grammar (Prometheus's OpenMetrics parser is checked below, by a real
      // scrape): it parses the OpenMetrics text without an error, and what it lints is only that reading —
      // a counter's samples (`x_total`) do not carry the name its HELP line has (`x`).
      const checkedOm = promtoolCheckMetrics(om);
      expect(checkedOm.output).not.toMatch(/error while linting|parsing error/i);
      const findings = checkedOm.output.split('\n').filter((l) => l !== '');
      expect(findings.length).toBeGreaterThan(0);
      for (const line of findings) {
        const m = /^(\S+)_total no help text$/.exec(line);
        expect(m, line).not.toBeNull();
        expect(om, line).toContain(`# HELP ${m?.[1]} `);
        expect(om, line).toContain(`# TYPE ${m?.[1]} counter\n`);
      }
    },
  );

  it.skipIf(PROMETHEUS === undefined)(
    `a real Prometheus negotiates OpenMetrics and reads every series${PROMETHEUS === undefined ? ` (skipped: ${MISSING_PROMETHEUS})` : ''}`,
    async () => {
      sidecar = await sidecarWithTraffic();
      const p = (prom = await startPrometheus({ target: new URL(sidecar.metricsUrl).host, token: TEST_TOKEN }));
      type Target = { health: string; lastError: string; labels: Record<string, string> };
      const target = await waitFor(async () => (await p.api<{ activeTargets: Target[] }>('targets')).activeTargets.find((t) => t.health === 'up'), {
        what: 'a successful scrape',
        timeoutMs: 20_000,
        intervalMs: 250,
      });
      expect(target.lastError).toBe('');
      type Metadata = Array<{ type: string; help: string; unit: string }>;
      // Only an OpenMetrics scrape names a counter family without _total and carries a unit.
      const counter = await waitFor(async () => (await p.api<Metadata>('targets/metadata?metric=mcp_http_requests'))[0], {
        what: 'the counter family metadata',
      });
      expect(counter).toMatchObject({ type: 'counter', help: 'Total HTTP requests' });
      expect((await p.api<Metadata>('targets/metadata?metric=mcp_http_request_duration_seconds'))[0]).toMatchObject({ type: 'histogram', unit: 'seconds' });
      expect(await p.api<Metadata>('targets/metadata?metric=mcp_http_requests_total')).toEqual([]);
      // Every series of the 0.0.4 text is in Prometheus, with its value.
      const text = (await get(sidecar.metricsUrl, {})).body.toString();
      const requests = text.split('\n').filter((l) => l.startsWith('mcp_http_requests_total{'));
      expect(requests.length).toBeGreaterThan(1);
      const stored = (await p.query('mcp_http_requests_total')) as Array<{ metric: Record<string, string>; value: [number, string] }>;
      expect(stored.length).toBe(requests.length);
      const scraped = (await p.query('scrape_samples_scraped')) as Array<{ value: [number, string] }>;
      expect(Number(scraped[0]?.value[1])).toBeGreaterThan(20);
    },
  );
});
