import { Writable } from 'node:stream';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { ExportResultCode } from '@opentelemetry/core';
import { describe, expect, it } from 'vitest';
import { describeExportError, ExportHealth } from '../../src/exporters/export-health.ts';
import { serializePrometheus } from '../../src/exporters/prometheus-serializer.ts';
import { createLogger } from '../../src/log.ts';
import { parseExposition, value } from '../fixtures/scrape.ts';

function harness(summaryIntervalMs = 60_000) {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const logger = createLogger({ level: 'info', destination });
  let now = 1_000_000;
  const health = new ExportHealth(logger, { summaryIntervalMs, now: () => now });
  const reader = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [reader] });
  health.register('metrics', 'http://collector:4318/v1/metrics');
  health.attach(provider.getMeter('t').createCounter('sidecar_otlp_export_failures_total'));
  const failures = async () =>
    value(parseExposition(serializePrometheus((await reader.collect()).resourceMetrics).text), 'sidecar_otlp_export_failures_total', { signal: 'metrics' });
  return {
    lines,
    health,
    failures,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const refused = { code: ExportResultCode.FAILED, error: Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:4318'), { code: 'ECONNREFUSED' }) };
const ok = { code: ExportResultCode.SUCCESS };

describe('OTLP export failure accounting', () => {
  it('counts every failure but logs the first, one summary per interval, and one recovery line', async () => {
    const h = harness(60_000);
    expect(await h.failures()).toBe(0);
    for (let i = 0; i < 10; i++) {
      h.health.observe('metrics', refused);
      h.advance(10_000);
    }
    // 100 s of failures every 10 s: the first line, then a summary after 60 s.
    expect(await h.failures()).toBe(10);
    expect(h.lines.map((l) => l['event'])).toEqual(['otlp_export_failed', 'otlp_export_failing']);
    expect(h.lines[0]).toMatchObject({ level: 'warn', signal: 'metrics', endpoint: 'http://collector:4318/v1/metrics', error: 'ECONNREFUSED' });
    expect(h.lines[1]).toMatchObject({ failures: 6, outageMs: 60_000 });
    h.health.observe('metrics', ok);
    h.health.observe('metrics', ok);
    expect(h.lines.map((l) => l['event'])).toEqual(['otlp_export_failed', 'otlp_export_failing', 'otlp_export_recovered']);
    expect(h.lines[2]).toMatchObject({ level: 'info', failures: 10, outageMs: 100_000 });
    // A new outage is announced again.
    h.health.observe('metrics', refused);
    expect(h.lines.at(-1)?.['event']).toBe('otlp_export_failed');
    expect(await h.failures()).toBe(11);
  });

  it('ignores signals it was not told about', async () => {
    const h = harness();
    h.health.observe('traces', refused);
    expect(h.lines).toEqual([]);
    expect(await h.failures()).toBe(0);
  });

  it('describes errors by code, or by a message without URL credentials and query strings', () => {
    expect(describeExportError(refused.error)).toBe('ECONNREFUSED');
    expect(describeExportError(Object.assign(new Error('Unauthorized'), { code: 401, data: 'token xyz invalid' }))).toBe('http_401');
    expect(describeExportError(new Error('POST https://u:p@collector/v1/traces?api_key=abc failed'))).toBe('POST https://collector/v1/traces failed');
    expect(describeExportError(undefined)).toBe('unknown');
  });
});
