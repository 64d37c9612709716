// The demo composer's supervisor with real child processes: crashes from outside (kill -9) and from the
// crash tool, REST lifecycle operations and their events, and no orphan process at shutdown.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { demoState, isAlive, requestJson, serverState, startDemoComposer, waitFor, type DemoComposer } from '../fixtures/demo-composer.ts';
import { openEventStream, type EventStreamReader, type SseEvent } from '../fixtures/event-stream.ts';

const dataOf = (e: SseEvent): Record<string, unknown> => (e.json as { data?: Record<string, unknown> }).data ?? {};
const about =
  (id: string) =>
  (e: SseEvent): boolean =>
    dataOf(e).server_id === id;

describe('demo composer supervision', () => {
  let composer: DemoComposer;
  let stream: EventStreamReader | undefined;

  beforeAll(async () => {
    composer = await startDemoComposer(['--servers', '3', '--restart-backoff', '1s', '--keepalive-interval', '100ms', '--test-control']);
  });
  afterEach(() => stream?.close());
  afterAll(() => composer.close());

  it('kill -9 of a child pid: crashed, then running with a new pid and restart_count + 1; events crashed then restarted(crash)', async () => {
    const before = await serverState(composer.url, 'clock');
    expect(before.state).toBe('running');
    expect(before.pid).not.toBeNull();
    stream = await openEventStream(`${composer.url}/api/v1/events`);
    await stream.next((e) => e.event === 'snapshot');
    const from = stream.events.length;

    process.kill(before.pid ?? 0, 'SIGKILL');
    const crashed = await stream.next((e) => e.event === 'server.crashed' && about('clock')(e), { from });
    expect(dataOf(crashed)).toMatchObject({ server_id: 'clock', exit_code: null, signal: 'SIGKILL' });
    expect((await serverState(composer.url, 'clock')).state).toBe('crashed');

    const restarted = await stream.next((e) => e.event === 'server.restarted' && about('clock')(e), { from });
    const after = await serverState(composer.url, 'clock');
    expect(after.state).toBe('running');
    expect(after.pid).not.toBe(before.pid);
    expect(after.restartCount).toBe(before.restartCount + 1);
    expect(dataOf(restarted)).toEqual({ server_id: 'clock', reason: 'crash', pid: after.pid });
    expect(isAlive(before.pid ?? 0)).toBe(false);

    const sequence = stream.events
      .slice(from)
      .filter(about('clock'))
      .map((e) => e.event);
    expect(sequence).toEqual(['server.crashed', 'server.starting', 'server.started', 'server.restarted']);
    const started = stream.events.slice(from).find((e) => e.event === 'server.started' && about('clock')(e));
    expect(dataOf(started as SseEvent)).toEqual({ server_id: 'clock', pid: after.pid, trigger: 'supervisor' });
    const ids = stream.events.filter((e) => e.id !== undefined).map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('the crash tool really ends the child: the REST invoke answers 200 success:false, then the supervisor restarts it', async () => {
    const before = await serverState(composer.url, 'calc');
    const r = await requestJson(`${composer.url}/api/v1/tools/calc.crash/invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ arguments: { exit_code: 3 } }),
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ success: false, tool_id: 'calc.crash' });
    expect(isAlive(before.pid ?? 0)).toBe(false);
    const after = await waitFor(
      async () => {
        const s = await serverState(composer.url, 'calc');
        return s.state === 'running' && s.pid !== before.pid ? s : undefined;
      },
      { what: 'calc restarted' },
    );
    expect(after.restartCount).toBe(before.restartCount + 1);
  });

  it('REST stop, start and restart do what they say and emit their events with trigger api', async () => {
    stream = await openEventStream(`${composer.url}/api/v1/events`);
    await stream.next((e) => e.event === 'snapshot');
    const from = stream.events.length;
    const post = (path: string) => requestJson(`${composer.url}/api/v1/servers/files/${path}`, { method: 'POST' });

    const stop = await post('stop');
    expect(stop.status).toBe(200);
    expect(stop.body).toEqual({ success: true, message: "Server 'files' stopped successfully", server_id: 'files', status: 'stopped' });
    expect((await serverState(composer.url, 'files')).state).toBe('stopped');
    expect(await post('stop')).toMatchObject({ status: 400, body: { detail: "Server 'files' is not running" } });

    const start = await post('start');
    expect(start.body).toMatchObject({ success: true, status: 'running' });
    expect(await post('start')).toMatchObject({ status: 400, body: { detail: "Server 'files' is already running" } });

    const before = await serverState(composer.url, 'files');
    expect((await post('restart')).body).toMatchObject({ success: true, status: 'running' });
    const after = await serverState(composer.url, 'files');
    expect(after.restartCount).toBe(before.restartCount + 1);
    expect(after.pid).not.toBe(before.pid);

    await stream.next((e) => e.event === 'server.restarted' && about('files')(e), { from });
    const seen = stream.events
      .slice(from)
      .filter(about('files'))
      .map((e) => [e.event, dataOf(e).trigger ?? dataOf(e).reason]);
    expect(seen).toEqual([
      ['server.stopped', 'api'],
      ['server.starting', undefined],
      ['server.started', 'api'],
      ['server.stopped', 'api'],
      ['server.starting', undefined],
      ['server.started', 'api'],
      ['server.restarted', 'manual'],
    ]);
  });

  it('unknown server ids answer 404 with a detail', async () => {
    for (const [method, path] of [
      ['GET', 'nope'],
      ['POST', 'nope/start'],
      ['POST', 'nope/stop'],
      ['POST', 'nope/restart'],
      ['DELETE', 'nope'],
      ['GET', 'nope/metrics'],
      ['GET', 'nope/logs'],
    ] as const) {
      const r = await requestJson(`${composer.url}/api/v1/servers/${path}`, { method });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.body).toEqual({ detail: "Server 'nope' not found" });
    }
  });

  it('the server log stream is SSE with Python dict text and naive ISO timestamps', async () => {
    const r = await fetch(`${composer.url}/api/v1/servers/calc/logs?follow=false`);
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await r.text();
    const first = text.split('\n').find((l) => l.startsWith('data: ')) ?? '';
    expect(first).toMatch(/^data: \{'timestamp': '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}', 'level': '[A-Z]+', 'message': .*, 'server_id': 'calc'\}$/);
  });

  it('DELETE removes a server: server.stopped, capabilities.changed to zero, then 404', async () => {
    stream = await openEventStream(`${composer.url}/api/v1/events`);
    await stream.next((e) => e.event === 'snapshot');
    const from = stream.events.length;
    const pid = (await serverState(composer.url, 'files')).pid ?? 0;
    const r = await requestJson(`${composer.url}/api/v1/servers/files`, { method: 'DELETE' });
    expect(r.body).toEqual({ success: true, message: "Server 'files' removed", server_id: 'files', status: 'removed' });
    const changed = await stream.next((e) => e.event === 'capabilities.changed' && about('files')(e), { from });
    expect(dataOf(changed)).toMatchObject({ tools: 0, prompts: 0, resources: 0 });
    expect(stream.events.slice(from).some((e) => e.event === 'server.stopped' && about('files')(e))).toBe(true);
    expect((await requestJson(`${composer.url}/api/v1/servers/files`)).status).toBe(404);
    expect(isAlive(pid)).toBe(false);
  });

  it('SIGTERM of the composer stops every child: no orphan process', async () => {
    const pids = (await demoState(composer.url)).child_pids;
    expect(pids.length).toBeGreaterThan(0);
    await composer.close();
    expect(await composer.exited).toEqual({ code: 0, signal: null });
    for (const pid of pids) expect(isAlive(pid), `child ${pid}`).toBe(false);
  });
});

describe('demo composer killed with SIGKILL', () => {
  it('its children notice stdin EOF and exit', async () => {
    const composer = await startDemoComposer(['--servers', '2', '--test-control']);
    try {
      const pids = (await demoState(composer.url)).child_pids;
      expect(pids).toHaveLength(2);
      process.kill(composer.pid, 'SIGKILL');
      await composer.exited;
      await waitFor(() => pids.every((p) => !isAlive(p)), { what: 'children to exit' });
    } finally {
      await composer.close();
    }
  });
});
