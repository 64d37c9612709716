/**
 * Inventory learned from what clients' own sessions carry: the pages of `tools/list`, `prompts/list` and
 * `resources/list` results the tap correlated to their requests, and the `initialize` result that names
 * the server. Pure: no sockets, no timers (the caller passes the time).
 *
 * What is kept of a page: how many items it had, the items' names (and a resource's URI reduced by
 * ledger/uri.ts: no query, fragment or credentials), all bounded, and its `nextCursor`. Never a description,
 * a schema, an argument or anything else of the result.
 *
 * Pagination ({@link ListingAssembler}), per session and kind: a request without `cursor` starts a new
 * listing (dropping one in progress); a page whose request carries the `nextCursor` of the listing's last
 * page continues it; any other page is ignored (a listing whose start the sidecar did not see never
 * counts). A page without `nextCursor` completes the listing, which is then reported whole; one that never
 * completes (the client stopped paging, a page was unreadable, a bound was reached) is dropped and changes
 * nothing.
 */
import { cutPast, MAX_NAME_LENGTH, MAX_URI_LENGTH } from '../../ledger/name-bounds.ts';
import { resourceUriLabel } from '../../ledger/uri.ts';

export const LIST_KINDS = ['tools', 'prompts', 'resources'] as const;
export type ListKind = (typeof LIST_KINDS)[number];

/** The kind each list method lists. */
export const LIST_METHODS: ReadonlyMap<string, ListKind> = new Map([
  ['tools/list', 'tools'],
  ['prompts/list', 'prompts'],
  ['resources/list', 'resources'],
]);

/** The kind each `list_changed` notification is about. */
export const LIST_CHANGED: ReadonlyMap<string, ListKind> = new Map([
  ['notifications/tools/list_changed', 'tools'],
  ['notifications/prompts/list_changed', 'prompts'],
  ['notifications/resources/list_changed', 'resources'],
]);

/**
 * Longest name and URI judged by their bounds (ledger/name-bounds.ts): a longer name is kept as its first
 * `MAX_ITEM_NAME + 1` characters ({@link cutPast}), so it still counts for its server's prefix and the
 * inventory never takes it for a known label value.
 */
export const MAX_ITEM_NAME = MAX_NAME_LENGTH;
export const MAX_ITEM_URI = MAX_URI_LENGTH;
/** Longest cursor followed; a longer one ends the listing (it cannot be matched). */
export const MAX_CURSOR_LENGTH = 1024;
/** Most items whose names a listing keeps (all pages together); the count goes on past it. */
export const MAX_LISTING_ITEMS = 10_000;
/** Most pages a listing may have. */
export const MAX_LISTING_PAGES = 1000;
/** Listings in progress at once (sessions × kinds); the oldest is dropped past it. */
export const MAX_LISTINGS_IN_PROGRESS = 256;
/** A listing not continued for this long is dropped. */
export const LISTING_MAX_AGE_MS = 5 * 60_000;

export interface ListItem {
  readonly name: string;
  /** A resource's URI, reduced (ledger/uri.ts). */
  readonly uri?: string;
}

/** One page of a list result. */
export interface ListPage {
  readonly kind: ListKind;
  /** Its named items, at most {@link MAX_LISTING_ITEMS}. */
  readonly items: readonly ListItem[];
  /** How many items it had (named or not, kept or not). */
  readonly count: number;
  /** It had more entries than {@link MAX_LISTING_ITEMS}: those past the bound were not read. */
  readonly capped: boolean;
  /** `nextCursor`: `undefined` on the last page, `false` when present but unusable (not a string, too long). */
  readonly nextCursor?: string | false;
}

/** A complete listing of one kind: every page. */
export interface Listing {
  readonly kind: ListKind;
  readonly items: readonly ListItem[];
  readonly count: number;
  /** More items than {@link MAX_LISTING_ITEMS}: `items` is not all of them (per-server counts would be wrong). */
  readonly capped: boolean;
}

/** What an `initialize` result says of the server. */
export interface ServerIdentity {
  /** `serverInfo.name`, bounded. */
  readonly name?: string;
  /** The kinds its capabilities declare; `undefined` when the result has no capabilities object. */
  readonly kinds?: readonly ListKind[];
  /** The kinds whose changes it announces (`listChanged: true`). */
  readonly listChanged: readonly ListKind[];
}

/** Where the tap sends what clients' sessions told it about the inventory (src/sources/poll/mcp-inventory.ts). */
export interface McpInventorySink {
  /** A client's complete listing of one kind. */
  listing(listing: Listing): void;
  /** The server told a client that its list of `kind` changed. */
  changed(kind: ListKind): void;
  /** A client's `initialize` was answered. */
  initialized(server: ServerIdentity): void;
  /** A response to one of the sidecar's own requests reached a client's stream: the upstream broadcasts. */
  ownResponse(): void;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function boundedName(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  return cutPast(v, MAX_ITEM_NAME);
}

/** The page a list result carries (`result.tools`, `.prompts` or `.resources`), or `undefined`. */
export function listPageOf(result: Record<string, unknown>): ListPage | undefined {
  for (const kind of LIST_KINDS) {
    const list = result[kind];
    if (!Array.isArray(list)) continue;
    const items: ListItem[] = [];
    const keep = Math.min(list.length, MAX_LISTING_ITEMS);
    for (let i = 0; i < keep; i++) {
      const entry: unknown = list[i];
      if (!isObject(entry)) continue;
      const name = boundedName(entry['name']);
      if (name === undefined) continue;
      const raw = kind === 'resources' ? entry['uri'] : undefined;
      const uri = typeof raw === 'string' ? resourceUriLabel(raw, MAX_ITEM_URI) : undefined;
      items.push(uri === undefined ? { name } : { name, uri });
    }
    const next = result['nextCursor'];
    const page: ListPage = { kind, items, count: list.length, capped: list.length > keep };
    if (next === undefined || next === null || next === '') return page;
    return { ...page, nextCursor: typeof next === 'string' && next.length <= MAX_CURSOR_LENGTH ? next : false };
  }
  return undefined;
}

/** The `cursor` of a list request's params: `undefined` without one, `false` when unusable. */
export function cursorOf(params: Record<string, unknown>): string | false | undefined {
  const c = params['cursor'];
  if (c === undefined || c === null) return undefined;
  return typeof c === 'string' && c.length <= MAX_CURSOR_LENGTH ? c : false;
}

/** What an `initialize` result (one with `serverInfo`) says of the server; `undefined` for any other result. */
export function serverIdentityOf(result: Record<string, unknown>): ServerIdentity | undefined {
  const info = result['serverInfo'];
  const caps = result['capabilities'];
  if (!isObject(info)) return undefined; // required in every initialize result
  const name = boundedName(info['name']);
  const listChanged: ListKind[] = [];
  let kinds: ListKind[] | undefined;
  if (isObject(caps)) {
    kinds = [];
    for (const kind of LIST_KINDS) {
      const cap = caps[kind];
      if (!isObject(cap)) continue;
      kinds.push(kind);
      if (cap['listChanged'] === true) listChanged.push(kind);
    }
  }
  return { ...(name === undefined ? {} : { name }), ...(kinds === undefined ? {} : { kinds }), listChanged };
}

interface InProgress {
  readonly kind: ListKind;
  readonly items: ListItem[];
  count: number;
  pages: number;
  capped: boolean;
  expected: string;
  at: number;
}

export interface AssemblerBounds {
  readonly maxInProgress: number;
  readonly maxItems: number;
  readonly maxPages: number;
  readonly maxAgeMs: number;
}

const BOUNDS: AssemblerBounds = {
  maxInProgress: MAX_LISTINGS_IN_PROGRESS,
  maxItems: MAX_LISTING_ITEMS,
  maxPages: MAX_LISTING_PAGES,
  maxAgeMs: LISTING_MAX_AGE_MS,
};

/** Puts the pages of each session's listings together (see the module doc). */
export class ListingAssembler {
  readonly #bounds: AssemblerBounds;
  /** Listings in progress by `session \0 kind`, oldest first (re-inserted on every page). */
  readonly #open = new Map<string, InProgress>();

  constructor(bounds: AssemblerBounds = BOUNDS) {
    this.#bounds = bounds;
  }

  /** Listings in progress now. */
  get size(): number {
    return this.#open.size;
  }

  /**
   * One page read on `session`, answering a request whose cursor was `cursor`: the complete listing when
   * this page ends one, else `undefined`.
   */
  page(session: string, cursor: string | false | undefined, page: ListPage, at: number): Listing | undefined {
    const key = `${session}\u0000${page.kind}`;
    this.#expire(at);
    let open = this.#open.get(key);
    if (cursor === undefined) {
      // A new listing from the first page: one in progress on this session and kind is abandoned.
      this.#open.delete(key);
      open = { kind: page.kind, items: [], count: 0, pages: 0, capped: false, expected: '', at };
    } else if (open === undefined || cursor === false || cursor !== open.expected) {
      return undefined; // not the continuation of a listing whose start was seen
    } else {
      this.#open.delete(key);
    }
    open.pages++;
    open.count += page.count;
    const room = Math.max(0, this.#bounds.maxItems - open.items.length);
    if (page.capped || page.items.length > room) open.capped = true;
    for (const item of room >= page.items.length ? page.items : page.items.slice(0, room)) open.items.push(item);
    if (page.nextCursor === undefined) return { kind: open.kind, items: open.items, count: open.count, capped: open.capped };
    if (page.nextCursor === false || open.pages >= this.#bounds.maxPages) return undefined; // cannot be followed: dropped
    open.expected = page.nextCursor;
    open.at = at;
    if (this.#open.size >= this.#bounds.maxInProgress) {
      const oldest = this.#open.keys().next();
      if (oldest.done !== true) this.#open.delete(oldest.value);
    }
    this.#open.set(key, open);
    return undefined;
  }

  #expire(at: number): void {
    for (const [key, open] of this.#open) {
      if (at - open.at < this.#bounds.maxAgeMs) break;
      this.#open.delete(key);
    }
  }
}
