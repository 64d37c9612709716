/**
 * What the sidecar currently knows of the composer's inventory: version, uptime, server counts,
 * capabilities, per-server counts and conflicts — the catalog's gauges read it at each collection — and
 * the per-server memory (state, pid, restart count) that lifecycle differences are computed against.
 * Polls, event-stream snapshots and MCP-native inventory all write here; a value no source has given is
 * `undefined`, and its family is then absent from the scrape.
 */
import type { Capabilities, ServerCounts, ServerInfo, VersionInfo } from '../events/inventory-parse.ts';
import { FAILED } from '../events/inventory-parse.ts';
import type { LifecycleFact } from './lifecycle.ts';
import { diffServer, type ServerMemory } from './poll-diff.ts';

export type CapabilityKind = 'tools' | 'prompts' | 'resources';

/** States a server rests in; `starting`/`stopping` are on the way to one. */
const SETTLED: ReadonlySet<string> = new Set(['running', 'stopped', 'crashed', 'failed', 'error', 'gone']);

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
  readonly #calls = new Map<string, { inFlight: number; succeeded: boolean }>();

  setUptime(seconds: number, now: number): void {
    this.#uptime = { seconds, at: now };
  }

  /** The composer's uptime now, extrapolated from the last reading. */
  uptimeSeconds(now: number): number | undefined {
    return this.#uptime === undefined ? undefined : this.#uptime.seconds + Math.max(0, now - this.#uptime.at) / 1000;
  }

  /** A proxied start/stop/restart of `serverId` began: changes it causes are not crashes (until the server is seen settled after it). */
  lifecycleCallStarted(serverId: string): void {
    const c = this.#calls.get(serverId) ?? { inFlight: 0, succeeded: false };
    c.inFlight++;
    this.#calls.set(serverId, c);
  }

  /** The call ended; one that failed (e.g. 400 "already running") changed nothing and explains nothing. */
  lifecycleCallEnded(serverId: string, succeeded: boolean): void {
    const c = this.#calls.get(serverId);
    if (c === undefined) return;
    c.inFlight = Math.max(0, c.inFlight - 1);
    if (c.inFlight === 0 && !succeeded && !c.succeeded) this.#calls.delete(serverId);
    else if (succeeded) c.succeeded = true;
  }

  /**
   * Takes a new view of the servers (a poll of /servers or a snapshot) and returns the lifecycle facts its
   * differences imply. `inferFacts: false` only updates the memory (e.g. from an event-stream snapshot,
   * whose events already carry the facts).
   */
  applyServers(list: readonly ServerInfo[], inferFacts = true): LifecycleFact[] {
    const facts: LifecycleFact[] = [];
    const seen = new Set<string>();
    for (const s of list) {
      seen.add(s.id);
      const explained = this.#calls.has(s.id);
      const { facts: f, memory } = diffServer(s.id, this.#memory.get(s.id), { state: s.state, pid: s.pid, restartCount: s.restartCount }, explained || !inferFacts);
      this.#memory.set(s.id, memory);
      if (inferFacts) facts.push(...f);
    }
    for (const id of [...this.#memory.keys()]) if (!seen.has(id)) this.#memory.delete(id);
    // A call explains changes until its server is seen settled after it: the composer may answer a
    // restart while the server is still `starting`, and the new pid and restart count appear later.
    for (const [id, c] of this.#calls) {
      if (c.inFlight === 0 && SETTLED.has(this.#memory.get(id)?.state ?? 'gone')) this.#calls.delete(id);
    }
    return facts;
  }

  /** Updates one server's memory from an event (pid of `server.started`/`restarted`, `crashed` state). */
  noteServer(serverId: string, change: { state?: string; pid?: number; restartCountDelta?: number }): void {
    const m = this.#memory.get(serverId);
    const state = change.state ?? m?.state ?? 'unknown';
    this.#memory.set(serverId, {
      state,
      pid: change.pid ?? (FAILED.has(state) || state === 'stopped' ? undefined : m?.pid),
      restartCount: m?.restartCount === undefined ? undefined : m.restartCount + (change.restartCountDelta ?? 0),
      crashCounted: FAILED.has(state),
    });
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
    for (const m of this.#memory.values()) if (FAILED.has(m.state)) failed++;
    return failed;
  }
}
