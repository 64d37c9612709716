// Test-only routes under /__demo/, mounted only with --test-control (otherwise those paths answer 404).
// They need no credentials. See demo/README.md for the list.
import { findToolByMcpName } from '../composition.ts';
import type { ComposerContext } from '../context.ts';
import type { EventStreams } from '../events/stream-route.ts';
import { invokeTool, readResource } from '../invoke.ts';
import type { FrontSessions } from '../mcp/front-server.ts';
import { isRecord, readJson, sendDetail, sendJson } from './respond.ts';
import type { RouteContext } from './router.ts';
import { Router } from './router.ts';

export interface TestControlDeps {
  readonly streams: EventStreams | undefined;
  readonly sessions: FrontSessions;
}

/** Largest number of events /__demo/events/fill emits at once. */
const MAX_FILL = 100_000;

async function body(rc: RouteContext): Promise<Record<string, unknown> | undefined> {
  const b = await readJson(rc.req, rc.res);
  if (!b.ok) return undefined;
  return isRecord(b.value) ? b.value : {};
}

export function testControlRouter(ctx: ComposerContext, deps: TestControlDeps): Router {
  const router = new Router();

  router.add('GET', '/__demo/state', ({ res }) => {
    const servers = ctx.supervisor.list();
    sendJson(res, 200, {
      pid: process.pid,
      config_path: ctx.config.path,
      servers: servers.map((s) => ({ id: s.id, state: s.state, pid: s.pid ?? null, restart_count: s.restartCount, restart_pending: s.restartPending })),
      child_pids: servers.flatMap((s) => (s.pid === undefined ? [] : [s.pid])),
      event_last_id: ctx.bus.lastId,
      event_buffer_held: ctx.bus.held,
      event_clients: deps.streams?.connected ?? 0,
      mcp_sessions: deps.sessions.counts(),
    });
  });

  router.add('POST', '/__demo/events/disconnect', ({ res }) => {
    sendJson(res, 200, { disconnected: deps.streams?.disconnectAll() ?? 0 });
  });

  router.add('POST', '/__demo/events/inject', async (rc) => {
    const b = await body(rc);
    if (!b) return;
    const type = typeof b.type === 'string' && b.type !== '' ? b.type : 'demo.injected';
    const event = typeof b.raw === 'string' ? ctx.bus.emitRaw(type, b.raw) : ctx.bus.emit(type, isRecord(b.data) ? b.data : {});
    sendJson(rc.res, 200, { id: event.id, type });
  });

  router.add('POST', '/__demo/events/fill', async (rc) => {
    const b = await body(rc);
    if (!b) return;
    const count = typeof b.count === 'number' && Number.isInteger(b.count) && b.count > 0 ? Math.min(b.count, MAX_FILL) : 1;
    const first = ctx.bus.lastId + 1;
    for (let i = 0; i < count; i++) ctx.bus.emit('demo.noise', { n: i });
    sendJson(rc.res, 200, { first_id: first, last_id: ctx.bus.lastId });
  });

  router.add('POST', '/__demo/servers/{id}/kill', async (rc) => {
    const b = await body(rc);
    if (!b) return;
    const server = ctx.supervisor.get(rc.params.id ?? '');
    if (!server) return sendDetail(rc.res, 404, `Server '${rc.params.id ?? ''}' not found`);
    const signal = (typeof b.signal === 'string' ? b.signal : 'SIGKILL') as NodeJS.Signals;
    const pid = server.pid;
    if (!server.kill(signal)) return sendDetail(rc.res, 409, `Server '${server.id}' is not running`);
    sendJson(rc.res, 200, { killed: true, pid: pid ?? null, signal });
  });

  router.add('POST', '/__demo/stdio/tools/call', async (rc) => {
    const b = await body(rc);
    if (!b) return;
    const name = typeof b.name === 'string' ? b.name : '';
    const args = isRecord(b.arguments) ? b.arguments : {};
    const outcome = await invokeTool(ctx, findToolByMcpName(ctx.supervisor.list(), name), name, args, 'stdio');
    sendJson(rc.res, 200, { success: outcome.success, result: outcome.result, error_type: outcome.errorType ?? null });
  });

  router.add('POST', '/__demo/stdio/resources/read', async (rc) => {
    const b = await body(rc);
    if (!b) return;
    const outcome = await readResource(ctx, typeof b.uri === 'string' ? b.uri : '', 'stdio');
    sendJson(rc.res, 200, outcome.ok ? { success: true, result: outcome.result } : { success: false, error: outcome.error });
  });

  return router;
}
