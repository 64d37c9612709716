// /api/v1 tools (list, one, invoke), prompts (list, one), resources (list, read), and the plain GET /tools
// of the released `serve` command.
import type { ServerResponse } from 'node:http';
import { findPromptByRestId, findToolByMcpName, findToolByRestId, promptEntries, resourceEntries, toolEntries } from '../composition.ts';
import type { ComposerContext } from '../context.ts';
import { invokeTool, readResource } from '../invoke.ts';
import { bodyNotObject, isRecord, readJson, sendDetail, sendJson } from './respond.ts';
import type { RouteContext, Router } from './router.ts';
import { page, promptInfo, resourceContent, resourceInfo, toolInfo } from './shapes.ts';
import { checkArguments, intQuery, invokeArguments } from './validation.ts';

interface ListQuery {
  readonly server: string | null;
  readonly search: string | null;
  readonly offset: number;
  readonly limit: number;
}

/** `?server=&search=&limit=&offset=`; answers 422 and returns undefined when invalid. */
function listQuery(res: ServerResponse, query: URLSearchParams): ListQuery | undefined {
  const limit = intQuery(res, query, 'limit', 100, 1, 1000);
  if (limit === undefined) return undefined;
  const offset = intQuery(res, query, 'offset', 0, 0);
  if (offset === undefined) return undefined;
  return { server: query.get('server'), search: query.get('search')?.toLowerCase() ?? null, offset, limit };
}

function matches(q: ListQuery, serverId: string, ...texts: (string | undefined)[]): boolean {
  if (q.server !== null && q.server !== '' && serverId !== q.server) return false;
  if (q.search === null || q.search === '') return true;
  const search = q.search;
  return texts.some((t) => t?.toLowerCase().includes(search) ?? false);
}

async function invoke(ctx: ComposerContext, { req, res, params }: RouteContext): Promise<void> {
  const id = params.id ?? '';
  const body = await readJson(req, res);
  if (!body.ok) return;
  if (!body.empty && !isRecord(body.value)) return bodyNotObject(res, body.value);
  const entry = findToolByRestId(ctx.supervisor.list(), id);
  if (!entry) return sendDetail(res, 404, `Tool '${id}' not found`);
  const args = isRecord(body.value) ? invokeArguments(body.value) : {};
  const problem = checkArguments(entry.tool.inputSchema, args);
  if (problem !== undefined) return sendDetail(res, 400, `Invalid arguments for tool '${entry.restId}': ${problem}`);
  const server = ctx.supervisor.get(entry.serverId);
  if (server?.state !== 'running') return sendDetail(res, 500, `Server '${entry.serverId}' is not running`);
  const outcome = await invokeTool(ctx, entry, entry.restId, args, 'rest');
  sendJson(res, 200, {
    success: outcome.success,
    result: outcome.result,
    error: outcome.error ?? null,
    tool_id: entry.restId,
    execution_time_ms: Math.round(outcome.durationMs * 1000) / 1000,
  });
}

async function read(ctx: ComposerContext, { res, params }: RouteContext): Promise<void> {
  const uri = params.uri ?? '';
  const outcome = await readResource(ctx, uri, 'rest');
  if (!outcome.ok) {
    if (outcome.notFound) return sendDetail(res, 404, `Resource '${uri}' not found`);
    return sendDetail(res, 500, `Failed to read resource '${uri}': ${outcome.error}`);
  }
  const first = outcome.result.contents[0];
  const mime = first?.mimeType ?? outcome.entry.resource?.mimeType ?? outcome.entry.template?.mimeType ?? null;
  sendJson(res, 200, resourceContent(uri, outcome.result.contents, mime, outcome.entry.serverId, ctx.options.apiShape));
}

export function addCapabilityRoutes(router: Router, ctx: ComposerContext): void {
  const shape = ctx.options.apiShape;
  router.add('GET', '/api/v1/tools', ({ res, query }) => {
    const q = listQuery(res, query);
    if (!q) return;
    const items = toolEntries(ctx.supervisor.list()).filter((e) => matches(q, e.serverId, e.tool.name, e.tool.description));
    sendJson(
      res,
      200,
      page(
        'tools',
        items.map((e) => toolInfo(e, shape)),
        q.offset,
        q.limit,
      ),
    );
  });
  router.add('GET', '/api/v1/tools/{id}', ({ res, params }) => {
    const servers = ctx.supervisor.list();
    const entry = findToolByRestId(servers, params.id ?? '') ?? findToolByMcpName(servers, params.id ?? '');
    if (!entry) return sendDetail(res, 404, `Tool '${params.id ?? ''}' not found`);
    sendJson(res, 200, toolInfo(entry, shape));
  });
  router.add('POST', '/api/v1/tools/{id}/invoke', (rc) => invoke(ctx, rc), { resource: 'tools' });

  router.add('GET', '/api/v1/prompts', ({ res, query }) => {
    const q = listQuery(res, query);
    if (!q) return;
    const items = promptEntries(ctx.supervisor.list()).filter((e) => matches(q, e.serverId, e.prompt.name, e.prompt.description));
    sendJson(
      res,
      200,
      page(
        'prompts',
        items.map((e) => promptInfo(e, shape)),
        q.offset,
        q.limit,
      ),
    );
  });
  router.add('GET', '/api/v1/prompts/{id}', ({ res, params }) => {
    const entry = findPromptByRestId(ctx.supervisor.list(), params.id ?? '');
    if (!entry) return sendDetail(res, 404, `Prompt '${params.id ?? ''}' not found`);
    sendJson(res, 200, promptInfo(entry, shape));
  });

  router.add('GET', '/api/v1/resources', ({ res, query }) => {
    const q = listQuery(res, query);
    if (!q) return;
    const items = resourceEntries(ctx.supervisor.list()).filter((e) => matches(q, e.serverId, e.uri, e.resource?.name ?? e.template?.name));
    sendJson(
      res,
      200,
      page(
        'resources',
        items.map((e) => resourceInfo(e, shape)),
        q.offset,
        q.limit,
      ),
    );
  });
  router.add('GET', '/api/v1/resources/{uri:path}', (rc) => read(ctx, rc));
}

/** The released composer's plain `GET /tools`: `{tools: [{name, description, inputSchema}], total}`. */
export function plainTools(ctx: ComposerContext, res: ServerResponse): void {
  const tools = toolEntries(ctx.supervisor.list()).map((e) => ({ name: e.mcpName, description: e.tool.description ?? null, inputSchema: e.tool.inputSchema }));
  sendJson(res, 200, { tools, total: tools.length });
}
