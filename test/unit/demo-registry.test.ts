// The demo composer's own catalog exposition: prometheus_client's text format (float formatting, `_total`
// and `_created`, info as gauge, histograms), parsed back with the project's exposition parser and, when
// installed, checked by promtool.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Catalog, normalizeEndpoint } from '../../demo/metrics/catalog.ts';
import { formatValue } from '../../demo/metrics/registry.ts';
import { parseText } from '../fixtures/exposition.ts';

function sample(): string {
  const c = new Catalog('1.0.0-demo', 'Linux-x86_64');
  c.recordHttp('GET', '/api/v1/servers/calc', 200, 0.01, 0, 120);
  c.recordToolInvocation('calc.add', 0.02, true, undefined);
  c.recordToolInvocation('calc.fail', 0.02, false, 'tool_error');
  c.recordResourceRead('file:///demo/"quoted"\\path', 0.3, true);
  c.configReloads.inc({ status: 'success' });
  return c.render({
    servers: [
      { id: 'calc', state: 'running', tools: 4, prompts: 1, resources: 1 },
      { id: 'clock', state: 'crashed', tools: 3, prompts: 1, resources: 2 },
    ],
    conflicts: 1,
  });
}

describe('demo catalog exposition', () => {
  it('formats floats as prometheus_client does', () => {
    expect([formatValue(1), formatValue(0), formatValue(0.5), formatValue(Infinity), formatValue(1732000000.5), formatValue(1e-7)]).toEqual([
      '1.0',
      '0.0',
      '0.5',
      '+Inf',
      '1.7320000005e+09',
      '1e-07',
    ]);
  });

  it('serves every catalog family with its type; labelled families appear without samples until used', () => {
    const fams = parseText(sample());
    const types = Object.fromEntries(fams.map((f) => [f.name, f.type]));
    expect(types).toMatchObject({
      mcp_composer_info: 'gauge',
      mcp_servers_failed: 'gauge',
      mcp_server_starts_total: 'counter',
      mcp_server_crashes_total: 'counter',
      mcp_tool_invocation_duration_seconds: 'histogram',
      mcp_tool_conflicts_total: 'gauge',
      mcp_http_request_size_bytes: 'histogram',
      mcp_config_validation_errors_total: 'counter',
      mcp_tool_invocations_created: 'gauge',
    });
    const byName = new Map(fams.map((f) => [f.name, f]));
    expect(byName.get('mcp_server_crashes_total')?.samples).toEqual([]);
    expect(byName.get('mcp_servers_failed')?.samples[0]?.value).toBe(1);
    expect(byName.get('mcp_tool_invocation_errors_total')?.samples).toEqual([
      { name: 'mcp_tool_invocation_errors_total', labels: { tool_id: 'calc.fail', error_type: 'tool_error' }, value: 1 },
    ]);
    expect(byName.get('mcp_resource_reads_total')?.samples[0]?.labels.resource_uri).toBe('file:///demo/"quoted"\\path');
    const buckets = byName
      .get('mcp_tool_invocation_duration_seconds')
      ?.samples.filter((s) => s.name.endsWith('_bucket'))
      .map((s) => s.labels.le);
    expect(buckets?.slice(0, 11)).toEqual(['0.01', '0.05', '0.1', '0.5', '1.0', '2.5', '5.0', '10.0', '30.0', '60.0', '+Inf']);
  });

  it.skipIf(spawnSync('promtool', ['--version']).status !== 0)('is valid exposition for promtool (lint remarks on the catalog names aside)', () => {
    const r = spawnSync('promtool', ['check', 'metrics'], { input: sample(), encoding: 'utf8' });
    expect(r.status, r.stderr + r.stdout).not.toBe(1);
    expect(r.stdout + r.stderr).not.toMatch(/error/i);
  });

  it('normalises endpoints like the composer middleware', () => {
    expect(normalizeEndpoint('/api/v1/servers/abc123/logs')).toBe('/api/v1/servers/{id}/logs');
    expect(normalizeEndpoint('/api/v1/tools/server1.tool42/invoke?x=1')).toBe('/api/v1/tools/{id}/invoke');
    expect(normalizeEndpoint('/api/v1/resources/path/to/file')).toBe('/api/v1/resources/{id}/{id}/{id}');
    expect(normalizeEndpoint('/api/v1/health/detailed')).toBe('/api/v1/health/detailed');
  });
});
