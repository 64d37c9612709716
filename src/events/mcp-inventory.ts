/**
 * Inventory from MCP itself, for composers without a REST API (the released `serve`): the sidecar keeps its
 * own MCP client session to the upstream (never through the proxy, so never counted as traffic), lists
 * tools, prompts and resources — every page — at start, every poll interval and on
 * `notifications/{tools,prompts,resources}/list_changed`, and sets the totals and per-server counts. The server of an item is the
 * part of its name before `--server-id-separator` (the composer names them `{server}_{name}`); resources
 * keep their URIs, so a resource is attributed to a server only when its name carries a known server
 * prefix or its URI scheme is a known server id — otherwise it counts in the total alone. Without an MCP
 * transport, the plain `GET /tools` list is the fallback for tools.
 */
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../log.ts';
import type { Inventory } from '../ledger/inventory.ts';
import { MAX_URI_LENGTH } from '../ledger/name-bounds.ts';
import { resourceUriLabel } from '../ledger/uri.ts';

export interface McpInventoryOptions {
  readonly origin: URL;
  /** Which transport to use: streamable HTTP when the composer has it, else legacy SSE, else `GET /tools`. */
  readonly transport: 'streamable_http' | 'sse' | 'tools_list';
  /** @default `_` */
  readonly separator: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly token?: () => string | undefined;
  /** Pages read per list at most. @default 100 */
  readonly maxPages?: number;
}

export interface NamedItem {
  readonly name: string;
  readonly uri?: string;
}

/** Per-server counts of named items; items whose server cannot be told are left out. Pure. */
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

export class McpInventory {
  readonly #opts: McpInventoryOptions;
  readonly #inventory: Inventory;
  readonly #logger: Logger;
  #client: McpClient | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #refreshing: Promise<void> | undefined;
  #again = false;
  #failing = false;

  constructor(opts: McpInventoryOptions, inventory: Inventory, logger: Logger) {
    this.#opts = opts;
    this.#inventory = inventory;
    this.#logger = logger;
  }

  start(): void {
    void this.refresh().finally(() => this.#schedule());
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.refresh().finally(() => this.#schedule()), this.#opts.intervalMs);
    this.#timer.unref();
  }

  /** Reads the lists now; a refresh asked for while one runs runs once more after it. */
  refresh(): Promise<void> {
    if (this.#refreshing !== undefined) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#again = false;
        await this.#read();
      } while (this.#again && !this.#stopped);
    })().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  /** Headers of every request the inventory client sends; the user agent tells the composer (and tests) who asks. */
  #headers(): Record<string, string> {
    const token = this.#opts.token?.();
    return { 'user-agent': 'mcp-composer-sidecar-inventory', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) };
  }

  async #connect(): Promise<McpClient> {
    if (this.#client !== undefined) return this.#client;
    const headers = this.#headers();
    const client = new McpClient({ name: 'mcp-composer-sidecar-inventory', version: '1' }, { capabilities: {} });
    const transport =
      this.#opts.transport === 'streamable_http'
        ? new StreamableHTTPClientTransport(new URL('/mcp', this.#opts.origin), { requestInit: { headers } })
        : new SSEClientTransport(new URL('/sse', this.#opts.origin), {
            requestInit: { headers },
            eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }) },
          });
    const changed = () => void this.refresh();
    client.setNotificationHandler(ToolListChangedNotificationSchema, changed);
    client.setNotificationHandler(PromptListChangedNotificationSchema, changed);
    client.setNotificationHandler(ResourceListChangedNotificationSchema, changed);
    client.onclose = () => {
      if (this.#client === client) this.#client = undefined;
    };
    await client.connect(transport, { timeout: this.#opts.timeoutMs });
    this.#client = client;
    return client;
  }

  async #read(): Promise<void> {
    try {
      if (this.#opts.transport === 'tools_list') await this.#readToolsList();
      else await this.#readMcp();
      if (this.#failing) this.#logger.info({ event: 'mcp_inventory_recovered' }, 'MCP inventory reads succeed again');
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) {
        this.#logger.warn({ event: 'mcp_inventory_failed', transport: this.#opts.transport, detail: err instanceof Error ? err.message : String(err) }, 'MCP inventory read failed: keeping the last values');
      }
      this.#failing = true;
      const c = this.#client;
      this.#client = undefined;
      await c?.close().catch(() => undefined);
    }
  }

  async #readMcp(): Promise<void> {
    const client = await this.#connect();
    const opts = { timeout: this.#opts.timeoutMs };
    const caps = client.getServerCapabilities();
    const pages = this.#opts.maxPages ?? 100;
    const all = async <T>(list: (cursor: string | undefined) => Promise<{ items: T[]; next: string | undefined }>): Promise<T[]> => {
      const out: T[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < pages; i++) {
        const { items, next } = await list(cursor);
        out.push(...items);
        if (next === undefined || next === '') break;
        cursor = next;
      }
      return out;
    };
    const tools = caps?.tools === undefined ? [] : await all(async (cursor) => {
      const r = await client.listTools(cursor === undefined ? {} : { cursor }, opts);
      return { items: r.tools.map((t) => ({ name: t.name })), next: r.nextCursor };
    });
    const prompts = caps?.prompts === undefined ? [] : await all(async (cursor) => {
      const r = await client.listPrompts(cursor === undefined ? {} : { cursor }, opts);
      return { items: r.prompts.map((p) => ({ name: p.name })), next: r.nextCursor };
    });
    const resources = caps?.resources === undefined ? [] : await all(async (cursor) => {
      const r = await client.listResources(cursor === undefined ? {} : { cursor }, opts);
      return { items: r.resources.map((x) => ({ name: x.name, uri: x.uri })), next: r.nextCursor };
    });
    this.#apply(tools, prompts, resources);
  }

  async #readToolsList(): Promise<void> {
    const res = await fetch(new URL('/tools', this.#opts.origin), { headers: { accept: 'application/json', ...this.#headers() }, signal: AbortSignal.timeout(this.#opts.timeoutMs) });
    if (!res.ok) throw new Error(`GET /tools answered ${res.status}`);
    const body = (await res.json()) as { tools?: unknown };
    if (!Array.isArray(body.tools)) throw new Error('GET /tools: no tools list');
    const tools = body.tools.flatMap((t) => (t !== null && typeof t === 'object' && typeof (t as { name?: unknown }).name === 'string' ? [{ name: (t as { name: string }).name }] : []));
    const inv = this.#inventory;
    inv.perServer.tools = countByServer(tools, this.#opts.separator);
    inv.capabilities = { ...inv.capabilities, tools: tools.length };
    inv.known.add('tools', tools.map((t) => t.name));
  }

  #apply(tools: NamedItem[], prompts: NamedItem[], resources: NamedItem[]): void {
    const inv = this.#inventory;
    const sep = this.#opts.separator;
    const byTool = countByServer(tools, sep);
    const byPrompt = countByServer(prompts, sep);
    const known = new Set([...byTool.keys(), ...byPrompt.keys()]);
    const byResource = countByServer(resources, sep, known);
    for (const id of known) {
      if (!byTool.has(id)) byTool.set(id, 0);
      if (!byPrompt.has(id)) byPrompt.set(id, 0);
      if (!byResource.has(id)) byResource.set(id, 0);
    }
    inv.perServer.tools = byTool;
    inv.perServer.prompts = byPrompt;
    inv.perServer.resources = byResource;
    inv.capabilities = { tools: tools.length, prompts: prompts.length, resources: resources.length };
    inv.known.add('tools', tools.map((t) => t.name));
    inv.known.add('prompts', prompts.map((p) => p.name));
    inv.known.add('resources', resources.flatMap((r) => (r.uri === undefined ? [] : [resourceUriLabel(r.uri, MAX_URI_LENGTH)])));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#refreshing?.catch(() => undefined);
    await this.#client?.close().catch(() => undefined);
    this.#client = undefined;
  }
}
