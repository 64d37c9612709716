/**
 * Inventory from MCP itself, for upstreams without the composer's REST API (the released `serve`, any MCP
 * server or gateway): tool, prompt and resource totals and, where names carry their server, per-server
 * counts. `--mcp-inventory` says where they come from (docs/composers.md):
 *
 * - `passive`: only from what clients' own sessions carry — their complete `tools/list`, `prompts/list`,
 *   `resources/list` listings (every page, sources/mcp/listing.ts) and `initialize` answers, read by the MCP tap.
 *   The sidecar sends nothing. A `list_changed` seen on a client's stream keeps the values until a client
 *   lists again.
 * - `active`: only from the sidecar's own session (mcp-session.ts), kept open: every list at start, every
 *   poll interval and on `list_changed`. Its JSON-RPC ids can never be a client's, but on an upstream that
 *   broadcasts every message to every session, clients still receive (and drop) its answers.
 * - `auto` (default): passive; the sidecar reads itself only for a kind no client listing covers
 *   ({@link staleKinds}), first after a short grace, and closes its session as soon as clients' listings
 *   cover every kind again. It never holds a session on an upstream found to broadcast (a response to its
 *   own request seen on a client's stream, or a client's response on its own session): from then on only
 *   the plain `GET /tools`, if there is one, is read.
 *
 * Per-server counts: the server of a tool or prompt is the part of its name before the separator, only
 * where names are known to carry it ({@link separatorFor}); resources keep their URIs, so a resource is
 * attributed to a server only when its name carries a known server prefix or its URI scheme is a known
 * server id — otherwise it counts in the total alone. Elsewhere the per-server families are absent.
 *
 * A {@link SwitchedSource} (`mcp_inventory`): the selector starts it where there is no REST API and stops
 * it where there is one; what clients listed is kept meanwhile, and applied again when it starts.
 */
import type { Logger } from '../../log.ts';
import type { InventoryWriter } from '../../ledger/inventory.ts';
import { LIST_KINDS, type ListKind, type Listing, type McpInventorySink, type ServerIdentity } from '../mcp/listing.ts';
import { feedsOf, type Feed, type SwitchedSource } from '../source.ts';
import type { SurfaceSet } from '../surfaces.ts';
import { emptyListing, OwnMcpSession, readToolsList, type OwnReadOptions, type SessionTransport } from './mcp-session.ts';
import { countByServer, separatorFor, staleKinds } from './inventory-naming.ts';

export { countByServer } from './inventory-naming.ts';

export type McpInventoryMode = 'auto' | 'passive' | 'active';

export interface McpInventoryOptions extends OwnReadOptions {
  readonly mode: McpInventoryMode;
  /** `--server-id-separator` when given; `undefined`: `_` once the upstream is known to be the composer. */
  readonly separator: string | undefined;
  /** `--poll-interval`: own reads (active), and how long a client's listing counts as recent (auto). */
  readonly intervalMs: number;
  /** Client MCP sessions open through the proxy now (the tap's count). */
  readonly clientSessions: () => number;
  /** `auto`: time clients have to list after start before the sidecar reads itself. @default min(intervalMs, 2 s) */
  readonly graceMs?: number;
  /** `auto`: time a client has to list again after a `list_changed` before the sidecar reads itself. @default 500 ms */
  readonly settleMs?: number;
  /** Called for every response to the sidecar's own request seen on a client's stream. */
  readonly onOwnResponse?: () => void;
}

/** The MCP surfaces detection found (which transport the sidecar's own reads may use). */
export type McpSurfaces = Pick<SurfaceSet, 'streamable_http' | 'sse' | 'tools_list'>;

export class McpInventory implements McpInventorySink, SwitchedSource {
  readonly name = 'mcp_inventory';
  readonly feeds: readonly Feed[] = feedsOf('mcp_inventory');
  readonly #opts: McpInventoryOptions;
  readonly #inventory: InventoryWriter;
  readonly #logger: Logger;
  #surfaces: McpSurfaces = { streamable_http: false, sse: false, tools_list: false };
  /** Inventory comes from MCP now (no REST): listings are applied and own reads may run. */
  #running = false;
  #composer = false;
  #broadcasts = false;
  #server: ServerIdentity | undefined = undefined;
  readonly #last: Partial<Record<ListKind, Listing>> = {};
  readonly #clientListedAt: Partial<Record<ListKind, number>> = {};
  readonly #changed = new Set<ListKind>();
  #session: OwnMcpSession | undefined = undefined;
  #sessionKind: SessionTransport | undefined = undefined;
  #reading: Promise<void> | undefined = undefined;
  readonly #want = new Set<ListKind>();
  #timer: NodeJS.Timeout | undefined = undefined;
  #settle: NodeJS.Timeout | undefined = undefined;
  #failing = false;

  constructor(opts: McpInventoryOptions, inventory: InventoryWriter, logger: Logger) {
    this.#opts = opts;
    this.#inventory = inventory;
    this.#logger = logger;
  }

  /** The sidecar holds an MCP session of its own now. */
  get sessionOpen(): boolean {
    return this.#session !== undefined;
  }

  /** The upstream is the composer (detection: its REST API or its `GET /tools`): names carry their server. */
  identify(): void {
    if (this.#composer) return;
    this.#composer = true;
    this.#apply();
  }

  /** Reads the inventory over MCP only where there is no REST API. */
  wants(surfaces: SurfaceSet): boolean {
    return !surfaces.rest;
  }

  /** What detection found: the composer (names carry their server), and the transport own reads use. */
  detected(surfaces: SurfaceSet, composer: boolean): void {
    if (composer) this.identify();
    const kind: SessionTransport | undefined = surfaces.streamable_http ? 'streamable_http' : surfaces.sse ? 'sse' : undefined;
    if (kind !== this.#sessionKind) void this.#closeSession();
    this.#surfaces = { streamable_http: surfaces.streamable_http, sse: surfaces.sse, tools_list: surfaces.tools_list };
    this.#sessionKind = kind;
  }

  /** Inventory comes from MCP, with the surfaces last detected: applies what clients listed and starts own reads. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#apply();
    if (this.#opts.mode === 'active') {
      void this.#read(LIST_KINDS).finally(() => this.#every(this.#opts.intervalMs, () => void this.#read(LIST_KINDS)));
    } else if (this.#opts.mode === 'auto') {
      this.#timer = setTimeout(() => {
        this.#tick();
        this.#every(this.#opts.intervalMs, () => this.#tick());
      }, this.#opts.graceMs ?? Math.min(this.#opts.intervalMs, 2000));
      this.#timer.unref();
    }
  }

  /** Another source (REST) took over, or the sidecar stops: no more own reads, its session closed; what clients listed is kept. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    clearInterval(this.#timer);
    clearTimeout(this.#settle);
    await this.#reading?.catch(() => undefined);
    await this.#closeSession();
  }

  /** Reads every list now, where this mode reads at all (the event stream asked for a re-read). */
  reread(): void {
    if (this.#opts.mode !== 'passive') void this.#read(LIST_KINDS);
  }

  // What clients' sessions carry (the MCP tap) ---------------------------------------------------------

  listing(listing: Listing): void {
    if (this.#opts.mode === 'active') return;
    this.#last[listing.kind] = listing;
    this.#clientListedAt[listing.kind] = performance.now();
    this.#changed.delete(listing.kind);
    this.#apply();
    if (this.#opts.mode === 'auto' && this.#session !== undefined && this.#stale().length === 0) void this.#closeSession();
  }

  changed(kind: ListKind): void {
    if (this.#opts.mode === 'active') return; // its own session hears the same notification
    this.#changed.add(kind);
    if (this.#opts.mode !== 'auto' || !this.#running) return;
    clearTimeout(this.#settle);
    this.#settle = setTimeout(() => this.#tick(), this.#opts.settleMs ?? 500);
    this.#settle.unref();
  }

  initialized(server: ServerIdentity): void {
    this.#server = server;
    if (!this.#composer && isComposerName(server.name)) this.identify();
    else this.#apply();
  }

  ownResponse(): void {
    this.#opts.onOwnResponse?.();
    this.#broadcast("a client's stream carried the answer to one of the sidecar's own requests");
  }

  // Own reads ------------------------------------------------------------------------------------------

  #every(ms: number, fn: () => void): void {
    clearInterval(this.#timer);
    if (!this.#running) return;
    this.#timer = setInterval(fn, ms);
    this.#timer.unref();
  }

  #stale(): ListKind[] {
    return staleKinds({
      now: performance.now(),
      intervalMs: this.#opts.intervalMs,
      clientListedAt: this.#clientListedAt,
      changed: this.#changed,
      server: this.#server,
      clientSessions: this.#opts.clientSessions(),
    });
  }

  /** auto: reads the kinds no client listing covers; closes the session when there are none. */
  #tick(): void {
    if (!this.#running) return;
    const stale = this.#stale();
    if (stale.length === 0) void this.#closeSession();
    else void this.#read(stale);
  }

  #broadcast(why: string): void {
    if (this.#broadcasts) return;
    this.#broadcasts = true;
    const auto = this.#opts.mode === 'auto';
    this.#logger.warn(
      { event: 'mcp_upstream_broadcasts', mode: this.#opts.mode },
      `the MCP upstream sends every message to every session (${why}); ${auto ? "the sidecar stops reading the inventory on a session of its own and learns it from clients' listings" : this.#opts.mode === 'active' ? "clients receive the answers to the sidecar's own reads (and drop them: their ids are never a client's); --mcp-inventory auto or passive avoids them" : 'the sidecar holds no session of its own'}`,
    );
    // A read in flight finishes (its answers are out already); none follows on this session.
    if (auto) void (this.#reading ?? Promise.resolve()).then(() => this.#closeSession());
  }

  /** May the sidecar hold a session of its own now? */
  #sessionAllowed(): boolean {
    return this.#sessionKind !== undefined && (this.#opts.mode === 'active' || !this.#broadcasts);
  }

  /** Reads `kinds` (merged with any asked for while a read runs, which then runs once more). */
  #read(kinds: readonly ListKind[]): Promise<void> {
    for (const k of kinds) this.#want.add(k);
    if (this.#reading !== undefined) return this.#reading;
    this.#reading = (async () => {
      while (this.#want.size > 0 && this.#running) {
        const want = [...this.#want];
        this.#want.clear();
        await this.#readOnce(want);
      }
      this.#want.clear();
    })().finally(() => (this.#reading = undefined));
    return this.#reading;
  }

  async #readOnce(kinds: readonly ListKind[]): Promise<void> {
    try {
      if (this.#sessionAllowed()) await this.#readSession(kinds);
      else if (this.#surfaces.tools_list && kinds.includes('tools')) await this.#readTools();
      else return;
      if (this.#failing) this.#logger.info({ event: 'mcp_inventory_recovered' }, 'MCP inventory reads succeed again');
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) {
        this.#logger.warn(
          { event: 'mcp_inventory_failed', transport: this.#sessionKind ?? 'tools_list', detail: err instanceof Error ? err.message : String(err) },
          'MCP inventory read failed: keeping the last values',
        );
      }
      this.#failing = true;
      await this.#closeSession();
    }
  }

  async #readSession(kinds: readonly ListKind[]): Promise<void> {
    const session = await this.#connect();
    const listings: Listing[] = [];
    for (const kind of kinds) listings.push(await session.list(kind));
    if (!this.#running) return;
    for (const l of listings) this.#last[l.kind] = l;
    this.#apply();
  }

  async #readTools(): Promise<void> {
    const { listing, composer } = await readToolsList(this.#opts);
    if (!this.#running) return;
    this.#last.tools = listing;
    if (composer) this.identify();
    this.#apply();
  }

  async #connect(): Promise<OwnMcpSession> {
    const kind = this.#sessionKind;
    if (this.#session !== undefined) return this.#session;
    if (kind === undefined) throw new Error('no MCP transport to read the inventory over');
    // Declared first: the SDK may report a close while the session is still opening.
    let opened: OwnMcpSession | undefined;
    const session = (opened = await OwnMcpSession.open(kind, this.#opts, {
      changed: (k) => void this.#read([k]),
      foreign: () => this.#broadcast("the sidecar's own session received another session's response"),
      closed: () => {
        if (opened !== undefined && this.#session === opened) this.#session = undefined;
      },
    }));
    // A broadcast seen while it opened does not stop this read (#broadcast closes the session after it).
    if (!this.#running || this.#sessionKind !== kind) {
      await session.close();
      throw new Error('the MCP inventory session is no longer wanted');
    }
    this.#session = session;
    this.#logger.debug({ event: 'mcp_inventory_session', open: true, transport: kind }, 'the sidecar opened an MCP session of its own for the inventory');
    if (!this.#composer && isComposerName(session.identity.name)) this.identify();
    this.#server ??= session.identity;
    return session;
  }

  async #closeSession(): Promise<void> {
    const session = this.#session;
    if (session === undefined) return;
    this.#session = undefined;
    await session.close();
    this.#logger.debug({ event: 'mcp_inventory_session', open: false }, 'the sidecar closed its own MCP session');
  }

  // Gauges ---------------------------------------------------------------------------------------------

  /** The listing of `kind` the gauges show: the last one read, or none for a kind the server lacks. */
  #effective(kind: ListKind): Listing | undefined {
    const last = this.#last[kind];
    if (last !== undefined) return last;
    const kinds = this.#server?.kinds;
    return kinds !== undefined && !kinds.includes(kind) ? emptyListing(kind) : undefined;
  }

  #apply(): void {
    if (!this.#running) return;
    const inv = this.#inventory;
    const totals: Partial<Record<ListKind, number>> = {};
    const listings: Partial<Record<ListKind, Listing>> = {};
    for (const kind of LIST_KINDS) {
      const l = this.#effective(kind);
      if (l === undefined) continue;
      listings[kind] = l;
      totals[kind] = l.count;
    }
    inv.apply({ kind: 'totals', totals });
    // Listed names are label values known in advance (ledger/known-names.ts): outside the label race, counters at 0.
    if (listings.tools !== undefined) inv.apply({ kind: 'names', of: 'tools', names: listings.tools.items.map((t) => t.name) });
    if (listings.prompts !== undefined) inv.apply({ kind: 'names', of: 'prompts', names: listings.prompts.items.map((p) => p.name) });
    if (listings.resources !== undefined)
      inv.apply({ kind: 'names', of: 'resources', names: listings.resources.items.flatMap((r) => (r.uri === undefined ? [] : [r.uri])) });
    const sep = separatorFor(this.#opts.separator, this.#composer);
    const by = (l: Listing | undefined, known?: ReadonlySet<string>) =>
      sep === undefined || l === undefined || l.capped ? undefined : countByServer(l.items, sep, known);
    const byTool = by(listings.tools);
    const byPrompt = by(listings.prompts);
    const known = new Set([...(byTool?.keys() ?? []), ...(byPrompt?.keys() ?? [])]);
    const byResource = by(listings.resources, known);
    for (const counts of [byTool, byPrompt, byResource]) for (const id of known) if (counts !== undefined && !counts.has(id)) counts.set(id, 0);
    inv.apply({ kind: 'per_server', of: 'tools', counts: byTool });
    inv.apply({ kind: 'per_server', of: 'prompts', counts: byPrompt });
    inv.apply({ kind: 'per_server', of: 'resources', counts: byResource });
  }
}

/**
 * `serverInfo.name` of the composer's MCP face: the package's name (which the demo composer also
 * answers with) and the default name of its composed server (`MCPServerComposer`).
 */
export const COMPOSER_SERVER_NAMES: ReadonlySet<string> = new Set(['mcp-server-composer', 'composed-mcp-server']);

function isComposerName(name: string | undefined): boolean {
  return name !== undefined && COMPOSER_SERVER_NAMES.has(name);
}
