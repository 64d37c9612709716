// REST response shapes, as the real code answers them (`code`) and as the API reference documents them
// (`doc`), per composer-api.md: ServerInfo `status`/`uptime_seconds` (code) vs `state`/`uptime` (doc); list
// items name their server in `server_id` (code) vs `server` (doc); /status nested (code) vs flat (doc).
import type { ComposedServer, PromptEntry, ResourceEntry, ToolEntry } from '../composition.ts';
import { conflicts, countsOf, totals } from '../composition.ts';
import type { ApiShape } from '../options.ts';
import type { ManagedServer } from '../supervisor/managed-server.ts';

export function uptimeSeconds(server: ManagedServer): number | null {
  return server.startedAt === undefined ? null : Math.round((Date.now() - server.startedAt) / 10) / 100;
}

export function serverInfo(s: ManagedServer, shape: ApiShape): Record<string, unknown> {
  const common = {
    id: s.id,
    name: s.id,
    type: 'stdio',
    command: [s.spec.command, ...s.spec.args].join(' '),
    url: null,
    pid: s.pid ?? null,
  };
  const uptime = uptimeSeconds(s);
  if (shape === 'doc') {
    return { ...common, state: s.state, uptime, restart_count: s.restartCount, last_error: s.lastError ?? null };
  }
  return { ...common, status: s.state, uptime_seconds: uptime, restart_count: s.restartCount, last_error: s.lastError ?? null };
}

/** The key naming an item's server: `server_id` (code) or `server` (doc). */
function serverKey(shape: ApiShape): string {
  return shape === 'doc' ? 'server' : 'server_id';
}

export function toolInfo(e: ToolEntry, shape: ApiShape): Record<string, unknown> {
  return {
    id: e.restId,
    name: e.tool.name,
    full_name: e.mcpName,
    description: e.tool.description ?? null,
    [serverKey(shape)]: e.serverId,
    input_schema: e.tool.inputSchema,
  };
}

export function promptInfo(e: PromptEntry, shape: ApiShape): Record<string, unknown> {
  return {
    id: e.restId,
    name: e.prompt.name,
    full_name: e.mcpName,
    description: e.prompt.description ?? null,
    [serverKey(shape)]: e.serverId,
    arguments: (e.prompt.arguments ?? []).map((a) => ({ name: a.name, description: a.description ?? null, required: a.required ?? false })),
  };
}

export function resourceInfo(e: ResourceEntry, shape: ApiShape): Record<string, unknown> {
  const meta = e.resource ?? e.template;
  return {
    uri: e.uri,
    name: meta?.name ?? e.uri,
    description: meta?.description ?? null,
    mime_type: meta?.mimeType ?? null,
    [serverKey(shape)]: e.serverId,
    template: e.template !== undefined,
  };
}

/** The result of reading a resource over REST. */
export function resourceContent(
  uri: string,
  contents: readonly unknown[],
  mimeType: string | null,
  serverId: string,
  shape: ApiShape,
): Record<string, unknown> {
  return { uri, contents, mime_type: mimeType, [serverKey(shape)]: serverId };
}

export function statusBody(servers: readonly ManagedServer[], uptime: number, shape: ApiShape): Record<string, unknown> {
  const running = servers.filter((s) => s.state === 'running').length;
  const stopped = servers.filter((s) => s.state === 'stopped').length;
  const caps = totals(servers);
  if (shape === 'doc') {
    return {
      servers_total: servers.length,
      servers_running: running,
      servers_stopped: stopped,
      tools_total: caps.tools,
      prompts_total: caps.prompts,
      resources_total: caps.resources,
      uptime,
    };
  }
  return {
    status: running === servers.length ? 'healthy' : 'degraded',
    servers: { total: servers.length, running, stopped, statuses: Object.fromEntries(servers.map((s) => [s.id, s.state])) },
    capabilities: caps,
    uptime_seconds: uptime,
  };
}

export function compositionBody(servers: readonly ManagedServer[], shape: ApiShape): Record<string, unknown> {
  const caps = totals(servers);
  return {
    total_servers: servers.length,
    total_tools: caps.tools,
    total_prompts: caps.prompts,
    total_resources: caps.resources,
    servers: servers.map((s) => serverInfo(s, shape)),
    conflicts: conflicts(servers),
  };
}

/** The data of the event stream's `snapshot` (always in the code shape). */
export function snapshotData(servers: readonly ManagedServer[]): Record<string, unknown> {
  const composed: readonly ComposedServer[] = servers;
  return {
    servers: servers.map((s) => serverInfo(s, 'code')),
    capabilities: totals(composed),
    per_server: Object.fromEntries(servers.map((s) => [s.id, countsOf(s.inventory)])),
    conflicts: conflicts(composed),
  };
}

/** Paginates a list: `{<key>: page, total, offset, limit}`. */
export function page<T>(key: string, items: readonly T[], offset: number, limit: number): Record<string, unknown> {
  return { [key]: items.slice(offset, offset + limit), total: items.length, offset, limit };
}
