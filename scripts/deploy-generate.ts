/**
 * Writes the generated deploy/ files: the PrometheusRule (from the plain rule file) and the Grafana
 * dashboard (from scripts/deploy/dashboard.ts). `--check` writes nothing and exits 1 when a file is out of
 * date. A unit test runs the same check.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { renderDashboard } from './deploy/dashboard.ts';
import { DEPLOY_PATHS } from './deploy/paths.ts';
import { renderPrometheusRule } from './deploy/prometheus-rule.ts';

const outputs: Array<[path: string, text: string]> = [
  [DEPLOY_PATHS.prometheusRule, renderPrometheusRule(readFileSync(DEPLOY_PATHS.rules, 'utf8'))],
  [DEPLOY_PATHS.dashboard, renderDashboard()],
];

const check = process.argv.includes('--check');
let stale = 0;
for (const [path, text] of outputs) {
  let current: string | undefined;
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) continue;
  const name = relative(process.cwd(), path);
  if (check) {
    stale++;
    console.error(`${name} is out of date: run npm run deploy:generate`);
  } else {
    writeFileSync(path, text);
    console.log(`${name} written`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
