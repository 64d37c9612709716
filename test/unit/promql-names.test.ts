import { describe, expect, it } from 'vitest';
import { familyOf, metricNames, variablePromql } from '../fixtures/promql-names.ts';
import { SEED_QUERIES } from '../fixtures/seed-queries.ts';

describe('metric names from PromQL', () => {
  it('finds the one name of each of the seed queries', () => {
    expect(SEED_QUERIES.map(metricNames)).toEqual([
      ['mcp_composer_uptime_seconds'],
      ['mcp_servers_running', 'mcp_servers_total'],
      ['mcp_tool_invocations_total'],
      ['mcp_tool_invocation_duration_seconds_bucket'],
      ['mcp_http_requests_total'],
      ['mcp_http_requests_total'],
      ['mcp_auth_failures_total'],
    ]);
  });

  it('skips label names in matchers, grouping clauses and vector matching, and string values', () => {
    const expr =
      'sum by (namespace, job) (rate(a_total{status="error", job=~"x|y"}[5m])) / on (namespace, job) group_left(tool_id) sum without (instance) (b_total)';
    expect(metricNames(expr)).toEqual(['a_total', 'b_total']);
    expect(metricNames('sum(x) by (endpoint) > bool 0 and on(instance) y unless z offset 15m')).toEqual(['x', 'y', 'z']);
  });

  it('skips functions, aggregation operators, numbers, durations and Grafana variables', () => {
    const expr =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template literal.
      'histogram_quantile(0.95, sum by (le) (rate(h_bucket{job="$job", instance=~"${instance}"}[$__rate_interval]))) > 1e+06 or vector(0) or topk(10, increase(c_total[$__range]))';
    expect(metricNames(expr)).toEqual(['h_bucket', 'c_total']);
    expect(metricNames('absent(up{job="mcp-composer"})')).toEqual(['up']);
    expect(metricNames('max_over_time(g[1h:5m]) - 0x1f + .5')).toEqual(['g']);
  });

  it('refuses a selector by __name__, which it cannot resolve', () => {
    expect(() => metricNames('{__name__=~"mcp_.*"}')).toThrow(/__name__/);
  });

  it('maps _bucket, _sum and _count to their histogram family only', () => {
    const histograms = new Set(['mcp_tool_invocation_duration_seconds']);
    expect(familyOf('mcp_tool_invocation_duration_seconds_bucket', histograms)).toBe('mcp_tool_invocation_duration_seconds');
    expect(familyOf('mcp_tool_invocation_duration_seconds_count', histograms)).toBe('mcp_tool_invocation_duration_seconds');
    expect(familyOf('sidecar_inventory_polls_total', histograms)).toBe('sidecar_inventory_polls_total');
    expect(familyOf('other_count', histograms)).toBe('other_count');
  });

  it('reads the selector of a Grafana label_values variable query', () => {
    expect(variablePromql('label_values(mcp_tools_by_server{job="$job"}, server_id)')).toBe('mcp_tools_by_server{job="$job"}');
    expect(variablePromql('up')).toBe('up');
  });
});
