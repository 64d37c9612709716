// Wires the demo composer together: config, supervisor, event bus, catalog, MCP transports, REST routes
// and the HTTP server; starts the children, listens, and tears everything down on close().
import { rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { machine, release, type } from 'node:os';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { ConfigService } from './config-service.ts';
import { writeDefaultConfig } from './config.ts';
import { conflicts, countsOf } from './composition.ts';
import type { ComposerContext, VersionInfo } from './context.ts';
import { EventBus } from './events/bus.ts';
import { EventStreams } from './events/stream-route.ts';
import { addCapabilityRoutes } from './http/rest-capabilities.ts';
import { addConfigRoutes } from './http/rest-config.ts';
import { addServerRoutes } from './http/rest-servers.ts';
import { addStatusRoutes } from './http/rest-status.ts';
import { Router } from './http/router.ts';
import { createHttpServer } from './http/server.ts';
import { snapshotData } from './http/shapes.ts';
import { testControlRouter } from './http/test-control.ts';
import { attachWebSockets } from './http/ws-routes.ts';
import { McpHttp } from './mcp/http-transports.ts';
import { Catalog } from './metrics/catalog.ts';
import type { DemoOptions } from './options.ts';
import { Supervisor } from './supervisor/supervisor.ts';

/** The version the demo composer reports (GET /api/v1/version, mcp_composer_info). */
export const DEMO_VERSION = '1.0.0-demo';

/** Push interval of /ws/metrics. */
const WS_METRICS_INTERVAL_MS = 1000;

export interface RunningComposer {
  readonly url: string;
  readonly port: number;
  readonly context: ComposerContext;
  /** Stops accepting, closes streams and sessions, stops every child. Idempotent. */
  close(): Promise<void>;
}

function versionInfo(): VersionInfo {
  return {
    version: DEMO_VERSION,
    python_version: `emulated (node ${process.version})`,
    platform: `${type()}-${release()}-${machine()}`,
    build_date: null,
    git_commit: null,
  };
}

export async function startComposer(options: DemoOptions, log: Logger): Promise<RunningComposer> {
  const generated = options.configPath === undefined;
  const configPath = options.configPath ?? (await writeDefaultConfig(options.servers));
  const version = versionInfo();
  const bus = new EventBus({ composer: options.composerName, capacity: options.eventBuffer });
  const catalog = new Catalog(version.version, version.platform);
  const emit = (t: string, data: Record<string, unknown>): void => void bus.emit(t, data);
  let onInventory: (serverId: string, removed: boolean) => void = () => undefined;
  const supervisor = new Supervisor({
    emit,
    inventoryChanged: (id, removed) => onInventory(id, removed),
    log,
    autoRestart: options.autoRestart,
    backoffInitialMs: options.restartBackoffMs,
    backoffMaxMs: options.restartBackoffMaxMs,
    requestTimeoutMs: options.toolTimeoutMs,
  });
  const config = await ConfigService.open(configPath, { emit, apply: (c) => supervisor.apply(c), catalog, log });
  const ctx: ComposerContext = {
    options,
    log,
    bus,
    catalog,
    supervisor,
    config,
    version,
    startedAt: Date.now(),
    stats: { httpRequests: 0, toolInvocations: 0, toolErrors: 0, resourceReads: 0, resourceErrors: 0 },
  };
  const mcp = new McpHttp(ctx);
  const streams = options.noEvents
    ? undefined
    : new EventStreams(bus, { keepaliveMs: options.keepaliveMs, retryMs: options.eventRetryMs }, () => snapshotData(supervisor.list()));
  onInventory = (id, removed) => {
    const server = supervisor.get(id);
    const counts = removed || !server ? { tools: 0, prompts: 0, resources: 0 } : countsOf(server.inventory);
    const toolConflicts = conflicts(supervisor.list()).filter((c) => c.type === 'tool').length;
    bus.emit('capabilities.changed', { server_id: id, ...counts, conflicts: toolConflicts });
    mcp.sessions.notifyListChanged();
  };

  let rest: Router | undefined;
  if (options.profile !== 'released') {
    rest = new Router();
    addStatusRoutes(rest, ctx);
    addServerRoutes(rest, ctx);
    addCapabilityRoutes(rest, ctx);
    addConfigRoutes(rest, ctx);
    if (streams) rest.add('GET', '/api/v1/events', ({ req, res }) => streams.handle(req, res), { resource: 'events' });
  }
  const testControl = options.testControl ? testControlRouter(ctx, { streams, sessions: mcp.sessions }) : undefined;
  const http = createHttpServer({ ctx, mcp, rest, testControl, streamableHttp: options.profile !== 'released' });
  const sockets = attachWebSockets(http, ctx, WS_METRICS_INTERVAL_MS, rest !== undefined);

  await supervisor.startAll(config.current);
  config.watch();
  const onHup = (): void => void config.reload('signal');
  process.on('SIGHUP', onHup);

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, options.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      process.off('SIGHUP', onHup);
      config.close();
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      streams?.closeAll();
      sockets.close();
      await mcp.closeAll();
      http.closeAllConnections();
      await supervisor.shutdown();
      await closed;
      if (generated) await rm(dirname(configPath), { recursive: true, force: true }).catch(() => undefined);
    })();
    return closing;
  };
  return { url: `http://${host}:${port}`, port, context: ctx, close };
}
