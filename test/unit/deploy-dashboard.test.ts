/**
 * deploy/grafana: the dashboard is importable JSON whose panels run the composer's seven report queries
 * verbatim plus filtered rows, all on a datasource variable, with job/instance/server_id/tool_id
 * variables; the provisioning files point Grafana at it. (Names and PromQL are checked by
 * deploy-rules.test.ts, deploy-promtool.test.ts and, against a real scrape, deploy-metric-names.test.ts.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dashboard, DEPLOY_PATHS, parseYaml, type DashboardPanel } from '../fixtures/deploy-files.ts';
import { SEED_QUERIES } from '../fixtures/seed-queries.ts';

const d = dashboard();
const panels = d.panels.filter((p) => p.type !== 'row');
const rows = d.panels.filter((p) => p.type === 'row');
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
    for (const name of ['job', 'instance', 'server_id', 'tool_id']) expect(exprs.some((e) => e.includes(`$${name}`)), name).toBe(true);
    // Every query outside the verbatim overview row is scoped to the selected job.
    const seed = new Set<string>(SEED_QUERIES);
    for (const e of exprs) if (!seed.has(e)) expect(e).toContain('job="$job"');
  });

  it('has rows for tools, servers and lifecycle, auth, rate limiting, configuration and sidecar health', () => {
    const titles = rows.map((r) => (r as DashboardPanel).title).join(' | ');
    for (const word of ['Overview', 'Tools', 'lifecycle', 'Authentication', 'Rate limiting', 'Configuration', 'Sidecar health']) expect(titles).toContain(word);
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

  it('provisions the dashboard folder through a file provider', () => {
    const files = readdirSync(join(dir, 'dashboards'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const p = parseYaml<{ apiVersion: number; providers: Array<{ type: string; options: { path: string } }> }>(readFileSync(join(dir, 'dashboards', f), 'utf8'), f);
      expect(p.apiVersion).toBe(1);
      expect(p.providers).toHaveLength(1);
      expect(p.providers[0]!.type).toBe('file');
      expect(p.providers[0]!.options.path).toMatch(/^\//);
    }
  });
});
