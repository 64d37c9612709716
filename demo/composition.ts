// The composition: how the children's tools, prompts and resources are named and found once aggregated.
// MCP names are `{server}_{name}` (the real composer's prefixing); REST ids are `server.name` (or
// `server:name`). A server keeps its last known inventory while it is stopped or crashed, as the real
// composer does; calls to it then fail. Pure functions over the supervised servers.
import { UriTemplate } from '@modelcontextprotocol/sdk/shared/uriTemplate.js';
import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Inventory } from './supervisor/inventory.ts';

/** What composition needs to know of a supervised server. */
export interface ComposedServer {
  readonly id: string;
  readonly inventory: Inventory;
}

export interface ToolEntry {
  readonly serverId: string;
  readonly tool: Tool;
  /** `{server}_{tool}` */
  readonly mcpName: string;
  /** `server.tool` */
  readonly restId: string;
}

export interface PromptEntry {
  readonly serverId: string;
  readonly prompt: Prompt;
  readonly mcpName: string;
  readonly restId: string;
}

export interface ResourceEntry {
  readonly serverId: string;
  /** A static resource, or a template (then `uri` is the template text). */
  readonly resource: Resource | undefined;
  readonly template: ResourceTemplate | undefined;
  readonly uri: string;
}

export interface Conflict {
  readonly type: 'tool' | 'prompt';
  readonly name: string;
  readonly servers: readonly string[];
  /** How the composer resolved it: every name is prefixed with its server id. */
  readonly resolution: 'prefix';
}

export function toolEntries(servers: readonly ComposedServer[]): ToolEntry[] {
  return servers.flatMap((s) => s.inventory.tools.map((tool) => ({ serverId: s.id, tool, mcpName: `${s.id}_${tool.name}`, restId: `${s.id}.${tool.name}` })));
}

export function promptEntries(servers: readonly ComposedServer[]): PromptEntry[] {
  return servers.flatMap((s) =>
    s.inventory.prompts.map((prompt) => ({ serverId: s.id, prompt, mcpName: `${s.id}_${prompt.name}`, restId: `${s.id}.${prompt.name}` })),
  );
}

export function resourceEntries(servers: readonly ComposedServer[]): ResourceEntry[] {
  return servers.flatMap((s) => [
    ...s.inventory.resources.map((resource) => ({ serverId: s.id, resource, template: undefined, uri: resource.uri })),
    ...s.inventory.templates.map((template) => ({ serverId: s.id, resource: undefined, template, uri: template.uriTemplate })),
  ]);
}

/** Splits a REST id `server.name` / `server:name` at its first separator. */
export function splitRestId(id: string): { server: string; name: string } | undefined {
  const at = id.search(/[.:]/);
  if (at <= 0 || at === id.length - 1) return undefined;
  return { server: id.slice(0, at), name: id.slice(at + 1) };
}

export function findToolByMcpName(servers: readonly ComposedServer[], name: string): ToolEntry | undefined {
  return toolEntries(servers).find((t) => t.mcpName === name);
}

export function findToolByRestId(servers: readonly ComposedServer[], id: string): ToolEntry | undefined {
  const parts = splitRestId(id);
  if (!parts) return undefined;
  return toolEntries(servers).find((t) => t.serverId === parts.server && t.tool.name === parts.name);
}

export function findPromptByMcpName(servers: readonly ComposedServer[], name: string): PromptEntry | undefined {
  return promptEntries(servers).find((p) => p.mcpName === name);
}

export function findPromptByRestId(servers: readonly ComposedServer[], id: string): PromptEntry | undefined {
  const parts = splitRestId(id);
  if (!parts) return findPromptByMcpName(servers, id);
  return promptEntries(servers).find((p) => p.serverId === parts.server && p.prompt.name === parts.name);
}

/** The server that serves `uri`: a static resource with exactly that URI first, then a matching template. */
export function findResourceOwner(servers: readonly ComposedServer[], uri: string): ResourceEntry | undefined {
  const entries = resourceEntries(servers);
  const exact = entries.find((e) => e.resource && e.uri === uri);
  if (exact) return exact;
  return entries.find((e) => {
    if (!e.template) return false;
    try {
      return new UriTemplate(e.template.uriTemplate).match(uri) !== null;
    } catch {
      return false;
    }
  });
}

/** Names offered by more than one server (before prefixing). */
export function conflicts(servers: readonly ComposedServer[]): Conflict[] {
  const out: Conflict[] = [];
  const collect = (type: 'tool' | 'prompt', pick: (s: ComposedServer) => readonly string[]): void => {
    const owners = new Map<string, string[]>();
    for (const s of servers) for (const n of new Set(pick(s))) owners.set(n, [...(owners.get(n) ?? []), s.id]);
    for (const [name, ids] of owners) if (ids.length > 1) out.push({ type, name, servers: ids, resolution: 'prefix' });
  };
  collect('tool', (s) => s.inventory.tools.map((t) => t.name));
  collect('prompt', (s) => s.inventory.prompts.map((p) => p.name));
  return out;
}

export interface Counts {
  readonly tools: number;
  readonly prompts: number;
  readonly resources: number;
}

/** Resources count static resources and templates alike. */
export function countsOf(inv: Inventory): Counts {
  return { tools: inv.tools.length, prompts: inv.prompts.length, resources: inv.resources.length + inv.templates.length };
}

export function totals(servers: readonly ComposedServer[]): Counts {
  return servers
    .map((s) => countsOf(s.inventory))
    .reduce(
      (a, c) => ({
        tools: a.tools + c.tools,
        prompts: a.prompts + c.prompts,
        resources: a.resources + c.resources,
      }),
      { tools: 0, prompts: 0, resources: 0 },
    );
}
