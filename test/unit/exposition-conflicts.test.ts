/**
 * Families the exposition leaves out (exporters/exposition-conflicts.ts): two instruments of one name and
 * different types on a real MeterProvider and Prometheus reader; each scrape that leaves the family out
 * counts it, and it is logged once, not once per scrape.
 */
import { Writable } from 'node:stream';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { ExpositionConflicts } from '../../src/exporters/exposition-conflicts.ts';
import { PrometheusScraper } from '../../src/exporters/prometheus.ts';
import { createLogger } from '../../src/log.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

const sample = (text: string, name: string) => new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1];

describe('exposition conflicts', () => {
  it('count the family each scrape leaves out and log it once', async () => {
    const { logger, lines } = capture();
    const conflicts = new ExpositionConflicts(logger);
    const scraper = new PrometheusScraper({ onConflict: conflicts.report });
    const provider = new MeterProvider({ readers: [scraper.reader] });
    const meter = provider.getMeter('test');
    conflicts.attach(meter.createCounter('sidecar_exposition_conflicts_total'));
    meter.createCounter('dup_total').add(3);
    meter.createObservableGauge('dup_total').addCallback((r) => r.observe(7));
    try {
      const first = await scraper.scrape();
      expect(sample(first, 'dup_total')).toBe('3');
      expect(first).toContain('# TYPE dup_total counter');
      expect(first).not.toContain('# TYPE dup_total gauge');
      const second = await scraper.scrape('openmetrics');
      const third = await scraper.scrape();
      expect(sample(second, 'sidecar_exposition_conflicts_total')).toBe('1');
      expect(sample(third, 'sidecar_exposition_conflicts_total')).toBe('2');
    } finally {
      await provider.shutdown();
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.filter((l) => l['event'] === 'exposition_conflict').map((l) => l['family'])).toEqual(['dup_total']);
  });

  it('log each family once however many scrapes leave it out, before a counter is attached too', () => {
    const { logger, lines } = capture();
    const conflicts = new ExpositionConflicts(logger);
    conflicts.report(['a_total', 'b']);
    conflicts.report(['b', 'a_total', 'c']);
    return new Promise<void>((resolve) => {
      setImmediate(() => {
        expect(lines.map((l) => l['family'])).toEqual(['a_total', 'b', 'c']);
        resolve();
      });
    });
  });
});
