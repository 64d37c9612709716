/**
 * promtool on deploy/: the rule file passes `check rules` and its unit tests (`test rules`), the example
 * prometheus.yml passes `check config`, and every dashboard query parses as PromQL.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { dashboard, DEPLOY_PATHS, parseYaml } from '../fixtures/deploy-files.ts';
import { MISSING_PROMETHEUS, PROMTOOL } from '../fixtures/tools.ts';

function promtool(args: readonly string[], cwd?: string): { status: number; output: string } {
  const r = spawnSync(PROMTOOL ?? 'promtool', args, { encoding: 'utf8', ...(cwd ? { cwd } : {}) });
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

/** A dashboard query with Grafana's variables replaced by values PromQL accepts. */
const substitute = (expr: string) =>
  expr
    .replaceAll('$__rate_interval', '2m')
    .replaceAll('$__range', '6h')
    .replace(/\$\{?(\w+)\}?/g, (_, name: string) => (name === 'job' ? 'mcp-composer' : '.*'));

describe.skipIf(PROMTOOL === undefined)(`promtool on deploy/${PROMTOOL === undefined ? ` (skipped: ${MISSING_PROMETHEUS})` : ''}`, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sidecar-promtool-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('check rules: the rule file is valid', () => {
    const r = promtool(['check', 'rules', DEPLOY_PATHS.rules]);
    expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });

  it('test rules: every unit test of every alert passes', () => {
    const files = readdirSync(DEPLOY_PATHS.ruleTests).filter((f) => f.endsWith('.test.yml'));
    const r = promtool(['test', 'rules', ...files], DEPLOY_PATHS.ruleTests);
    expect(r.output).not.toMatch(/FAILED/);
    expect(r.output.match(/SUCCESS/g)).toHaveLength(files.length);
    expect(r.status).toBe(0);
  });

  it('check config: prometheus.yml is valid, with its rule file and a bearer token read from a file', () => {
    const config = parseYaml<{ rule_files: string[]; scrape_configs: Array<Record<string, unknown>> }>(
      readFileSync(DEPLOY_PATHS.prometheusConfig, 'utf8'),
      'prometheus.yml',
    );
    const job = config.scrape_configs.find((j) => j['job_name'] === 'mcp-composer')!;
    expect(job['authorization']).toEqual({ type: 'Bearer', credentials_file: expect.stringMatching(/^\//) });
    // Debian's promtool is built without Kubernetes discovery: check the rest with a static target, and the
    // token path with a file that exists.
    const token = join(dir, 'token');
    writeFileSync(token, 'x');
    (job['authorization'] as Record<string, string>)['credentials_file'] = token;
    expect(Object.keys(job)).toContain('kubernetes_sd_configs');
    delete job['kubernetes_sd_configs'];
    job['static_configs'] = [{ targets: ['127.0.0.1:9464'] }];
    mkdirSync(join(dir, 'rules'), { recursive: true });
    for (const f of config.rule_files) cpSync(join(DEPLOY_PATHS.prometheusConfig, '..', f), join(dir, f));
    writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
    const r = promtool(['check', 'config', join(dir, 'prometheus.yml')]);
    expect(r.output).toMatch(/is valid prometheus config file syntax/);
    expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });

  it('check config: federation.yml (the global Prometheus of a fleet) is valid', () => {
    const r = promtool(['check', 'config', DEPLOY_PATHS.federationConfig]);
    expect(r.output).toMatch(/is valid prometheus config file syntax/);
    expect(r.status).toBe(0);
  });

  it('every dashboard query parses as PromQL', () => {
    const rules = dashboard().panels.flatMap((p) => (p.targets ?? []).map((t, i) => ({ record: `dashboard:panel_${p.id}_${i}`, expr: substitute(t.expr) })));
    expect(rules.length).toBeGreaterThan(40);
    const file = join(dir, 'dashboard.rules.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
    const r = promtool(['check', 'rules', file]);
    expect(r.output).toMatch(new RegExp(`SUCCESS: ${rules.length} rules found`));
    expect(r.status).toBe(0);
  });
});
