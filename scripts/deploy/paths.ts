/** Where the deploy/ files live, for the generator and the tests. */
import { fileURLToPath } from 'node:url';

const at = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));

export const DEPLOY_PATHS = {
  rules: at('deploy/prometheus/rules/mcp-composer-sidecar.rules.yml'),
  ruleTests: at('deploy/prometheus/tests'),
  prometheusConfig: at('deploy/prometheus/prometheus.yml'),
  federationConfig: at('deploy/prometheus/federation.yml'),
  prometheusRule: at('deploy/kubernetes/components/prometheusrule/prometheusrule.yaml'),
  kubernetes: at('deploy/kubernetes'),
  dashboard: at('deploy/grafana/dashboards/mcp-composer-sidecar.json'),
  grafanaProvisioning: at('deploy/grafana/provisioning'),
  dockerfile: at('deploy/docker/Dockerfile'),
  dockerignore: at('.dockerignore'),
  runbook: at('docs/runbook.md'),
} as const;
