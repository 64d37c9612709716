import { describe, expect, it } from 'vitest';
import { PrometheusScraper } from '../../src/exporters/prometheus.ts';
import { BatchedCounter } from '../../src/telemetry/batched-counter.ts';
import { Instruments } from '../../src/telemetry/instruments.ts';
import { createMeterProvider } from '../../src/telemetry/provider.ts';

function setup() {
  const a = new PrometheusScraper();
  const b = new PrometheusScraper();
  const { provider, meter } = createMeterProvider({ readers: [a.reader, b.reader], version: 'test' });
  const instruments = new Instruments(meter, { maxLabelValues: 200 });
  const counter = new BatchedCounter(instruments, instruments.counter('mcp_http_requests_total'));
  return { a, b, provider, counter };
}

const sample = (text: string, status: string): number | undefined => {
  const m = new RegExp(`^mcp_http_requests_total\\{method="GET",endpoint="/x",status_code="${status}"\\} (\\d+)$`, 'm').exec(text);
  return m === null ? undefined : Number(m[1]);
};

describe('BatchedCounter', () => {
  it('is exact at every collection, for every reader, and absent until its cell exists', async () => {
    const { a, b, provider, counter } = setup();
    expect(sample(await a.scrape(), '200')).toBeUndefined();
    const ok = counter.cell({ method: 'GET', endpoint: '/x', status_code: '200' });
    const gone = counter.cell({ method: 'GET', endpoint: '/x', status_code: '499' });
    for (let i = 0; i < 1000; i++) ok.pending++;
    gone.pending += 3;
    expect(sample(await a.scrape(), '200')).toBe(1000);
    ok.pending++;
    // The second reader sees what the first reader's collection flushed, and what came after.
    const textB = await b.scrape();
    expect(sample(textB, '200')).toBe(1001);
    expect(sample(textB, '499')).toBe(3);
    expect(sample(await a.scrape(), '200')).toBe(1001);
    expect(sample(await a.scrape(), '200')).toBe(1001);
    await provider.shutdown();
  });

  it('keeps two cells of the same series exact (they add up)', async () => {
    const { a, provider, counter } = setup();
    const one = counter.cell({ method: 'GET', endpoint: '/x', status_code: '200' });
    const two = counter.cell({ method: 'GET', endpoint: '/x', status_code: '200' });
    one.pending += 2;
    two.pending += 5;
    expect(sample(await a.scrape(), '200')).toBe(7);
    await provider.shutdown();
  });

  it('never lets a caller change the attributes of a series', () => {
    const { counter } = setup();
    const attributes = { method: 'GET', endpoint: '/x', status_code: '200' };
    const cell = counter.cell(attributes);
    attributes.endpoint = '/y';
    expect(cell.attributes['endpoint']).toBe('/x');
    expect(Object.isFrozen(cell.attributes)).toBe(true);
  });
});

describe('BatchedCounter over an up/down counter', () => {
  it('exists from its first change, even when the changes add up to 0 between two collections', async () => {
    const scraper = new PrometheusScraper();
    const { provider, meter } = createMeterProvider({ readers: [scraper.reader], version: 'test' });
    const instruments = new Instruments(meter, { maxLabelValues: 200 });
    const streams = new BatchedCounter(instruments, instruments.updown('sidecar_proxy_open_streams'));
    expect(await scraper.scrape()).not.toContain('sidecar_proxy_open_streams{');
    const sse = streams.cell({ kind: 'sse' });
    sse.pending++;
    sse.pending--;
    expect(await scraper.scrape()).toContain('sidecar_proxy_open_streams{kind="sse"} 0');
    sse.pending += 3;
    sse.pending--;
    expect(await scraper.scrape()).toContain('sidecar_proxy_open_streams{kind="sse"} 2');
    await provider.shutdown();
  });
});
