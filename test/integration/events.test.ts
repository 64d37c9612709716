/**
 * The event stream as the source of lifecycle facts, exactly once through faults: real demo composer
 * processes, real kills, real disconnections.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { requestJson, serverState, startDemoComposer, waitFor, type DemoComposer } from '../fixtures/demo-composer.ts';
import { scrape, value } from '../fixtures/scrape.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';
import { unusedPort } from '../fixtures/upstream.ts';

let composers: DemoComposer[] = [];
let sidecar: TestSidecar | undefined;
afterEach(async () => {
  await sidecar?.close();
  for (const c of composers) await c.close();
  sidecar = undefined;
  composers = [];
});

const FAST = ['--restart-backoff', '200ms', '--keepalive-interval', '200ms', '--test-control'];

async function composer(args: string[] = []): Promise<DemoComposer> {
  const c = await startDemoComposer([...FAST, ...args]);
  composers.push(c);
  return c;
}

async function connectedSidecar(upstream: string, extra: string[] = []): Promise<TestSidecar> {
  const s = await startSidecar(upstream, ['--poll-interval', '200ms', '--events-idle-timeout', '2s', ...extra]);
  await waitFor(async () => value(await scrape(s.metricsUrl), 'sidecar_event_stream_connected') === 1, { what: 'the event stream to connect' });
  return s;
}

const post = (url: string, body?: unknown) =>
  requestJson(url, { method: 'POST', ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });

/** Waits until the composer has restarted `id` after a crash. */
async function killAndAwaitRestart(c: DemoComposer, id: string): Promise<void> {
  const before = await serverState(c.url, id);
  if (before.pid === null) throw new Error(`${id} has no pid`);
  process.kill(before.pid, 'SIGKILL');
  await waitFor(
    async () => {
      const s = await serverState(c.url, id);
      return s.state === 'running' && s.restartCount === before.restartCount + 1;
    },
    { what: `${id} to come back`, timeoutMs: 15_000 },
  );
}

/** Scrapes until `ready` holds, then a little longer, to be sure nothing more arrives. */
async function settled(s: TestSidecar, ready: (m: Awaited<ReturnType<typeof scrape>>) => boolean) {
  await waitFor(async () => ready(await scrape(s.metricsUrl)), { what: 'the counts', timeoutMs: 15_000 });
  await new Promise((r) => setTimeout(r, 800));
  return scrape(s.metricsUrl);
}

describe('the event stream subscriber', () => {
  it('counts a kill -9 of a child as exactly one crash and one crash restart', async () => {
    const c = await composer();
    sidecar = await connectedSidecar(c.url);
    await killAndAwaitRestart(c, 'calc');
    const m = await settled(sidecar, (x) => value(x, 'mcp_server_restarts_total', { server_id: 'calc', reason: 'crash' }) >= 1);
    expect(value(m, 'mcp_server_crashes_total')).toBe(1);
    expect(value(m, 'mcp_server_crashes_total', { server_id: 'calc' })).toBe(1);
    expect(value(m, 'mcp_server_restarts_total')).toBe(1);
    expect(value(m, 'mcp_server_restarts_total', { server_id: 'calc', reason: 'crash' })).toBe(1);
    expect(value(m, 'sidecar_events_received_total', { type: 'server.crashed' })).toBe(1);
    expect(value(m, 'mcp_servers_failed')).toBe(0);
  });

  it('counts a proxied restart as exactly one manual restart while the stream is connected', async () => {
    const c = await composer();
    sidecar = await connectedSidecar(c.url);
    const r = await post(`${sidecar.proxyUrl}/api/v1/servers/clock/restart`);
    expect(r.status).toBe(200);
    const m = await settled(sidecar, (x) => value(x, 'mcp_server_restarts_total', { server_id: 'clock', reason: 'manual' }) >= 1);
    expect(value(m, 'mcp_server_restarts_total')).toBe(1);
    expect(value(m, 'mcp_server_restarts_total', { server_id: 'clock', reason: 'manual' })).toBe(1);
    expect(value(m, 'mcp_server_crashes_total')).toBe(0);
  });

  it('counts each lifecycle occurrence once when the stream is cut again and again while they happen', async () => {
    const c = await composer();
    sidecar = await connectedSidecar(c.url);
    let cutting = true;
    const cutter = (async () => {
      for (let i = 0; i < 200 && cutting; i++) {
        await post(`${c.url}/__demo/events/disconnect`);
        await new Promise((r) => setTimeout(r, 60));
      }
    })();
    await post(`${sidecar.proxyUrl}/api/v1/servers/clock/restart`);
    await killAndAwaitRestart(c, 'calc');
    await post(`${sidecar.proxyUrl}/api/v1/config/reload`);
    await post(`${sidecar.proxyUrl}/api/v1/servers/files/restart`);
    cutting = false;
    await cutter;
    const m = await settled(
      sidecar,
      (x) =>
        value(x, 'sidecar_event_stream_connected') === 1 &&
        value(x, 'mcp_server_restarts_total', { server_id: 'calc', reason: 'crash' }) >= 1 &&
        value(x, 'mcp_server_restarts_total', { server_id: 'files', reason: 'manual' }) >= 1,
    );
    expect(value(m, 'sidecar_event_stream_reconnects_total')).toBeGreaterThan(0);
    expect(value(m, 'mcp_server_restarts_total', { server_id: 'clock', reason: 'manual' })).toBe(1);
    expect(value(m, 'mcp_server_restarts_total', { server_id: 'files', reason: 'manual' })).toBe(1);
    expect(value(m, 'mcp_server_restarts_total', { server_id: 'calc', reason: 'crash' })).toBe(1);
    expect(value(m, 'mcp_server_restarts_total')).toBe(3);
    expect(value(m, 'mcp_server_crashes_total')).toBe(1);
    expect(value(m, 'mcp_config_reloads_total', { status: 'success' })).toBe(1);
    expect(value(m, 'sidecar_event_gaps_total')).toBe(0);
  });

  it('handles a gap too long to replay: reset, gauges re-read, gap counted, nothing counted twice', async () => {
    const c = await composer(['--event-buffer', '6']);
    sidecar = await connectedSidecar(c.url);
    await post(`${c.url}/__demo/events/disconnect`);
    await post(`${c.url}/__demo/events/fill`, { count: 50 });
    await post(`${sidecar.proxyUrl}/api/v1/servers/clock/restart`);
    await post(`${sidecar.proxyUrl}/api/v1/servers/files/stop`);
    const m = await settled(
      sidecar,
      (x) => value(x, 'sidecar_event_gaps_total') >= 1 && value(x, 'sidecar_event_stream_connected') === 1 && value(x, 'mcp_servers_stopped') === 1,
    );
    expect(value(m, 'sidecar_event_gaps_total')).toBe(1);
    expect(value(m, 'mcp_server_restarts_total', { server_id: 'clock', reason: 'manual' })).toBe(1);
    expect(value(m, 'mcp_server_stops_total', { server_id: 'files', status: 'success' })).toBe(1);
    expect(value(m, 'mcp_servers_running')).toBe(2);
    expect(value(m, 'mcp_server_crashes_total')).toBe(0);
  });

  it('detects a composer restarted behind the same address (ids start over) and handles it like a reset', async () => {
    const port = await unusedPort();
    const first = await composer(['--port', String(port)]);
    sidecar = await connectedSidecar(first.url);
    await post(`${first.url}/__demo/events/fill`, { count: 20 });
    await first.close();
    composers = [];
    const second = await composer(['--port', String(port)]);
    const m = await settled(
      sidecar,
      (x) => value(x, 'sidecar_event_gaps_total') >= 1 && value(x, 'sidecar_event_stream_connected') === 1 && value(x, 'mcp_servers_running') === 3,
    );
    expect(value(m, 'sidecar_event_gaps_total')).toBe(1);
    expect(value(m, 'mcp_server_crashes_total')).toBe(0);
    expect(value(m, 'mcp_server_restarts_total')).toBe(0);
    await killAndAwaitRestart(second, 'calc');
    const after = await settled(sidecar, (x) => value(x, 'mcp_server_restarts_total', { reason: 'crash' }) >= 1);
    expect(value(after, 'mcp_server_crashes_total')).toBe(1);
    expect(value(after, 'mcp_server_restarts_total')).toBe(1);
  });

  it('runs on polling and REST without a stream (404), and picks the stream up when the composer starts serving it', async () => {
    const port = await unusedPort();
    const noEvents = await composer(['--port', String(port), '--no-events']);
    sidecar = await startSidecar(noEvents.url, ['--poll-interval', '200ms', '--events-reprobe-interval', '300ms']);
    await waitFor(async () => value(await scrape(sidecar!.metricsUrl), 'mcp_servers_running') === 3, { what: 'the first poll' });
    await killAndAwaitRestart(noEvents, 'calc');
    let m = await settled(sidecar, (x) => value(x, 'mcp_server_restarts_total', { reason: 'crash' }) >= 1);
    expect(value(m, 'sidecar_event_stream_connected')).toBe(0);
    expect(value(m, 'mcp_server_crashes_total')).toBe(1);
    await noEvents.close();
    composers = [];
    const withEvents = await composer(['--port', String(port)]);
    await waitFor(async () => value(await scrape(sidecar!.metricsUrl), 'sidecar_event_stream_connected') === 1, {
      what: 'the stream to be found',
      timeoutMs: 15_000,
    });
    await killAndAwaitRestart(withEvents, 'clock');
    m = await settled(sidecar, (x) => value(x, 'mcp_server_restarts_total', { server_id: 'clock', reason: 'crash' }) >= 1);
    expect(value(m, 'mcp_server_crashes_total')).toBe(2);
    expect(value(m, 'mcp_server_restarts_total', { reason: 'crash' })).toBe(2);
    expect(value(m, 'sidecar_events_received_total', { type: 'server.crashed' })).toBe(1);
  });

  it('counts a config file edited on disk as a successful reload, from the event', async () => {
    const c = await composer();
    sidecar = await connectedSidecar(c.url);
    const state = (await requestJson(`${c.url}/__demo/state`)).body as { config_path: string };
    const { readFileSync, writeFileSync } = await import('node:fs');
    const cfg = JSON.parse(readFileSync(state.config_path, 'utf8')) as Record<string, unknown>;
    writeFileSync(state.config_path, `${JSON.stringify({ ...cfg, note: 'edited' }, null, 2)}\n`);
    const m = await settled(sidecar, (x) => value(x, 'mcp_config_reloads_total') >= 1);
    expect(value(m, 'mcp_config_reloads_total', { status: 'success' })).toBe(1);
    expect(value(m, 'sidecar_events_received_total', { type: 'config.reloaded' })).toBe(1);
  });

  it('counts malformed events and unknown types, skips them, and stays connected', async () => {
    const c = await composer();
    sidecar = await connectedSidecar(c.url);
    await post(`${c.url}/__demo/events/inject`, { type: 'server.crashed', raw: '{"not json' });
    await post(`${c.url}/__demo/events/inject`, { type: 'server.crashed', data: { no_server: true } });
    await post(`${c.url}/__demo/events/inject`, { type: 'totally.new', data: {} });
    await post(`${c.url}/__demo/stdio/tools/call`, { name: 'calc_add', arguments: { a: 1, b: 1 } });
    const m = await settled(sidecar, (x) => value(x, 'mcp_tool_invocations_total') >= 1);
    expect(value(m, 'sidecar_events_invalid_total', { reason: 'malformed_json' })).toBe(1);
    expect(value(m, 'sidecar_events_invalid_total', { reason: 'bad_data' })).toBe(1);
    expect(value(m, 'sidecar_events_invalid_total', { reason: 'unknown_type' })).toBe(1);
    expect(value(m, 'mcp_server_crashes_total')).toBe(0);
    expect(value(m, 'sidecar_event_stream_connected')).toBe(1);
    expect(value(m, 'sidecar_event_stream_reconnects_total')).toBe(0);
    // A stdio tool call is seen only through the stream; tool.invoked for proxied transports is not.
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: 'calc_add', status: 'success' })).toBe(1);
  });
});

describe('config validation refused over REST while the stream is connected', () => {
  it('is counted from the proxied answer, since the composer sends no event for it', async () => {
    const c = await composer();
    sidecar = await connectedSidecar(c.url);
    await post(`${sidecar.proxyUrl}/api/v1/config/validate`, { servers: [{ id: 'broken' }] });
    await requestJson(`${sidecar.proxyUrl}/api/v1/config`, {
      method: 'PUT',
      body: JSON.stringify({ servers: 'not a list' }),
      headers: { 'content-type': 'application/json' },
    });
    const m = await settled(sidecar, (x) => value(x, 'mcp_config_validation_errors_total') >= 2);
    expect(value(m, 'mcp_config_validation_errors_total')).toBe(2);
    expect(value(m, 'sidecar_event_stream_connected')).toBe(1);
  });
});
