import { describe, expect, it } from 'vitest';
import { PrometheusScraper } from '../../src/exporters/prometheus.ts';
import { BatchedHistogram } from '../../src/telemetry/batched-histogram.ts';
import { Instruments } from '../../src/telemetry/instruments.ts';
import { createMeterProvider } from '../../src/telemetry/provider.ts';

function setup() {
  const scraper = new PrometheusScraper();
  const { provider, meter } = createMeterProvider({ readers: [scraper.reader], version: 'test' });
  const instruments = new Instruments(meter, { maxLabelValues: 200 });
  return { scraper, provider, instruments };
}

const lines = (text: string, family: string) => text.split('\n').filter((l) => l.startsWith(family));

describe('BatchedHistogram', () => {
  it('exports exactly what recording each value directly exports, at every collection, across batch boundaries', async () => {
    const batched = setup();
    const direct = setup();
    const cell = new BatchedHistogram(batched.instruments, batched.instruments.histogram('mcp_http_request_duration_seconds'), 7).cell({
      method: 'GET',
      endpoint: '/x',
    });
    const histogram = direct.instruments.histogram('mcp_http_request_duration_seconds');
    let seed = 1;
    const next = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 3;
    for (const n of [0, 1, 6, 7, 8, 20, 3]) {
      for (let i = 0; i < n; i++) {
        const v = next();
        cell.record(v);
        histogram.record(v, { method: 'GET', endpoint: '/x' });
      }
      expect(lines(await batched.scraper.scrape(), 'mcp_http_request_duration_seconds')).toEqual(
        lines(await direct.scraper.scrape(), 'mcp_http_request_duration_seconds'),
      );
    }
    expect(lines(await batched.scraper.scrape(), 'mcp_http_request_duration_seconds_count')).toEqual([
      'mcp_http_request_duration_seconds_count{method="GET",endpoint="/x"} 45',
    ]);
    await batched.provider.shutdown();
    await direct.provider.shutdown();
  });
});
