/**
 * Series that exist before their first event (#18 part 1): counters whose label values are known in
 * advance are exported at 0, so that the first occurrence is an increase Prometheus sees. The self-health
 * counters the deploy/ rules and dashboard query (the list is read from deploy/, so it cannot drift), the
 * lifecycle counters of every server the inventory knows and the invocation counters of every tool it
 * lists — and nothing the sidecar cannot know (no server invented from a tool name).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SELF } from '../../src/telemetry/catalog.ts';
import { requestJson, serverState, startDemoComposer, waitFor, type DemoComposer } from '../fixtures/demo-composer.ts';
import { allExpressions } from '../fixtures/deploy-files.ts';
import { startPrometheus, type TestPrometheus } from '../fixtures/prometheus.ts';
import { metricNames } from '../fixtures/promql-names.ts';
import { scrape, value, type Family } from '../fixtures/scrape.ts';
import { startSidecar, TEST_TOKEN, type TestSidecar } from '../fixtures/sidecar.ts';
import { MISSING_PROMETHEUS, PROMETHEUS } from '../fixtures/tools.ts';
import { startUpstream, type TestUpstream } from '../fixtures/upstream.ts';

/**
 * Self-health counters whose presence the rules read as "this has happened once" (the stream delivered
 * an event; a REST poll succeeded): they stay on demand, and deploy-alert-gates.test.ts checks the gates.
 */
const PRESENCE_GATES = new Set(['sidecar_events_received_total', 'sidecar_inventory_polls_total']);

/** Every `sidecar_*` counter a rule, a panel or a variable of deploy/ queries. */
function queriedSelfHealthCounters(): string[] {
  const counters = new Set(SELF.filter((f) => f.kind === 'counter').map((f) => f.name));
  const names = new Set<string>();
  for (const { expr } of allExpressions()) for (const name of metricNames(expr)) if (counters.has(name)) names.add(name);
  return [...names].sort();
}

function allZero(f: Family | undefined): boolean {
  return f !== undefined && f.samples.length > 0 && f.samples.every((s) => s.value === 0);
}

let upstream: TestUpstream | undefined;
let composer: DemoComposer | undefined;
let sidecar: TestSidecar | undefined;
let prom: TestPrometheus | undefined;
afterEach(async () => {
  await prom?.close();
  await sidecar?.close();
  await composer?.close();
  await upstream?.close();
  prom = undefined;
  sidecar = undefined;
  composer = undefined;
  upstream = undefined;
});

describe('series known in advance', () => {
  it('a fresh sidecar exports every self-health counter the deploy/ rules and dashboard query at 0, with every value of its vocabulary', async () => {
    const queried = queriedSelfHealthCounters().filter((n) => !PRESENCE_GATES.has(n));
    expect(queried).toEqual(
      expect.arrayContaining([
        'sidecar_event_gaps_total',
        'sidecar_event_stream_reconnects_total',
        'sidecar_events_invalid_total',
        'sidecar_proxy_errors_total',
        'sidecar_mcp_pending_dropped_total',
        'sidecar_mcp_unparsed_total',
        'sidecar_label_overflow_total',
      ]),
    );
    // An upstream that serves nothing the sidecar recognises: no poll, no stream, no traffic.
    upstream = await startUpstream((_req, res) => {
      res.statusCode = 404;
      res.end();
    });
    sidecar = await startSidecar(upstream.url);
    const m = await scrape(sidecar.metricsUrl);
    for (const name of queried) expect(allZero(m.get(name)), `${name} is exported, at 0`).toBe(true);
    const values = (name: string, label: string) =>
      m
        .get(name)
        ?.samples.map((s) => s.labels[label])
        .sort();
    expect(values('sidecar_proxy_errors_total', 'kind')).toEqual([
      'bad_request',
      'client_error',
      'connection_limit',
      'host_not_allowed',
      'origin_not_allowed',
      'upstream_aborted',
      'upstream_retried',
      'upstream_timeout',
      'upstream_unavailable',
    ]);
    expect(values('sidecar_events_invalid_total', 'reason')).toEqual([
      'bad_data',
      'bad_envelope',
      'duplicate_id',
      'malformed_json',
      'out_of_order_id',
      'repeated_snapshot',
      'unknown_type',
    ]);
    expect(values('sidecar_mcp_pending_dropped_total', 'reason')).toEqual(['client_gone', 'duplicate_id', 'limit', 'session_closed', 'timeout']);
    expect(values('sidecar_mcp_unparsed_total', 'reason')).toEqual([
      'internal',
      'not_json',
      'not_jsonrpc',
      'session_limit',
      'stream_cut',
      'too_large',
      'unknown_session',
    ]);
    // One overflow series per bounded label in use and reason; the tool labels can be too long, endpoints cannot.
    const overflow = m.get('sidecar_label_overflow_total')?.samples.map((s) => `${s.labels['family']}.${s.labels['label']}.${s.labels['reason']}`) ?? [];
    expect(overflow).toEqual(
      expect.arrayContaining([
        'mcp_http_requests_total.endpoint.limit',
        'mcp_tool_invocations_total.tool_id.limit',
        'mcp_tool_invocations_total.tool_id.too_long',
        'mcp_resource_reads_total.resource_uri.too_long',
        'mcp_server_crashes_total.server_id.limit',
      ]),
    );
    expect(overflow).not.toContain('mcp_http_requests_total.endpoint.too_long');
    // The catalog's counters with a fixed vocabulary start at 0 too; nothing about servers or tools is invented.
    expect(allZero(m.get('mcp_config_reloads_total'))).toBe(true);
    // No family is left out of the exposition, and the counter that would say so is there, at 0.
    expect(allZero(m.get('sidecar_exposition_conflicts_total'))).toBe(true);
    expect(m.get('mcp_auth_attempts_total')?.samples).toHaveLength(9);
    expect(m.get('mcp_auth_failures_total')?.samples).toHaveLength(25);
    for (const name of [
      'mcp_server_crashes_total',
      'mcp_server_starts_total',
      'mcp_tool_invocations_total',
      'mcp_tool_invocation_errors_total',
      'mcp_http_requests_total',
    ]) {
      expect(m.has(name), name).toBe(false);
    }
  });

  it('in front of the demo composer, every server it lists has its lifecycle counters at 0 before any crash, and every tool its invocation counters', async () => {
    composer = await startDemoComposer([]);
    sidecar = await startSidecar(composer.url, ['--poll-interval', '200ms']);
    const s = sidecar;
    const servers = ((await requestJson(`${composer.url}/api/v1/servers`)).body as { servers: Array<{ id: string }> }).servers.map((x) => x.id).sort();
    const tools = ((await requestJson(`${composer.url}/api/v1/tools?limit=1000`)).body as { tools: Array<{ id: string; full_name: string }> }).tools;
    const toolIds = [...new Set(tools.flatMap((t) => [t.id, t.full_name]))].sort();
    expect(servers.length).toBeGreaterThan(1);
    expect(tools.length).toBeGreaterThan(3);
    const m = await waitFor(
      async () => {
        const x = await scrape(s.metricsUrl);
        return (x.get('mcp_tool_invocations_total')?.samples.length ?? 0) >= toolIds.length * 2 ? x : undefined;
      },
      { what: 'the inventory to be read' },
    );

    const crashes = m.get('mcp_server_crashes_total')?.samples ?? [];
    expect(crashes.map((c) => c.labels['server_id']).sort()).toEqual(servers);
    expect(crashes.every((c) => c.value === 0)).toBe(true);
    for (const id of servers) {
      for (const status of ['success', 'failed']) {
        expect(m.get('mcp_server_starts_total')?.samples).toContainEqual({ labels: { server_id: id, status }, value: 0 });
        expect(m.get('mcp_server_stops_total')?.samples).toContainEqual({ labels: { server_id: id, status }, value: 0 });
      }
      for (const reason of ['manual', 'crash', 'config_change'])
        expect(m.get('mcp_server_restarts_total')?.samples).toContainEqual({ labels: { server_id: id, reason }, value: 0 });
    }
    const invocations = m.get('mcp_tool_invocations_total')?.samples ?? [];
    for (const id of toolIds) for (const status of ['success', 'error']) expect(invocations, id).toContainEqual({ labels: { tool_id: id, status }, value: 0 });
    expect(invocations).toHaveLength(toolIds.length * 2);
    // On demand: error types are an open set, durations a histogram per tool.
    expect(m.has('mcp_tool_invocation_errors_total')).toBe(false);
    expect(m.has('mcp_tool_invocation_duration_seconds')).toBe(false);
    // The zero series do not disturb counting: one call is 1.
    await (
      await fetch(`${s.proxyUrl}/api/v1/tools/calc.add/invoke`, {
        method: 'POST',
        body: '{"arguments":{"a":1,"b":2}}',
        headers: { 'content-type': 'application/json' },
      })
    ).text();
    await waitFor(async () => value(await scrape(s.metricsUrl), 'mcp_tool_invocations_total', { tool_id: 'calc.add', status: 'success' }) === 1, {
      what: 'the call to be counted',
    });
    expect(value(await scrape(s.metricsUrl), 'mcp_tool_invocations_total')).toBe(1);
  });

  it('never invents a server: in front of a composer as released (MCP only), tools start at 0 but no lifecycle series exists', async () => {
    composer = await startDemoComposer(['--profile', 'released']);
    sidecar = await startSidecar(composer.url, ['--poll-interval', '200ms']);
    const s = sidecar;
    const m = await waitFor(
      async () => {
        const x = await scrape(s.metricsUrl);
        return value(x, 'mcp_tools_total') > 0 && x.has('mcp_tool_invocations_total') ? x : undefined;
      },
      { what: 'the MCP inventory to be read' },
    );
    const ids = new Set(m.get('mcp_tool_invocations_total')?.samples.map((x) => x.labels['tool_id']));
    expect(ids.has('calc_add')).toBe(true);
    expect(ids.size).toBe(value(m, 'mcp_tools_total'));
    expect(allZero(m.get('mcp_tool_invocations_total'))).toBe(true);
    // Tool names say which servers exist (mcp_tools_by_server), but the sidecar cannot see their lifecycle.
    expect(value(m, 'mcp_tools_by_server', { server_id: 'calc' })).toBeGreaterThan(0);
    for (const name of ['mcp_server_crashes_total', 'mcp_server_starts_total', 'mcp_server_stops_total', 'mcp_server_restarts_total'])
      expect(m.has(name), name).toBe(false);
  });

  it.skipIf(PROMETHEUS === undefined)(
    `a real Prometheus sees the first crash of a server as an increase (kill -9 of a child: increase over 30s ≥ 0.9)${PROMETHEUS === undefined ? ` (skipped: ${MISSING_PROMETHEUS})` : ''}`,
    async () => {
      composer = await startDemoComposer(['--no-events', '--restart-backoff', '300ms']);
      sidecar = await startSidecar(composer.url, ['--poll-interval', '200ms']);
      const s = sidecar;
      await waitFor(async () => (await scrape(s.metricsUrl)).get('mcp_server_crashes_total')?.samples.some((x) => x.labels['server_id'] === 'calc') === true, {
        what: 'the zero series',
      });
      const p = await startPrometheus({ target: new URL(s.metricsUrl).host, token: TEST_TOKEN });
      prom = p;
      // Prometheus holds a few samples at 0 before the crash.
      await waitFor(async () => (await p.query('count_over_time(mcp_server_crashes_total{server_id="calc"}[1m]) >= 3')).length > 0, {
        what: 'samples at 0',
        timeoutMs: 20_000,
        intervalMs: 250,
      });
      const before = await serverState(composer.url, 'calc');
      if (before.pid === null) throw new Error('calc has no pid');
      process.kill(before.pid, 'SIGKILL');
      await waitFor(async () => value(await scrape(s.metricsUrl), 'mcp_server_crashes_total', { server_id: 'calc' }) === 1, {
        what: 'the crash to be counted',
        timeoutMs: 15_000,
      });
      // A series born at 1 would read 0 here for as long as it lives.
      const seen = await waitFor(
        async () => {
          const r = await p.query('increase(mcp_server_crashes_total{server_id="calc"}[30s]) >= 0.9');
          return r.length > 0 ? r : undefined;
        },
        { what: 'Prometheus to see the increase', timeoutMs: 20_000, intervalMs: 250 },
      );
      expect(seen).toHaveLength(1);
    },
    60_000,
  );
});
