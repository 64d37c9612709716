/**
 * The event sequence (pure): which events are new, replays, copies or signs of a gap, and which answers
 * are used at all. Fed SSE frames as the stream client would.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EventSequence, type SkipReason } from '../../src/sources/events/sequence.ts';
import { Inventory } from '../../src/ledger/inventory.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { occurrenceKey, type LifecycleFact } from '../../src/ledger/lifecycle.ts';
import { createLogger } from '../../src/log.ts';

const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

function setup() {
  let now = 1_000_000;
  const counted: string[] = [];
  const skipped: SkipReason[] = [];
  let gaps = 0;
  let rereads = 0;
  const inventory = new Inventory();
  const ledger = new Ledger(
    { lifecycle: (f: LifecycleFact) => counted.push(occurrenceKey(f)), toolCall: () => undefined, resourceRead: () => undefined, request: () => undefined },
    { now: () => now },
  );
  const seq = new EventSequence({
    ledger,
    inventory,
    logger,
    now: () => now,
    reread: () => rereads++,
    metrics: { received: () => undefined, invalid: (r) => skipped.push(r), reconnected: () => undefined, gap: () => gaps++ },
  });
  const frame = (id: number | undefined, type: string, data: Record<string, unknown>, at = now) => ({
    ...(id === undefined ? {} : { id: String(id) }),
    event: type,
    data: JSON.stringify({ type, time: new Date(at).toISOString(), composer: 't', data }),
  });
  const snapshot = (lastEventId: number | undefined, at = now) =>
    frame(
      undefined,
      'snapshot',
      { servers: [{ id: 's1', status: 'running', pid: 1, restart_count: 0 }], ...(lastEventId === undefined ? {} : { last_event_id: lastEventId }) },
      at,
    );
  const crashed = (id: number | undefined, server = 's1', at = now) =>
    frame(id, 'server.crashed', { server_id: server, exit_code: null, signal: 'SIGKILL' }, at);
  /** Sends a request and accepts its answer (if it is not discarded). */
  const connect = (): boolean => {
    const resumed = seq.resumeFrom !== undefined;
    seq.requestSent();
    return seq.connected(resumed);
  };
  return {
    seq,
    ledger,
    inventory,
    counted,
    skipped,
    frame,
    snapshot,
    crashed,
    connect,
    tick: (ms: number) => (now += ms),
    get gaps() {
      return gaps;
    },
    get rereads() {
      return rereads;
    },
  };
}

describe('event ids: each applied once per composer process', () => {
  it('applies a repeated id once and counts the copies as duplicate_id', () => {
    const t = setup();
    t.connect();
    t.seq.event(t.snapshot(10));
    t.seq.event(t.crashed(11));
    t.seq.event(t.crashed(11));
    t.seq.event(t.frame(12, 'tool.invoked', { tool_id: 'calc_add', duration_ms: 3, success: true, transport: 'stdio' }));
    t.seq.event(t.crashed(11));
    expect(t.counted).toEqual(['crash|s1']);
    expect(t.skipped).toEqual(['duplicate_id', 'duplicate_id']);
    expect(t.gaps).toBe(0);
    expect(t.seq.resumeFrom).toBe('12');
  });

  it('skips an id below the position that was never applied (out of order) and counts one gap for the connection', () => {
    const t = setup();
    t.connect();
    t.seq.event(t.snapshot(10));
    t.seq.event(t.crashed(11));
    t.seq.event(t.crashed(7, 's2'));
    t.seq.event(t.crashed(3, 's3'));
    t.seq.event(t.crashed(12, 's3'));
    expect(t.counted).toEqual(['crash|s1', 'crash|s3']);
    expect(t.skipped).toEqual(['out_of_order_id', 'out_of_order_id']);
    expect(t.gaps).toBe(1);
    expect(t.rereads).toBe(1);
  });

  it('starts a first connection at its snapshot: an older id is history, not a new occurrence', () => {
    const t = setup();
    t.connect();
    t.seq.event(t.snapshot(10));
    expect(t.seq.resumeFrom).toBe('10');
    t.seq.event(t.crashed(10));
    expect(t.counted).toEqual([]);
    expect(t.skipped).toEqual(['out_of_order_id']);
  });

  it('moves the position past events it does not understand, so a resumed stream does not send them again', () => {
    const t = setup();
    t.connect();
    t.seq.event(t.snapshot(1));
    t.seq.event(t.frame(2, 'demo.noise', {}));
    t.seq.event(t.frame(3, 'server.crashed', { no_server: true }));
    expect(t.skipped).toEqual(['unknown_type', 'bad_data']);
    expect(t.seq.resumeFrom).toBe('3');
    t.seq.event(t.frame(3, 'demo.noise', {}));
    expect(t.skipped.at(-1)).toBe('duplicate_id');
  });
});

describe('composer processes', () => {
  it('takes a snapshot behind the position for a restarted composer: one gap, and its replay counted from id 1', () => {
    const t = setup();
    t.connect();
    t.seq.event(t.snapshot(20));
    t.seq.disconnected('ended');
    t.connect();
    t.seq.event(t.frame(undefined, 'reset', { reason: 'unknown_id' }));
    t.seq.event(t.snapshot(2));
    t.seq.event(t.crashed(1));
    t.seq.event(t.crashed(2, 's2'));
    expect(t.counted).toEqual(['crash|s1', 'crash|s2']);
    expect(t.gaps).toBe(1);
    expect(t.seq.resumeFrom).toBe('2');
  });

  it('without last_event_id: a reset followed by ids starting over is a new process; after an expired reset they are out of order', () => {
    const restarted = setup();
    restarted.connect();
    restarted.seq.event(restarted.snapshot(undefined));
    restarted.seq.event(restarted.crashed(30));
    restarted.seq.disconnected('ended');
    restarted.connect();
    restarted.seq.event(restarted.frame(undefined, 'reset', { reason: 'unknown_id' }));
    restarted.seq.event(restarted.snapshot(undefined));
    restarted.seq.event(restarted.crashed(1, 's2'));
    expect(restarted.counted).toEqual(['crash|s1', 'crash|s2']);

    const expired = setup();
    expired.connect();
    expired.seq.event(expired.snapshot(undefined));
    expired.seq.event(expired.crashed(30));
    expired.seq.disconnected('ended');
    expired.connect();
    expired.seq.event(expired.frame(undefined, 'reset', { reason: 'expired' }));
    expired.seq.event(expired.snapshot(undefined));
    expired.seq.event(expired.crashed(1, 's2'));
    expired.seq.event(expired.crashed(31, 's3'));
    expect(expired.counted).toEqual(['crash|s1', 'crash|s3']);
    expect(expired.skipped).toEqual(['out_of_order_id']);
  });

  it('applies only the first snapshot of a connection; a copy later neither moves the position nor the memory back', () => {
    const t = setup();
    t.connect();
    t.seq.event(t.snapshot(5));
    t.seq.event(t.crashed(6));
    t.seq.event(t.snapshot(5));
    expect(t.skipped).toEqual(['repeated_snapshot']);
    expect(t.gaps).toBe(0);
    expect(t.inventory.knownStates()).toEqual(['crashed']);
    expect(t.seq.resumeFrom).toBe('6');
  });
});

describe('stalled answers and replays', () => {
  it('discards an answer when a fact was inferred while it was on its way, and asks again from the same position', () => {
    const t = setup();
    t.connect();
    t.seq.event(t.snapshot(10));
    t.seq.disconnected('idle_timeout');
    t.seq.requestSent();
    // While the answer is held: a poll infers the crash.
    t.ledger.lifecycle.fromInference({ kind: 'crash', serverId: 's1' });
    expect(t.seq.connected(true)).toBe(false);
    expect(t.ledger.lifecycle.streamConnected).toBe(false);
    expect(t.seq.resumeFrom).toBe('10');
    // Asked again: the new snapshot covers the crash, which comes as a replay matched to the inference.
    expect(t.connect()).toBe(true);
    t.seq.event(t.snapshot(11));
    t.seq.event(t.crashed(11));
    t.seq.event(t.crashed(12));
    expect(t.counted).toEqual(['crash|s1', 'crash|s1']);
  });

  it('discards an answer when a poll changed the per-server memory while it was on its way, not when it only confirmed it', () => {
    const t = setup();
    t.connect();
    t.seq.event(t.snapshot(10));
    t.seq.disconnected('idle_timeout');
    t.seq.requestSent();
    t.inventory.apply({ kind: 'servers', servers: [{ id: 's1', state: 'running', pid: 1, restartCount: 0 }], from: 'poll', takenAfter: Infinity });
    expect(t.seq.connected(true)).toBe(true);
    t.seq.disconnected('idle_timeout');
    t.seq.requestSent();
    // A change that infers nothing (the server is on its way back up) is still newer than the answer.
    t.inventory.apply({ kind: 'servers', servers: [{ id: 's1', state: 'starting', pid: undefined, restartCount: 0 }], from: 'poll', takenAfter: Infinity });
    expect(t.seq.connected(true)).toBe(false);
    expect(t.connect()).toBe(true);
  });

  it('without last_event_id, tells replays by the snapshot time, and only on a resumed connection', () => {
    const t = setup();
    t.connect();
    t.seq.event(t.snapshot(undefined));
    t.seq.event(t.crashed(1));
    t.seq.disconnected('idle_timeout');
    t.tick(1000);
    t.ledger.lifecycle.fromInference({ kind: 'crash', serverId: 's2' });
    t.tick(1000);
    expect(t.connect()).toBe(true);
    const snapshotAt = 1_000_000 + 1500;
    t.seq.event(t.snapshot(undefined, snapshotAt));
    // Older than the snapshot: the replay of the crash inference counted.
    t.seq.event(t.crashed(2, 's2', snapshotAt - 200));
    // Newer than the snapshot, though older than the connection: live.
    t.seq.event(t.crashed(3, 's2', snapshotAt + 100));
    expect(t.counted).toEqual(['crash|s1', 'crash|s2', 'crash|s2']);
  });
});
