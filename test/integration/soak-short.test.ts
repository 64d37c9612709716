/**
 * The soak's short version (`npm run soak -- --minutes N` is the long one): mixed traffic for a few seconds —
 * random paths, SSE and WebSocket churn, MCP sessions opened and abandoned with requests pending — then the
 * sidecar's state must return to rest: no open stream, no MCP session, no pending request, and every label
 * within its bound of distinct values.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runMixedTraffic } from '../../scripts/lib/mixed-traffic.ts';
import { knownLabelValues, seriesReport, type SeriesReport } from '../../scripts/lib/series.ts';
import { startDemoComposer, type DemoComposer } from '../fixtures/demo-composer.ts';
import { scrapeText } from '../fixtures/scrape.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';

const TOKEN = 'soak-composer-token';
const MAX_LABEL_VALUES = 20;

let composer: DemoComposer | undefined;
let sidecar: TestSidecar | undefined;
afterEach(async () => {
  await sidecar?.close();
  await composer?.close();
  sidecar = undefined;
  composer = undefined;
});

describe('soak (short)', () => {
  it('after mixed traffic with abandoned streams, sessions and pending calls, open streams, sessions and pending requests return to 0 and every label stays within its bound', async () => {
    composer = await startDemoComposer(['--servers', '3', '--auth-token', TOKEN, '--keepalive-interval', '1s']);
    sidecar = await startSidecar(composer.url, [
      '--log-level',
      'warn',
      '--max-label-values',
      String(MAX_LABEL_VALUES),
      '--mcp-pending-timeout',
      '2s',
      '--mcp-session-idle-timeout',
      '2s',
    ]);
    const stop = new AbortController();
    const traffic = runMixedTraffic({ proxyUrl: sidecar.proxyUrl, token: TOKEN, concurrency: 6, signal: stop.signal, seed: 7 });
    const s = sidecar;
    const peak = { openStreams: 0, sessionsActive: 0, pendingRequests: 0 };
    for (let i = 0; i < 24; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const during: SeriesReport = seriesReport(await scrapeText(s.metricsUrl));
      peak.openStreams = Math.max(peak.openStreams, during.openStreams);
      peak.sessionsActive = Math.max(peak.sessionsActive, during.sessionsActive);
      peak.pendingRequests = Math.max(peak.pendingRequests, during.pendingRequests);
    }
    stop.abort();
    const stats = await traffic;
    expect(Object.values(stats.actions).reduce((a, b) => a + b, 0)).toBeGreaterThan(50);
    expect(Object.keys(stats.actions).sort()).toEqual(['mcp_abandon_pending', 'mcp_session', 'rest_invoke', 'rest_random_path', 'sse_churn', 'ws_churn']);
    // The churn did build up state (streams and sessions open at once) before it had to drain.
    expect(peak.openStreams).toBeGreaterThan(0);
    expect(peak.sessionsActive).toBeGreaterThan(0);

    // The sidecar has no token for the composer's REST API: it knows the route templates, not the inventory.
    const known = await knownLabelValues(composer.url);
    let rest = seriesReport(await scrapeText(s.metricsUrl), known);
    for (let i = 0; i < 100 && (rest.openStreams !== 0 || rest.sessionsActive !== 0 || rest.pendingRequests !== 0); i++) {
      await new Promise((r) => setTimeout(r, 200));
      rest = seriesReport(await scrapeText(s.metricsUrl), known);
    }
    expect({ openStreams: rest.openStreams, sessionsActive: rest.sessionsActive, pendingRequests: rest.pendingRequests }).toEqual({
      openStreams: 0,
      sessionsActive: 0,
      pendingRequests: 0,
    });
    // Random paths and ids overflowed the bound: the label folded them into __other__. Every bounded label
    // holds at most the bound of values from traffic, plus __other__, besides the values known in advance.
    expect(rest.labelOverflows).toBeGreaterThan(0);
    for (const [family, { label, values }] of Object.entries(rest.maxLabelValues)) {
      expect(values, `${family}{${label}}`).toBeLessThanOrEqual(MAX_LABEL_VALUES + 1);
    }
  }, 90_000);
});
