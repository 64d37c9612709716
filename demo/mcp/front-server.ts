// The composer's MCP face: one SDK `Server` per client session, answering from the aggregated children.
// Names are prefixed `{server}_{name}`; `tools/call` is forwarded to the owning child. FastMCP quirks kept:
// an unknown tool answers a result with `isError: true` ("Unknown tool: x"), not a JSON-RPC error.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { findPromptByMcpName, findToolByMcpName, promptEntries, resourceEntries, toolEntries } from '../composition.ts';
import type { ComposerContext } from '../context.ts';
import { invokeTool, readResource, type TransportKind } from '../invoke.ts';

/** MCP error code for an unknown resource. */
export const RESOURCE_NOT_FOUND = -32002;

/** Builds the Server for one client session arriving over `transport`. */
export function createFrontServer(ctx: ComposerContext, transport: TransportKind): Server {
  const server = new Server(
    { name: 'mcp-server-composer', version: ctx.version.version },
    { capabilities: { tools: { listChanged: true }, prompts: { listChanged: true }, resources: { listChanged: true } } },
  );
  const servers = () => ctx.supervisor.list();

  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: toolEntries(servers()).map((e) => ({ ...e.tool, name: e.mcpName })),
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const name = request.params.name;
    const entry = findToolByMcpName(servers(), name);
    const outcome = await invokeTool(ctx, entry, name, request.params.arguments ?? {}, transport, extra.signal);
    return outcome.result;
  });

  server.setRequestHandler(ListPromptsRequestSchema, () => ({
    prompts: promptEntries(servers()).map((e) => ({ ...e.prompt, name: e.mcpName })),
  }));

  server.setRequestHandler(GetPromptRequestSchema, async (request) => {
    const entry = findPromptByMcpName(servers(), request.params.name);
    const owner = entry ? ctx.supervisor.get(entry.serverId) : undefined;
    if (!entry || !owner) throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${request.params.name}`);
    try {
      return await owner.getPrompt(entry.prompt.name, request.params.arguments ?? {});
    } catch (err) {
      if (err instanceof McpError) throw err;
      throw new McpError(ErrorCode.InternalError, err instanceof Error ? err.message : String(err));
    }
  });

  server.setRequestHandler(ListResourcesRequestSchema, () => ({
    resources: resourceEntries(servers()).flatMap((e) => (e.resource ? [e.resource] : [])),
  }));

  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({
    resourceTemplates: resourceEntries(servers()).flatMap((e) => (e.template ? [e.template] : [])),
  }));

  server.setRequestHandler(ReadResourceRequestSchema, async (request) => {
    const outcome = await readResource(ctx, request.params.uri, transport);
    if (outcome.ok) return outcome.result;
    if (outcome.notFound) throw new McpError(RESOURCE_NOT_FOUND, `Resource not found: ${request.params.uri}`, { uri: request.params.uri });
    throw new McpError(ErrorCode.InternalError, outcome.error);
  });

  return server;
}

/** Every open front session, to tell them when the composed lists change and to close them at shutdown. */
export class FrontSessions {
  #servers = new Map<Server, TransportKind>();

  add(server: Server, transport: TransportKind): void {
    this.#servers.set(server, transport);
  }

  delete(server: Server): void {
    this.#servers.delete(server);
  }

  /** Number of open sessions per transport. */
  counts(): Record<string, number> {
    const out: Record<string, number> = { sse: 0, streamable_http: 0 };
    for (const t of this.#servers.values()) out[t] = (out[t] ?? 0) + 1;
    return out;
  }

  /** Sends notifications/{tools,prompts,resources}/list_changed to every session. */
  notifyListChanged(): void {
    for (const server of this.#servers.keys()) {
      void server.sendToolListChanged().catch(() => undefined);
      void server.sendPromptListChanged().catch(() => undefined);
      void server.sendResourceListChanged().catch(() => undefined);
    }
  }

  async closeAll(): Promise<void> {
    const all = [...this.#servers.keys()];
    this.#servers.clear();
    await Promise.all(all.map((s) => s.close().catch(() => undefined)));
  }
}
