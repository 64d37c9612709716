/**
 * What the sidecar currently knows of the composer's inventory: version, uptime, server counts,
 * capabilities, per-server counts and conflicts — the catalog's gauges read it at each collection — and
 * the per-server memory (state, pid, restart count) that lifecycle differences are computed against. The
 * names sources list (tools, prompts, resource URIs, servers seen) are kept in {@link Inventory.known}: the
 * label values known in advance.
 *
 * One writer: polls, event-stream snapshots and events, MCP-native listings and proxied lifecycle calls
 * hand it {@link InventoryChange}s, and {@link Inventory.apply} is the only code that changes what it holds.
 * Readers get a {@link ReadonlyInventory}; sources an {@link InventoryWriter}.
 */
import {
  CAPABILITY_KINDS,
  type Capabilities,
  type CapabilityKind,
  type InventoryChange,
  type ServerCounts,
  type ServerInfo,
  type ServerNote,
  type VersionInfo,
} from './inventory-change.ts';
import { KnownNames, type ReadonlyKnownNames } from './known-names.ts';
import type { LifecycleFact } from './lifecycle.ts';
import { diffServer, FAILED_STATES, type ServerMemory } from './poll-diff.ts';

/** A server as the inventory knows it (for the status page). */
export interface KnownServer {
  readonly id: string;
  readonly state: string;
  readonly pid: number | undefined;
  readonly restartCount: number | undefined;
}

/** What readers (the gauges, the label bounds, the status page) see of the inventory. */
export interface ReadonlyInventory {
  readonly info: VersionInfo | undefined;
  readonly servers: ServerCounts | undefined;
  /** Totals of tools, prompts and resources; a source may know only some of them (e.g. `GET /tools`). */
  readonly capabilities: Partial<Capabilities> | undefined;
  readonly conflicts: number | undefined;
  readonly perServer: Readonly<Record<CapabilityKind, ReadonlyMap<string, number> | undefined>>;
  /** Tool ids and names, prompt ids and names, resource URIs and servers the composer has listed since start. */
  readonly known: ReadonlyKnownNames;
  /** The composer's uptime now, extrapolated from the last reading. */
  uptimeSeconds(now: number): number | undefined;
  /** Whether `serverId` is a server the inventory knows: one whose state it has seen, or one its capability counts name. */
  knowsServer(serverId: string): boolean;
  /** The servers known from the last view and the events since: id, state, pid, restart count. */
  knownServers(): KnownServer[];
  /** States of the servers known from the last view and the events since. */
  knownStates(): string[];
  /** The current change mark (see {@link InventoryWriter.mark}). */
  mark(): number;
}

/** What a source holds of the inventory: the mark to take a view at, and the one way to change it. */
export interface InventoryWriter {
  /**
   * The current change mark. A view whose request is sent now is at least this recent: handed back with
   * the view (`takenAfter`), it keeps that view (a poll answered late, a snapshot delivered late or twice)
   * from overwriting what changed after the request left.
   */
  mark(): number;
  /** Applies one change; returns the lifecycle facts it implies (only a poll's view of the servers has any). */
  apply(change: InventoryChange): readonly LifecycleFact[];
}

/** States a server rests in; `starting`/`stopping` are on the way to one. */
const SETTLED: ReadonlySet<string> = new Set(['running', 'stopped', 'crashed', 'failed', 'error', 'gone']);

export interface InventoryOptions {
  /** Names kept per kind in {@link Inventory.known} (`--max-known-values`). @default 1000 */
  readonly maxKnownNames?: number;
}

const sameMemory = (a: ServerMemory, b: ServerMemory): boolean =>
  a.state === b.state && a.pid === b.pid && a.restartCount === b.restartCount && a.crashCounted === b.crashCounted;

const NO_FACTS: readonly LifecycleFact[] = [];

export class Inventory implements ReadonlyInventory, InventoryWriter {
  #info: VersionInfo | undefined = undefined;
  #servers: ServerCounts | undefined = undefined;
  #capabilities: Partial<Capabilities> | undefined = undefined;
  #conflicts: number | undefined = undefined;
  readonly #perServer: Record<CapabilityKind, ReadonlyMap<string, number> | undefined> = { tools: undefined, prompts: undefined, resources: undefined };
  #uptime: { seconds: number; at: number } | undefined = undefined;
  readonly #memory = new Map<string, ServerMemory>();
  /** Proxied lifecycle calls per server whose effects may still show up in a view. */
  readonly #calls = new Map<string, { inFlight: number; succeeded: boolean; endedAt: number }>();
  readonly #known: KnownNames;
  /** A counter of changes to the memory and to the calls (see {@link Inventory.mark}), and when each server's memory last changed. */
  #mark = 0;
  readonly #writtenAt = new Map<string, number>();
  /**
   * While the event stream is connected its snapshot and events keep the per-server memory, and polls'
   * server lists only add servers it does not know and drop those gone (their facts are not counted then
   * anyway): a poll answered during the stream could otherwise put an older view over what events said.
   */
  #memoryFollowsStream = false;

  constructor(opts: InventoryOptions = {}) {
    this.#known = new KnownNames(opts.maxKnownNames ?? 1000);
  }

  get info(): VersionInfo | undefined {
    return this.#info;
  }

  get servers(): ServerCounts | undefined {
    return this.#servers;
  }

  get capabilities(): Partial<Capabilities> | undefined {
    return this.#capabilities;
  }

  get conflicts(): number | undefined {
    return this.#conflicts;
  }

  get perServer(): Readonly<Record<CapabilityKind, ReadonlyMap<string, number> | undefined>> {
    return this.#perServer;
  }

  get known(): ReadonlyKnownNames {
    return this.#known;
  }

  knowsServer(serverId: string): boolean {
    if (this.#known.has('servers', serverId)) return true;
    const { tools, prompts, resources } = this.#perServer;
    return (tools?.has(serverId) ?? false) || (prompts?.has(serverId) ?? false) || (resources?.has(serverId) ?? false);
  }

  mark(): number {
    return this.#mark;
  }

  uptimeSeconds(now: number): number | undefined {
    return this.#uptime === undefined ? undefined : this.#uptime.seconds + Math.max(0, now - this.#uptime.at) / 1000;
  }

  knownServers(): KnownServer[] {
    return [...this.#memory].map(([id, m]) => ({ id, state: m.state, pid: m.pid, restartCount: m.restartCount }));
  }

  knownStates(): string[] {
    return [...this.#memory.values()].map((m) => m.state);
  }

  apply(change: InventoryChange): readonly LifecycleFact[] {
    switch (change.kind) {
      case 'version':
        this.#info = change.info;
        return NO_FACTS;
      case 'uptime':
        this.#uptime = { seconds: change.seconds, at: change.at };
        return NO_FACTS;
      case 'totals':
        if (Object.keys(change.totals).length > 0) this.#capabilities = { ...this.#capabilities, ...change.totals };
        return NO_FACTS;
      case 'conflicts':
        this.#conflicts = change.count;
        return NO_FACTS;
      case 'servers': {
        const facts = this.#applyServers(change.servers, change.from === 'poll', change.takenAfter);
        if (change.from === 'snapshot') this.#countServers();
        return facts;
      }
      case 'server_counts':
        this.#servers = { ...change.counts, failed: change.counts.failed ?? this.#failedFromMemory() };
        return NO_FACTS;
      case 'server_event':
        if (change.replay) {
          this.#noteReplayed(change.note);
        } else {
          this.#noteServer(change.note);
          this.#countServers();
        }
        return NO_FACTS;
      case 'server_capabilities': {
        for (const kind of CAPABILITY_KINDS) this.#perServer[kind] = new Map(this.#perServer[kind] ?? []).set(change.serverId, change.counts[kind]);
        const sum = (kind: CapabilityKind) => [...(this.#perServer[kind]?.values() ?? [])].reduce((a, b) => a + b, 0);
        this.#capabilities = { tools: sum('tools'), prompts: sum('prompts'), resources: sum('resources') };
        return NO_FACTS;
      }
      case 'per_server':
        this.#perServer[change.of] = change.counts === undefined ? undefined : new Map(change.counts);
        return NO_FACTS;
      case 'names':
        this.#known.add(change.of, change.names);
        return NO_FACTS;
      case 'call_started':
        this.#callStarted(change.serverId);
        return NO_FACTS;
      case 'call_ended':
        this.#callEnded(change.serverId, change.succeeded);
        return NO_FACTS;
      case 'stream':
        this.#memoryFollowsStream = change.connected;
        return NO_FACTS;
    }
  }

  #callStarted(serverId: string): void {
    const c = this.#calls.get(serverId) ?? { inFlight: 0, succeeded: false, endedAt: 0 };
    c.inFlight++;
    this.#calls.set(serverId, c);
  }

  #callEnded(serverId: string, succeeded: boolean): void {
    const c = this.#calls.get(serverId);
    if (c === undefined) return;
    c.inFlight = Math.max(0, c.inFlight - 1);
    c.endedAt = ++this.#mark;
    if (c.inFlight === 0 && !succeeded && !c.succeeded) this.#calls.delete(serverId);
    else if (succeeded) c.succeeded = true;
  }

  /**
   * A new view of the servers; returns the lifecycle facts its differences imply when `inferFacts`. A
   * view that infers nothing (a snapshot) is the only way to change a known server while the memory
   * follows the stream.
   */
  #applyServers(list: readonly ServerInfo[], inferFacts: boolean, takenAfter: number): LifecycleFact[] {
    const facts: LifecycleFact[] = [];
    const seen = new Set<string>();
    this.#known.add(
      'servers',
      list.map((s) => s.id),
    );
    const newer = (id: string) => (this.#writtenAt.get(id) ?? 0) > takenAfter;
    const applied = new Set<string>();
    for (const s of list) {
      seen.add(s.id);
      const prev = this.#memory.get(s.id);
      if (newer(s.id) || (inferFacts && this.#memoryFollowsStream && prev !== undefined)) continue;
      applied.add(s.id);
      const explained = this.#calls.has(s.id);
      const { facts: f, memory } = diffServer(s.id, prev, { state: s.state, pid: s.pid, restartCount: s.restartCount }, explained || !inferFacts);
      this.#memory.set(s.id, memory);
      // The mark moves only when the memory does: a view that confirms it is no news.
      if (prev === undefined || !sameMemory(prev, memory)) this.#writtenAt.set(s.id, ++this.#mark);
      if (inferFacts) facts.push(...f);
    }
    for (const id of [...this.#memory.keys()]) {
      if (!seen.has(id) && !newer(id)) {
        applied.add(id);
        this.#memory.delete(id);
        this.#writtenAt.delete(id);
      }
    }
    // A call explains changes until its server is seen settled after it: the composer may answer a
    // restart while the server is still `starting`, and the new pid and restart count appear later.
    for (const [id, c] of this.#calls) {
      if (c.inFlight === 0 && c.endedAt <= takenAfter && (applied.has(id) || !this.#memory.has(id)) && SETTLED.has(this.#memory.get(id)?.state ?? 'gone'))
        this.#calls.delete(id);
    }
    return facts;
  }

  /** Updates one server's memory from an event (pid of `server.started`/`restarted`, `crashed` state). */
  #noteServer({ serverId, ...change }: ServerNote): void {
    this.#known.add('servers', [serverId]);
    const m = this.#memory.get(serverId);
    const state = change.state ?? m?.state ?? 'unknown';
    this.#writtenAt.set(serverId, ++this.#mark);
    this.#memory.set(serverId, {
      state,
      pid: change.pid ?? (FAILED_STATES.has(state) || state === 'stopped' ? undefined : m?.pid),
      restartCount: m?.restartCount === undefined ? undefined : m.restartCount + (change.restartCountDelta ?? 0),
      // A crash stays pending through `starting` and `started` until its restart (or a stop) is seen.
      crashCounted: FAILED_STATES.has(state) || ((change.restartCountDelta ?? 0) === 0 && state !== 'stopped' && m?.crashCounted === true),
    });
  }

  /**
   * A replayed event (older than the snapshot that set the memory) changes only whether a counted crash
   * is still pending: the snapshot's state already says the rest. A crash replayed while the snapshot
   * shows the server down or `starting` is the one whose restart is pending; a restart or a stop replayed
   * after it resolves it.
   */
  #noteReplayed({ serverId, ...change }: ServerNote): void {
    const m = this.#memory.get(serverId);
    if (m === undefined) return;
    let crashCounted = m.crashCounted;
    if (change.state !== undefined && FAILED_STATES.has(change.state)) crashCounted = FAILED_STATES.has(m.state) || m.state === 'starting';
    else if ((change.restartCountDelta ?? 0) > 0 || change.state === 'stopped') crashCounted = false;
    if (crashCounted === m.crashCounted) return;
    this.#memory.set(serverId, { ...m, crashCounted });
    this.#writtenAt.set(serverId, ++this.#mark);
  }

  /** Counts servers by state from the memory, for shapes of /status that do not say how many failed. */
  #failedFromMemory(): number | undefined {
    if (this.#memory.size === 0) return undefined;
    let failed = 0;
    for (const m of this.#memory.values()) if (FAILED_STATES.has(m.state)) failed++;
    return failed;
  }

  /** Server counts from the per-server memory (the event stream's view; polls of /status refine them). */
  #countServers(): void {
    const states = this.knownStates();
    if (states.length === 0) return;
    this.#servers = {
      total: states.length,
      running: states.filter((s) => s === 'running').length,
      stopped: states.filter((s) => s === 'stopped').length,
      failed: states.filter((s) => FAILED_STATES.has(s)).length,
    };
  }
}
