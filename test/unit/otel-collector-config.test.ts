/**
 * otel-collector.yaml at the repository top: it parses, every pipeline references components that are
 * defined (and every defined component is used), and the scrape job matches the sidecar's defaults read
 * from the option table (metrics port, /metrics, bearer token from a file).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { optionByKey } from '../../src/config/options.ts';
import { parseHostPort } from '../../src/config/values.ts';
import { expectConsistentPipelines, loadCollectorConfig, type CollectorConfig } from '../fixtures/collector-config.ts';
import { ROOT } from '../fixtures/sidecar.ts';

interface ScrapeConfig {
  job_name: string;
  scheme?: string;
  metrics_path?: string;
  authorization?: { type?: string; credentials?: string; credentials_file?: string };
  static_configs?: Array<{ targets?: string[] }>;
}

const load = (): CollectorConfig => loadCollectorConfig(join(ROOT, 'otel-collector.yaml'));

function scrapeJobs(config: CollectorConfig): Array<{ receiver: string; job: ScrapeConfig }> {
  const out: Array<{ receiver: string; job: ScrapeConfig }> = [];
  for (const [id, body] of Object.entries(config.receivers)) {
    if (id.split('/')[0] !== 'prometheus') continue;
    for (const job of (body as { config: { scrape_configs: ScrapeConfig[] } }).config.scrape_configs) out.push({ receiver: id, job });
  }
  return out;
}

describe('otel-collector.yaml', () => {
  it('parses as YAML with unique keys', () => {
    const config = load();
    for (const section of ['receivers', 'processors', 'exporters', 'service'] as const) expect(config[section]).toBeTypeOf('object');
  });

  it('references only defined components in every pipeline, and defines none it does not use', () => {
    expectConsistentPipelines(load());
  });

  it('receives OTLP over gRPC and HTTP on the standard ports, and exports to debug plus a remote backend', () => {
    const config = load();
    const otlp = config.receivers['otlp'] as { protocols: { grpc: { endpoint: string }; http: { endpoint: string } } };
    expect(otlp.protocols.grpc.endpoint).toMatch(/:4317$/);
    expect(otlp.protocols.http.endpoint).toMatch(/:4318$/);
    const exporters = Object.keys(config.exporters);
    expect(exporters).toContain('debug');
    expect(exporters.some((e) => /^(otlphttp|otlp|prometheusremotewrite)(\/|$)/.test(e))).toBe(true);
    expect(config.service.pipelines['traces']?.receivers).toContain('otlp');
  });

  it("scrapes the sidecar's default metrics port and path with a bearer token read from a file", () => {
    const config = load();
    const jobs = scrapeJobs(config);
    expect(jobs).toHaveLength(1);
    const { receiver, job } = jobs[0]!;
    const metricsListen = parseHostPort(optionByKey('metricsListen')?.default ?? '');
    expect(job.metrics_path).toBe('/metrics');
    expect(job.scheme ?? 'http').toBe('http');
    const targets = (job.static_configs ?? []).flatMap((s) => s.targets ?? []);
    expect(targets.length).toBeGreaterThan(0);
    for (const t of targets) expect(parseHostPort(t).port).toBe(metricsListen.port);
    expect(job.authorization?.type).toBe('Bearer');
    expect(job.authorization?.credentials).toBeUndefined();
    expect(job.authorization?.credentials_file).toMatch(/^\//);
    expect(Object.values(config.service.pipelines).some((p) => p.receivers?.includes(receiver))).toBe(true);
  });
});
