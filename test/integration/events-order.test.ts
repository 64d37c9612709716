/**
 * "One source per fact" whatever order and multiplicity the events arrive in, on real sockets: a relay that
 * freezes only the event-stream connections (a silent network partition; a reconnection whose answer is
 * held), a real demo composer with real children killed with SIGKILL, and a scripted composer for
 * repeated and backwards event ids.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { demoState, serverState, startDemoComposer, waitFor, type DemoComposer } from '../fixtures/demo-composer.ts';
import { frame, snapshot, startScriptedEvents, type ScriptedEvents } from '../fixtures/scripted-events.ts';
import { scrape, value } from '../fixtures/scrape.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';
import { startStallRelay, type StallRelay } from '../fixtures/stall-relay.ts';

let composer: DemoComposer | undefined;
let scripted: ScriptedEvents | undefined;
let relay: StallRelay | undefined;
let sidecar: TestSidecar | undefined;
afterEach(async () => {
  await sidecar?.close();
  await relay?.close();
  await composer?.close();
  await scripted?.close();
  sidecar = undefined;
  relay = undefined;
  composer = undefined;
  scripted = undefined;
});

const IDLE = ['--poll-interval', '200ms', '--events-idle-timeout', '2s'];
type Scrape = Awaited<ReturnType<typeof scrape>>;

async function metrics(): Promise<Scrape> {
  return scrape(sidecar!.metricsUrl);
}

/** Scrapes until `ready` holds, then a little longer, to be sure nothing more arrives. */
async function settled(ready: (m: Scrape) => boolean): Promise<Scrape> {
  await waitFor(async () => ready(await metrics()), { what: 'the counts', timeoutMs: 20_000 });
  await new Promise((r) => setTimeout(r, 1000));
  return metrics();
}

/** Demo composer behind the relay, sidecar connected to the stream through it. */
async function relayed(): Promise<{ c: DemoComposer; r: StallRelay; s: TestSidecar }> {
  composer = await startDemoComposer(['--restart-backoff', '200ms', '--keepalive-interval', '200ms', '--test-control']);
  relay = await startStallRelay(new URL(composer.url));
  sidecar = await startSidecar(relay.url, IDLE);
  await waitFor(async () => value(await metrics(), 'sidecar_event_stream_connected') === 1, { what: 'the event stream to connect' });
  await waitFor(async () => value(await metrics(), 'mcp_servers_running') === 3, { what: 'the first poll' });
  return { c: composer, r: relay, s: sidecar };
}

const subscriberRequests = (r: StallRelay) => r.eventRequests.filter((q) => q.userAgent === 'mcp-composer-sidecar-events');

/** Kills `id` with SIGKILL and waits until the composer has restarted it. */
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

describe('a stalled reconnection (the answer held while a child crashes)', () => {
  it('counts one kill -9 as one crash and one restart, three times over, though the held answer carries a snapshot from before the crash', async () => {
    const { c, r } = await relayed();
    for (let round = 1; round <= 3; round++) {
      r.freeze({ requests: 'pass' });
      await waitFor(async () => value(await metrics(), 'sidecar_event_stream_connected') === 0, { what: 'the idle timeout', timeoutMs: 10_000 });
      const sent = subscriberRequests(r).length;
      await waitFor(() => subscriberRequests(r).length > sent, { what: 'a reconnection to reach the composer' });
      await waitFor(async () => (await demoState(c.url)).event_clients >= 1, { what: 'the composer to answer it' });
      await killAndAwaitRestart(c, 'calc');
      // Polls see the crash and the restart while the stream is down: inference counts them.
      await waitFor(async () => value(await metrics(), 'mcp_server_restarts_total', { server_id: 'calc', reason: 'crash' }) >= round, { what: 'inference' });
      r.resume();
      const m = await settled(
        (x) => value(x, 'sidecar_event_stream_connected') === 1 && value(x, 'sidecar_events_received_total', { type: 'server.restarted' }) >= round,
      );
      expect(value(m, 'mcp_server_crashes_total', { server_id: 'calc' }), `round ${round}`).toBe(round);
      expect(value(m, 'mcp_server_restarts_total', { server_id: 'calc', reason: 'crash' }), `round ${round}`).toBe(round);
      expect(value(m, 'mcp_server_restarts_total'), `round ${round}`).toBe(round);
      expect(value(m, 'mcp_server_starts_total', { server_id: 'calc', status: 'success' }), `round ${round}`).toBe(round);
      expect(value(m, 'sidecar_event_gaps_total')).toBe(0);
      // The held answer (its snapshot older than the inferred crash) was not used: it was asked for again.
      expect(sidecar!.logs.filter((l) => l.event === 'event_stream_answer_discarded').length, `round ${round}`).toBeGreaterThanOrEqual(round);
    }
  }, 120_000);
});

describe('event-stream silence (a partition that closes nothing)', () => {
  it('detects the silence by the idle timeout, resumes with Last-Event-ID, and counts a crash during it exactly once', async () => {
    const { c, r } = await relayed();
    // Shape 1: the crash happens while the sidecar still believes the stream is up (before the idle timeout).
    // Shape 2: it happens after the idle timeout, while polls are the source.
    for (const shape of ['before the idle timeout', 'after the idle timeout'] as const) {
      const n = shape === 'before the idle timeout' ? 1 : 2;
      const lastId = (await demoState(c.url)).event_last_id;
      const sent = subscriberRequests(r).length;
      r.freeze();
      if (n === 1) await killAndAwaitRestart(c, 'calc');
      await waitFor(async () => value(await metrics(), 'sidecar_event_stream_connected') === 0, { what: 'the idle timeout', timeoutMs: 10_000 });
      if (n === 2) await killAndAwaitRestart(c, 'calc');
      await new Promise((res) => setTimeout(res, 600));
      // Nothing reached the composer during the silence.
      expect(subscriberRequests(r).length, shape).toBe(sent);
      r.resume();
      const m = await settled(
        (x) => value(x, 'sidecar_event_stream_connected') === 1 && value(x, 'sidecar_events_received_total', { type: 'server.restarted' }) >= n,
      );
      expect(value(m, 'mcp_server_crashes_total', { server_id: 'calc' }), shape).toBe(n);
      expect(value(m, 'mcp_server_restarts_total', { server_id: 'calc', reason: 'crash' }), shape).toBe(n);
      expect(value(m, 'mcp_server_starts_total', { server_id: 'calc', status: 'success' }), shape).toBe(n);
      expect(value(m, 'sidecar_event_gaps_total'), shape).toBe(0);
      expect(value(m, 'sidecar_event_stream_reconnects_total'), shape).toBeGreaterThanOrEqual(n);
      // Resumed where it stopped: the composer received the id of the last event delivered before the silence.
      const resumed = subscriberRequests(r).slice(sent);
      expect(resumed.length, shape).toBeGreaterThan(0);
      expect(resumed[0]!.lastEventId, shape).toBe(String(lastId));
    }
  }, 90_000);
});

describe('repeated and backwards event ids', () => {
  const servers = ['s1', 's2', 's3'];

  it('counts a repeated id once and an id going backwards as a gap, never as a new occurrence', async () => {
    scripted = await startScriptedEvents((n) =>
      n === 0
        ? [
            snapshot(10, servers),
            frame(11, 'server.crashed', { server_id: 's1', exit_code: null, signal: 'SIGKILL' }),
            frame(11, 'server.crashed', { server_id: 's1', exit_code: null, signal: 'SIGKILL' }),
            frame(7, 'server.crashed', { server_id: 's2', exit_code: null, signal: 'SIGKILL' }),
            frame(12, 'tool.invoked', { tool_id: 'calc_add', duration_ms: 5, success: true, transport: 'stdio' }),
            frame(12, 'tool.invoked', { tool_id: 'calc_add', duration_ms: 5, success: true, transport: 'stdio' }),
            frame(13, 'server.crashed', { server_id: 's3', exit_code: 1, signal: null }),
          ]
        : [snapshot(13, servers)],
    );
    sidecar = await startSidecar(scripted.url, IDLE);
    const m = await settled((x) => value(x, 'mcp_server_crashes_total', { server_id: 's3' }) >= 1);
    expect(value(m, 'mcp_server_crashes_total', { server_id: 's1' })).toBe(1);
    expect(value(m, 'mcp_server_crashes_total', { server_id: 's2' })).toBe(0);
    expect(value(m, 'mcp_server_crashes_total', { server_id: 's3' })).toBe(1);
    expect(value(m, 'mcp_server_crashes_total')).toBe(2);
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: 'calc_add', status: 'success' })).toBe(1);
    expect(value(m, 'sidecar_event_gaps_total')).toBe(1);
    expect(value(m, 'sidecar_events_invalid_total', { reason: 'duplicate_id' })).toBe(2);
    expect(value(m, 'sidecar_events_invalid_total', { reason: 'out_of_order_id' })).toBe(1);
    expect(value(m, 'sidecar_event_stream_connected')).toBe(1);
  });

  it('asks the composer to leave out proxied-transport tool and resource events, and drops them from one that ignores the request', async () => {
    const servers = ['s1'];
    scripted = await startScriptedEvents(() => [
      snapshot(10, servers),
      frame(11, 'tool.invoked', { tool_id: 'calc_add', duration_ms: 5, success: true, transport: 'sse' }),
      frame(12, 'tool.invoked', { tool_id: 'calc_add', duration_ms: 5, success: true, transport: 'streamable_http' }),
      frame(13, 'tool.invoked', { tool_id: 'calc_add', duration_ms: 5, success: true, transport: 'stdio' }),
      frame(14, 'resource.read', { resource_uri: 'clock://timezone', duration_ms: 2, success: true, transport: 'sse' }),
      frame(15, 'resource.read', { resource_uri: 'clock://timezone', duration_ms: 2, success: true, transport: 'stdio' }),
    ]);
    sidecar = await startSidecar(scripted.url, IDLE);
    const m = await settled((x) => value(x, 'mcp_tool_invocations_total', { tool_id: 'calc_add', status: 'success' }) >= 1);
    expect(scripted.requests[0]?.excludeTransports?.split(',').sort()).toEqual(['http', 'rest', 'sse', 'streamable_http', 'websocket']);
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: 'calc_add', status: 'success' })).toBe(1);
    expect(value(m, 'mcp_resource_reads_total')).toBe(1);
    expect(value(m, 'sidecar_event_gaps_total')).toBe(0);
  });

  it('does not count again what a composer that ignores Last-Event-ID sends again on reconnection', async () => {
    const history = [
      frame(11, 'server.crashed', { server_id: 's1', exit_code: null, signal: 'SIGKILL' }),
      frame(12, 'server.started', { server_id: 's1', pid: 2001, trigger: 'supervisor' }),
      frame(13, 'server.restarted', { server_id: 's1', reason: 'crash', pid: 2001 }),
    ];
    scripted = await startScriptedEvents((n) =>
      n === 0
        ? [snapshot(10, servers), ...history]
        : // Everything it holds, whatever Last-Event-ID said, then one new crash.
          [snapshot(14, servers), ...history, frame(14, 'server.crashed', { server_id: 's2', exit_code: 1, signal: null })],
    );
    sidecar = await startSidecar(scripted.url, IDLE);
    await settled((x) => value(x, 'mcp_server_restarts_total') >= 1);
    scripted.endAll();
    const m = await settled((x) => value(x, 'mcp_server_crashes_total', { server_id: 's2' }) >= 1 && value(x, 'sidecar_event_stream_connected') === 1);
    expect(scripted.requests.map((q) => q.lastEventId)).toEqual([undefined, '13']);
    expect(value(m, 'mcp_server_crashes_total', { server_id: 's1' })).toBe(1);
    expect(value(m, 'mcp_server_restarts_total', { server_id: 's1', reason: 'crash' })).toBe(1);
    expect(value(m, 'mcp_server_starts_total', { server_id: 's1', status: 'success' })).toBe(1);
    expect(value(m, 'mcp_server_crashes_total', { server_id: 's2' })).toBe(1);
    expect(value(m, 'sidecar_events_invalid_total', { reason: 'duplicate_id' })).toBe(3);
    expect(value(m, 'sidecar_event_gaps_total')).toBe(0);
  });
});
