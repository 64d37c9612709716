/**
 * The 33 families, table-driven, against the demo composer without an event stream (the common case):
 * after a scripted traffic mix every counter equals its expected value exactly and every gauge equals the
 * composer's own state — for both of the composer's API shapes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG, OVERFLOW_VALUE } from '../../src/telemetry/catalog.ts';
import { SecretIds } from '../../src/sources/rest/auth.ts';
import { requestJson, startDemoComposer, waitFor, type DemoComposer } from '../fixtures/demo-composer.ts';
import { FULL_TOKEN, MIX_COMPOSER_FLAGS, READONLY_TOKEN, runScriptedMix, type MixResult } from '../fixtures/rest-traffic.ts';
import { histogram, scrape, value, type Family } from '../fixtures/scrape.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';

/** The key of the user_id HMAC (--user-id-key-file), so the expected label can be computed. */
const USER_ID_KEY = 'catalog-test-user-id-key-0123456789';

/** `le` values as prometheus_client writes them. */
function le(buckets: readonly number[]): string[] {
  return [...buckets.map((n) => (n >= 1_000_000 ? `1e+0${Math.log10(n)}` : Number.isInteger(n) ? `${n}.0` : String(n))), '+Inf'];
}

async function composerGet(composer: DemoComposer, path: string): Promise<Record<string, unknown>> {
  const r = await requestJson(`${composer.url}${path}`, { headers: { authorization: `Bearer ${FULL_TOKEN}` } });
  if (r.status !== 200) throw new Error(`${path} answered ${r.status}`);
  return r.body as Record<string, unknown>;
}

describe.each(['code', 'doc'] as const)('the catalog from REST traffic and polling (--api-shape %s)', (shape) => {
  let composer: DemoComposer;
  let sidecar: TestSidecar;
  let dir: string;
  let mix: MixResult;
  let m: Map<string, Family>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sidecar-catalog-'));
    const tokenFile = join(dir, 'upstream-token');
    writeFileSync(tokenFile, FULL_TOKEN, { mode: 0o600 });
    writeFileSync(join(dir, 'user-id-key'), `${USER_ID_KEY}\n`, { mode: 0o600 });
    composer = await startDemoComposer(['--no-events', '--api-shape', shape, ...MIX_COMPOSER_FLAGS]);
    sidecar = await startSidecar(composer.url, [
      '--upstream-token-file',
      tokenFile,
      '--user-id-key-file',
      join(dir, 'user-id-key'),
      '--poll-interval',
      '200ms',
    ]);
    await waitFor(async () => value(await scrape(sidecar.metricsUrl), 'mcp_servers_running') === 3, { what: 'the first poll' });
    mix = await runScriptedMix(sidecar.proxyUrl, composer.url);
    // The crash is seen by a poll difference: wait for it, and for a poll after the last lifecycle change.
    m = await waitFor(
      async () => {
        const s = await scrape(sidecar.metricsUrl);
        return value(s, 'mcp_server_restarts_total', { server_id: 'calc', reason: 'crash' }) >= 1 && value(s, 'mcp_servers_running') === 3 ? s : undefined;
      },
      { what: 'the crash to be counted', timeoutMs: 15_000 },
    );
    await new Promise((r) => setTimeout(r, 600));
    m = await scrape(sidecar.metricsUrl);
  }, 90_000);

  afterAll(async () => {
    await sidecar?.close();
    await composer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves all 33 families with the catalog name, type, labels and buckets', () => {
    expect(CATALOG).toHaveLength(33);
    for (const spec of CATALOG) {
      const fam = m.get(spec.name);
      expect(fam, `${spec.name} is in the scrape`).toBeDefined();
      const type = spec.kind === 'counter' ? 'COUNTER' : spec.kind === 'histogram' ? 'HISTOGRAM' : 'GAUGE';
      expect(fam!.type, spec.name).toBe(type);
      const series = spec.kind === 'histogram' ? fam!.histograms : fam!.samples;
      expect(series.length, `${spec.name} has samples`).toBeGreaterThan(0);
      for (const s of series) expect(Object.keys(s.labels).sort(), spec.name).toEqual([...spec.labels].sort());
      for (const h of fam!.histograms) expect(Object.keys(h.buckets), spec.name).toEqual(le(spec.buckets!));
    }
  });

  it('counts tool invocations exactly, with success:false on a 200 as an error', () => {
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: 'calc.add', status: 'success' })).toBe(3);
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: 'calc.fail', status: 'error' })).toBe(2);
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: 'calc.nope', status: 'error' })).toBe(1);
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: 'files.list_files', status: 'error' })).toBe(1);
    expect(value(m, 'mcp_tool_invocations_total')).toBe(7);
    expect(value(m, 'mcp_tool_invocation_errors_total', { tool_id: 'calc.fail', error_type: 'tool_error' })).toBe(2);
    expect(value(m, 'mcp_tool_invocation_errors_total', { tool_id: 'calc.nope', error_type: 'not_found' })).toBe(1);
    expect(value(m, 'mcp_tool_invocation_errors_total', { tool_id: 'files.list_files', error_type: 'internal' })).toBe(1);
    expect(histogram(m, 'mcp_tool_invocation_duration_seconds', { tool_id: 'calc.add' })?.count).toBe(3);
  });

  it('counts resource reads with the decoded URI', () => {
    expect(value(m, 'mcp_resource_reads_total', { resource_uri: 'calc://constants', status: 'success' })).toBe(2);
    expect(value(m, 'mcp_resource_reads_total', { resource_uri: 'calc://missing', status: 'error' })).toBe(1);
    expect(histogram(m, 'mcp_resource_read_duration_seconds', { resource_uri: 'calc://constants' })?.count).toBe(2);
  });

  it('counts authentication by scheme and reason, authorization checks and denials', () => {
    const sent = mix.client.sent;
    const okWith = (scheme: string) => sent.filter((s) => s.scheme === scheme && s.status !== 401 && s.status !== 429).length;
    expect(value(m, 'mcp_auth_attempts_total', { method: 'bearer', status: 'success' })).toBe(okWith('bearer'));
    expect(value(m, 'mcp_auth_attempts_total', { method: 'bearer', status: 'failed' })).toBe(2);
    expect(value(m, 'mcp_auth_attempts_total', { method: 'api_key', status: 'failed' })).toBe(1);
    expect(value(m, 'mcp_auth_attempts_total', { method: 'none', status: 'failed' })).toBe(2);
    expect(value(m, 'mcp_auth_failures_total', { method: 'none', reason: 'missing' })).toBe(2);
    expect(value(m, 'mcp_auth_failures_total', { method: 'bearer', reason: 'invalid_token' })).toBe(1);
    expect(value(m, 'mcp_auth_failures_total', { method: 'bearer', reason: 'expired' })).toBe(1);
    expect(value(m, 'mcp_auth_failures_total', { method: 'api_key', reason: 'invalid_api_key' })).toBe(1);
    expect(value(m, 'mcp_auth_failures_total')).toBe(5);
    expect(value(m, 'mcp_authz_denials_total', { resource_type: 'servers', reason: 'insufficient_permissions' })).toBe(2);
    expect(value(m, 'mcp_authz_checks_total', { resource_type: 'servers', status: 'denied' })).toBe(2);
    expect(value(m, 'mcp_authz_checks_total', { status: 'allowed' })).toBe(okWith('bearer') - 2);
  });

  it('counts 429s with a non-secret user id and the normalised endpoint', () => {
    expect(mix.rateLimited).toBeGreaterThanOrEqual(5);
    expect(value(m, 'mcp_rate_limit_exceeded_total')).toBe(mix.rateLimited);
    expect(
      value(m, 'mcp_rate_limit_exceeded_total', { endpoint: '/api/v1/health', user_id: `h:${new SecretIds(Buffer.from(USER_ID_KEY)).of(READONLY_TOKEN)}` }),
    ).toBe(mix.rateLimited);
  });

  it('counts lifecycle calls from REST and the kill -9 from poll differences, once each', () => {
    expect(value(m, 'mcp_server_restarts_total', { server_id: 'clock', reason: 'manual' })).toBe(1);
    expect(value(m, 'mcp_server_stops_total', { server_id: 'files', status: 'success' })).toBe(1);
    expect(value(m, 'mcp_server_starts_total', { server_id: 'files', status: 'success' })).toBe(1);
    expect(value(m, 'mcp_server_starts_total', { server_id: 'calc', status: 'failed' })).toBe(1);
    expect(value(m, 'mcp_server_crashes_total', { server_id: 'calc' })).toBe(1);
    expect(value(m, 'mcp_server_restarts_total', { server_id: 'calc', reason: 'crash' })).toBe(1);
    // Every server the inventory knows has its series from the first poll: 0 until it crashes.
    expect(m.get('mcp_server_crashes_total')!.samples).toEqual([
      { labels: { server_id: 'calc' }, value: 1 },
      { labels: { server_id: 'clock' }, value: 0 },
      { labels: { server_id: 'files' }, value: 0 },
    ]);
    expect(value(m, 'mcp_server_restarts_total')).toBe(2);
  });

  it('counts the reload and the two validation errors', () => {
    expect(value(m, 'mcp_config_reloads_total', { status: 'success' })).toBe(1);
    expect(value(m, 'mcp_config_reloads_total')).toBe(1);
    expect(value(m, 'mcp_config_validation_errors_total')).toBe(2);
  });

  it("sets every gauge to the composer's own state", async () => {
    const version = await composerGet(composer, '/api/v1/version');
    expect(m.get('mcp_composer_info')!.samples).toEqual([{ labels: { version: String(version['version']), platform: String(version['platform']) }, value: 1 }]);
    const uptime = value(m, 'mcp_composer_uptime_seconds');
    expect(uptime).toBeGreaterThan(0);
    const status = await composerGet(composer, '/api/v1/status');
    const servers =
      shape === 'code'
        ? (status['servers'] as Record<string, number>)
        : { total: status['servers_total'], running: status['servers_running'], stopped: status['servers_stopped'] };
    expect(value(m, 'mcp_servers_total')).toBe(servers['total']);
    expect(value(m, 'mcp_servers_running')).toBe(servers['running']);
    expect(value(m, 'mcp_servers_stopped')).toBe(servers['stopped']);
    expect(value(m, 'mcp_servers_failed')).toBe(0);
    const composition = await composerGet(composer, '/api/v1/composition');
    expect(value(m, 'mcp_tools_total')).toBe(composition['total_tools']);
    expect(value(m, 'mcp_prompts_total')).toBe(composition['total_prompts']);
    expect(value(m, 'mcp_resources_total')).toBe(composition['total_resources']);
    expect(value(m, 'mcp_tool_conflicts_total')).toBe((composition['conflicts'] as unknown[]).length);
    for (const kind of ['tools', 'prompts', 'resources'] as const) {
      const list = await composerGet(composer, `/api/v1/${kind}?limit=1000`);
      const byServer = new Map<string, number>();
      for (const item of list[kind] as Array<Record<string, string>>) {
        const id = item['server_id'] ?? item['server'] ?? '';
        byServer.set(id, (byServer.get(id) ?? 0) + 1);
      }
      for (const [serverId, n] of byServer) expect(value(m, `mcp_${kind}_by_server`, { server_id: serverId }), `${kind} of ${serverId}`).toBe(n);
      expect(value(m, `mcp_${kind}_by_server`)).toBe(value(m, `mcp_${kind}_total`));
    }
  });

  it('never puts a token, a query string or an overflow value in a label', async () => {
    const text = await (await fetch(sidecar.metricsUrl, { headers: { authorization: 'Bearer test-metrics-token-0123456789' } })).text();
    for (const secret of [FULL_TOKEN, READONLY_TOKEN, 'on purpose']) expect(text).not.toContain(secret);
    expect(text).not.toContain(OVERFLOW_VALUE);
  });
});
