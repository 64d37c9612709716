// The composer's own metrics catalog (metrics-catalog.md), as GET /api/v1/metrics/prometheus serves it.
// Like the real code it is partial: the REST middleware records HTTP traffic on /api/v1, REST tool invokes
// and resource reads, config reloads and validation errors asked over REST, and the gauges are refreshed
// before each scrape; lifecycle counters (starts, stops, restarts, crashes), auth, authz and rate-limit
// families are declared but never incremented, and MCP traffic (/sse, /messages/, /mcp) is not seen at all.
import { Registry, type Family } from './registry.ts';

const TOOL_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60];
const RESOURCE_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10];
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SIZE_BUCKETS = [10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000];

export interface ServerFigures {
  readonly id: string;
  readonly state: string;
  readonly tools: number;
  readonly prompts: number;
  readonly resources: number;
}

export interface InventoryFigures {
  readonly servers: readonly ServerFigures[];
  readonly conflicts: number;
}

/** Words of /api/v1 paths that stay as they are; every other segment after /api/v1/<collection> becomes {id}. */
const ROUTE_WORDS = new Set([
  'start',
  'stop',
  'restart',
  'logs',
  'metrics',
  'invoke',
  'detailed',
  'composition',
  'prometheus',
  'validate',
  'reload',
  'stdio-to-sse',
  'sse-to-stdio',
  'translate',
  'events',
]);

/** The composer's endpoint normalisation: /api/v1/servers/abc/logs → /api/v1/servers/{id}/logs. */
export function normalizeEndpoint(path: string): string {
  const segments = path.split('?')[0]?.split('/') ?? [];
  return segments.map((seg, i) => (i >= 4 && seg !== '' && !ROUTE_WORDS.has(seg) ? '{id}' : seg)).join('/');
}

export class Catalog {
  readonly registry = new Registry();
  readonly #started = Date.now();
  readonly info: Family;
  readonly uptime: Family;
  readonly serversTotal: Family;
  readonly serversRunning: Family;
  readonly serversStopped: Family;
  readonly serversFailed: Family;
  readonly toolsTotal: Family;
  readonly toolsByServer: Family;
  readonly toolInvocations: Family;
  readonly toolDuration: Family;
  readonly toolErrors: Family;
  readonly conflicts: Family;
  readonly promptsTotal: Family;
  readonly promptsByServer: Family;
  readonly resourcesTotal: Family;
  readonly resourcesByServer: Family;
  readonly resourceReads: Family;
  readonly resourceDuration: Family;
  readonly httpRequests: Family;
  readonly httpDuration: Family;
  readonly httpRequestSize: Family;
  readonly httpResponseSize: Family;
  readonly configReloads: Family;
  readonly configValidationErrors: Family;

  constructor(version: string, platform: string) {
    const r = this.registry;
    this.info = r.info('mcp_composer_info', 'MCP Server Composer information', ['version', 'platform']);
    this.info.set({ version, platform }, 1);
    this.uptime = r.gauge('mcp_composer_uptime_seconds', 'Time since the composer started in seconds');
    this.serversTotal = r.gauge('mcp_servers_total', 'Total number of configured servers');
    this.serversRunning = r.gauge('mcp_servers_running', 'Number of running servers');
    this.serversStopped = r.gauge('mcp_servers_stopped', 'Number of stopped servers');
    this.serversFailed = r.gauge('mcp_servers_failed', 'Number of failed servers');
    r.counter('mcp_server_starts_total', 'Total server start attempts', ['server_id', 'status']);
    r.counter('mcp_server_stops_total', 'Total server stop attempts', ['server_id', 'status']);
    r.counter('mcp_server_restarts_total', 'Total server restarts', ['server_id', 'reason']);
    r.counter('mcp_server_crashes_total', 'Total server crashes', ['server_id']);
    this.toolsTotal = r.gauge('mcp_tools_total', 'Total number of available tools');
    this.toolsByServer = r.gauge('mcp_tools_by_server', 'Number of tools per server', ['server_id']);
    this.toolInvocations = r.counter('mcp_tool_invocations_total', 'Total tool invocations', ['tool_id', 'status']);
    this.toolDuration = r.histogram('mcp_tool_invocation_duration_seconds', 'Tool invocation duration in seconds', ['tool_id'], TOOL_BUCKETS);
    this.toolErrors = r.counter('mcp_tool_invocation_errors_total', 'Total tool invocation errors', ['tool_id', 'error_type']);
    this.conflicts = r.gauge('mcp_tool_conflicts_total', 'Number of tool name conflicts detected');
    this.promptsTotal = r.gauge('mcp_prompts_total', 'Total number of available prompts');
    this.promptsByServer = r.gauge('mcp_prompts_by_server', 'Number of prompts per server', ['server_id']);
    this.resourcesTotal = r.gauge('mcp_resources_total', 'Total number of available resources');
    this.resourcesByServer = r.gauge('mcp_resources_by_server', 'Number of resources per server', ['server_id']);
    this.resourceReads = r.counter('mcp_resource_reads_total', 'Total resource read operations', ['resource_uri', 'status']);
    this.resourceDuration = r.histogram('mcp_resource_read_duration_seconds', 'Resource read duration in seconds', ['resource_uri'], RESOURCE_BUCKETS);
    this.httpRequests = r.counter('mcp_http_requests_total', 'Total HTTP requests', ['method', 'endpoint', 'status_code']);
    this.httpDuration = r.histogram('mcp_http_request_duration_seconds', 'HTTP request duration in seconds', ['method', 'endpoint'], HTTP_BUCKETS);
    this.httpRequestSize = r.histogram('mcp_http_request_size_bytes', 'HTTP request size in bytes', ['method', 'endpoint'], SIZE_BUCKETS);
    this.httpResponseSize = r.histogram('mcp_http_response_size_bytes', 'HTTP response size in bytes', ['method', 'endpoint'], SIZE_BUCKETS);
    r.counter('mcp_auth_attempts_total', 'Total authentication attempts', ['method', 'status']);
    r.counter('mcp_auth_failures_total', 'Total authentication failures', ['method', 'reason']);
    r.counter('mcp_authz_checks_total', 'Total authorization checks', ['resource_type', 'status']);
    r.counter('mcp_authz_denials_total', 'Total authorization denials', ['resource_type', 'reason']);
    r.counter('mcp_rate_limit_exceeded_total', 'Total rate limit violations', ['endpoint', 'user_id']);
    this.configReloads = r.counter('mcp_config_reloads_total', 'Total configuration reloads', ['status']);
    this.configValidationErrors = r.counter('mcp_config_validation_errors_total', 'Total configuration validation errors', ['error_type']);
  }

  recordHttp(method: string, path: string, status: number, seconds: number, requestBytes: number, responseBytes: number): void {
    const endpoint = normalizeEndpoint(path);
    this.httpRequests.inc({ method, endpoint, status_code: String(status) });
    this.httpDuration.observe({ method, endpoint }, seconds);
    this.httpRequestSize.observe({ method, endpoint }, requestBytes);
    this.httpResponseSize.observe({ method, endpoint }, responseBytes);
  }

  recordToolInvocation(toolId: string, seconds: number, success: boolean, errorType: string | undefined): void {
    this.toolInvocations.inc({ tool_id: toolId, status: success ? 'success' : 'error' });
    this.toolDuration.observe({ tool_id: toolId }, seconds);
    if (!success) this.toolErrors.inc({ tool_id: toolId, error_type: errorType ?? 'unknown' });
  }

  recordResourceRead(uri: string, seconds: number, success: boolean): void {
    this.resourceReads.inc({ resource_uri: uri, status: success ? 'success' : 'error' });
    this.resourceDuration.observe({ resource_uri: uri }, seconds);
  }

  /** Refreshes every gauge from the current inventory (done before each scrape, like the real endpoint). */
  refresh(inv: InventoryFigures): void {
    this.uptime.set({}, (Date.now() - this.#started) / 1000);
    const count = (pred: (s: ServerFigures) => boolean): number => inv.servers.filter(pred).length;
    this.serversTotal.set({}, inv.servers.length);
    this.serversRunning.set(
      {},
      count((s) => s.state === 'running'),
    );
    this.serversStopped.set(
      {},
      count((s) => s.state === 'stopped'),
    );
    this.serversFailed.set(
      {},
      count((s) => s.state === 'crashed'),
    );
    const sum = (f: (s: ServerFigures) => number): number => inv.servers.reduce((a, s) => a + f(s), 0);
    this.toolsTotal.set(
      {},
      sum((s) => s.tools),
    );
    this.promptsTotal.set(
      {},
      sum((s) => s.prompts),
    );
    this.resourcesTotal.set(
      {},
      sum((s) => s.resources),
    );
    this.conflicts.set({}, inv.conflicts);
    for (const f of [this.toolsByServer, this.promptsByServer, this.resourcesByServer]) f.clear();
    for (const s of inv.servers) {
      this.toolsByServer.set({ server_id: s.id }, s.tools);
      this.promptsByServer.set({ server_id: s.id }, s.prompts);
      this.resourcesByServer.set({ server_id: s.id }, s.resources);
    }
  }

  render(inv: InventoryFigures): string {
    this.refresh(inv);
    return this.registry.render();
  }
}
