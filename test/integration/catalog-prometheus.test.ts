/**
 * The composer's own dashboards work unchanged: a real Prometheus scrapes the sidecar with its bearer
 * token, and each of the seven PromQL queries of the composer's monitoring report returns data. The full
 * scrape passes promtool except for the `_total` suffix the composer gave five gauges.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoComposer, waitFor, type DemoComposer } from '../fixtures/demo-composer.ts';
import { startPrometheus, type TestPrometheus } from '../fixtures/prometheus.ts';
import { FULL_TOKEN, MIX_COMPOSER_FLAGS, runScriptedMix } from '../fixtures/rest-traffic.ts';
import { scrapeText } from '../fixtures/scrape.ts';
import { SEED_QUERIES } from '../fixtures/seed-queries.ts';
import { startSidecar, TEST_TOKEN, type TestSidecar } from '../fixtures/sidecar.ts';
import { MISSING_PROMETHEUS, PROMETHEUS, PROMTOOL, promtoolCheckMetrics } from '../fixtures/tools.ts';

/** Gauges the composer named with `_total`; the catalog keeps the names for compatibility. */
const TOTAL_GAUGES = ['mcp_servers_total', 'mcp_tools_total', 'mcp_prompts_total', 'mcp_resources_total', 'mcp_tool_conflicts_total'];

describe('against the demo composer with a real Prometheus and promtool', () => {
  let composer: DemoComposer;
  let sidecar: TestSidecar;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sidecar-prom-catalog-'));
    writeFileSync(join(dir, 'token'), FULL_TOKEN, { mode: 0o600 });
    composer = await startDemoComposer(['--no-events', ...MIX_COMPOSER_FLAGS]);
    sidecar = await startSidecar(composer.url, ['--upstream-token-file', join(dir, 'token'), '--poll-interval', '250ms']);
    await runScriptedMix(sidecar.proxyUrl, composer.url);
  }, 90_000);

  afterAll(async () => {
    await sidecar?.close();
    await composer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(PROMTOOL === undefined)(
    `promtool finds nothing but the _total suffix of the five catalog gauges${PROMTOOL === undefined ? ` (skipped: ${MISSING_PROMETHEUS})` : ''}`,
    async () => {
      const { output } = promtoolCheckMetrics(await scrapeText(sidecar.metricsUrl));
      const lines = output
        .trim()
        .split('\n')
        .filter((l) => l !== '');
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        expect(line).toMatch(/non-counter metrics should not have "_total" suffix$/);
        expect(TOTAL_GAUGES.some((g) => line.startsWith(`${g} `))).toBe(true);
      }
      expect(new Set(lines.map((l) => l.split(' ')[0]))).toEqual(new Set(TOTAL_GAUGES));
    },
  );

  it.skipIf(PROMETHEUS === undefined)(
    `each of the seed's seven Grafana queries returns data from a real Prometheus${PROMETHEUS === undefined ? ` (skipped: ${MISSING_PROMETHEUS})` : ''}`,
    async () => {
      const target = new URL(sidecar.metricsUrl).host;
      const prom: TestPrometheus = await startPrometheus({ target, token: TEST_TOKEN });
      try {
        for (const q of SEED_QUERIES) {
          const result = await waitFor(
            async () => {
              const r = await prom.query(q);
              return r.length > 0 ? r : undefined;
            },
            { what: `a result for ${q}`, timeoutMs: 30_000, intervalMs: 250 },
          );
          expect(result.length, q).toBeGreaterThan(0);
        }
        const up = await prom.query('up{job="mcp-composer-sidecar"}');
        expect((up[0] as { value: [number, string] }).value[1]).toBe('1');
      } finally {
        await prom.close();
      }
    },
    60_000,
  );
});
