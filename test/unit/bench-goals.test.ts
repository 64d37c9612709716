import { describe, expect, it } from 'vitest';
import { goals, type BenchResults } from '../../bench/lib/report.ts';

const spread = (median: number) => ({ median, min: median, max: median, n: 3 });

/** A results object with only the GET scenario, as `npm run bench -- --only get` writes it. */
function getOnly(sidecarCpu: number, bareCpu: number, ratio: number): BenchResults {
  const summary = (cpu: number) => ({ rps: spread(1000), cpuUsPerRequest: spread(cpu), p99Ms: spread(1) });
  return {
    scenarios: {
      get: {
        method: 'GET',
        upstream: 'nginx',
        connections: 64,
        targets: { sidecar: summary(sidecarCpu), 'bare-undici': summary(bareCpu) },
        ratios: { 'sidecar/bare-undici': spread(ratio), 'sidecar/nginx': spread(0.5) },
        samples: [],
        busyRuns: 0,
      },
    },
  } as unknown as BenchResults;
}

const byMeasure = (r: BenchResults, prefix: string) => goals(r).find((g) => g.measure.startsWith(prefix));

describe('bench goals (issue #12)', () => {
  it('does not award the CPU aim when the sidecar costs more than the bare proxy', () => {
    expect(byMeasure(getOnly(29.4, 29.2, 0.98), 'CPU µs')?.status).toBe('MISSED');
    expect(byMeasure(getOnly(27.3, 29.9, 0.98), 'CPU µs')?.status).toBe('aim');
    expect(byMeasure(getOnly(40, 45, 0.98), 'CPU µs')?.status).toBe('must');
  });

  it('judges the GET ratio against its must and aim', () => {
    expect(byMeasure(getOnly(1, 1, 0.94), 'GET req/s, sidecar (all')?.status).toBe('MISSED');
    expect(byMeasure(getOnly(1, 1, 0.95), 'GET req/s, sidecar (all')?.status).toBe('must');
    expect(byMeasure(getOnly(1, 1, 1.25), 'GET req/s, sidecar (all')?.status).toBe('aim');
  });

  it('says "not run" for scenarios that did not run', () => {
    expect(byMeasure(getOnly(1, 1, 1), 'RSS')?.status).toBe('not run');
    expect(byMeasure(getOnly(1, 1, 1), 'MCP')?.status).toBe('not run');
  });
});
