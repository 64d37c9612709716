// /api/v1/servers: list, one (with tool/prompt/resource name lists), start, stop, restart, delete, the
// per-server figures, and the log stream (SSE whose data lines are Python dict text with naive timestamps).
import type { ServerResponse } from 'node:http';
import type { ComposerContext } from '../context.ts';
import { LifecycleError, type ManagedServer } from '../supervisor/managed-server.ts';
import type { LogEntry } from '../supervisor/log-ring.ts';
import { pyRepr } from './py-repr.ts';
import { naiveIso, sendDetail, sendJson } from './respond.ts';
import type { RouteContext, Router } from './router.ts';
import { serverInfo, uptimeSeconds } from './shapes.ts';

function lookup(ctx: ComposerContext, id: string | undefined, res: ServerResponse): ManagedServer | undefined {
  const server = id === undefined ? undefined : ctx.supervisor.get(id);
  if (!server) sendDetail(res, 404, `Server '${id ?? ''}' not found`);
  return server;
}

function logLine(serverId: string, e: LogEntry): string {
  return `data: ${pyRepr({ timestamp: naiveIso(e.time), level: e.level, message: e.message, server_id: serverId })}\n\n`;
}

function streamLogs(ctx: ComposerContext, server: ManagedServer, { req, res, query }: RouteContext): void {
  const lines = Math.max(0, Math.min(10_000, Number.parseInt(query.get('lines') ?? '100', 10) || 0));
  const follow = (query.get('follow') ?? 'true').toLowerCase() !== 'false';
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const history = server.logs.entries();
  for (const e of history.slice(Math.max(0, history.length - lines))) res.write(logLine(server.id, e));
  if (!follow) {
    res.end();
    return;
  }
  const unsubscribe = server.logs.subscribe((e) => {
    if (!res.writableEnded) res.write(logLine(server.id, e));
  });
  const ping = setInterval(() => {
    if (!res.writableEnded) res.write(': ping\n\n');
  }, ctx.options.keepaliveMs);
  const cleanup = (): void => {
    clearInterval(ping);
    unsubscribe();
  };
  res.on('close', cleanup);
  req.on('close', cleanup);
}

type Action = 'start' | 'stop' | 'restart';
const PAST: Record<Action, string> = { start: 'started', stop: 'stopped', restart: 'restarted' };

async function lifecycle(ctx: ComposerContext, action: Action, { res, params }: RouteContext): Promise<void> {
  const server = lookup(ctx, params.id, res);
  if (!server) return;
  try {
    if (action === 'start') await server.start('api');
    else if (action === 'stop') await server.stop('api');
    else await server.restart('api', 'manual');
  } catch (err) {
    if (err instanceof LifecycleError && err.kind === 'conflict') return sendDetail(res, 400, err.message);
    return sendDetail(res, 500, err instanceof Error ? err.message : String(err));
  }
  sendJson(res, 200, { success: true, message: `Server '${server.id}' ${PAST[action]} successfully`, server_id: server.id, status: server.state });
}

export function addServerRoutes(router: Router, ctx: ComposerContext): void {
  const shape = ctx.options.apiShape;
  router.add('GET', '/api/v1/servers', ({ res }) => {
    const servers = ctx.supervisor.list().map((s) => serverInfo(s, shape));
    sendJson(res, 200, { servers, total: servers.length });
  });

  router.add('GET', '/api/v1/servers/{id}', ({ res, params }) => {
    const s = lookup(ctx, params.id, res);
    if (!s) return;
    sendJson(res, 200, {
      ...serverInfo(s, shape),
      tools: s.inventory.tools.map((t) => t.name),
      prompts: s.inventory.prompts.map((p) => p.name),
      resources: [...s.inventory.resources.map((r) => r.uri), ...s.inventory.templates.map((t) => t.uriTemplate)],
    });
  });

  for (const action of ['start', 'stop', 'restart'] as const) {
    router.add('POST', `/api/v1/servers/{id}/${action}`, (rc) => lifecycle(ctx, action, rc));
  }

  router.add('DELETE', '/api/v1/servers/{id}', async ({ res, params }) => {
    const s = lookup(ctx, params.id, res);
    if (!s) return;
    await ctx.supervisor.delete(s.id);
    sendJson(res, 200, { success: true, message: `Server '${s.id}' removed`, server_id: s.id, status: 'removed' });
  });

  router.add('GET', '/api/v1/servers/{id}/metrics', ({ res, params }) => {
    const s = lookup(ctx, params.id, res);
    if (!s) return;
    sendJson(res, 200, {
      server_id: s.id,
      status: s.state,
      pid: s.pid ?? null,
      uptime_seconds: uptimeSeconds(s),
      restart_count: s.restartCount,
      tool_invocations: s.stats.toolCalls,
      tool_errors: s.stats.toolErrors,
      resource_reads: s.stats.resourceReads,
      crashes: s.stats.crashes,
      starts: s.stats.starts,
      stops: s.stats.stops,
    });
  });

  router.add('GET', '/api/v1/servers/{id}/logs', (rc) => {
    const s = lookup(ctx, rc.params.id, rc.res);
    if (s) streamLogs(ctx, s, rc);
  });
}
