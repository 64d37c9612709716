/**
 * What the sidecar currently knows of the composer's inventory: version, uptime, server counts,
 * capabilities, per-server counts and conflicts — the catalog's gauges read it at each collection — and
 * the per-server memory (state, pid, restart count) that lifecycle differences are computed against.
 * Polls, event-stream snapshots and MCP-native inventory all write here; a value no source has given is
 * `undefined`, and its family is then absent from the scrape. The names sources list (tools, prompts,
 * resource URIs, servers seen) are kept in {@link Inventory.known}: the label values known in advance.
 */
import { KnownNames } from './known-names.ts';
import type { LifecycleFact } from './lifecycle.ts';
import { diffServer, FAILED_STATES, type ServerMemory } from './poll-diff.ts';

export interface VersionInfo {
  readonly version: string;
  readonly platform: string;
}

export interface ServerCounts {
  readonly total: number;
  readonly running: number;
  readonly stopped: number;
  /** Servers whose state is crashed/failed; `undefined` when the shape does not say. */
  readonly failed: number | undefined;
}

export interface Capabilities {
  readonly tools: number;
  readonly prompts: number;
  readonly resources: number;
}

export interface ServerInfo {
  readonly id: string;
  readonly state: string;
  readonly pid: number | undefined;
  readonly restartCount: number | undefined;
}

export type CapabilityKind = 'tools' | 'prompts' | 'resources';

/** States a server rests in; `starting`/`stopping` are on the way to one. */
const SETTLED: ReadonlySet<string> = new Set(['running', 'stopped', 'crashed', 'failed', 'error', 'gone']);

export interface InventoryOptions {
  /** Names kept per kind in {@link Inventory.known} (`--max-known-values`). @default 1000 */
  readonly maxKnownNames?: number;
}

const sameMemory = (a: ServerMemory, b: ServerMemory): boolean =>
  a.state === b.state && a.pid === b.pid && a.restartCount === b.restartCount && a.crashCounted === b.crashCounted;

export class Inventory {
  info: VersionInfo | undefined = undefined;
  servers: ServerCounts | undefined = undefined;
  /** Totals of tools, prompts and resources; a source may know only some of them (e.g. `GET /tools`). */
  capabilities: Partial<Capabilities> | undefined = undefined;
  conflicts: number | undefined = undefined;
  readonly perServer: Record<CapabilityKind, ReadonlyMap<string, number> | undefined> = { tools: undefined, prompts: undefined, resources: undefined };
  #uptime: { seconds: number; at: number } | undefined = undefined;
  readonly #memory = new Map<string, ServerMemory>();
  /** Proxied lifecycle calls per server whose effects may still show up in a view. */
  readonly #calls = new Map<string, { inFlight: number; succeeded: boolean; endedAt: number }>();
  /** Tool ids and names, prompt ids and names, resource URIs and servers the composer has listed since start. */
  readonly known: KnownNames;
  /** A counter of changes to the memory and to the calls (see {@link Inventory.mark}), and when each server's memory last changed. */
  #mark = 0;
  readonly #writtenAt = new Map<string, number>();
  /**
   * While the event stream is connected its snapshot and events keep the per-server memory, and polls'
   * server lists only add servers it does not know and drop those gone (their facts are not counted then
   * anyway): a poll answered during the stream could otherwise put an older view over what events said.
   */
  memoryFollowsStream = false;

  constructor(opts: InventoryOptions = {}) {
    this.known = new KnownNames(opts.maxKnownNames ?? 1000);
  }

  /** Whether `serverId` is a server the inventory knows: one whose state it has seen, or one its capability counts name. */
  knowsServer(serverId: string): boolean {
    if (this.known.has('servers', serverId)) return true;
    const { tools, prompts, resources } = this.perServer;
    return (tools?.has(serverId) ?? false) || (prompts?.has(serverId) ?? false) || (resources?.has(serverId) ?? false);
  }

  /**
   * The current change mark. A view whose request is sent now is at least this recent: passed back to
   * {@link Inventory.applyServers}, it keeps that view (a poll answered late, a snapshot delivered late or
   * twice) from overwriting what changed after the request left.
   */
  mark(): number {
    return this.#mark;
  }

  setUptime(seconds: number, now: number): void {
    this.#uptime = { seconds, at: now };
  }

  /** The composer's uptime now, extrapolated from the last reading. */
  uptimeSeconds(now: number): number | undefined {
    return this.#uptime === undefined ? undefined : this.#uptime.seconds + Math.max(0, now - this.#uptime.at) / 1000;
  }

  /** A proxied start/stop/restart of `serverId` began: changes it causes are not crashes (until the server is seen settled after it). */
  lifecycleCallStarted(serverId: string): void {
    const c = this.#calls.get(serverId) ?? { inFlight: 0, succeeded: false, endedAt: 0 };
    c.inFlight++;
    this.#calls.set(serverId, c);
  }

  /** The call ended; one that failed (e.g. 400 "already running") changed nothing and explains nothing. */
  lifecycleCallEnded(serverId: string, succeeded: boolean): void {
    const c = this.#calls.get(serverId);
    if (c === undefined) return;
    c.inFlight = Math.max(0, c.inFlight - 1);
    c.endedAt = ++this.#mark;
    if (c.inFlight === 0 && !succeeded && !c.succeeded) this.#calls.delete(serverId);
    else if (succeeded) c.succeeded = true;
  }

  /**
   * Takes a new view of the servers (a poll of /servers or a snapshot) and returns the lifecycle facts its
   * differences imply. `inferFacts: false` only updates the memory (e.g. from an event-stream snapshot,
   * whose events already carry the facts; the only way to change a known server while
   * {@link Inventory.memoryFollowsStream}). `takenAfter` is the {@link Inventory.mark} read before the
   * view's request was sent: a server whose memory changed since is left as it is (the view may be older
   * than that change; the next view tells), and a call that ended since is not seen settled by it.
   */
  applyServers(list: readonly ServerInfo[], inferFacts = true, takenAfter = Infinity): LifecycleFact[] {
    const facts: LifecycleFact[] = [];
    const seen = new Set<string>();
    this.known.add('servers', list.map((s) => s.id));
    const newer = (id: string) => (this.#writtenAt.get(id) ?? 0) > takenAfter;
    const applied = new Set<string>();
    for (const s of list) {
      seen.add(s.id);
      const prev = this.#memory.get(s.id);
      if (newer(s.id) || (inferFacts && this.memoryFollowsStream && prev !== undefined)) continue;
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
      if (c.inFlight === 0 && c.endedAt <= takenAfter && (applied.has(id) || !this.#memory.has(id)) && SETTLED.has(this.#memory.get(id)?.state ?? 'gone')) this.#calls.delete(id);
    }
    return facts;
  }

  /** Updates one server's memory from an event (pid of `server.started`/`restarted`, `crashed` state). */
  noteServer(serverId: string, change: { state?: string; pid?: number; restartCountDelta?: number }): void {
    this.known.add('servers', [serverId]);
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
  noteReplayed(serverId: string, change: { state?: string; restartCountDelta?: number }): void {
    const m = this.#memory.get(serverId);
    if (m === undefined) return;
    let crashCounted = m.crashCounted;
    if (change.state !== undefined && FAILED_STATES.has(change.state)) crashCounted = FAILED_STATES.has(m.state) || m.state === 'starting';
    else if ((change.restartCountDelta ?? 0) > 0 || change.state === 'stopped') crashCounted = false;
    if (crashCounted === m.crashCounted) return;
    this.#memory.set(serverId, { ...m, crashCounted });
    this.#writtenAt.set(serverId, ++this.#mark);
  }

  /** The servers known from the last view and the events since: id, state, pid, restart count (for the status page). */
  knownServers(): { readonly id: string; readonly state: string; readonly pid: number | undefined; readonly restartCount: number | undefined }[] {
    return [...this.#memory].map(([id, m]) => ({ id, state: m.state, pid: m.pid, restartCount: m.restartCount }));
  }

  /** States of the servers known from the last view and the events since. */
  knownStates(): string[] {
    return [...this.#memory.values()].map((m) => m.state);
  }

  /** Counts servers by state from the memory, for shapes of /status that do not say how many failed. */
  failedFromMemory(): number | undefined {
    if (this.#memory.size === 0) return undefined;
    let failed = 0;
    for (const m of this.#memory.values()) if (FAILED_STATES.has(m.state)) failed++;
    return failed;
  }
}
