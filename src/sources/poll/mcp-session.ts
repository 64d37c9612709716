/**
 * The sidecar's own reads of the inventory, for the MCP inventory (mcp-inventory.ts) when no client's
 * listing can tell it: an MCP SDK client session to the upstream (never through the proxy, so never
 * counted as traffic), under `--mcp-path-prefix`, whose JSON-RPC ids can never be a client's
 * (own-id-transport.ts); and the plain `GET /tools` of the composer's `serve` command.
 */
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { ListingAssembler, listPageOf, serverIdentityOf, type ListKind, type Listing, type ServerIdentity } from '../mcp/listing.ts';
import { mcpPath } from '../mcp/routes.ts';
import { isComposerToolsList } from '../detect/detect.ts';
import { OwnIdTransport } from './own-id-transport.ts';

export type SessionTransport = 'streamable_http' | 'sse';

export interface OwnReadOptions {
  readonly origin: URL;
  /** `--mcp-path-prefix` (`/` for none). */
  readonly pathPrefix: string;
  readonly timeoutMs: number;
  readonly token?: () => string | undefined;
  /** Pages read per list at most; a list with more is not applied. @default 100 */
  readonly maxPages?: number;
}

export interface OwnSessionHooks {
  /** The server says its list of `kind` changed. */
  changed(kind: ListKind): void;
  /** A response to a request this session did not send reached it: the upstream broadcasts. */
  foreign(): void;
  /** The session closed (by either side). */
  closed(): void;
}

/** The user agent of every request of the sidecar's own reads (it tells the composer, and tests, who asks). */
export const INVENTORY_USER_AGENT = 'mcp-composer-sidecar-inventory';

function headersOf(opts: OwnReadOptions): Record<string, string> {
  const token = opts.token?.();
  return { 'user-agent': INVENTORY_USER_AGENT, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) };
}

/** An empty listing: what a server without the capability has. */
export function emptyListing(kind: ListKind): Listing {
  return { kind, items: [], count: 0, capped: false };
}

export class OwnMcpSession {
  readonly #client: McpClient;
  readonly #transport: OwnIdTransport;
  readonly #inner: SSEClientTransport | StreamableHTTPClientTransport;
  readonly #opts: OwnReadOptions;
  readonly identity: ServerIdentity;

  private constructor(client: McpClient, transport: OwnIdTransport, inner: SSEClientTransport | StreamableHTTPClientTransport, opts: OwnReadOptions) {
    this.#client = client;
    this.#transport = transport;
    this.#inner = inner;
    this.#opts = opts;
    this.identity = serverIdentityOf({ serverInfo: client.getServerVersion() ?? {}, capabilities: client.getServerCapabilities() ?? {} }) ?? {
      listChanged: [],
    };
  }

  /** Opens a session (`initialize` and `notifications/initialized`) over `kind`. */
  static async open(kind: SessionTransport, opts: OwnReadOptions, hooks: OwnSessionHooks): Promise<OwnMcpSession> {
    const headers = headersOf(opts);
    const inner =
      kind === 'streamable_http'
        ? new StreamableHTTPClientTransport(new URL(mcpPath(opts.pathPrefix, '/mcp'), opts.origin), { requestInit: { headers } })
        : new SSEClientTransport(new URL(mcpPath(opts.pathPrefix, '/sse'), opts.origin), {
            requestInit: { headers },
            eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers)), ...headers } }) },
          });
    const transport = new OwnIdTransport(inner, { foreign: () => hooks.foreign() });
    const client = new McpClient({ name: INVENTORY_USER_AGENT, version: '1' }, { capabilities: {} });
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => hooks.changed('tools'));
    client.setNotificationHandler(PromptListChangedNotificationSchema, () => hooks.changed('prompts'));
    client.setNotificationHandler(ResourceListChangedNotificationSchema, () => hooks.changed('resources'));
    client.onclose = () => hooks.closed();
    try {
      await client.connect(transport, { timeout: opts.timeoutMs });
    } catch (err) {
      await client.close().catch(() => undefined);
      throw err;
    }
    return new OwnMcpSession(client, transport, inner, opts);
  }

  /** Lists `kind`, every page; a listing that does not end within the page bound is an error (never half-applied). */
  async list(kind: ListKind): Promise<Listing> {
    if (this.identity.kinds !== undefined && !this.identity.kinds.includes(kind)) return emptyListing(kind);
    const opts = { timeout: this.#opts.timeoutMs };
    const pages = this.#opts.maxPages ?? 100;
    const assembler = new ListingAssembler();
    let cursor: string | undefined;
    for (let i = 0; i < pages; i++) {
      const params = cursor === undefined ? {} : { cursor };
      const result =
        kind === 'tools'
          ? await this.#client.listTools(params, opts)
          : kind === 'prompts'
            ? await this.#client.listPrompts(params, opts)
            : await this.#client.listResources(params, opts);
      const page = listPageOf(result);
      if (page === undefined || page.kind !== kind) throw new Error(`${kind}/list: no ${kind} in the result`);
      const listing = assembler.page('own', cursor, page, 0);
      if (listing !== undefined) return listing;
      if (typeof page.nextCursor !== 'string') throw new Error(`${kind}/list: a cursor the sidecar cannot follow`);
      cursor = page.nextCursor;
    }
    throw new Error(`${kind}/list: more than ${pages} pages`);
  }

  /** Ends the session (streamable HTTP: `DELETE`, so the server frees it at once). */
  async close(): Promise<void> {
    if (this.#inner instanceof StreamableHTTPClientTransport && this.#transport.sessionId !== undefined) {
      await this.#inner.terminateSession().catch(() => undefined);
    }
    await this.#client.close().catch(() => undefined);
  }
}

/** Reads the composer's `GET {prefix}/tools`; also says whether its shape is the composer's. */
export async function readToolsList(opts: OwnReadOptions): Promise<{ listing: Listing; composer: boolean }> {
  const res = await fetch(new URL(mcpPath(opts.pathPrefix, '/tools'), opts.origin), {
    headers: { accept: 'application/json', ...headersOf(opts) },
    signal: AbortSignal.timeout(opts.timeoutMs),
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`GET /tools answered ${res.status}`);
  }
  const body: unknown = await res.json();
  if (body === null || typeof body !== 'object' || Array.isArray(body) || !('tools' in body) || !Array.isArray(body.tools))
    throw new Error('GET /tools: no tools list');
  const page = listPageOf({ tools: body.tools });
  if (page === undefined) throw new Error('GET /tools: no tools list');
  return { listing: { kind: 'tools', items: page.items, count: page.count, capped: page.capped }, composer: isComposerToolsList(body) };
}
