// /api/v1 health, health/detailed, version, status, composition (also /status/composition), the JSON
// metrics summary and the Prometheus exposition of the composer's own catalog.
import type { ComposerContext } from '../context.ts';
import { conflicts, countsOf } from '../composition.ts';
import { EXPOSITION_CONTENT_TYPE } from '../metrics/registry.ts';
import { naiveIso, sendJson, sendText } from './respond.ts';
import type { RouteHandler, Router } from './router.ts';
import { compositionBody, statusBody } from './shapes.ts';

function uptime(ctx: ComposerContext): number {
  return Math.round((Date.now() - ctx.startedAt) / 10) / 100;
}

/** Gauge inputs for the catalog, from the supervisor. */
export function inventoryFigures(ctx: ComposerContext): {
  servers: { id: string; state: string; tools: number; prompts: number; resources: number }[];
  conflicts: number;
} {
  const servers = ctx.supervisor.list();
  return {
    servers: servers.map((s) => ({ id: s.id, state: s.state, ...countsOf(s.inventory) })),
    conflicts: conflicts(servers).filter((c) => c.type === 'tool').length,
  };
}

/** The JSON counters summary of GET /api/v1/metrics (also pushed on /ws/metrics). */
export function metricsSummary(ctx: ComposerContext): Record<string, number> {
  const servers = ctx.supervisor.list();
  const sum = (f: (s: (typeof servers)[number]) => number): number => servers.reduce((a, s) => a + f(s), 0);
  return {
    http_requests_total: ctx.stats.httpRequests,
    tool_invocations_total: ctx.stats.toolInvocations,
    tool_invocation_errors_total: ctx.stats.toolErrors,
    resource_reads_total: ctx.stats.resourceReads,
    resource_read_errors_total: ctx.stats.resourceErrors,
    server_starts_total: sum((s) => s.stats.starts),
    server_stops_total: sum((s) => s.stats.stops),
    server_restarts_total: sum((s) => s.restartCount),
    server_crashes_total: sum((s) => s.stats.crashes),
    uptime_seconds: uptime(ctx),
  };
}

export function addStatusRoutes(router: Router, ctx: ComposerContext): void {
  const shape = ctx.options.apiShape;
  router.add(
    'GET',
    '/api/v1/health',
    ({ res }) => {
      sendJson(res, 200, { status: 'healthy', version: ctx.version.version, timestamp: naiveIso(new Date()) });
    },
    { public: true },
  );

  router.add(
    'GET',
    '/api/v1/health/detailed',
    ({ res }) => {
      const servers = ctx.supervisor.list();
      const running = servers.filter((s) => s.state === 'running').length;
      const failed = servers.filter((s) => s.state === 'crashed').length;
      sendJson(res, 200, {
        status: failed > 0 ? 'degraded' : 'healthy',
        version: ctx.version.version,
        servers: Object.fromEntries(servers.map((s) => [s.id, s.state])),
        uptime_seconds: uptime(ctx),
        total_servers: servers.length,
        running_servers: running,
        failed_servers: failed,
      });
    },
    { public: true },
  );

  router.add('GET', '/api/v1/version', ({ res }) => sendJson(res, 200, ctx.version), { public: true });

  router.add('GET', '/api/v1/status', ({ res }) => sendJson(res, 200, statusBody(ctx.supervisor.list(), uptime(ctx), shape)));

  const composition: RouteHandler = ({ res }) => sendJson(res, 200, compositionBody(ctx.supervisor.list(), shape));
  router.add('GET', '/api/v1/composition', composition, { resource: 'status' });
  router.add('GET', '/api/v1/status/composition', composition);

  router.add('GET', '/api/v1/metrics', ({ res }) => sendJson(res, 200, metricsSummary(ctx)));

  router.add('GET', '/api/v1/metrics/prometheus', ({ res }) => {
    sendText(res, 200, ctx.catalog.render(inventoryFigures(ctx)), EXPOSITION_CONTENT_TYPE);
  });
}
