import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mapEvent } from '../../src/sources/events/event-map.ts';

const env = (type: string, data: unknown, time = '2026-11-24T10:30:00.123Z') => JSON.stringify({ type, time, composer: 'c', data });

describe('event mapping', () => {
  it('maps lifecycle events to the contract table', () => {
    expect(mapEvent('server.crashed', env('server.crashed', { server_id: 'calc', exit_code: -9, signal: 'SIGKILL' })).outcome).toEqual({
      kind: 'lifecycle',
      fact: { kind: 'crash', serverId: 'calc' },
      note: { serverId: 'calc', state: 'crashed' },
    });
    expect(mapEvent('server.restarted', env('server.restarted', { server_id: 'calc', reason: 'crash', pid: 42 })).outcome).toMatchObject({
      fact: { kind: 'restart', serverId: 'calc', reason: 'crash' },
      note: { serverId: 'calc', pid: 42, restartCountDelta: 1 },
    });
    expect(mapEvent('server.started', env('server.started', { server_id: 'a', pid: 7, trigger: 'api' })).outcome).toMatchObject({
      fact: { kind: 'start', ok: true },
    });
    expect(mapEvent('server.start_failed', env('server.start_failed', { server_id: 'a', error: 'x' })).outcome).toMatchObject({
      fact: { kind: 'start', ok: false },
    });
    expect(mapEvent('server.stopped', env('server.stopped', { server_id: 'a' })).outcome).toMatchObject({ fact: { kind: 'stop', ok: true } });
    expect(mapEvent('server.stop_failed', env('server.stop_failed', { server_id: 'a' })).outcome).toMatchObject({ fact: { kind: 'stop', ok: false } });
    expect(mapEvent('server.starting', env('server.starting', { server_id: 'a' })).outcome).toMatchObject({ fact: undefined });
    expect(mapEvent('config.reloaded', env('config.reloaded', { success: false, trigger: 'file_watch' })).outcome).toMatchObject({
      fact: { kind: 'config_reload', ok: false },
    });
    expect(mapEvent('config.validation_failed', env('config.validation_failed', { error_type: 'syntax', errors: [] })).outcome).toMatchObject({
      fact: { kind: 'config_validation_error', errorType: 'syntax' },
    });
    expect(mapEvent('server.crashed', env('server.crashed', { server_id: 'a' })).time).toBe(Date.parse('2026-11-24T10:30:00.123Z'));
  });

  it('maps snapshots, capabilities, tool calls and resource reads', () => {
    const snap = mapEvent(
      'snapshot',
      env('snapshot', {
        servers: [{ id: 'a', status: 'running', pid: 1, restart_count: 0 }],
        capabilities: { tools: 3, prompts: 1, resources: 2 },
        per_server: { a: { tools: 3, prompts: 1, resources: 2 } },
        conflicts: [{}],
        last_event_id: 17,
      }),
    );
    expect(snap.outcome).toMatchObject({
      kind: 'snapshot',
      servers: [{ id: 'a', state: 'running', pid: 1, restartCount: 0 }],
      capabilities: { tools: 3, prompts: 1, resources: 2 },
      conflicts: 1,
      lastEventId: 17,
    });
    expect(mapEvent('capabilities.changed', env('capabilities.changed', { server_id: 'a', tools: 4, prompts: 1, resources: 2, conflicts: 0 })).outcome).toEqual(
      {
        kind: 'capabilities',
        serverId: 'a',
        counts: { tools: 4, prompts: 1, resources: 2 },
        conflicts: 0,
      },
    );
    expect(
      mapEvent('tool.invoked', env('tool.invoked', { tool_id: 'calc_add', duration_ms: 250, success: false, error_type: 'tool_error', transport: 'stdio' }))
        .outcome,
    ).toEqual({
      kind: 'tool_call',
      fact: { source: 'event', toolId: 'calc_add', ok: false, durationSeconds: 0.25, errorType: 'tool_error', transport: 'stdio' },
    });
    expect(
      mapEvent('resource.read', env('resource.read', { resource_uri: 'file:///x?token=1', duration_ms: 5, success: true, transport: 'stdio' })).outcome,
    ).toMatchObject({ fact: { resourceUri: 'file:///x' } });
  });

  it('counts malformed, unknown and incomplete events instead of failing', () => {
    expect(mapEvent('server.crashed', '{"oops').outcome).toEqual({ kind: 'invalid', reason: 'malformed_json' });
    expect(mapEvent('server.crashed', '[1,2]').outcome).toEqual({ kind: 'invalid', reason: 'bad_envelope' });
    expect(mapEvent('server.crashed', env('server.stopped', { server_id: 'a' })).outcome).toEqual({ kind: 'invalid', reason: 'bad_envelope' });
    expect(mapEvent('brand.new', env('brand.new', {})).outcome).toEqual({ kind: 'invalid', reason: 'unknown_type' });
    expect(mapEvent('server.crashed', env('server.crashed', {})).outcome).toEqual({ kind: 'invalid', reason: 'bad_data' });
    expect(mapEvent('server.restarted', env('server.restarted', { server_id: 'a', reason: 'boredom' })).outcome).toEqual({
      kind: 'invalid',
      reason: 'bad_data',
    });
    expect(mapEvent(undefined, env('server.crashed', { server_id: 'a', extra: { nested: true } })).outcome).toMatchObject({ kind: 'lifecycle' });
  });

  it('treats a resource URI that is only a fragment or a query as missing, never as an empty label value', () => {
    const read = (resource_uri: string) =>
      mapEvent('resource.read', env('resource.read', { resource_uri, duration_ms: 5, success: true, transport: 'stdio' })).outcome;
    for (const uri of ['', '#', '?token=1', '#frag?x=1']) expect(read(uri)).toEqual({ kind: 'invalid', reason: 'bad_data' });
    expect(read('file:///x#frag')).toMatchObject({ fact: { resourceUri: 'file:///x' } });
  });

  it('never throws, whatever the input (property)', () => {
    fc.assert(
      fc.property(
        fc.option(fc.string(), { nil: undefined }),
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify({ type: 'server.crashed', data: v })),
        ),
        (type, data) => {
          const r = mapEvent(type, data);
          expect(r.outcome.kind).toBeDefined();
        },
      ),
      { numRuns: 2000 },
    );
  });
});
