import { describe, expect, it } from 'vitest';
import { parseConflicts, parseListPage, parseServers, parseStatus, parseVersion } from '../../src/sources/poll/inventory-parse.ts';
import { Inventory } from '../../src/ledger/inventory.ts';
import { diffServer } from '../../src/ledger/poll-diff.ts';

describe('inventory parsers accept both shapes', () => {
  it('reads /status nested (code) and flat (doc)', () => {
    const code = parseStatus({
      status: 'healthy',
      servers: { total: 3, running: 2, stopped: 0, statuses: { a: 'running', b: 'running', c: 'crashed' } },
      capabilities: { tools: 9, prompts: 3, resources: 5 },
      uptime_seconds: 12.5,
    });
    expect(code).toMatchObject({
      servers: { total: 3, running: 2, stopped: 0, failed: 1 },
      capabilities: { tools: 9, prompts: 3, resources: 5 },
      uptimeSeconds: 12.5,
    });
    const doc = parseStatus({ servers_total: 3, servers_running: 3, servers_stopped: 0, tools_total: 9, prompts_total: 3, resources_total: 5, uptime: 7 });
    expect(doc).toMatchObject({
      servers: { total: 3, running: 3, stopped: 0, failed: undefined },
      capabilities: { tools: 9, prompts: 3, resources: 5 },
      uptimeSeconds: 7,
    });
    expect(parseStatus('garbage')).toBeUndefined();
    expect(parseStatus({ unrelated: true })).toBeUndefined();
  });

  it('reads ServerInfo with status or state, and lists with server_id or server', () => {
    expect(
      parseServers({
        servers: [{ id: 'a', status: 'running', pid: 10, restart_count: 1 }, { id: 'b', state: 'crashed', pid: null, restart_count: 0 }, { junk: 1 }],
      }),
    ).toEqual([
      { id: 'a', state: 'running', pid: 10, restartCount: 1 },
      { id: 'b', state: 'crashed', pid: undefined, restartCount: 0 },
    ]);
    expect(parseListPage({ tools: [{ server_id: 'a' }, { server: 'b' }, {}], total: 3 }, 'tools')).toEqual({
      serverIds: ['a', 'b'],
      names: [],
      total: 3,
      count: 3,
    });
    expect(parseConflicts({ conflicts: [{}, {}] })).toBe(2);
    expect(parseVersion({ version: '1.2.3', platform: 'linux' })).toEqual({ version: '1.2.3', platform: 'linux' });
    expect(parseVersion({ version: 1 })).toBeUndefined();
  });
});

describe('poll differences', () => {
  const run = (prev: Parameters<typeof diffServer>[1], state: string, pid: number | undefined, rc: number | undefined, explained = false) =>
    diffServer('s', prev, { state, pid, restartCount: rc }, explained);

  it('counts a crash seen as a state, then its supervisor restart, once each', () => {
    const a = run(undefined, 'running', 1, 0);
    const b = run(a.memory, 'crashed', undefined, 0);
    expect(b.facts).toEqual([{ kind: 'crash', serverId: 's' }]);
    const starting = run(b.memory, 'starting', undefined, 0);
    expect(starting.facts).toEqual([]);
    const c = run(starting.memory, 'running', 2, 1);
    expect(c.facts).toEqual([{ kind: 'restart', serverId: 's', reason: 'crash' }]);
    expect(run(c.memory, 'running', 2, 1).facts).toEqual([]);
  });

  it('counts a crash and restart that happened between two views', () => {
    const a = run(undefined, 'running', 1, 0);
    expect(run(a.memory, 'running', 2, 1).facts).toEqual([
      { kind: 'crash', serverId: 's' },
      { kind: 'restart', serverId: 's', reason: 'crash' },
    ]);
    expect(run(a.memory, 'running', 9, 3).facts.filter((f) => f.kind === 'crash')).toHaveLength(3);
  });

  it('uses the pid when there is no restart count, and counts a crash that stays crashed once', () => {
    const a = run(undefined, 'running', 1, undefined);
    expect(run(a.memory, 'running', 2, undefined).facts).toHaveLength(2);
    const crashed = run(a.memory, 'crashed', undefined, undefined);
    expect(crashed.facts).toEqual([{ kind: 'crash', serverId: 's' }]);
    expect(run(crashed.memory, 'crashed', undefined, undefined).facts).toEqual([]);
  });

  it('leaves changes explained by a proxied lifecycle call to that call', () => {
    const a = run(undefined, 'running', 1, 0);
    expect(run(a.memory, 'running', 2, 1, true).facts).toEqual([]);
  });
});

describe('Inventory', () => {
  it('explains changes by lifecycle calls in flight or since the last view, then forgets them', () => {
    const inv = new Inventory();
    inv.apply({ kind: 'servers', servers: [{ id: 's', state: 'running', pid: 1, restartCount: 0 }], from: 'poll', takenAfter: Infinity });
    inv.apply({ kind: 'call_started', serverId: 's' });
    inv.apply({ kind: 'call_ended', serverId: 's', succeeded: true });
    expect(inv.apply({ kind: 'servers', servers: [{ id: 's', state: 'running', pid: 2, restartCount: 1 }], from: 'poll', takenAfter: Infinity })).toEqual([]);
    expect(inv.apply({ kind: 'servers', servers: [{ id: 's', state: 'running', pid: 3, restartCount: 2 }], from: 'poll', takenAfter: Infinity })).toHaveLength(
      2,
    );
  });

  it('extrapolates uptime from the last reading', () => {
    const inv = new Inventory();
    expect(inv.uptimeSeconds(0)).toBeUndefined();
    inv.apply({ kind: 'uptime', seconds: 100, at: 1_000 });
    expect(inv.uptimeSeconds(3_500)).toBe(102.5);
  });
});

describe('Inventory and a restart answered before the server is back', () => {
  it('keeps explaining changes until the server is seen settled after the call', () => {
    const inv = new Inventory();
    inv.apply({ kind: 'servers', servers: [{ id: 's', state: 'running', pid: 1, restartCount: 0 }], from: 'poll', takenAfter: Infinity });
    inv.apply({ kind: 'call_started', serverId: 's' });
    inv.apply({ kind: 'call_ended', serverId: 's', succeeded: true });
    expect(
      inv.apply({ kind: 'servers', servers: [{ id: 's', state: 'starting', pid: undefined, restartCount: 0 }], from: 'poll', takenAfter: Infinity }),
    ).toEqual([]);
    expect(inv.apply({ kind: 'servers', servers: [{ id: 's', state: 'running', pid: 2, restartCount: 1 }], from: 'poll', takenAfter: Infinity })).toEqual([]);
    expect(inv.apply({ kind: 'servers', servers: [{ id: 's', state: 'running', pid: 3, restartCount: 2 }], from: 'poll', takenAfter: Infinity })).toHaveLength(
      2,
    );
  });
});

describe('Inventory and a lifecycle call that failed', () => {
  it('does not let a refused call (400 already running) hide a crash that follows it', () => {
    const inv = new Inventory();
    inv.apply({ kind: 'servers', servers: [{ id: 's', state: 'running', pid: 1, restartCount: 0 }], from: 'poll', takenAfter: Infinity });
    inv.apply({ kind: 'call_started', serverId: 's' });
    inv.apply({ kind: 'call_ended', serverId: 's', succeeded: false });
    expect(
      inv.apply({ kind: 'servers', servers: [{ id: 's', state: 'crashed', pid: undefined, restartCount: 0 }], from: 'poll', takenAfter: Infinity }),
    ).toEqual([{ kind: 'crash', serverId: 's' }]);
  });
});

describe('Inventory and views that arrive late (interleaved with events)', () => {
  const view = (state: string, pid: number | undefined, restartCount: number | undefined) => [{ id: 's', state, pid, restartCount }];

  it('does not let a poll answered after an event put the older state back', () => {
    const inv = new Inventory();
    inv.apply({ kind: 'servers', servers: view('running', 1, 0), from: 'poll', takenAfter: Infinity });
    const takenAfter = inv.mark();
    // The event arrives while the poll is on its way; the poll's view is from before the crash.
    inv.apply({ kind: 'server_event', note: { serverId: 's', state: 'crashed' }, replay: false });
    expect(inv.apply({ kind: 'servers', servers: view('running', 1, 0), from: 'poll', takenAfter })).toEqual([]);
    expect(inv.knownStates()).toEqual(['crashed']);
    // The next poll, sent after the event, sees the restart: the crash is not inferred again.
    expect(inv.apply({ kind: 'servers', servers: view('running', 2, 1), from: 'poll', takenAfter: inv.mark() })).toEqual([
      { kind: 'restart', serverId: 's', reason: 'crash' },
    ]);
  });

  it('does not let a view older than a restart call end its explanation', () => {
    const inv = new Inventory();
    inv.apply({ kind: 'servers', servers: view('running', 1, 0), from: 'poll', takenAfter: Infinity });
    const before = inv.mark();
    inv.apply({ kind: 'call_started', serverId: 's' });
    inv.apply({ kind: 'call_ended', serverId: 's', succeeded: true });
    expect(inv.apply({ kind: 'servers', servers: view('running', 1, 0), from: 'poll', takenAfter: before })).toEqual([]);
    expect(inv.apply({ kind: 'servers', servers: view('running', 2, 1), from: 'poll', takenAfter: inv.mark() })).toEqual([]);
    expect(inv.apply({ kind: 'servers', servers: view('running', 3, 2), from: 'poll', takenAfter: inv.mark() })).toHaveLength(2);
  });

  it('leaves the per-server memory to the event stream while it is connected, but learns servers added and removed', () => {
    const inv = new Inventory();
    inv.apply({
      kind: 'servers',
      servers: [...view('running', 1, 0), { id: 'old', state: 'running', pid: 7, restartCount: 0 }],
      from: 'poll',
      takenAfter: Infinity,
    });
    inv.apply({ kind: 'stream', connected: true });
    expect(
      inv.apply({
        kind: 'servers',
        servers: [...view('crashed', undefined, 0), { id: 'new', state: 'running', pid: 9, restartCount: 0 }],
        from: 'poll',
        takenAfter: Infinity,
      }),
    ).toEqual([]);
    expect(inv.knownStates()).toEqual(['running', 'running']);
    inv.apply({ kind: 'servers', servers: view('crashed', undefined, 0), from: 'snapshot', takenAfter: Infinity });
    expect(inv.knownStates()).toEqual(['crashed']);
  });

  it('keeps a crash an event reported pending through starting and started, until its restart', () => {
    const inv = new Inventory();
    inv.apply({ kind: 'servers', servers: view('running', 1, 0), from: 'poll', takenAfter: Infinity });
    inv.apply({ kind: 'server_event', note: { serverId: 's', state: 'crashed' }, replay: false });
    inv.apply({ kind: 'server_event', note: { serverId: 's', state: 'starting' }, replay: false });
    inv.apply({ kind: 'server_event', note: { serverId: 's', state: 'running', pid: 2 }, replay: false });
    // A poll sees the restart count moved: the restart is inferred, the crash (already counted) is not.
    expect(inv.apply({ kind: 'servers', servers: view('running', 2, 1), from: 'poll', takenAfter: inv.mark() })).toEqual([
      { kind: 'restart', serverId: 's', reason: 'crash' },
    ]);
  });

  it('without a restart count, ends a pending crash once the pid an event reported is seen running', () => {
    const inv = new Inventory();
    inv.apply({ kind: 'servers', servers: view('running', 1, undefined), from: 'poll', takenAfter: Infinity });
    inv.apply({ kind: 'server_event', note: { serverId: 's', state: 'crashed' }, replay: false });
    inv.apply({ kind: 'server_event', note: { serverId: 's', state: 'running', pid: 2 }, replay: false });
    expect(inv.apply({ kind: 'servers', servers: view('running', 2, undefined), from: 'poll', takenAfter: inv.mark() })).toEqual([]);
    // A later crash is seen again.
    expect(inv.apply({ kind: 'servers', servers: view('crashed', undefined, undefined), from: 'poll', takenAfter: inv.mark() })).toEqual([
      { kind: 'crash', serverId: 's' },
    ]);
  });
});

describe('Inventory and a crash whose restart is pending across a snapshot', () => {
  const view = (state: string, pid: number | undefined, restartCount: number | undefined) => [{ id: 's', state, pid, restartCount }];

  it('keeps a crash an event counted pending when a snapshot shows the server starting', () => {
    const inv = new Inventory();
    inv.apply({ kind: 'servers', servers: view('running', 1, 0), from: 'poll', takenAfter: Infinity });
    inv.apply({ kind: 'server_event', note: { serverId: 's', state: 'crashed' }, replay: false });
    inv.apply({ kind: 'servers', servers: view('starting', undefined, 0), from: 'snapshot', takenAfter: Infinity });
    expect(inv.apply({ kind: 'servers', servers: view('running', 2, 1), from: 'poll', takenAfter: inv.mark() })).toEqual([
      { kind: 'restart', serverId: 's', reason: 'crash' },
    ]);
  });

  it('marks a replayed crash pending when the snapshot before it shows the server starting, and a replayed restart resolves it', () => {
    const inv = new Inventory();
    inv.apply({ kind: 'servers', servers: view('running', 1, 0), from: 'poll', takenAfter: Infinity });
    // Snapshot from after the crash, while the supervisor restarts it; then the replay of the crash.
    inv.apply({ kind: 'servers', servers: view('starting', undefined, 0), from: 'snapshot', takenAfter: Infinity });
    inv.apply({ kind: 'server_event', note: { serverId: 's', state: 'crashed' }, replay: true });
    expect(inv.apply({ kind: 'servers', servers: view('running', 2, 1), from: 'poll', takenAfter: inv.mark() })).toEqual([
      { kind: 'restart', serverId: 's', reason: 'crash' },
    ]);

    const resolved = new Inventory();
    resolved.apply({ kind: 'servers', servers: view('running', 1, 0), from: 'poll', takenAfter: Infinity });
    resolved.apply({ kind: 'servers', servers: view('running', 2, 1), from: 'snapshot', takenAfter: Infinity });
    resolved.apply({ kind: 'server_event', note: { serverId: 's', state: 'crashed' }, replay: true });
    resolved.apply({ kind: 'server_event', note: { serverId: 's', state: 'running', restartCountDelta: 1 }, replay: true });
    expect(resolved.apply({ kind: 'servers', servers: view('crashed', undefined, 1), from: 'poll', takenAfter: resolved.mark() })).toEqual([
      { kind: 'crash', serverId: 's' },
    ]);
  });
});
