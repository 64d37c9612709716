/**
 * otel-collector.yaml at the repository top: it parses, every pipeline references components that are
 * defined (and every defined component is used), and the scrape job matches the sidecar's defaults read
 * from the option table (metrics port, /metrics, bearer token from a file).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { optionByKey } from '../../src/config/options.ts';
import { parseHostPort } from '../../src/config/values.ts';
import { ROOT } from '../fixtures/sidecar.ts';

type Section = Record<string, unknown>;
interface Pipeline {
  receivers?: string[];
  processors?: string[];
  exporters?: string[];
}
interface CollectorConfig {
  receivers: Section;
  processors: Section;
  exporters: Section;
  extensions?: Section;
  service: { extensions?: string[]; pipelines: Record<string, Pipeline> };
}
interface ScrapeConfig {
  job_name: string;
  scheme?: string;
  metrics_path?: string;
  authorization?: { type?: string; credentials?: string; credentials_file?: string };
  static_configs?: Array<{ targets?: string[] }>;
}

function load(): CollectorConfig {
  const doc = parseDocument(readFileSync(join(ROOT, 'otel-collector.yaml'), 'utf8'), { uniqueKeys: true, prettyErrors: true });
  expect(doc.errors.map((e) => e.message)).toEqual([]);
  expect(doc.warnings.map((e) => e.message)).toEqual([]);
  return doc.toJS() as CollectorConfig;
}

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
    const config = load();
    const used = { receivers: new Set<string>(), processors: new Set<string>(), exporters: new Set<string>() };
    expect(Object.keys(config.service.pipelines).length).toBeGreaterThan(0);
    for (const [name, pipeline] of Object.entries(config.service.pipelines)) {
      expect(['traces', 'metrics', 'logs']).toContain(name.split('/')[0]);
      expect(pipeline.receivers?.length, `${name} has receivers`).toBeGreaterThan(0);
      expect(pipeline.exporters?.length, `${name} has exporters`).toBeGreaterThan(0);
      for (const kind of ['receivers', 'processors', 'exporters'] as const) {
        for (const id of pipeline[kind] ?? []) {
          expect(Object.keys(config[kind]), `${name} uses ${kind} ${id}`).toContain(id);
          used[kind].add(id);
        }
      }
      // The collector's advice: memory_limiter first, batch last.
      expect(pipeline.processors?.[0]).toBe('memory_limiter');
      expect(pipeline.processors?.at(-1)).toBe('batch');
    }
    for (const kind of ['receivers', 'processors', 'exporters'] as const) expect([...used[kind]].sort()).toEqual(Object.keys(config[kind]).sort());
    for (const ext of config.service.extensions ?? []) expect(Object.keys(config.extensions ?? {})).toContain(ext);
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

  it('scrapes the sidecar\'s default metrics port and path with a bearer token read from a file', () => {
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
