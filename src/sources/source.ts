/**
 * What every source is: something that starts, stops, and says what it sees. A source reads one kind of
 * observation (the proxied REST and MCP exchanges, from the bus) or asks the composer (REST polls, the
 * MCP-native inventory, the event stream), and hands facts to the ledger and inventory changes to the
 * inventory. What it sees is the feeds it provides: {@link FEEDS} says what each feed is, which source
 * provides it and which of the composer's surfaces it needs; telemetry/family-sources.ts says which
 * catalog families each feed feeds. The `SourceSelector` (selector.ts) starts and stops them.
 */
import type { SurfaceSet } from './surfaces.ts';

/** The sources, by the name logs give them. */
export const SOURCE_NAMES = ['rest_observer', 'mcp_tap', 'event_stream', 'rest_poller', 'mcp_inventory'] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];

/** The ways facts reach the ledger. */
export const FEED_NAMES = ['proxy', 'rest_calls', 'mcp_traffic', 'rest_polling', 'poll_differences', 'mcp_listing', 'tools_list', 'event_stream'] as const;
export type Feed = (typeof FEED_NAMES)[number];

export interface FeedSpec {
  /** What it is, for a reader. */
  readonly what: string;
  /** The source that provides it (`proxy`: the proxy's own HTTP families, always there). */
  readonly by: SourceName | 'proxy';
  /** Whether the composer serves what it needs. */
  readonly available: (s: SurfaceSet) => boolean;
  /** The surfaces it needs, in words (`REST`, `event stream`, …). */
  readonly needs: string;
}

const hasMcp = (s: SurfaceSet): boolean => s.sse || s.streamable_http;

export const FEEDS: Readonly<Record<Feed, FeedSpec>> = {
  proxy: { what: 'every proxied HTTP request', by: 'proxy', needs: 'nothing', available: () => true },
  rest_calls: { what: 'proxied REST calls (/api/v1)', by: 'rest_observer', needs: 'REST', available: (s) => s.rest },
  mcp_traffic: { what: 'proxied MCP JSON-RPC (legacy SSE, streamable HTTP)', by: 'mcp_tap', needs: 'an MCP transport', available: hasMcp },
  rest_polling: { what: 'REST inventory polls', by: 'rest_poller', needs: 'REST', available: (s) => s.rest },
  poll_differences: { what: 'differences between two REST polls of /servers', by: 'rest_poller', needs: 'REST', available: (s) => s.rest },
  // The selector runs the MCP inventory only where there is no REST; it reads `GET /tools` only without an MCP transport either.
  mcp_listing: {
    what: "the sidecar's own MCP listing of tools, prompts and resources",
    by: 'mcp_inventory',
    needs: 'an MCP transport and no REST',
    available: (s) => !s.rest && hasMcp(s),
  },
  tools_list: {
    what: 'the plain GET /tools list',
    by: 'mcp_inventory',
    needs: 'GET /tools and no REST or MCP transport',
    available: (s) => !s.rest && !hasMcp(s) && s.tools_list,
  },
  event_stream: { what: "the composer's event stream", by: 'event_stream', needs: 'event stream', available: (s) => s.events },
};

/** The feeds a source provides, in the order of {@link FEED_NAMES}. */
export function feedsOf(name: SourceName): readonly Feed[] {
  return FEED_NAMES.filter((f) => FEEDS[f].by === name);
}

/** The feeds that reach the ledger when `running` run on a composer serving `s`: the proxy's, and theirs that its surfaces allow. */
export function feedsSeen(running: readonly Source[], s: SurfaceSet): Feed[] {
  const by = new Set<string>(['proxy', ...running.map((r) => r.name)]);
  return FEED_NAMES.filter((f) => by.has(FEEDS[f].by) && FEEDS[f].available(s));
}

export interface Source {
  /** Its name in logs (`sources_detected` lists the sources that run). */
  readonly name: SourceName;
  /** What it sees: the feeds it provides ({@link FEEDS}). */
  readonly feeds: readonly Feed[];
  /** Begins reading (a source already running is left as it is). */
  start(): void;
  /** Stops reading and lets go of what it holds (connections, timers, marks); resolves once it has. */
  stop(): Promise<void>;
}

/**
 * A source of the inventory, which the selector switches as detection says: of those it is given, the
 * first that wants what the composer serves runs, and no other. It may be started again once its `stop()`
 * resolved, and keeps what it learned meanwhile where it can.
 */
export interface SwitchedSource extends Source {
  /** Whether it can read the inventory of a composer serving `surfaces`. */
  wants(surfaces: SurfaceSet): boolean;
  /** What every detection found (the surfaces known so far), whether it runs or not, before the switch. */
  detected?(surfaces: SurfaceSet, composer: boolean): void;
  /** Reads again now (the event stream lost events the inventory may have missed). */
  reread(): void;
}

/**
 * A source that observes the bus (the REST observer, the MCP tap): started by registering, stopped by
 * unregistering. It runs whatever detection finds: a surface the composer does not serve carries no traffic.
 */
export class BusSource implements Source {
  readonly name: SourceName;
  readonly feeds: readonly Feed[];
  readonly #register: () => () => void;
  #unregister: (() => void) | undefined = undefined;

  /** @param register registers the observer on the bus and returns what unregisters it. */
  constructor(name: SourceName, register: () => () => void) {
    this.name = name;
    this.feeds = feedsOf(name);
    this.#register = register;
  }

  start(): void {
    this.#unregister ??= this.#register();
  }

  stop(): Promise<void> {
    const unregister = this.#unregister;
    this.#unregister = undefined;
    unregister?.();
    return Promise.resolve();
  }
}
