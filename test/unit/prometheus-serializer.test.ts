import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { describe, expect, it } from 'vitest';
import { escapeHelp, escapeLabelValue, goFloat, serializePrometheus } from '../../src/exporters/prometheus-serializer.ts';
import { parseText } from '../fixtures/exposition.ts';

async function collect(record: (p: MeterProvider) => void): Promise<string> {
  const reader = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [reader] });
  record(provider);
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  return serializePrometheus(resourceMetrics).text;
}

describe('Prometheus serializer', () => {
  it('writes le values like prometheus_client', () => {
    expect([0.005, 0.01, 1, 2.5, 10, 60, 100000, 1000000, 10000000].map(goFloat)).toEqual([
      '0.005',
      '0.01',
      '1.0',
      '2.5',
      '10.0',
      '60.0',
      '100000.0',
      '1e+06',
      '1e+07',
    ]);
    expect(goFloat(Infinity)).toBe('+Inf');
  });

  it('escapes label values', () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    // Each special character alone, and values without any (returned as they are).
    expect(['x"', 'x\\', 'x\n', '/api/v1/tools/{id}', ''].map(escapeLabelValue)).toEqual(['x\\"', 'x\\\\', 'x\\n', '/api/v1/tools/{id}', '']);
    expect(['a\\b\nc', 'plain "quoted"'].map(escapeHelp)).toEqual(['a\\\\b\\nc', 'plain "quoted"']);
  });

  it('writes histograms in canonical order (buckets, _sum, _count) with cumulative buckets', async () => {
    const text = await collect((p) => {
      const h = p.getMeter('m').createHistogram('lat_seconds', { description: 'Latency', advice: { explicitBucketBoundaries: [0.1, 1] } });
      h.record(0.05, { route: '/a' });
      h.record(0.5, { route: '/a' });
      h.record(5, { route: '/a' });
    });
    expect(text).toBe(
      [
        '# HELP lat_seconds Latency',
        '# TYPE lat_seconds histogram',
        'lat_seconds_bucket{route="/a",le="0.1"} 1',
        'lat_seconds_bucket{route="/a",le="1.0"} 2',
        'lat_seconds_bucket{route="/a",le="+Inf"} 3',
        'lat_seconds_sum{route="/a"} 5.55',
        'lat_seconds_count{route="/a"} 3',
        '',
      ].join('\n'),
    );
  });

  it('types monotonic sums as counters ending in _total, up/down counters and gauges as gauges', async () => {
    const text = await collect((p) => {
      const m = p.getMeter('m');
      m.createCounter('requests').add(2, { a: 'x' });
      m.createUpDownCounter('open').add(-1);
      m.createObservableGauge('servers_total').addCallback((r) => r.observe(3));
    });
    const families = parseText(text);
    expect(families.map((f) => [f.name, f.type])).toEqual([
      ['requests_total', 'counter'],
      ['open', 'gauge'],
      ['servers_total', 'gauge'],
    ]);
  });

  it('adds unit suffixes to OpenTelemetry-convention names and sanitises dots', async () => {
    const text = await collect((p) => p.getMeter('m').createHistogram('http.server.request.duration', { unit: 's' }).record(0.2));
    expect(parseText(text)[0]?.name).toBe('http_server_request_duration_seconds');
    expect(text).not.toContain('# UNIT');
  });

  it('merges same-named families from two scopes and reports a type conflict', async () => {
    const reader = new PrometheusExporter({ preventServerStart: true });
    const provider = new MeterProvider({ readers: [reader] });
    provider.getMeter('a').createCounter('x_total').add(1, { s: 'a' });
    provider.getMeter('b').createCounter('x_total').add(1, { s: 'b' });
    provider.getMeter('c').createHistogram('x_total').record(1);
    const { resourceMetrics } = await reader.collect();
    await provider.shutdown();
    const { text, conflicts } = serializePrometheus(resourceMetrics);
    expect(conflicts).toEqual(['x_total']);
    const fam = parseText(text);
    expect(fam).toHaveLength(1);
    expect(fam[0]?.samples).toHaveLength(2);
  });
});
