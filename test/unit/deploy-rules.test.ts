/**
 * The alert rules of deploy/prometheus: each alert the issue asks for exists on the right family, carries
 * a severity, a summary, a description and a runbook link to its own section of docs/runbook.md, has
 * promtool unit tests where it fires and where it stays silent; every name any rule or dashboard panel
 * queries is declared in the catalog table; the generated PrometheusRule and dashboard are up to date.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderDashboard } from '../../scripts/deploy/dashboard.ts';
import { renderPrometheusRule } from '../../scripts/deploy/prometheus-rule.ts';
import { expositionName } from '../../src/exporters/prometheus-serializer.ts';
import { ALL_FAMILIES } from '../../src/telemetry/catalog.ts';
import { alertRules, allExpressions, DEPLOY_PATHS, expandRecorded, parseYaml, recordedNames, recordingRules } from '../fixtures/deploy-files.ts';
import { familyOf, metricNames, SYNTHETIC } from '../fixtures/promql-names.ts';

interface RuleTestFile {
  rule_files: string[];
  tests: Array<{ name: string; alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
}

function ruleTestFiles(): Array<[string, RuleTestFile]> {
  return readdirSync(DEPLOY_PATHS.ruleTests)
    .filter((f) => f.endsWith('.test.yml'))
    .map((f) => [f, parseYaml<RuleTestFile>(readFileSync(join(DEPLOY_PATHS.ruleTests, f), 'utf8'), f)]);
}

/** GitHub's anchor of a Markdown heading. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .replace(/ /g, '-');

describe('the alert rules', () => {
  const alerts = alertRules();

  it('cover what an operator needs, each on the family it is about', () => {
    const expected: Array<[alert: string, name: string, pattern?: RegExp]> = [
      ['McpComposerSidecarDown', 'up'],
      ['McpComposerSidecarAbsent', 'up'],
      ['McpComposerUpstreamUnreachable', 'sidecar_upstream_up', /sidecar_upstream_up == 0/],
      ['McpComposerInventoryPollFailing', 'sidecar_inventory_poll_up'],
      ['McpServerCrashLooping', 'mcp_server_crashes_total', /increase\(mcp_server_crashes_total\[/],
      ['McpServerFailed', 'mcp_servers_failed'],
      ['McpToolErrorRatioHigh', 'mcp_tool_invocations_total', /status="error"/],
      ['McpToolLatencyP95High', 'mcp_tool_invocation_duration_seconds_bucket', /histogram_quantile\(0\.95,/],
      ['McpAuthFailureSpike', 'mcp_auth_failures_total'],
      ['McpRateLimitSpike', 'mcp_rate_limit_exceeded_total'],
      ['McpConfigReloadFailed', 'mcp_config_reloads_total', /status="failed"/],
      ['McpComposerEventStreamDisconnected', 'sidecar_event_stream_connected', /sidecar_event_stream_connected == 0/],
      ['McpComposerLabelOverflow', 'sidecar_label_overflow_total'],
      ['McpRequestsTimingOut', 'sidecar_mcp_pending_dropped_total', /reason="timeout"/],
      ['McpComposerSidecarObserverFailing', 'sidecar_observer_errors_total', /increase\(sidecar_observer_errors_total\[/],
      ['McpComposerSidecarMemoryNearLimit', 'sidecar_memory_limit_bytes', /sidecar_memory_resident_bytes \/ sidecar_memory_limit_bytes/],
    ];
    expect(alerts.map((a) => a.alert).sort()).toEqual(expected.map(([a]) => a).sort());
    for (const [alert, name, pattern] of expected) {
      const rule = alerts.find((a) => a.alert === alert)!;
      // Directly, or through the recording rules the alert reads (the fleet view).
      const expr = expandRecorded(rule.expr);
      expect(metricNames(expr), alert).toContain(name);
      if (pattern) expect(expr, alert).toMatch(pattern);
    }
  });

  it('each carry a severity, a summary, a description and a runbook link to their own section of docs/runbook.md', () => {
    const runbook = readFileSync(DEPLOY_PATHS.runbook, 'utf8');
    const sections = [...runbook.matchAll(/^## (.+)$/gm)].map((m) => m[1]!.trim());
    expect(sections.sort()).toEqual(alerts.map((a) => a.alert).sort());
    for (const a of alerts) {
      expect(['critical', 'warning'], a.alert).toContain(a.labels?.severity);
      expect(a.annotations?.summary, a.alert).toBeTruthy();
      expect(a.annotations?.description, a.alert).toBeTruthy();
      const url = new URL(a.annotations?.runbook_url ?? '');
      expect(url.protocol, a.alert).toBe('https:');
      expect(url.pathname, a.alert).toMatch(/\/docs\/runbook\.md$/);
      expect(url.hash, a.alert).toBe(`#${slug(a.alert)}`);
    }
  });

  it('each have promtool unit tests where they fire and where they stay silent', () => {
    const files = ruleTestFiles();
    expect(files.length).toBeGreaterThan(0);
    const fires = new Set<string>();
    const silent = new Set<string>();
    for (const [name, file] of files) {
      expect(file.rule_files, name).toEqual(['../rules/mcp-composer-sidecar.rules.yml']);
      for (const t of file.tests) for (const c of t.alert_rule_test ?? []) (c.exp_alerts.length > 0 ? fires : silent).add(c.alertname);
    }
    for (const a of alerts) {
      expect(fires.has(a.alert), `${a.alert} has a test where it fires`).toBe(true);
      expect(silent.has(a.alert), `${a.alert} has a test where it stays silent`).toBe(true);
    }
  });
});

describe('the recording rules', () => {
  const records = recordingRules();

  it('record the fleet view per tool and per deployment, by level:metric:operations names, before the alerts that read them', () => {
    const names = new Set(records.map((r) => r.record));
    for (const n of [
      'job_tool_id:mcp_tool_invocations:rate5m',
      'job_tool_id:mcp_tool_invocation_failures_per_invocations:ratio_rate5m',
      'job_tool_id_le:mcp_tool_invocation_duration_seconds_bucket:rate5m',
      'job_tool_id:mcp_tool_invocation_duration_seconds:histogram_quantile',
    ])
      expect(names, n).toContain(n);
    for (const r of records) {
      expect(r.record, r.record).toMatch(/^[a-z_]+:[a-z_]+:[a-z0-9_]+$/);
      // Aggregated over pods: never by instance.
      expect(r.expr, r.record).not.toMatch(/\binstance\b/);
    }
    const groups = parseYaml<{ groups: Array<{ name: string; rules: Array<{ record?: string }> }> }>(readFileSync(DEPLOY_PATHS.rules, 'utf8'), 'rules').groups;
    // Evaluated first, so an alert never reads a value one evaluation old.
    expect(groups[0]!.rules.every((r) => r.record !== undefined)).toBe(true);
    expect(groups.slice(1).every((g) => g.rules.every((r) => r.record === undefined))).toBe(true);
  });

  it('are the fleet view the tool, rate-limit and auth alerts read', () => {
    for (const alert of ['McpToolErrorRatioHigh', 'McpToolLatencyP95High', 'McpRateLimitSpike', 'McpAuthFailureSpike']) {
      const rule = alertRules().find((a) => a.alert === alert)!;
      expect(
        metricNames(rule.expr).some((n) => recordedNames().has(n)),
        alert,
      ).toBe(true);
    }
  });

  it('each have a promtool test of their value over several pods', () => {
    const tested = new Set<string>();
    for (const [, file] of ruleTestFiles()) {
      for (const t of file.tests as Array<{ input_series?: Array<{ series: string }>; promql_expr_test?: Array<{ expr: string }> }>) {
        const pods = new Set((t.input_series ?? []).map((s) => /instance="([^"]+)"/.exec(s.series)?.[1]));
        if (pods.size < 2) continue;
        for (const e of t.promql_expr_test ?? []) for (const n of metricNames(e.expr)) tested.add(n);
      }
    }
    for (const r of records) expect(tested.has(r.record), r.record).toBe(true);
  });
});

describe('federation.yml', () => {
  it('federates every recorded fleet series and none of the raw per-pod families', () => {
    const config = parseYaml<{ scrape_configs: Array<{ job_name: string; honor_labels?: boolean; metrics_path?: string; params?: Record<string, string[]> }> }>(
      readFileSync(DEPLOY_PATHS.federationConfig, 'utf8'),
      'federation.yml',
    );
    const job = config.scrape_configs.find((j) => j.job_name === 'federate-mcp-composer')!;
    expect(job.metrics_path).toBe('/federate');
    expect(job.honor_labels).toBe(true);
    const matchers = job.params?.['match[]'] ?? [];
    expect(matchers).toHaveLength(1);
    const m = /^\{__name__=~"(.+)"\}$/.exec(matchers[0]!);
    expect(m).not.toBeNull();
    // Prometheus anchors regular expressions at both ends.
    const selects = new RegExp(`^(?:${m![1]})$`);
    for (const name of recordedNames()) expect(selects.test(name), name).toBe(true);
    const exposed = ALL_FAMILIES.map((f) =>
      expositionName(f.name, f.unit ?? '', f.kind === 'counter' ? 'counter' : f.kind === 'histogram' ? 'histogram' : 'gauge'),
    );
    for (const name of exposed) for (const sample of [name, `${name}_bucket`, `${name}_count`, `${name}_sum`]) expect(selects.test(sample), sample).toBe(false);
  });
});

describe('every PromQL expression of the rules and the dashboard', () => {
  it("queries only families of the family table, by their exposition names (or Prometheus' own up, or a recorded series)", () => {
    const exposed = (f: (typeof ALL_FAMILIES)[number]) =>
      expositionName(f.name, f.unit ?? '', f.kind === 'counter' ? 'counter' : f.kind === 'histogram' ? 'histogram' : 'gauge');
    const histograms = new Set(ALL_FAMILIES.filter((f) => f.kind === 'histogram').map(exposed));
    const declared = new Set(ALL_FAMILIES.map(exposed));
    const expressions = allExpressions();
    expect(expressions.length).toBeGreaterThan(50);
    for (const { origin, expr } of expressions) {
      const names = metricNames(expr);
      expect(names.length, `${origin} selects a metric`).toBeGreaterThan(0);
      for (const n of names) {
        const fam = familyOf(n, histograms);
        expect(declared.has(fam) || SYNTHETIC.has(n) || recordedNames().has(n), `${origin}: ${n}`).toBe(true);
      }
    }
  });
});

describe('generated files (npm run deploy:generate)', () => {
  it("the PrometheusRule carries the rule file's groups, and is up to date", () => {
    const text = readFileSync(DEPLOY_PATHS.prometheusRule, 'utf8');
    expect(text).toBe(renderPrometheusRule(readFileSync(DEPLOY_PATHS.rules, 'utf8')));
    const rule = parseYaml<{ spec: { groups: unknown } }>(text, 'prometheusrule.yaml');
    expect(rule.spec.groups).toEqual(parseYaml<{ groups: unknown }>(readFileSync(DEPLOY_PATHS.rules, 'utf8'), 'rules').groups);
  });

  it('the dashboard is up to date', () => {
    expect(readFileSync(DEPLOY_PATHS.dashboard, 'utf8')).toBe(renderDashboard());
  });
});
