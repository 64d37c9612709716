/**
 * deploy/grafana: the dashboard is importable JSON whose panels run the composer's seven report queries
 * verbatim plus filtered rows, all on a datasource variable, with job/instance/server_id/tool_id
 * variables; the provisioning files point Grafana at it. (Names and PromQL are checked by
 * deploy-rules.test.ts, deploy-promtool.test.ts and, against a real scrape, deploy-metric-names.test.ts.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TRACE_DATASOURCE_VARIABLE, TRACE_DATASOURCES } from '../../scripts/deploy/dashboard.ts';
import { dashboard, DEPLOY_PATHS, parseYaml, type DashboardPanel } from '../fixtures/deploy-files.ts';
import { SEED_QUERIES } from '../fixtures/seed-queries.ts';

const d = dashboard();
const panels = d.panels.filter((p) => p.type !== 'row');
const rows = d.panels.filter((p) => p.type === 'row');
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template literal.
const DS = '${datasource}';

describe('the Grafana dashboard', () => {
  it('has a stable uid, a title and unique panel ids', () => {
    expect(d.uid).toBe('mcp-composer-sidecar');
    expect(d.title).toBeTruthy();
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("runs each of the composer's seven report queries verbatim", () => {
    const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    for (const q of SEED_QUERIES) expect(exprs, q).toContain(q);
  });

  it('has a Prometheus datasource variable, used by every panel and query', () => {
    const ds = d.templating.list.find((v) => v.type === 'datasource');
    expect(ds?.name).toBe('datasource');
    expect(ds?.query).toBe('prometheus');
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: DS });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) expect(t.datasource, p.title).toEqual({ type: 'prometheus', uid: DS });
    }
  });

  it('has job, instance, server_id and tool_id variables, and queries use them', () => {
    const vars = d.templating.list.filter((v) => v.type === 'query');
    expect(vars.map((v) => v.name)).toEqual(['job', 'instance', 'server_id', 'tool_id']);
    for (const v of vars) expect(v.datasource, v.name).toEqual({ type: 'prometheus', uid: DS });
    const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    for (const name of ['job', 'instance', 'server_id', 'tool_id'])
      expect(
        exprs.some((e) => e.includes(`$${name}`)),
        name,
      ).toBe(true);
    // Every query outside the verbatim overview row is scoped to the selected job.
    const seed = new Set<string>(SEED_QUERIES);
    for (const e of exprs) if (!seed.has(e)) expect(e).toContain('job="$job"');
  });

  it('has rows for tools, servers and lifecycle, auth, rate limiting, configuration and sidecar health', () => {
    const titles = rows.map((r) => (r as DashboardPanel).title).join(' | ');
    for (const word of ['Overview', 'Tools', 'lifecycle', 'Authentication', 'Rate limiting', 'Configuration', 'Sidecar health']) expect(titles).toContain(word);
  });

  it('queries exemplars on the latency panels of the histograms that carry them, and nowhere else', () => {
    const WITH_EXEMPLARS = [
      'mcp_tool_invocation_duration_seconds_bucket',
      'mcp_resource_read_duration_seconds_bucket',
      'mcp_server_operation_duration_seconds_bucket',
      'mcp_http_request_duration_seconds_bucket',
    ];
    const targets = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })));
    const withExemplars = targets.filter((t) => t.exemplar === true);
    for (const t of withExemplars) {
      expect(t.expr, t.panel).toMatch(/^histogram_quantile\(/);
      expect(
        WITH_EXEMPLARS.some((name) => t.expr.includes(name)),
        t.panel,
      ).toBe(true);
    }
    // Every such histogram has a panel showing its exemplars, the seed's p95 panel included.
    for (const name of WITH_EXEMPLARS)
      expect(
        withExemplars.some((t) => t.expr.includes(name)),
        name,
      ).toBe(true);
    expect(withExemplars.map((t) => t.panel)).toContain('Tool invocation latency (p95)');
    // One query per panel asks for them (several quantiles of one histogram would show the same points).
    const perPanel = new Map<string, number>();
    for (const t of withExemplars) perPanel.set(t.panel, (perPanel.get(t.panel) ?? 0) + 1);
    expect([...perPanel.values()].every((n) => n === 1)).toBe(true);
    for (const t of targets) expect(typeof t.exemplar, t.panel).toBe('boolean');
  });

  it('has a trace data source variable (Tempo or Jaeger) for the exemplar links', () => {
    const v = d.templating.list.find((x) => x.name === TRACE_DATASOURCE_VARIABLE);
    expect(v?.type).toBe('custom');
    expect(v?.query).toBe('tempo,jaeger');
    expect(v?.options?.map((o) => o.value)).toEqual([...TRACE_DATASOURCES]);
    expect(v?.current?.value).toBe('tempo');
  });

  it('lays panels out on the 24-column grid without overlaps', () => {
    const cells = new Set<string>();
    for (const p of d.panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x + w, p.title).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          expect(cells.has(`${i},${j}`), `${p.title} overlaps at ${i},${j}`).toBe(false);
          cells.add(`${i},${j}`);
        }
      }
    }
  });
});

describe('Grafana provisioning', () => {
  const dir = DEPLOY_PATHS.grafanaProvisioning;

  it('provisions a Prometheus datasource', () => {
    const files = readdirSync(join(dir, 'datasources'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const ds = parseYaml<{ apiVersion: number; datasources: Array<{ type: string; url: string }> }>(readFileSync(join(dir, 'datasources', f), 'utf8'), f);
      expect(ds.apiVersion).toBe(1);
      expect(ds.datasources.map((s) => s.type)).toEqual(['prometheus']);
      expect(() => new URL(ds.datasources[0]!.url)).not.toThrow();
    }
  });

  it("links the exemplars' trace_id to the trace data source the dashboard variable names, escaped for provisioning", () => {
    const ds = parseYaml<{
      datasources: Array<{ jsonData: { exemplarTraceIdDestinations?: Array<{ name: string; url?: string; urlDisplayLabel?: string }> } }>;
    }>(readFileSync(join(dir, 'datasources', 'prometheus.yaml'), 'utf8'), 'prometheus.yaml');
    const destinations = ds.datasources[0]!.jsonData.exemplarTraceIdDestinations ?? [];
    expect(destinations).toHaveLength(1);
    const [link] = destinations;
    // The label the sidecar's exemplars carry.
    expect(link!.name).toBe('trace_id');
    // `$$` is a literal `$` in provisioning: Grafana interpolates the variable and the trace id at click time.
    expect(link!.url).toContain(`"datasource":"$\${${TRACE_DATASOURCE_VARIABLE}}"`);
    expect(link!.url).toContain('"query":"$${__value.raw}"');
    expect(link!.url).not.toMatch(/(^|[^$])\$\{/);
    const panes = new URLSearchParams(link!.url!.split('?')[1]).get('panes')!;
    expect(JSON.parse(panes)).toMatchObject({ trace: { queries: [{ refId: 'A' }], range: { from: 'now-1h', to: 'now' } } });
  });

  it('provisions the dashboard folder through a file provider', () => {
    const files = readdirSync(join(dir, 'dashboards'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const p = parseYaml<{ apiVersion: number; providers: Array<{ type: string; options: { path: string } }> }>(
        readFileSync(join(dir, 'dashboards', f), 'utf8'),
        f,
      );
      expect(p.apiVersion).toBe(1);
      expect(p.providers).toHaveLength(1);
      expect(p.providers[0]!.type).toBe('file');
      expect(p.providers[0]!.options.path).toMatch(/^\//);
    }
  });
});
