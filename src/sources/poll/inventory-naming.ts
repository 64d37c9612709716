/**
 * The pure decisions of the MCP inventory (mcp-inventory.ts): which server an item belongs to, whether
 * names carry their server at all, and which kinds no client listing covers.
 */
import { LIST_KINDS, type ListKind, type ServerIdentity } from '../mcp/listing.ts';

export interface NamedItem {
  readonly name: string;
  readonly uri?: string;
}

/** The composer's own separator: it names tools and prompts `{server}_{name}`. */
export const COMPOSER_SEPARATOR = '_';

/**
 * The separator to split names at: the one given (`--server-id-separator`), else the composer's once the
 * upstream is known to be the composer; else none — a plain server's `get_weather` names no server
 * `get`, so no per-server count is invented.
 */
export function separatorFor(explicit: string | undefined, composer: boolean): string | undefined {
  if (explicit !== undefined) return explicit;
  return composer ? COMPOSER_SEPARATOR : undefined;
}

/** Per-server counts of named items; items whose server cannot be told are left out. */
export function countByServer(items: readonly NamedItem[], separator: string, knownServers?: ReadonlySet<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    let server: string | undefined;
    const at = item.name.indexOf(separator);
    if (at > 0) server = item.name.slice(0, at);
    if (knownServers !== undefined) {
      if (server !== undefined && !knownServers.has(server)) server = undefined;
      if (server === undefined && item.uri !== undefined) {
        const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(item.uri)?.[1];
        if (scheme !== undefined && knownServers.has(scheme)) server = scheme;
      }
    }
    if (server !== undefined) counts.set(server, (counts.get(server) ?? 0) + 1);
  }
  return counts;
}

export interface Coverage {
  /** `performance.now()`-style clock. */
  readonly now: number;
  /** How long a client's listing counts as recent by itself (`--poll-interval`). */
  readonly intervalMs: number;
  /** When a client last completed a listing of each kind. */
  readonly clientListedAt: Readonly<Partial<Record<ListKind, number>>>;
  /** Kinds announced changed (`list_changed`) since their last listing. */
  readonly changed: ReadonlySet<ListKind>;
  /** What the server's `initialize` said (kinds, `listChanged`), if known. */
  readonly server: ServerIdentity | undefined;
  /** Client MCP sessions open now. */
  readonly clientSessions: number;
}

/**
 * The kinds no client listing covers, which `auto` reads itself. A kind the server does not have is
 * covered. A kind is covered by a client's complete listing of it that is recent (within the poll
 * interval) or, when the server announces changes of that kind (`listChanged`) and a client session is
 * open to carry the announcement, by any earlier one with no `list_changed` since.
 */
export function staleKinds(c: Coverage): ListKind[] {
  const out: ListKind[] = [];
  for (const kind of LIST_KINDS) {
    if (c.server?.kinds !== undefined && !c.server.kinds.includes(kind)) continue;
    const at = c.clientListedAt[kind];
    if (at === undefined || c.changed.has(kind)) {
      out.push(kind);
      continue;
    }
    if (c.now - at < c.intervalMs) continue;
    if (c.server?.listChanged.includes(kind) === true && c.clientSessions > 0) continue;
    out.push(kind);
  }
  return out;
}
