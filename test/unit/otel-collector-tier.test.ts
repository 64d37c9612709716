/**
 * deploy/otel-collector: the two-layer collector tier for many sidecars. Both files parse and are wired
 * consistently; the load-balancing tier routes whole traces (trace id) and whole metric streams (stream
 * id) to the gateways it resolves, over TLS, on the port the gateways listen on; the gateways tail-sample
 * keeping errors and traces slower than the tool latency alert's threshold; no credential is written in
 * the files.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alertRules } from '../fixtures/deploy-files.ts';
import { expectConsistentPipelines, loadCollectorConfig, type CollectorConfig } from '../fixtures/collector-config.ts';
import { ROOT } from '../fixtures/sidecar.ts';

const dir = join(ROOT, 'deploy/otel-collector');
const lb = (): CollectorConfig => loadCollectorConfig(join(dir, 'loadbalancer.yaml'));
const gateway = (): CollectorConfig => loadCollectorConfig(join(dir, 'gateway.yaml'));

interface LoadBalancing {
  routing_key: string;
  protocol: { otlp: { tls?: { ca_file?: string; insecure?: boolean } } };
  resolver: { dns?: { hostname: string; port: number } };
}

const portOf = (endpoint: string) => Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));

/** Every string value under `node`, with its path. */
function strings(node: unknown, path = ''): Array<[string, string]> {
  if (typeof node === 'string') return [[path, node]];
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) => strings(v, `${path}.${k}`));
}

describe('the collector tier', () => {
  it('parses, and every pipeline references defined components, memory_limiter first and batch last', () => {
    expectConsistentPipelines(lb());
    expectConsistentPipelines(gateway());
  });

  it("load-balances traces by trace id and metrics by stream id, to the gateways' OTLP port, over TLS", () => {
    const l = lb();
    const g = gateway();
    const otlp = l.receivers['otlp'] as { protocols: { grpc: { endpoint: string }; http: { endpoint: string } } };
    expect(portOf(otlp.protocols.grpc.endpoint)).toBe(4317);
    expect(portOf(otlp.protocols.http.endpoint)).toBe(4318);
    const gatewayPort = portOf((g.receivers['otlp'] as { protocols: { grpc: { endpoint: string } } }).protocols.grpc.endpoint);
    const expected: Record<string, string> = { traces: 'traceID', metrics: 'streamID' };
    const hosts = new Set<string>();
    for (const [name, pipeline] of Object.entries(l.service.pipelines)) {
      expect(pipeline.exporters, name).toHaveLength(1);
      const id = pipeline.exporters![0]!;
      expect(id.split('/')[0], name).toBe('loadbalancing');
      const exp = l.exporters[id] as LoadBalancing;
      expect(exp.routing_key, name).toBe(expected[name.split('/')[0]!]);
      expect(exp.resolver.dns?.port, name).toBe(gatewayPort);
      hosts.add(exp.resolver.dns?.hostname ?? '');
      expect(exp.protocol.otlp.tls?.insecure ?? false, name).toBe(false);
      expect(exp.protocol.otlp.tls?.ca_file, name).toMatch(/^\//);
    }
    expect(Object.keys(l.service.pipelines).sort()).toEqual(['metrics', 'traces']);
    // One gateway Service, headless (the DNS resolver needs one address per gateway).
    expect([...hosts]).toHaveLength(1);
    expect([...hosts][0]).toMatch(/headless/);
    const tls = (g.receivers['otlp'] as { protocols: { grpc: { tls?: { cert_file?: string; key_file?: string } } } }).protocols.grpc.tls;
    expect(tls?.cert_file).toMatch(/^\//);
    expect(tls?.key_file).toMatch(/^\//);
  });

  it('tail-samples whole traces on the gateways: every error, every trace slower than the tool latency alert, a share of the rest', () => {
    const g = gateway();
    const traces = g.service.pipelines['traces']!;
    expect(traces.processors).toEqual(['memory_limiter', 'tail_sampling', 'batch']);
    const policies = (
      g.processors['tail_sampling'] as {
        policies: Array<{
          type: string;
          status_code?: { status_codes: string[] };
          latency?: { threshold_ms: number };
          probabilistic?: { sampling_percentage: number };
        }>;
      }
    ).policies;
    expect(policies.find((p) => p.type === 'status_code')?.status_code?.status_codes).toEqual(['ERROR']);
    const alert = alertRules().find((a) => a.alert === 'McpToolLatencyP95High')!;
    const thresholdSeconds = Number(/\)\s*>\s*([\d.]+)/.exec(alert.expr)?.[1]);
    expect(thresholdSeconds).toBeGreaterThan(0);
    expect(policies.find((p) => p.type === 'latency')?.latency?.threshold_ms).toBe(thresholdSeconds * 1000);
    const share = policies.find((p) => p.type === 'probabilistic')?.probabilistic?.sampling_percentage ?? 0;
    expect(share).toBeGreaterThan(0);
    expect(share).toBeLessThan(100);
    // Metrics are not sampled.
    expect(g.service.pipelines['metrics']?.processors).toEqual(['memory_limiter', 'batch']);
  });

  it('writes no credential: every authorization header comes from the environment', () => {
    for (const config of [lb(), gateway()]) {
      const headers = strings(config).filter(([path]) => /\.headers\./.test(path));
      for (const [path, value] of headers) expect(value, path).toMatch(/^Bearer \$\{env:[A-Z_]+\}$/);
    }
    expect(strings(gateway()).some(([path]) => path.endsWith('.headers.authorization'))).toBe(true);
  });
});
