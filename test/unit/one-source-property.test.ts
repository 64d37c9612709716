/**
 * "One source per fact", as a property: a simulated composer crashes, recovers and is restarted over REST
 * while the sidecar's event stream drops and reconnects and its poller takes views, in random
 * interleavings. With replay available, the sidecar's counts always equal the true number of
 * occurrences; when a gap cannot be replayed, nothing is ever counted twice.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ServerNote } from '../../src/events/event-map.ts';
import { Inventory } from '../../src/ledger/inventory.ts';
import { LifecycleLedger, occurrenceKey, type LifecycleFact } from '../../src/ledger/lifecycle.ts';

interface SimServer {
  state: 'running' | 'crashed';
  pid: number;
  rc: number;
}

interface LoggedEvent {
  readonly id: number;
  readonly fact: LifecycleFact;
  readonly note: ServerNote;
}

class Sim {
  readonly servers = new Map<string, SimServer>([
    ['a', { state: 'running', pid: 1, rc: 0 }],
    ['b', { state: 'running', pid: 2, rc: 0 }],
  ]);
  readonly log: LoggedEvent[] = [];
  readonly truth = new Map<string, number>();
  readonly counted = new Map<string, number>();
  readonly inventory = new Inventory();
  readonly ledger: LifecycleLedger;
  clock = 1_000_000;
  nextPid = 100;
  delivered = 0;
  connected = true;
  /** REST restarts whose response has not arrived: server → when the call started. */
  readonly pending = new Map<string, number>();

  constructor() {
    this.ledger = new LifecycleLedger({ lifecycle: (f) => bump(this.counted, occurrenceKey(f)) }, { now: () => this.clock, eventMatchWindowMs: 30_000 });
    this.ledger.onStreamConnected();
    this.inventory.applyServers(this.view(), false);
  }

  view() {
    return [...this.servers].map(([id, s]) => ({ id, state: s.state, pid: s.state === 'running' ? s.pid : undefined, restartCount: s.rc }));
  }

  emit(fact: LifecycleFact, note: ServerNote): void {
    const e = { id: this.log.length + 1, fact, note };
    this.log.push(e);
    bump(this.truth, occurrenceKey(fact));
    if (this.connected) this.deliver(e, false);
  }

  deliver(e: LoggedEvent, replay: boolean): void {
    this.ledger.fromEvent(e.fact, replay);
    if (!replay) {
      const { serverId, ...change } = e.note;
      this.inventory.noteServer(serverId, change);
    }
    this.delivered = e.id;
  }
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

/** The simulation is both fast-check's model (checked) and the system under test (run). */
type Cmd = fc.Command<Sim, Sim>;
const step = (sim: Sim) => (sim.clock += 500);

class Crash implements Cmd {
  readonly id: string;
  constructor(id: string) {
    this.id = id;
  }
  check(sim: Sim) {
    return sim.servers.get(this.id)?.state === 'running';
  }
  run(_m: Sim, sim: Sim) {
    step(sim);
    const s = sim.servers.get(this.id)!;
    s.state = 'crashed';
    sim.emit({ kind: 'crash', serverId: this.id }, { serverId: this.id, state: 'crashed' });
  }
  toString = () => `crash(${this.id})`;
}

class Recover implements Cmd {
  readonly id: string;
  constructor(id: string) {
    this.id = id;
  }
  check(sim: Sim) {
    return sim.servers.get(this.id)?.state === 'crashed';
  }
  run(_m: Sim, sim: Sim) {
    step(sim);
    const s = sim.servers.get(this.id)!;
    s.state = 'running';
    s.pid = sim.nextPid++;
    s.rc++;
    sim.emit({ kind: 'start', serverId: this.id, ok: true }, { serverId: this.id, state: 'running', pid: s.pid });
    sim.emit({ kind: 'restart', serverId: this.id, reason: 'crash' }, { serverId: this.id, state: 'running', pid: s.pid, restartCountDelta: 1 });
  }
  toString = () => `recover(${this.id})`;
}

class RestRestart implements Cmd {
  readonly id: string;
  constructor(id: string) {
    this.id = id;
  }
  check(sim: Sim) {
    return (sim.servers.get(this.id)?.state === 'running' && !sim.pending.has(this.id));
  }
  run(_m: Sim, sim: Sim) {
    step(sim);
    sim.inventory.lifecycleCallStarted(this.id);
    sim.pending.set(this.id, sim.clock);
    const s = sim.servers.get(this.id)!;
    s.pid = sim.nextPid++;
    s.rc++;
    sim.emit({ kind: 'stop', serverId: this.id, ok: true }, { serverId: this.id, state: 'stopped' });
    sim.emit({ kind: 'start', serverId: this.id, ok: true }, { serverId: this.id, state: 'running', pid: s.pid });
    sim.emit({ kind: 'restart', serverId: this.id, reason: 'manual' }, { serverId: this.id, state: 'running', pid: s.pid, restartCountDelta: 1 });
  }
  toString = () => `restRestart(${this.id})`;
}

class RestResponse implements Cmd {
  readonly id: string;
  constructor(id: string) {
    this.id = id;
  }
  check(sim: Sim) {
    return sim.pending.has(this.id);
  }
  run(_m: Sim, sim: Sim) {
    step(sim);
    sim.pending.delete(this.id);
    sim.ledger.fromInference({ kind: 'restart', serverId: this.id, reason: 'manual' });
    sim.inventory.lifecycleCallEnded(this.id, true);
  }
  toString = () => `restResponse(${this.id})`;
}

class Poll implements Cmd {
  check = () => true;
  run(_m: Sim, sim: Sim) {
    step(sim);
    for (const f of sim.inventory.applyServers(sim.view())) sim.ledger.fromInference(f);
  }
  toString = () => 'poll';
}

class Disconnect implements Cmd {
  check(sim: Sim) {
    return sim.connected;
  }
  run(_m: Sim, sim: Sim) {
    step(sim);
    sim.connected = false;
    sim.ledger.onStreamDisconnected();
  }
  toString = () => 'disconnect';
}

class Reconnect implements Cmd {
  readonly replay: boolean;
  constructor(replay: boolean) {
    this.replay = replay;
  }
  check(sim: Sim) {
    return !sim.connected;
  }
  run(_m: Sim, sim: Sim) {
    step(sim);
    sim.connected = true;
    sim.ledger.onStreamConnected();
    // The snapshot comes first, then the replay of the gap (or nothing after a reset).
    sim.inventory.applyServers(sim.view(), false);
    const missed = sim.log.filter((e) => e.id > sim.delivered);
    if (this.replay) for (const e of missed) sim.deliver(e, true);
    else sim.delivered = sim.log.length;
  }
  toString = () => `reconnect(${this.replay ? 'replay' : 'reset'})`;
}

/** Time passing between actions; never while a REST call waits for its response (those are short). */
class Tick implements Cmd {
  readonly ms: number;
  constructor(ms: number) {
    this.ms = ms;
  }
  check(sim: Sim) {
    return sim.pending.size === 0;
  }
  run(_m: Sim, sim: Sim) {
    sim.clock += this.ms;
  }
  toString = () => `tick(${this.ms})`;
}

function commands(withResets: boolean) {
  const server = fc.constantFrom('a', 'b');
  return fc.commands(
    [
      server.map((id) => new Crash(id)),
      server.map((id) => new Recover(id)),
      server.map((id) => new RestRestart(id)),
      server.map((id) => new RestResponse(id)),
      fc.constant(new Poll()),
      fc.constant(new Disconnect()),
      (withResets ? fc.boolean() : fc.constant(true)).map((replay) => new Reconnect(replay)),
      fc.integer({ min: 100, max: 60_000 }).map((ms) => new Tick(ms)),
    ],
    { maxCommands: 80, size: 'max' },
  );
}

/** Ends a run the way a healthy sidecar would: responses arrive, the stream comes back and replays. */
function finish(sim: Sim): void {
  for (const id of [...sim.pending.keys()]) new RestResponse(id).run(sim, sim);
  if (!sim.connected) new Reconnect(true).run(sim, sim);
}

describe('one source per fact (property)', () => {
  it('counts every occurrence exactly once whatever the interleaving of events, drops, replays and polls', () => {
    let replayedGaps = 0;
    let occurrences = 0;
    fc.assert(
      fc.property(commands(false), (cmds) => {
        const sim = new Sim();
        fc.modelRun(() => ({ model: sim, real: sim }), cmds);
        const before = sim.delivered;
        finish(sim);
        if (sim.log.length > before || [...cmds].some((c) => String(c).startsWith('reconnect'))) replayedGaps++;
        occurrences += sim.log.length;
        expect(Object.fromEntries(sim.counted)).toEqual(Object.fromEntries(sim.truth));
      }),
      { numRuns: 3000 },
    );
    // The runs are not vacuous: most of them replay a gap, and together they emit many occurrences.
    expect(replayedGaps).toBeGreaterThan(1000);
    expect(occurrences).toBeGreaterThan(20_000);
  });

  it('never counts an occurrence twice when gaps cannot be replayed (resets)', () => {
    fc.assert(
      fc.property(commands(true), (cmds) => {
        const sim = new Sim();
        fc.modelRun(() => ({ model: sim, real: sim }), cmds);
        finish(sim);
        for (const [key, n] of sim.counted) expect(n, key).toBeLessThanOrEqual(sim.truth.get(key) ?? 0);
      }),
      { numRuns: 3000 },
    );
  });
});
