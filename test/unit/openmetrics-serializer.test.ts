/**
 * The OpenMetrics 1.0.0 serializer (pure): the same series as the 0.0.4 text, written by the rules of the
 * format — counter family names without `_total`, `# UNIT`, HELP escaping, `# EOF` — and exemplars where
 * the lookup has them, on the right line.
 */
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { describe, expect, it } from 'vitest';
import { serializeOpenMetrics, type ExemplarLookup, type ExemplarView } from '../../src/exporters/openmetrics-serializer.ts';
import { serializePrometheus } from '../../src/exporters/prometheus-serializer.ts';
import { collectGolden } from '../fixtures/golden-metrics.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const ex = (value: number, timeMs = 1_700_000_000_123): ExemplarView => ({ traceId: TRACE, spanId: SPAN, value, timeMs });

/** Sample lines (name, labels, value) without comments and without exemplars. */
const samples = (text: string) =>
  text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.replace(/ # \{.*$/, ''));

describe('the OpenMetrics serializer', () => {
  it('writes the same samples as the 0.0.4 text (same names, labels, le and values), ending with # EOF', async () => {
    const data = await collectGolden();
    const om = serializeOpenMetrics(data);
    expect(om.conflicts).toEqual([]);
    expect(om.text.endsWith('\n# EOF\n')).toBe(true);
    expect(om.text.indexOf('# EOF')).toBe(om.text.length - '# EOF\n'.length);
    expect(samples(om.text).sort()).toEqual(samples(serializePrometheus(data).text).sort());
  });

  it('names counter families without _total in TYPE and HELP lines, their samples with it', async () => {
    const text = serializeOpenMetrics(await collectGolden()).text;
    expect(text).toContain(
      '# HELP mcp_tool_invocations Total tool invocations\n# TYPE mcp_tool_invocations counter\nmcp_tool_invocations_total{tool_id="calc_add",status="success"} 3\n',
    );
    expect(text).toContain('# TYPE sidecar_event_gaps counter\nsidecar_event_gaps_total 0\n');
    expect(text).not.toMatch(/^# (TYPE|HELP) \S+_total .*counter/m);
  });

  it("keeps the composer's gauges named _total as gauges under their own names", async () => {
    const text = serializeOpenMetrics(await collectGolden()).text;
    expect(text).toContain('# TYPE mcp_servers_total gauge\nmcp_servers_total 3\n');
    expect(text).toContain('# TYPE mcp_tool_conflicts_total gauge\nmcp_tool_conflicts_total 0\n');
  });

  it('writes # UNIT for families with a unit (OpenTelemetry units, base-unit names), and only as a suffix of the name', async () => {
    const text = serializeOpenMetrics(await collectGolden()).text;
    const units = [...text.matchAll(/^# UNIT (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]);
    expect(units).toEqual(
      expect.arrayContaining([
        ['mcp_composer_uptime_seconds', 'seconds'],
        ['mcp_tool_invocation_duration_seconds', 'seconds'],
        ['mcp_http_response_size_bytes', 'bytes'],
        ['mcp_server_operation_duration_seconds', 'seconds'],
        ['http_server_request_duration_seconds', 'seconds'],
      ]),
    );
    for (const [name, unit] of units) expect(name?.endsWith(`_${unit}`), String(name)).toBe(true);
    expect(text).not.toMatch(/^# UNIT mcp_tool_invocations /m);
  });

  it('escapes double quotes, backslashes and line feeds in HELP text and label values', async () => {
    const reader = new PrometheusExporter({ preventServerStart: true });
    const provider = new MeterProvider({ readers: [reader] });
    provider.getMeter('m').createCounter('odd', { description: 'say "hi"\\ now\nplease' }).add(1, { v: 'a"b\\c\nd' });
    const { resourceMetrics } = await reader.collect();
    await provider.shutdown();
    expect(serializeOpenMetrics(resourceMetrics).text).toBe(
      '# HELP odd say \\"hi\\"\\\\ now\\nplease\n# TYPE odd counter\nodd_total{v="a\\"b\\\\c\\nd"} 1\n# EOF\n',
    );
  });

  it('writes histogram buckets, then _count, then _sum', async () => {
    const text = serializeOpenMetrics(await collectGolden()).text;
    const lines = text.split('\n').filter((l) => l.startsWith('mcp_resource_read_duration_seconds'));
    expect(lines.slice(-3)).toEqual([
      'mcp_resource_read_duration_seconds_bucket{resource_uri="file:///etc/motd",le="+Inf"} 1',
      'mcp_resource_read_duration_seconds_count{resource_uri="file:///etc/motd"} 1',
      'mcp_resource_read_duration_seconds_sum{resource_uri="file:///etc/motd"} 0.07',
    ]);
  });

  it('puts an exemplar on the bucket line it belongs to and on a counter total, never on a gauge, _count or _sum', async () => {
    const asked: string[] = [];
    const lookup: ExemplarLookup = (name, attrs) => {
      asked.push(name);
      if (name === 'mcp_tool_invocation_duration_seconds' && attrs['tool_id'] === 'calc_add')
        return {
          buckets: [undefined, ex(0.03), undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, ex(1234.5, 1_700_000_001_000)],
        };
      if (name === 'mcp_tool_invocations_total' && attrs['status'] === 'error') return { total: ex(1) };
      if (name === 'mcp_servers_total') return { total: ex(3) };
      return undefined;
    };
    const text = serializeOpenMetrics(await collectGolden(), lookup).text;
    const withExemplar = text.split('\n').filter((l) => l.includes(' # {'));
    expect(withExemplar).toEqual([
      `mcp_tool_invocations_total{tool_id="calc_add",status="error"} 1 # {trace_id="${TRACE}",span_id="${SPAN}"} 1 1700000000.123`,
      `mcp_tool_invocation_duration_seconds_bucket{tool_id="calc_add",le="0.05"} 3 # {trace_id="${TRACE}",span_id="${SPAN}"} 0.03 1700000000.123`,
      `mcp_tool_invocation_duration_seconds_bucket{tool_id="calc_add",le="+Inf"} 10 # {trace_id="${TRACE}",span_id="${SPAN}"} 1234.5 1700000001.000`,
    ]);
    // Gauges are never looked up.
    expect(asked).not.toContain('mcp_servers_total');
    expect(asked).toContain('mcp.server.operation.duration');
  });

  it('reports a counter whose family name another family already has, and keeps the first', async () => {
    const reader = new PrometheusExporter({ preventServerStart: true });
    const provider = new MeterProvider({ readers: [reader] });
    const m = provider.getMeter('m');
    m.createObservableGauge('jobs').addCallback((r) => r.observe(2));
    m.createCounter('jobs_total').add(5);
    const { resourceMetrics } = await reader.collect();
    await provider.shutdown();
    const { text, conflicts } = serializeOpenMetrics(resourceMetrics);
    expect(conflicts).toEqual(['jobs_total']);
    expect(text).toBe('# TYPE jobs gauge\njobs 2\n# EOF\n');
  });

  it('writes only # EOF when nothing was recorded', async () => {
    const reader = new PrometheusExporter({ preventServerStart: true });
    const provider = new MeterProvider({ readers: [reader] });
    const { resourceMetrics } = await reader.collect();
    await provider.shutdown();
    expect(serializeOpenMetrics(resourceMetrics).text).toBe('# EOF\n');
  });
});
