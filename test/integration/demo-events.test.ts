// The demo composer's event stream (event-stream.md): snapshot first, strictly increasing ids, retry and
// keep-alives, replay after Last-Event-ID, reset when the buffer no longer holds the missed events, the
// test-control disconnect, config events from the file watcher, and 404 when the stream is off.
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requestJson, startDemoComposer, waitFor, type DemoComposer } from '../fixtures/demo-composer.ts';
import { openEventStream, type EventStreamReader, type SseEvent } from '../fixtures/event-stream.ts';

interface Envelope {
  type: string;
  time: string;
  composer: string;
  data: Record<string, unknown>;
}
const env = (e: SseEvent): Envelope => e.json as Envelope;

describe('demo composer event stream', () => {
  let composer: DemoComposer;
  const streams: EventStreamReader[] = [];
  const open = async (lastEventId?: string): Promise<EventStreamReader> => {
    const s = await openEventStream(`${composer.url}/api/v1/events`, lastEventId === undefined ? {} : { lastEventId });
    streams.push(s);
    return s;
  };
  const fill = async (count: number): Promise<{ first_id: number; last_id: number }> => {
    const r = await requestJson(`${composer.url}/__demo/events/fill`, { method: 'POST', body: JSON.stringify({ count }) });
    return r.body as { first_id: number; last_id: number };
  };

  beforeAll(async () => {
    composer = await startDemoComposer([
      '--servers',
      '2',
      '--test-control',
      '--keepalive-interval',
      '100ms',
      '--event-buffer',
      '20',
      '--event-retry',
      '250ms',
      '--composer-name',
      'ev-test',
    ]);
  });
  afterEach(() => {
    for (const s of streams.splice(0)) s.close();
  });
  afterAll(() => composer.close());

  it('starts with retry and a snapshot of servers, capabilities, per-server counts and conflicts', async () => {
    const s = await open();
    expect(s.status).toBe(200);
    expect(s.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const first = await s.next(() => true);
    expect(first.event).toBe('snapshot');
    expect(first.id).toBeUndefined();
    expect(s.retry).toBe(250);
    const e = env(first);
    expect(e).toMatchObject({ type: 'snapshot', composer: 'ev-test' });
    expect(e.time).toMatch(/Z$/);
    expect(e.data).toMatchObject({
      capabilities: { tools: 7, prompts: 2, resources: 3 },
      per_server: { calc: { tools: 4, prompts: 1, resources: 1 }, clock: { tools: 3, prompts: 1, resources: 2 } },
      conflicts: [{ type: 'tool', name: 'echo', servers: ['calc', 'clock'] }],
    });
    expect((e.data.servers as unknown[]).length).toBe(2);
    expect(typeof e.data.last_event_id).toBe('number');
  });

  it('sends `: ping` keep-alive comments at the configured interval', async () => {
    const s = await open();
    await waitFor(() => s.comments.length >= 2, { what: 'two keep-alives' });
    expect(s.comments[0]?.trim()).toBe('ping');
  });

  it('resuming with Last-Event-ID replays exactly the missed events, in order, then continues live', async () => {
    const s = await open();
    await s.next((e) => e.event === 'snapshot');
    const { last_id: seen } = await fill(3);
    await s.next((e) => e.id === String(seen));
    s.close();
    const missed = await fill(5);
    const again = await open(String(seen));
    await again.next((e) => e.id === String(missed.last_id));
    const after = again.events.slice(again.events.findIndex((e) => e.event === 'snapshot') + 1);
    expect(again.events[0]?.event).toBe('snapshot');
    expect(after.map((e) => Number(e.id))).toEqual([missed.first_id, missed.first_id + 1, missed.first_id + 2, missed.first_id + 3, missed.last_id]);
    const live = await fill(1);
    await again.next((e) => e.id === String(live.last_id));
    expect(again.events.every((e) => e.event !== 'reset')).toBe(true);
  });

  it('too old an id gets `event: reset` first, then the snapshot and what the buffer still holds', async () => {
    const { last_id: old } = await fill(1);
    const later = await fill(30);
    const s = await open(String(old - 5));
    await s.next((e) => e.id === String(later.last_id));
    expect(s.events[0]?.event).toBe('reset');
    expect(env(s.events[0] as SseEvent).data).toMatchObject({ reason: 'expired', oldest_available: later.last_id - 19 });
    expect(s.events[1]?.event).toBe('snapshot');
    const ids = s.events.slice(2).map((e) => Number(e.id));
    expect(ids).toEqual(Array.from({ length: 20 }, (_, i) => later.last_id - 19 + i));
  });

  it('an id newer than any of this process (a restarted composer) also gets a reset', async () => {
    const s = await open('999999');
    const first = await s.next(() => true);
    expect(first.event).toBe('reset');
    expect(env(first).data.reason).toBe('unknown_id');
  });

  it('test control cuts every stream; a client reconnecting with its last id misses nothing', async () => {
    const s = await open();
    await s.next((e) => e.event === 'snapshot');
    const a = await fill(2);
    await s.next((e) => e.id === String(a.last_id));
    const cut = await requestJson(`${composer.url}/__demo/events/disconnect`, { method: 'POST' });
    expect((cut.body as { disconnected: number }).disconnected).toBeGreaterThanOrEqual(1);
    await s.ended;
    const b = await fill(2);
    const again = await open(String(a.last_id));
    await again.next((e) => e.id === String(b.last_id));
    expect(again.events.filter((e) => e.id !== undefined).map((e) => Number(e.id))).toEqual([b.first_id, b.last_id]);
  });

  it('injected events go out verbatim (unknown types and malformed data, for consumers to skip)', async () => {
    const s = await open();
    await s.next((e) => e.event === 'snapshot');
    await requestJson(`${composer.url}/__demo/events/inject`, { method: 'POST', body: JSON.stringify({ type: 'server.crashed', raw: '{not json' }) });
    const e = await s.next((x) => x.event === 'server.crashed');
    expect(e.data).toBe('{not json');
    expect(e.json).toBeUndefined();
  });

  it('exclude_transports leaves out tool.invoked and resource.read of the listed transports, live and replayed; ids stay increasing', async () => {
    const inject = async (type: string, transport: string): Promise<number> => {
      const r = await requestJson(`${composer.url}/__demo/events/inject`, {
        method: 'POST',
        body: JSON.stringify({
          type,
          data:
            type === 'tool.invoked'
              ? { tool_id: 't', duration_ms: 1, success: true, transport }
              : { resource_uri: 'r://x', duration_ms: 1, success: true, transport },
        }),
      });
      return (r.body as { id: number }).id;
    };
    const filtered = await openEventStream(`${composer.url}/api/v1/events?exclude_transports=sse,streamable_http`);
    streams.push(filtered);
    await filtered.next((e) => e.event === 'snapshot');
    const ids = [
      await inject('tool.invoked', 'sse'),
      await inject('tool.invoked', 'stdio'),
      await inject('resource.read', 'streamable_http'),
      await inject('resource.read', 'stdio'),
    ];
    const [, stdioCall, , stdioRead] = ids;
    await filtered.next((e) => e.id === String(stdioRead));
    const sent = (r: EventStreamReader) => r.events.filter((e) => e.id !== undefined && ids.includes(Number(e.id))).map((e) => Number(e.id));
    expect(sent(filtered)).toEqual([stdioCall, stdioRead]);
    // The same filter on a replay (Last-Event-ID), and nothing filtered without the parameter.
    const replayed = await openEventStream(`${composer.url}/api/v1/events?exclude_transports=sse,streamable_http`, { lastEventId: String((ids[0] ?? 1) - 1) });
    streams.push(replayed);
    await replayed.next((e) => e.id === String(stdioRead));
    expect(sent(replayed)).toEqual([stdioCall, stdioRead]);
    const all = await open(String((ids[0] ?? 1) - 1));
    await all.next((e) => e.id === String(stdioRead));
    expect(sent(all)).toEqual(ids);
  });

  it('a config file change on disk reloads it: config.reloaded with trigger file_watch; an invalid file fails with validation_failed', async () => {
    const s = await open();
    await s.next((e) => e.event === 'snapshot');
    const cfg = (await requestJson(`${composer.url}/api/v1/config`)).body as { config: { servers: { id: string; command: string; args: string[] }[] } };
    const file = ((await requestJson(`${composer.url}/__demo/state`)).body as { config_path: string }).config_path;
    const original = await readFile(file, 'utf8');

    await writeFile(file, '{"servers": [');
    const failed = await s.next((e) => e.event === 'config.reloaded' && env(e).data.success === false);
    expect(env(failed).data).toMatchObject({ success: false, trigger: 'file_watch' });
    expect(s.events.some((e) => e.event === 'config.validation_failed' && env(e).data.error_type === 'parse_error')).toBe(true);

    const from = s.events.length;
    const calc = cfg.config.servers.find((x) => x.id === 'calc');
    await writeFile(file, JSON.stringify({ servers: [calc] }, null, 2));
    const ok = await s.next((e) => e.event === 'config.reloaded', { from });
    expect(env(ok).data).toEqual({ success: true, trigger: 'file_watch' });
    const stopped = await s.next((e) => e.event === 'server.stopped' && env(e).data.server_id === 'clock', { from });
    expect(env(stopped).data.trigger).toBe('config');
    await waitFor(async () => (await requestJson(`${composer.url}/api/v1/servers/clock`)).status === 404, { what: 'clock removed' });

    await writeFile(file, original);
    const started = await s.next((e) => e.event === 'server.started' && env(e).data.server_id === 'clock', { from });
    expect(env(started).data.trigger).toBe('config');
  });
});

describe('demo composer without the event stream', () => {
  it('--no-events answers 404 {"detail":"Not Found"} on /api/v1/events', async () => {
    const composer = await startDemoComposer(['--servers', '0', '--no-events']);
    try {
      expect(await requestJson(`${composer.url}/api/v1/events`)).toMatchObject({ status: 404, body: { detail: 'Not Found' } });
    } finally {
      await composer.close();
    }
  });
});
