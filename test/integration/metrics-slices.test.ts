/**
 * The metrics port writes the exposition in slices, chunked, gzip streamed (admin/sliced-answer.ts): on a
 * real socket, over 20,000 series answer the bytes of the serialisers as they were before slicing, in
 * both formats, gzipped or not; HEAD and failed collections answer as before; and scrapes that overlap
 * while traffic is counted stay exact, never tear a family and never go backwards; a second gzip scrape
 * compresses again only the slices that moved.
 */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createAdminServer, type AdminServer, type ScrapeAnswer, type ScrapeTimer } from '../../src/admin/server.ts';
import { CONTENT_TYPES, PrometheusScraper, type CollectedScrape, type ExpositionFormat } from '../../src/exporters/prometheus.ts';
import { Instruments } from '../../src/telemetry/instruments.ts';
import { createMeterProvider } from '../../src/telemetry/provider.ts';
import { endpointOf, manySeries, sampleLines, type ManySeries } from '../fixtures/many-series.ts';
import { startSidecar, TEST_TOKEN, type TestSidecar } from '../fixtures/sidecar.ts';
import { startUpstream, type TestUpstream } from '../fixtures/upstream.ts';
import { parseSampleLine, type RawSample } from '../fixtures/exposition.ts';
import { countedSeries, countedTraffic } from '../fixtures/counted-traffic.ts';
import { histogram, parseExposition, value } from '../fixtures/scrape.ts';
import { unslicedOpenMetrics, unslicedPrometheus } from '../fixtures/unsliced-serializers.ts';

const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** The body as sent (gzipped when the answer says so). */
  readonly raw: Buffer;
  /** The body decompressed. */
  readonly text: string;
}

function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const text = (res.headers['content-encoding'] === 'gzip' && raw.length > 0 ? gunzipSync(raw) : raw).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, raw, text });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The sum of the samples named `name` whose labels include `want`. */
function sum(samples: readonly RawSample[], name: string, want: Record<string, string>): number {
  let total = 0;
  for (const x of samples) if (x.name === name && Object.entries(want).every(([k, v]) => x.labels[k] === v)) total += x.value;
  return total;
}

const servers: AdminServer[] = [];
const cleanups: Array<() => Promise<void>> = [];
let sidecar: TestSidecar | undefined;
let upstream: TestUpstream | undefined;
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const c of cleanups.splice(0)) await c();
  await sidecar?.close();
  await upstream?.close();
  sidecar = undefined;
  upstream = undefined;
});

async function serve(scrape: (format: ExpositionFormat) => Promise<CollectedScrape>, scrapeTimer?: ScrapeTimer): Promise<string> {
  const server = createAdminServer({ listen: { host: '127.0.0.1', port: 0 }, token: null, scrape, ready: () => true, scrapeTimer });
  servers.push(server);
  const addr: AddressInfo = await server.listen();
  return `http://127.0.0.1:${addr.port}/metrics`;
}

describe('a sliced /metrics answer of over 20,000 series', () => {
  it('is the bytes of the unsliced serialisers, chunked, in both formats, gzipped or not', async () => {
    const many: ManySeries = manySeries();
    cleanups.push(() => many.shutdown());
    const answers: ScrapeAnswer[] = [];
    const url = await serve((format) => many.scraper.collect(format), { start: () => (a) => void (a !== undefined && answers.push(a)) });
    const text = await get(url);
    const textGzip = await get(url, { 'accept-encoding': 'gzip' });
    const om = await get(url, { accept: PROMETHEUS_ACCEPT });
    const omGzip = await get(url, { accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'gzip' });
    // Nothing was recorded since: this collection is the data every answer above was written from.
    const data = await many.collect();
    const oracleText = unslicedPrometheus(data);
    const oracleOm = unslicedOpenMetrics(data);
    expect(sampleLines(oracleText).length).toBeGreaterThan(20_000);

    for (const a of [text, textGzip, om, omGzip]) {
      expect(a.status).toBe(200);
      expect(a.headers['content-length']).toBeUndefined();
      expect(a.headers['transfer-encoding']).toBe('chunked');
      expect(a.headers['vary']).toBe('Accept, Accept-Encoding');
      expect(a.headers['cache-control']).toBe('no-store');
    }
    expect(text.headers['content-type']).toBe(CONTENT_TYPES.text);
    expect(om.headers['content-type']).toBe(CONTENT_TYPES.openmetrics);
    expect(text.text).toBe(oracleText);
    expect(textGzip.text).toBe(oracleText);
    expect(om.text).toBe(oracleOm);
    expect(omGzip.text).toBe(oracleOm);
    expect(text.headers['content-encoding']).toBeUndefined();
    expect(textGzip.headers['content-encoding']).toBe('gzip');
    expect(omGzip.headers['content-encoding']).toBe('gzip');
    expect(textGzip.raw.length).toBeLessThan(text.raw.length / 5);
    expect(answers.map((a) => [a.format, a.gzip, a.complete])).toEqual([
      ['text', false, true],
      ['text', true, true],
      ['openmetrics', false, true],
      ['openmetrics', true, true],
    ]);
    for (const a of answers) expect(a.slices).toBeGreaterThan(20);
  });

  it('compresses again only the slices that moved: a second gzip scrape after traffic on one series is still the unsliced bytes', async () => {
    const many: ManySeries = manySeries();
    cleanups.push(() => many.shutdown());
    const answers: ScrapeAnswer[] = [];
    const url = await serve((format) => many.scraper.collect(format), { start: () => (a) => void (a !== undefined && answers.push(a)) });
    await get(url, { 'accept-encoding': 'gzip' });
    await get(url, { accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'gzip' });
    // One request more on one series: the slice holding it (and the few whose bytes follow from it) change.
    const attrs = { method: 'GET', endpoint: endpointOf(5) };
    many.instruments.counter('mcp_http_requests_total').add(1, { ...attrs, status_code: '200' });
    many.instruments.histogram('mcp_http_request_duration_seconds').record(0.25, attrs);
    const textGzip = await get(url, { 'accept-encoding': 'gzip' });
    const omGzip = await get(url, { accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'gzip' });
    const data = await many.collect();
    expect(textGzip.text).toBe(unslicedPrometheus(data));
    expect(omGzip.text).toBe(unslicedOpenMetrics(data));
    const [, , text2, om2] = answers;
    for (const a of [text2, om2]) {
      expect(a?.reused).toBeGreaterThan(0);
      expect(a?.reused).toBeLessThan(a?.slices ?? 0);
    }
    // A plain scrape neither reads nor fills the stores.
    expect(answers[0]?.reused).toBe(0);
    await get(url);
    expect(answers[4]?.reused).toBeUndefined();
  });

  it('answers HEAD with the same head and serialises nothing', async () => {
    let taken = 0;
    const url = await serve(async () => ({
      slices: (function* () {
        taken++;
        yield 'x 1\n';
      })(),
    }));
    const head = await get(url, { accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'gzip' }, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe(CONTENT_TYPES.openmetrics);
    expect(head.headers['content-encoding']).toBe('gzip');
    expect(head.raw.length).toBe(0);
    expect(taken).toBe(0);
  });
});

describe('a failed collection', () => {
  it('answers 500 before any 200 header, whether the collection throws or reports errors', async () => {
    const scraper = new PrometheusScraper();
    const { provider, meter } = createMeterProvider({ readers: [scraper.reader], version: 'test' });
    cleanups.push(() => provider.shutdown());
    const instruments = new Instruments(meter, { maxLabelValues: 10 });
    instruments.observeGauge('mcp_servers_total', () => {
      throw new Error('gauge callback broke');
    });
    for (const url of [await serve((format) => scraper.collect(format)), await serve(() => Promise.reject(new Error('no collection')))]) {
      const variants: Record<string, string>[] = [{}, { 'accept-encoding': 'gzip' }, { accept: PROMETHEUS_ACCEPT }];
      for (const headers of variants) {
        const a = await get(url, headers);
        expect(a.status).toBe(500);
        expect(a.text).toBe('metrics collection failed\n');
        expect(a.headers['content-type']).toBe('text/plain; charset=utf-8');
      }
    }
  });
});

describe('scrapes over sockets that overlap while traffic is counted', () => {
  it('are exact, never tear a family and never go backwards for any scraper', async () => {
    const { scraper, provider, requests, a, b, d } = countedSeries();
    cleanups.push(() => provider.shutdown());
    // Many series, so that every answer has slices to write and every collection series to copy.
    const filler = Array.from({ length: 3000 }, (_, i) => requests.cell({ method: 'POST', endpoint: `/f${i}`, status_code: '200' }));
    const url = await serve((format) => scraper.collect(format));

    const traffic = countedTraffic(a, b, d, filler, 50, 0.006);

    const scrapeLoop = async (headers: Record<string, string>): Promise<number[]> => {
      const seen: number[] = [];
      for (let i = 0; i < 8; i++) {
        const answer = await get(url, headers);
        expect(answer.status).toBe(200);
        // Sample lines read alike in both formats (no exemplars here).
        const samples = sampleLines(answer.text).map(parseSampleLine);
        const atA = sum(samples, 'mcp_http_requests_total', { endpoint: '/a' });
        expect(sum(samples, 'mcp_http_requests_total', { endpoint: '/b' })).toBe(atA);
        expect(sum(samples, 'mcp_http_request_duration_seconds_count', { endpoint: '/a' })).toBe(atA);
        expect(sum(samples, 'mcp_http_request_duration_seconds_bucket', { endpoint: '/a', le: '+Inf' })).toBe(atA);
        expect(samples.filter((x) => x.name === 'mcp_http_requests_total').length).toBe(3002);
        seen.push(atA);
      }
      return seen;
    };
    const loops = await Promise.all([
      scrapeLoop({}),
      scrapeLoop({ 'accept-encoding': 'gzip' }),
      scrapeLoop({ accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'gzip' }),
    ]);
    await traffic.stop();

    for (const seen of loops) for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1] as number);
    expect(new Set(loops.flat()).size).toBeGreaterThan(3);
    const last = parseExposition((await get(url)).text);
    expect(value(last, 'mcp_http_requests_total', { endpoint: '/a' })).toBe(traffic.turns);
    expect(value(last, 'mcp_http_requests_total', { method: 'POST' })).toBe(traffic.turns * 50);
    expect(histogram(last, 'mcp_http_request_duration_seconds', { method: 'GET', endpoint: '/a' })?.count).toBe(traffic.turns);
  });
});

describe('--debug-scrape-timing', () => {
  it('logs one scrape_timing line per answer with a body, and none without the option', async () => {
    upstream = await startUpstream((_req, res) => res.end('ok'));
    for (const args of [['--debug-scrape-timing'], []]) {
      sidecar = await startSidecar(upstream.url, args);
      const auth = { authorization: `Bearer ${TEST_TOKEN}` };
      await get(sidecar.metricsUrl, auth);
      await get(sidecar.metricsUrl, { ...auth, accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'gzip' });
      await get(sidecar.metricsUrl, auth, 'HEAD');
      const lines = sidecar.logs.filter((l) => l.event === 'scrape_timing');
      if (args.length === 0) {
        expect(lines).toEqual([]);
      } else {
        expect(lines.map((l) => [l['format'], l['gzip'], l['complete']])).toEqual([
          ['text', false, true],
          ['openmetrics', true, true],
        ]);
        for (const l of lines) {
          expect(l['slices']).toBeGreaterThan(0);
          expect(Number.isFinite(l['durationMs'])).toBe(true);
          expect(l['longestTurnMs']).toBeGreaterThan(0);
          expect(Array.isArray(l['longTurns'])).toBe(true);
        }
      }
      await sidecar.close();
      sidecar = undefined;
    }
  });
});
