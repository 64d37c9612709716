/**
 * What a source hands the inventory: one typed change at a time, applied by {@link Inventory.apply} (the
 * only code that writes the inventory's state). Sources say what they read — a view of the servers with
 * the mark it is at least as recent as, the capabilities of one server, the per-server counts and names
 * of a complete listing, the version, the uptime, a proxied lifecycle call starting or ending — and the
 * inventory decides what that does to what it knows. A value no change has given stays `undefined`, and
 * its family is then absent from the scrape.
 */
import type { KnownKind } from './known-names.ts';

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

export type CapabilityKind = keyof Capabilities;

export const CAPABILITY_KINDS: readonly CapabilityKind[] = ['tools', 'prompts', 'resources'];

export interface ServerInfo {
  readonly id: string;
  readonly state: string;
  readonly pid: number | undefined;
  readonly restartCount: number | undefined;
}

/** How one event changes the picture of one server (the event stream's `server.*` events). */
export interface ServerNote {
  readonly serverId: string;
  readonly state?: string;
  readonly pid?: number;
  readonly restartCountDelta?: number;
}

export type InventoryChange =
  /** The composer's version and platform (REST `/version`). */
  | { readonly kind: 'version'; readonly info: VersionInfo }
  /** The composer's uptime as read at `at` (ms since the epoch); the gauge extrapolates from it. */
  | { readonly kind: 'uptime'; readonly seconds: number; readonly at: number }
  /** Totals of tools, prompts and resources; a kind not given keeps its value (`GET /tools` knows only tools). */
  | { readonly kind: 'totals'; readonly totals: Partial<Capabilities> }
  /** Tool-name conflicts of the composition. */
  | { readonly kind: 'conflicts'; readonly count: number }
  /**
   * A complete view of the servers. From a poll, its differences from what was known are lifecycle facts
   * ({@link Inventory.apply} returns them); from an event-stream snapshot, whose events carry the facts,
   * it only updates the per-server memory and the server counts. `takenAfter` is the
   * {@link Inventory.mark} read before the view's request left: a server whose memory changed since is
   * left as it is, and a lifecycle call that ended since is not seen settled by it.
   */
  | { readonly kind: 'servers'; readonly servers: readonly ServerInfo[]; readonly from: 'poll' | 'snapshot'; readonly takenAfter: number }
  /** Server counts as REST `/status` gives them (crashed/failed counted from the memory when it does not say). */
  | { readonly kind: 'server_counts'; readonly counts: ServerCounts }
  /** An event about one server, new or (`replay`) older than the snapshot that set the memory. */
  | { readonly kind: 'server_event'; readonly note: ServerNote; readonly replay: boolean }
  /** The capabilities of one server (event stream): its per-server counts, and totals summed over the servers. */
  | { readonly kind: 'server_capabilities'; readonly serverId: string; readonly counts: Capabilities }
  /** The per-server counts of one kind, replaced (`undefined`: no source can say; the family is absent). */
  | { readonly kind: 'per_server'; readonly of: CapabilityKind; readonly counts: ReadonlyMap<string, number> | undefined }
  /** Names a listing gave (tool ids and names, prompt names, resource URIs, server ids): known from now on. */
  | { readonly kind: 'names'; readonly of: KnownKind; readonly names: readonly string[] }
  /** A proxied start/stop/restart of a server began: changes it causes are not crashes. */
  | { readonly kind: 'call_started'; readonly serverId: string }
  /** That call ended; one that failed (e.g. 400 "already running") changed nothing and explains nothing. */
  | { readonly kind: 'call_ended'; readonly serverId: string; readonly succeeded: boolean }
  /** The event stream connected (its snapshot and events keep the per-server memory from now on) or went away. */
  | { readonly kind: 'stream'; readonly connected: boolean };
