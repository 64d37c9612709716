/**
 * The alert rules on a real Prometheus scraping a real sidecar in front of a composer as released — no
 * REST API, no event stream. The sidecar then reports `sidecar_event_stream_connected 0`, no inventory
 * poll at all (source detection found no REST API; inventory comes from MCP), and the rules must stay
 * silent: a healthy composer of that kind raises no alert.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoComposer, waitFor, type DemoComposer } from '../fixtures/demo-composer.ts';
import { alertRules, DEPLOY_PATHS } from '../fixtures/deploy-files.ts';
import { startPrometheus, type TestPrometheus } from '../fixtures/prometheus.ts';
import { scrape, value } from '../fixtures/scrape.ts';
import { startSidecar, TEST_TOKEN, type TestSidecar } from '../fixtures/sidecar.ts';
import { MISSING_PROMETHEUS, PROMETHEUS } from '../fixtures/tools.ts';

describe.skipIf(PROMETHEUS === undefined)(
  `the alert rules against a composer without REST API or event stream${PROMETHEUS === undefined ? ` (skipped: ${MISSING_PROMETHEUS})` : ''}`,
  () => {
    let composer: DemoComposer;
    let sidecar: TestSidecar;
    let prom: TestPrometheus;

    beforeAll(async () => {
      composer = await startDemoComposer(['--profile', 'released']);
      sidecar = await startSidecar(composer.url, ['--poll-interval', '250ms']);
      await waitFor(
        async () => {
          const m = await scrape(sidecar.metricsUrl);
          // Detection found no REST API (so no poller runs) and the stream was tried once.
          return value(m, 'sidecar_source_available', { source: 'rest' }) === 0 && m.has('sidecar_event_stream_connected') && value(m, 'mcp_tools_total') > 0;
        },
        { what: 'source detection, MCP inventory and the first stream attempt' },
      );
      // With the rule file, so the recorded fleet series the alerts read exist as in production.
      prom = await startPrometheus({ target: new URL(sidecar.metricsUrl).host, token: TEST_TOKEN, ruleFiles: [DEPLOY_PATHS.rules] });
      // Until the first scrape, every expression is empty for want of data.
      await waitFor(async () => (await prom.query('sidecar_event_stream_connected == 0 and on() sidecar_source_available{source="rest"} == 0')).length > 0, {
        what: 'the first scrape',
        timeoutMs: 20_000,
        intervalMs: 250,
      });
    }, 60_000);

    afterAll(async () => {
      await prom?.close();
      await sidecar?.close();
      await composer?.close();
    });

    it('reads 0 for the event stream, runs no REST poll, and has received no event', async () => {
      const m = await scrape(sidecar.metricsUrl);
      expect(value(m, 'sidecar_event_stream_connected')).toBe(0);
      expect(m.has('sidecar_inventory_poll_up')).toBe(false);
      expect(m.has('sidecar_events_received_total')).toBe(false);
      expect(m.has('sidecar_inventory_polls_total')).toBe(false);
      expect(value(m, 'sidecar_upstream_up')).toBe(1);
    });

    it('every alert expression evaluates, and none is true (the job-name alerts aside: this Prometheus names its job otherwise)', async () => {
      const rules = alertRules().filter((r) => !r.expr.includes('job="mcp-composer"'));
      expect(rules.map((r) => r.alert)).toEqual(
        expect.arrayContaining(['McpComposerEventStreamDisconnected', 'McpComposerInventoryPollFailing', 'McpComposerUpstreamUnreachable']),
      );
      for (const r of rules) expect(await prom.query(r.expr), r.alert).toEqual([]);
    });
  },
);
