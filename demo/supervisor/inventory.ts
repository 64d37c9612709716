// A child server's capabilities as the composer learned them over MCP (every page of every list).
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';

export interface Inventory {
  readonly tools: readonly Tool[];
  readonly prompts: readonly Prompt[];
  readonly resources: readonly Resource[];
  readonly templates: readonly ResourceTemplate[];
}

export const EMPTY_INVENTORY: Inventory = Object.freeze({ tools: [], prompts: [], resources: [], templates: [] });

/** Upper bound on pages per list, so that a misbehaving child cannot loop the composer forever. */
const MAX_PAGES = 100;

async function allPages<T>(fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; next: string | undefined }>): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const { items, next } = await fetchPage(cursor);
    out.push(...items);
    if (next === undefined) break;
    cursor = next;
  }
  return out;
}

/** Lists everything the connected child offers, according to the capabilities it announced. */
export async function loadInventory(client: Client, timeoutMs: number): Promise<Inventory> {
  const caps = client.getServerCapabilities() ?? {};
  const opts = { timeout: timeoutMs };
  const tools = caps.tools
    ? await allPages(async (cursor) => {
        const r = await client.listTools(cursor === undefined ? {} : { cursor }, opts);
        return { items: r.tools, next: r.nextCursor };
      })
    : [];
  const prompts = caps.prompts
    ? await allPages(async (cursor) => {
        const r = await client.listPrompts(cursor === undefined ? {} : { cursor }, opts);
        return { items: r.prompts, next: r.nextCursor };
      })
    : [];
  const resources = caps.resources
    ? await allPages(async (cursor) => {
        const r = await client.listResources(cursor === undefined ? {} : { cursor }, opts);
        return { items: r.resources, next: r.nextCursor };
      })
    : [];
  const templates = caps.resources
    ? await allPages(async (cursor) => {
        const r = await client.listResourceTemplates(cursor === undefined ? {} : { cursor }, opts);
        return { items: r.resourceTemplates, next: r.nextCursor };
      })
    : [];
  return { tools, prompts, resources, templates };
}

/** A stable summary of the names in an inventory, to tell whether it changed. */
export function inventoryKey(inv: Inventory): string {
  return JSON.stringify([
    inv.tools.map((t) => t.name).sort(),
    inv.prompts.map((p) => p.name).sort(),
    inv.resources.map((r) => r.uri).sort(),
    inv.templates.map((t) => t.uriTemplate).sort(),
  ]);
}
