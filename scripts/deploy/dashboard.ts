/**
 * The Grafana dashboard deploy/grafana/dashboards/mcp-composer-sidecar.json: first the seven queries of the
 * composer's own monitoring report, verbatim (so it shows what the composer's users already know), then
 * rows for tools, servers, auth, rate limits, configuration, HTTP and the sidecar's own health, filtered by
 * the job, instance, server_id and tool_id variables. Only families the sidecar exports appear here (a
 * test checks every name against a real scrape).
 *
 * The latency panels query exemplars too: with tracing on, the sidecar's OpenMetrics scrapes put the
 * trace of a recent call in each bucket, and Grafana draws it as a point that opens that trace. Where it
 * opens is the Prometheus data source's `exemplarTraceIdDestinations`
 * (deploy/grafana/provisioning/datasources/prometheus.yaml), which names the trace data source by the
 * `trace_datasource` variable below: Tempo or Jaeger, chosen on the dashboard.
 */
import { dashboardJson, type PanelSpec, type RowSpec } from './dashboard-model.ts';

/** The dashboard variable holding the uid of the trace data source the exemplar links open. */
export const TRACE_DATASOURCE_VARIABLE = 'trace_datasource';
/** Its values: the uids the provisioning snippet gives a Tempo and a Jaeger data source (edit to match yours). */
export const TRACE_DATASOURCES = ['tempo', 'jaeger'] as const;

/** The label matchers of every query below the overview row, plus `extra`. */
const sel = (extra = ''): string => `{job="$job", instance=~"$instance"${extra === '' ? '' : `, ${extra}`}}`;
const TOOL = 'tool_id=~"$tool_id"';
const SERVER = 'server_id=~"$server_id"';
const R = '[$__rate_interval]';

const overview: RowSpec = {
  title: "Overview: the composer's report queries (verbatim, all jobs)",
  panels: [
    {
      title: 'Composer uptime',
      description: "mcp_composer_uptime_seconds, from the composer's /status.",
      type: 'stat',
      unit: 's',
      width: 6,
      queries: [{ expr: 'mcp_composer_uptime_seconds', legend: '{{instance}}' }],
    },
    {
      title: 'Server health',
      description: 'Running servers over configured servers.',
      type: 'stat',
      unit: 'percentunit',
      width: 6,
      queries: [{ expr: 'mcp_servers_running / mcp_servers_total', legend: '{{instance}}' }],
    },
    {
      title: 'Authentication failure rate',
      description: 'Failed authentications per second, by method and reason.',
      unit: 'reqps',
      width: 12,
      queries: [{ expr: 'rate(mcp_auth_failures_total[5m])', legend: '{{method}} {{reason}}' }],
    },
    {
      title: 'Tool invocation rate',
      description: 'Tool invocations per second, by tool and status.',
      unit: 'reqps',
      width: 12,
      queries: [{ expr: 'rate(mcp_tool_invocations_total[5m])', legend: '{{tool_id}} {{status}}' }],
    },
    {
      title: 'Tool invocation latency (p95)',
      description: '95th percentile of tool invocation durations, per series; the points are exemplars: a recent call of each bucket, opening its trace.',
      unit: 's',
      width: 12,
      queries: [{ expr: 'histogram_quantile(0.95, rate(mcp_tool_invocation_duration_seconds_bucket[5m]))', legend: '{{tool_id}}', exemplar: true }],
    },
    {
      title: 'HTTP request rate by endpoint',
      description: 'Requests per second through the sidecar, by route template.',
      unit: 'reqps',
      width: 12,
      queries: [{ expr: 'sum(rate(mcp_http_requests_total[5m])) by (endpoint)', legend: '{{endpoint}}' }],
    },
    {
      title: 'HTTP error rate (5xx) by endpoint',
      description: '5xx answers per second, by route template (502/504 from the sidecar included).',
      unit: 'reqps',
      width: 12,
      queries: [{ expr: 'sum(rate(mcp_http_requests_total{status_code=~"5.."}[5m])) by (endpoint)', legend: '{{endpoint}}' }],
    },
  ],
};

const tools: RowSpec = {
  title: 'Tools and resources ($tool_id)',
  panels: [
    {
      title: 'Invocations by status',
      description: 'Tool invocations per second.',
      unit: 'reqps',
      stack: true,
      queries: [{ expr: `sum by (tool_id, status) (rate(mcp_tool_invocations_total${sel(TOOL)}${R}))`, legend: '{{tool_id}} {{status}}' }],
    },
    {
      title: 'Error ratio',
      description: 'Share of invocations that failed (McpToolErrorRatioHigh fires above 20%).',
      unit: 'percentunit',
      queries: [
        {
          expr: `sum by (tool_id) (rate(mcp_tool_invocations_total${sel(`${TOOL}, status="error"`)}${R})) / sum by (tool_id) (rate(mcp_tool_invocations_total${sel(TOOL)}${R}))`,
          legend: '{{tool_id}}',
        },
      ],
    },
    {
      title: 'Errors by type',
      description: 'Failed invocations per second, by error_type (docs/metrics.md lists the vocabulary).',
      unit: 'reqps',
      stack: true,
      queries: [{ expr: `sum by (tool_id, error_type) (rate(mcp_tool_invocation_errors_total${sel(TOOL)}${R}))`, legend: '{{tool_id}} {{error_type}}' }],
    },
    {
      title: 'Invocation latency',
      description: 'p50, p95 and p99 of invocation durations (McpToolLatencyP95High fires above 5s); the points are exemplars: a slow call opens its trace.',
      unit: 's',
      width: 12,
      queries: [0.5, 0.95, 0.99].map((q) => ({
        expr: `histogram_quantile(${q}, sum by (tool_id, le) (rate(mcp_tool_invocation_duration_seconds_bucket${sel(TOOL)}${R})))`,
        legend: `{{tool_id}} p${Math.round(q * 100)}`,
        exemplar: q === 0.95,
      })),
    },
    {
      title: 'Resource reads',
      description: 'Resource reads per second by status, and their p95 duration on the right axis.',
      unit: 'reqps',
      width: 12,
      queries: [
        { expr: `sum by (resource_uri, status) (rate(mcp_resource_reads_total${sel()}${R}))`, legend: '{{resource_uri}} {{status}}' },
        {
          expr: `histogram_quantile(0.95, sum by (resource_uri, le) (rate(mcp_resource_read_duration_seconds_bucket${sel()}${R})))`,
          legend: '{{resource_uri}} p95 (s)',
          exemplar: true,
        },
      ],
    },
  ],
};

const mcp: RowSpec = {
  title: 'MCP traffic (legacy SSE and streamable HTTP)',
  panels: [
    {
      title: 'MCP operations p95 by method',
      description:
        "mcp.server.operation.duration (OpenTelemetry MCP semantic conventions): each JSON-RPC request to its own response, prompts/get included; exemplars open the operation's trace.",
      unit: 's',
      width: 12,
      queries: [
        {
          expr: `histogram_quantile(0.95, sum by (mcp_method_name, le) (rate(mcp_server_operation_duration_seconds_bucket${sel()}${R})))`,
          legend: '{{mcp_method_name}}',
          exemplar: true,
        },
      ],
    },
    {
      title: 'MCP sessions and pending requests',
      description: 'Sessions open through the sidecar and requests waiting for their response, by transport.',
      width: 12,
      queries: [
        { expr: `sum by (transport) (sidecar_mcp_sessions_active${sel()})`, legend: 'sessions {{transport}}' },
        { expr: `sum by (transport) (sidecar_mcp_pending_requests${sel()})`, legend: 'pending {{transport}}' },
      ],
    },
    {
      title: 'MCP requests dropped without a response',
      description: 'timeout (McpRequestsTimingOut fires on any), session_closed, client_gone, limit, duplicate_id.',
      unit: 'reqps',
      width: 12,
      queries: [{ expr: `sum by (reason) (rate(sidecar_mcp_pending_dropped_total${sel()}${R}))`, legend: '{{reason}}' }],
    },
    {
      title: 'MCP messages not read',
      description: 'Passed through unchanged but not counted: too_large, not_json, not_jsonrpc, stream_cut, unknown_session …',
      unit: 'reqps',
      width: 12,
      queries: [{ expr: `sum by (reason) (rate(sidecar_mcp_unparsed_total${sel()}${R}))`, legend: '{{reason}}' }],
    },
  ],
};

const servers: RowSpec = {
  title: 'Servers and lifecycle ($server_id)',
  panels: [
    {
      title: 'Servers',
      description: 'Configured, running, stopped and failed (crashed) servers.',
      width: 8,
      queries: [
        { expr: `sum(mcp_servers_total${sel()})`, legend: 'configured' },
        { expr: `sum(mcp_servers_running${sel()})`, legend: 'running' },
        { expr: `sum(mcp_servers_stopped${sel()})`, legend: 'stopped' },
        { expr: `sum(mcp_servers_failed${sel()})`, legend: 'failed' },
      ],
    },
    {
      title: 'Crashes',
      description: 'Crashes per interval (McpServerCrashLooping fires above 3 in 15 minutes).',
      width: 8,
      queries: [{ expr: `sum by (server_id) (increase(mcp_server_crashes_total${sel(SERVER)}${R}))`, legend: '{{server_id}}' }],
    },
    {
      title: 'Restarts by reason',
      description: 'manual, crash (supervisor) or config_change.',
      width: 8,
      stack: true,
      queries: [{ expr: `sum by (server_id, reason) (increase(mcp_server_restarts_total${sel(SERVER)}${R}))`, legend: '{{server_id}} {{reason}}' }],
    },
    {
      title: 'Starts and stops',
      description: 'Start and stop attempts, by status.',
      width: 8,
      queries: [
        { expr: `sum by (server_id, status) (increase(mcp_server_starts_total${sel(SERVER)}${R}))`, legend: 'start {{server_id}} {{status}}' },
        { expr: `sum by (server_id, status) (increase(mcp_server_stops_total${sel(SERVER)}${R}))`, legend: 'stop {{server_id}} {{status}}' },
      ],
    },
    {
      title: 'Capabilities by server',
      description: 'Tools, prompts and resources each server offers.',
      width: 8,
      queries: [
        { expr: `sum by (server_id) (mcp_tools_by_server${sel(SERVER)})`, legend: '{{server_id}} tools' },
        { expr: `sum by (server_id) (mcp_prompts_by_server${sel(SERVER)})`, legend: '{{server_id}} prompts' },
        { expr: `sum by (server_id) (mcp_resources_by_server${sel(SERVER)})`, legend: '{{server_id}} resources' },
      ],
    },
    {
      title: 'Composition',
      description: 'Composed totals, tool name conflicts, and the composer version.',
      type: 'stat',
      width: 8,
      queries: [
        { expr: `sum(mcp_tools_total${sel()})`, legend: 'tools' },
        { expr: `sum(mcp_prompts_total${sel()})`, legend: 'prompts' },
        { expr: `sum(mcp_resources_total${sel()})`, legend: 'resources' },
        { expr: `sum(mcp_tool_conflicts_total${sel()})`, legend: 'conflicts' },
        { expr: `count by (version, platform) (mcp_composer_info${sel()})`, legend: 'composer {{version}} ({{platform}})' },
      ],
    },
  ],
};

const auth: RowSpec = {
  title: 'Authentication and authorization',
  panels: [
    {
      title: 'Authentication attempts',
      description: 'Requests with credentials (and 401s), by scheme and outcome.',
      unit: 'reqps',
      width: 6,
      queries: [{ expr: `sum by (method, status) (rate(mcp_auth_attempts_total${sel()}${R}))`, legend: '{{method}} {{status}}' }],
    },
    {
      title: 'Authentication failures',
      description: '401s by scheme and reason (McpAuthFailureSpike fires above 0.2/s).',
      unit: 'reqps',
      width: 6,
      queries: [{ expr: `sum by (method, reason) (rate(mcp_auth_failures_total${sel()}${R}))`, legend: '{{method}} {{reason}}' }],
    },
    {
      title: 'Authorization checks',
      description: 'Authenticated requests by collection: allowed or denied (403).',
      unit: 'reqps',
      width: 6,
      queries: [{ expr: `sum by (resource_type, status) (rate(mcp_authz_checks_total${sel()}${R}))`, legend: '{{resource_type}} {{status}}' }],
    },
    {
      title: 'Authorization denials',
      description: '403s by collection and reason.',
      unit: 'reqps',
      width: 6,
      queries: [{ expr: `sum by (resource_type, reason) (rate(mcp_authz_denials_total${sel()}${R}))`, legend: '{{resource_type}} {{reason}}' }],
    },
  ],
};

const rateLimits: RowSpec = {
  title: 'Rate limiting',
  panels: [
    {
      title: '429s by endpoint',
      description: 'Rate-limited requests per second.',
      unit: 'reqps',
      queries: [{ expr: `sum by (endpoint) (rate(mcp_rate_limit_exceeded_total${sel()}${R}))`, legend: '{{endpoint}}' }],
    },
    {
      title: 'Share of requests rate-limited',
      description: 'McpRateLimitSpike fires above 5% for 10 minutes.',
      unit: 'percentunit',
      queries: [{ expr: `sum(rate(mcp_rate_limit_exceeded_total${sel()}${R})) / sum(rate(mcp_http_requests_total${sel()}${R}))`, legend: 'rate-limited' }],
    },
    {
      title: 'Most rate-limited users',
      description: 'user_id per --user-id-source, over the time range.',
      type: 'bargauge',
      queries: [{ expr: `topk(10, sum by (user_id) (increase(mcp_rate_limit_exceeded_total${sel()}[$__range])))`, legend: '{{user_id}}', instant: true }],
    },
  ],
};

const config: RowSpec = {
  title: 'Configuration',
  panels: [
    {
      title: 'Config reloads',
      description: 'Reload attempts by status (McpConfigReloadFailed fires on any failure).',
      width: 12,
      queries: [{ expr: `sum by (status) (increase(mcp_config_reloads_total${sel()}${R}))`, legend: '{{status}}' }],
    },
    {
      title: 'Config validation errors',
      description: 'Failed validations by error_type.',
      width: 12,
      queries: [{ expr: `sum by (error_type) (increase(mcp_config_validation_errors_total${sel()}${R}))`, legend: '{{error_type}}' }],
    },
  ],
};

const http: RowSpec = {
  title: 'HTTP through the sidecar',
  panels: [
    {
      title: 'Requests by status code',
      description: 'Every proxied request; 499 = the client left first.',
      unit: 'reqps',
      stack: true,
      queries: [{ expr: `sum by (status_code) (rate(mcp_http_requests_total${sel()}${R}))`, legend: '{{status_code}}' }],
    },
    {
      title: 'Request duration p95 by endpoint',
      description: "To the end of the response; to the headers for SSE and WebSocket. Exemplars open the request's trace.",
      unit: 's',
      queries: [
        {
          expr: `histogram_quantile(0.95, sum by (endpoint, le) (rate(mcp_http_request_duration_seconds_bucket${sel()}${R})))`,
          legend: '{{endpoint}}',
          exemplar: true,
        },
      ],
    },
    {
      title: 'Body sizes p95',
      description: 'Request and response body bytes actually streamed.',
      unit: 'bytes',
      queries: [
        { expr: `histogram_quantile(0.95, sum by (le) (rate(mcp_http_request_size_bytes_bucket${sel()}${R})))`, legend: 'request' },
        { expr: `histogram_quantile(0.95, sum by (le) (rate(mcp_http_response_size_bytes_bucket${sel()}${R})))`, legend: 'response' },
      ],
    },
  ],
};

const sidecarHealth: PanelSpec[] = [
  {
    title: 'Up',
    description: 'Scrape (up), composer answering (sidecar_upstream_up), inventory polls and event stream: 1 is good.',
    width: 8,
    queries: [
      { expr: `up${sel()}`, legend: 'scrape {{instance}}' },
      { expr: `sidecar_upstream_up${sel()}`, legend: 'upstream {{instance}}' },
      { expr: `sidecar_inventory_poll_up${sel()}`, legend: 'inventory poll {{instance}}' },
      { expr: `sidecar_event_stream_connected${sel()}`, legend: 'event stream {{instance}}' },
    ],
  },
  {
    title: 'Proxy errors',
    description: 'upstream_unavailable (502), upstream_timeout (504), upstream_aborted, bad_request, client_error.',
    unit: 'reqps',
    width: 8,
    queries: [{ expr: `sum by (kind) (rate(sidecar_proxy_errors_total${sel()}${R}))`, legend: '{{kind}}' }],
  },
  {
    title: 'Open streams',
    description: 'SSE streams and WebSocket connections open through the proxy.',
    width: 8,
    queries: [{ expr: `sum by (kind) (sidecar_proxy_open_streams${sel()})`, legend: '{{kind}}' }],
  },
  {
    title: 'Inventory polls',
    description: 'Polls of the composer REST API by outcome.',
    unit: 'reqps',
    width: 8,
    queries: [{ expr: `sum by (outcome) (rate(sidecar_inventory_polls_total${sel()}${R}))`, legend: '{{outcome}}' }],
  },
  {
    title: 'Events received',
    description: "Valid events from the composer's event stream, by type.",
    unit: 'reqps',
    width: 8,
    stack: true,
    queries: [{ expr: `sum by (type) (rate(sidecar_events_received_total${sel()}${R}))`, legend: '{{type}}' }],
  },
  {
    title: 'Event stream faults',
    description: 'Reconnections, gaps that could not be replayed, and invalid events skipped.',
    width: 8,
    queries: [
      { expr: `sum(increase(sidecar_event_stream_reconnects_total${sel()}${R}))`, legend: 'reconnects' },
      { expr: `sum(increase(sidecar_event_gaps_total${sel()}${R}))`, legend: 'gaps' },
      { expr: `sum by (reason) (increase(sidecar_events_invalid_total${sel()}${R}))`, legend: 'invalid {{reason}}' },
    ],
  },
  {
    title: 'Label overflow',
    description:
      'Values folded into __other__ per family and label: reason limit (raise --max-label-values, or find the source) or too_long (a name longer than its label keeps).',
    width: 24,
    queries: [{ expr: `sum by (family, label, reason) (rate(sidecar_label_overflow_total${sel()}${R}))`, legend: '{{family}} {{label}} {{reason}}' }],
  },
];

export function renderDashboard(): string {
  const json = dashboardJson({
    uid: 'mcp-composer-sidecar',
    title: 'MCP Server Composer',
    description: "The MCP Server Composer as seen by mcp-composer-sidecar: tools, servers, auth, rate limits, configuration and the sidecar's own health.",
    tags: ['mcp', 'mcp-composer', 'mcp-composer-sidecar'],
    variables: [
      { name: 'job', label: 'Job', query: 'label_values(sidecar_upstream_up, job)', multi: false },
      { name: 'instance', label: 'Instance', query: 'label_values(sidecar_upstream_up{job="$job"}, instance)', multi: true },
      { name: 'server_id', label: 'Server', query: 'label_values(mcp_tools_by_server{job="$job"}, server_id)', multi: true },
      { name: 'tool_id', label: 'Tool', query: 'label_values(mcp_tool_invocations_total{job="$job"}, tool_id)', multi: true },
    ],
    customVariables: [
      {
        name: TRACE_DATASOURCE_VARIABLE,
        label: 'Traces',
        description:
          "The uid of the trace data source (Tempo or Jaeger) that exemplar points open; the Prometheus data source's exemplarTraceIdDestinations link to it.",
        values: TRACE_DATASOURCES,
      },
    ],
    rows: [overview, tools, mcp, servers, auth, rateLimits, config, http, { title: 'Sidecar health', panels: sidecarHealth }],
  });
  return `${JSON.stringify(json, null, 2)}\n`;
}
