/**
 * Every instrument the sidecar exports, declared once. The first part mirrors the composer's catalog
 * (docs/metrics.md) exactly — name, type, labels and buckets — so a user's dashboards
 * work unchanged; the second part is the sidecar's own health; the third, OpenTelemetry
 * semantic-convention families, which never shadow a catalog family (their Prometheus names differ, a
 * unit test checks it). Nothing outside telemetry/ creates an instrument: `instruments.ts` builds them all
 * from this table.
 */
import type { AttributeValue } from '@opentelemetry/api';
import { OBSERVER_FAILURE_LIMIT } from '../observe/bus.ts';

/**
 * How a family is recorded:
 * - `counter`: monotonic sum (Prometheus `counter`).
 * - `histogram`: explicit buckets (Prometheus `histogram`).
 * - `gauge`: an observable gauge whose callback reads current state (Prometheus `gauge`); a value that no
 *   source knows is simply not observed, so the family is absent rather than zero-filled.
 * - `updown`: an up/down counter for things that open and close (Prometheus `gauge`).
 */
export type InstrumentKind = 'counter' | 'histogram' | 'gauge' | 'updown';

export interface FamilySpec {
  /**
   * Instrument name. For catalog and `sidecar_` families it is the Prometheus exposition name; a
   * semantic-convention family keeps its dotted OpenTelemetry name, and Prometheus sees it sanitised with
   * its unit suffix (`http.server.request.duration` → `http_server_request_duration_seconds`).
   */
  readonly name: string;
  readonly kind: InstrumentKind;
  readonly help: string;
  /** UCUM unit (`s`, `By`), only for semantic-convention families. @default none */
  readonly unit?: string;
  /** Label (attribute) names, in the order the composer declares them. */
  readonly labels: readonly string[];
  /** Histogram bucket upper bounds (without +Inf). */
  readonly buckets?: readonly number[];
  /** Labels whose values come from traffic and are therefore bounded (`__other__` past the limit). */
  readonly bounded?: readonly string[];
  /** Part of the composer's catalog (true) or the sidecar's own (false). */
  readonly catalog: boolean;
}

export const TOOL_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60] as const;
export const RESOURCE_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10] as const;
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
export const SIZE_BUCKETS = [10, 100, 1000, 10000, 100000, 1000000, 10000000] as const;
/** The MCP semantic conventions' advice for `mcp.*.operation.duration` and `mcp.*.session.duration`. */
export const MCP_SEMCONV_BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300] as const;

/** The value a bounded label takes once its family has seen the maximum number of distinct values. */
export const OVERFLOW_VALUE = '__other__';

/**
 * A declared family with its literal name, kind, labels and bounded labels: the tables below keep these
 * types, so instruments.ts and its callers are checked against them (a misspelt family or label fails tsc).
 */
export interface DeclaredFamily<N extends string, K extends InstrumentKind, L extends readonly string[], B extends readonly string[]> extends FamilySpec {
  readonly name: N;
  readonly kind: K;
  readonly labels: L;
  readonly bounded?: B;
}

function catalogFamily<const N extends string, const K extends InstrumentKind, const L extends readonly string[], const B extends readonly L[number][]>(
  name: N,
  kind: K,
  help: string,
  labels: L,
  bounded: B | undefined,
  buckets?: readonly number[],
): DeclaredFamily<N, K, L, B> {
  const spec = { name, kind, help, labels, catalog: true, ...(buckets === undefined ? {} : { buckets }) };
  return bounded === undefined ? spec : { ...spec, bounded };
}
const c = <const N extends string, const L extends readonly string[], const B extends readonly L[number][] = readonly []>(
  name: N,
  help: string,
  labels: L,
  bounded?: B,
) => catalogFamily(name, 'counter', help, labels, bounded);
const g = <const N extends string, const L extends readonly string[], const B extends readonly L[number][] = readonly []>(
  name: N,
  help: string,
  labels: L,
  bounded?: B,
) => catalogFamily(name, 'gauge', help, labels, bounded);
const h = <const N extends string, const L extends readonly string[], const B extends readonly L[number][] = readonly []>(
  name: N,
  help: string,
  labels: L,
  buckets: readonly number[],
  bounded?: B,
) => catalogFamily(name, 'histogram', help, labels, bounded, buckets);

const CATALOG_TABLE = [
  g('mcp_composer_info', 'MCP Server Composer information', ['version', 'platform']),
  g('mcp_composer_uptime_seconds', 'MCP Server Composer uptime in seconds', []),
  g('mcp_servers_total', 'Total number of configured MCP servers', []),
  g('mcp_servers_running', 'Number of running MCP servers', []),
  g('mcp_servers_stopped', 'Number of stopped MCP servers', []),
  g('mcp_servers_failed', 'Number of failed (crashed) MCP servers', []),
  c('mcp_server_starts_total', 'Total server start attempts', ['server_id', 'status'], ['server_id']),
  c('mcp_server_stops_total', 'Total server stop attempts', ['server_id', 'status'], ['server_id']),
  c('mcp_server_restarts_total', 'Total server restarts', ['server_id', 'reason'], ['server_id']),
  c('mcp_server_crashes_total', 'Total server crashes', ['server_id'], ['server_id']),
  g('mcp_tools_total', 'Total number of available tools', []),
  g('mcp_tools_by_server', 'Number of tools per server', ['server_id'], ['server_id']),
  c('mcp_tool_invocations_total', 'Total tool invocations', ['tool_id', 'status'], ['tool_id']),
  h('mcp_tool_invocation_duration_seconds', 'Tool invocation duration in seconds', ['tool_id'], TOOL_BUCKETS, ['tool_id']),
  c('mcp_tool_invocation_errors_total', 'Total tool invocation errors', ['tool_id', 'error_type'], ['tool_id', 'error_type']),
  g('mcp_tool_conflicts_total', 'Number of tool name conflicts detected', []),
  g('mcp_prompts_total', 'Total number of available prompts', []),
  g('mcp_prompts_by_server', 'Number of prompts per server', ['server_id'], ['server_id']),
  g('mcp_resources_total', 'Total number of available resources', []),
  g('mcp_resources_by_server', 'Number of resources per server', ['server_id'], ['server_id']),
  c('mcp_resource_reads_total', 'Total resource read operations', ['resource_uri', 'status'], ['resource_uri']),
  h('mcp_resource_read_duration_seconds', 'Resource read duration in seconds', ['resource_uri'], RESOURCE_BUCKETS, ['resource_uri']),
  c('mcp_http_requests_total', 'Total HTTP requests', ['method', 'endpoint', 'status_code'], ['endpoint']),
  h('mcp_http_request_duration_seconds', 'HTTP request duration in seconds', ['method', 'endpoint'], HTTP_DURATION_BUCKETS, ['endpoint']),
  h('mcp_http_request_size_bytes', 'HTTP request size in bytes', ['method', 'endpoint'], SIZE_BUCKETS, ['endpoint']),
  h('mcp_http_response_size_bytes', 'HTTP response size in bytes', ['method', 'endpoint'], SIZE_BUCKETS, ['endpoint']),
  c('mcp_auth_attempts_total', 'Total authentication attempts', ['method', 'status']),
  c('mcp_auth_failures_total', 'Total authentication failures', ['method', 'reason']),
  c('mcp_authz_checks_total', 'Total authorization checks', ['resource_type', 'status'], ['resource_type']),
  c('mcp_authz_denials_total', 'Total authorization denials', ['resource_type', 'reason'], ['resource_type', 'reason']),
  c('mcp_rate_limit_exceeded_total', 'Total rate limit violations', ['endpoint', 'user_id'], ['endpoint', 'user_id']),
  c('mcp_config_reloads_total', 'Total configuration reload attempts', ['status']),
  c('mcp_config_validation_errors_total', 'Total configuration validation errors', ['error_type'], ['error_type']),
];

const s = <const F extends Omit<FamilySpec, 'catalog'>>(spec: F): F & { readonly catalog: false } => ({ ...spec, catalog: false });

const SELF_TABLE = [
  s({
    name: 'sidecar_upstream_up',
    kind: 'gauge',
    help: 'Whether the upstream composer answered the last probe or proxied request (1) or not (0)',
    labels: [],
  }),
  s({
    name: 'sidecar_proxy_errors_total',
    kind: 'counter',
    help: 'Proxy failures by kind (upstream_unavailable, upstream_timeout, upstream_aborted, upstream_retried, bad_request, client_error, connection_limit, origin_not_allowed, host_not_allowed)',
    labels: ['kind'],
  }),
  s({
    name: 'sidecar_proxy_open_streams',
    kind: 'updown',
    help: 'Long-lived proxied responses open now (SSE streams and WebSocket connections)',
    labels: ['kind'],
  }),
  s({
    name: 'sidecar_rest_unclassified_total',
    kind: 'counter',
    help: 'Proxied REST responses the sidecar needed to read but could not (reason: too_large, not_json); they passed through unchanged',
    labels: ['reason'],
  }),
  s({
    name: 'sidecar_source_available',
    kind: 'gauge',
    help: 'Surfaces the composer serves, as last detected (rest, events, sse, streamable_http, tools_list)',
    labels: ['source'],
  }),
  s({
    name: 'sidecar_inventory_poll_up',
    kind: 'gauge',
    help: 'Whether the last inventory poll of the composer REST API succeeded (1) or not (0)',
    labels: [],
  }),
  s({
    name: 'sidecar_inventory_polls_total',
    kind: 'counter',
    help: 'Inventory polls of the composer REST API by outcome (ok, unauthorized, no_rest, unreachable, bad_response)',
    labels: ['outcome'],
  }),
  s({ name: 'sidecar_event_stream_connected', kind: 'gauge', help: "Whether the composer's event stream is connected (1) or not (0)", labels: [] }),
  s({ name: 'sidecar_event_stream_reconnects_total', kind: 'counter', help: 'Reconnections of the event stream after it was connected once', labels: [] }),
  s({ name: 'sidecar_events_received_total', kind: 'counter', help: 'Valid events received from the composer, by type', labels: ['type'] }),
  s({
    name: 'sidecar_events_invalid_total',
    kind: 'counter',
    help: 'Events skipped: invalid (malformed_json, bad_envelope, unknown_type, bad_data) or not new (duplicate_id, out_of_order_id, repeated_snapshot)',
    labels: ['reason'],
  }),
  s({
    name: 'sidecar_event_gaps_total',
    kind: 'counter',
    help: 'Gaps in the event stream that could not be replayed (reset, composer restart, an id going backwards); their events are not guessed',
    labels: [],
  }),
  s({
    name: 'sidecar_label_overflow_total',
    kind: 'counter',
    labels: ['family', 'label', 'reason'],
    help: 'Label values recorded as the overflow value: the family had its bound of distinct values from traffic (reason limit), or the value was longer than its label allows (reason too_long)',
  }),
  s({
    name: 'sidecar_otlp_export_failures_total',
    kind: 'counter',
    labels: ['signal'],
    help: 'OTLP exports that failed after the SDK retries, by signal (metrics, traces); present only for signals pushed over OTLP',
  }),
  s({
    name: 'sidecar_mcp_sessions_active',
    kind: 'gauge',
    help: 'MCP sessions open now through the sidecar, by transport (sse, streamable_http)',
    labels: ['transport'],
  }),
  s({ name: 'sidecar_mcp_pending_requests', kind: 'gauge', help: 'MCP requests waiting for their response now, by transport', labels: ['transport'] }),
  s({
    name: 'sidecar_mcp_unparsed_total',
    kind: 'counter',
    labels: ['reason'],
    help: 'MCP messages the sidecar could not read (reason: too_large, not_json, not_jsonrpc, stream_cut, unknown_session, session_limit, internal); they passed through unchanged',
  }),
  s({
    name: 'sidecar_mcp_scan_fallbacks_total',
    kind: 'counter',
    labels: ['reason'],
    help: 'MCP bodies and events the envelope scanner left to the full JSON parser (reason: list_result, initialize and list cursors included, which the inventory reads; duplicate_key, depth, long_value, replacement_char, internal); counted the same either way',
  }),
  s({
    name: 'sidecar_mcp_pending_dropped_total',
    kind: 'counter',
    labels: ['reason'],
    help: 'MCP requests that stopped being tracked without a response (timeout, session_closed, client_gone) or were never tracked (limit, duplicate_id)',
  }),
  s({
    name: 'sidecar_mcp_unmatched_responses_total',
    kind: 'counter',
    help: 'MCP responses no tracked request waited for (late after a timeout or cancellation, or for an untracked request)',
    labels: [],
  }),
  s({
    name: 'sidecar_mcp_own_responses_seen_total',
    kind: 'counter',
    labels: [],
    help: "Answers to the sidecar's own MCP requests seen on a client's stream: the upstream sends every message to every session (a broadcasting gateway)",
  }),
  s({
    name: 'sidecar_mcp_inventory_session',
    kind: 'gauge',
    help: 'Whether the sidecar holds an MCP session of its own for the inventory now (1) or not (0); absent with --mcp-inventory off',
    labels: [],
  }),
  s({
    name: 'sidecar_metrics_port_connections',
    kind: 'gauge',
    help: 'Connections the metrics port holds now (at most 256; at the limit the oldest idle one gives way to a new one)',
    labels: [],
  }),
  s({
    name: 'sidecar_metrics_port_connections_shed_total',
    kind: 'counter',
    labels: ['reason'],
    help: 'Metrics-port connections closed because the port held its maximum: the oldest idle one to admit a new one (evicted), or a new one while every held connection was answering (refused)',
  }),
  s({
    name: 'sidecar_observer_errors_total',
    kind: 'counter',
    labels: ['observer'],
    help: `Exceptions thrown by an internal observer of the proxied traffic, caught by the observation bus (the exchange went on unchanged); ${OBSERVER_FAILURE_LIMIT} detach the observer`,
  }),
  s({
    name: 'sidecar_memory_resident_bytes',
    kind: 'gauge',
    help: "The sidecar process's resident set size (what a container memory limit counts), bytes",
    labels: [],
  }),
  s({ name: 'sidecar_memory_heap_used_bytes', kind: 'gauge', help: "Bytes used in the sidecar's V8 heap", labels: [] }),
  s({
    name: 'sidecar_memory_limit_bytes',
    kind: 'gauge',
    help: "The memory limit the sidecar sized its heap from (--memory-limit, or its cgroup's), bytes; absent without a limit",
    labels: [],
  }),
  s({
    name: 'sidecar_exposition_conflicts_total',
    kind: 'counter',
    labels: [],
    help: 'Metric families left out of a scrape because another family has their exposition name with another type (one per family per scrape; a bug of the sidecar, logged once per family)',
  }),
];

/** `http.server.request.duration` buckets, as the HTTP semantic conventions advise. */
export const SEMCONV_HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] as const;

const MCP_OPERATION_LABELS = [
  'mcp.method.name',
  'gen_ai.tool.name',
  'gen_ai.prompt.name',
  'gen_ai.operation.name',
  'error.type',
  'rpc.response.status_code',
  'network.transport',
  'network.protocol.name',
  'mcp.protocol.version',
] as const;

const SEMCONV_TABLE = [
  s({
    name: 'http.server.request.duration',
    kind: 'histogram',
    unit: 's',
    help: 'Duration of HTTP server requests.',
    labels: ['http.request.method', 'url.scheme', 'http.route', 'http.response.status_code', 'network.protocol.version', 'error.type'],
    buckets: SEMCONV_HTTP_DURATION_BUCKETS,
    bounded: ['http.route'],
  }),
  s({
    name: 'mcp.server.operation.duration',
    kind: 'histogram',
    unit: 's',
    buckets: MCP_SEMCONV_BUCKETS,
    help: 'MCP request duration as observed by the sidecar, from the request to its correlated response',
    labels: MCP_OPERATION_LABELS,
    bounded: ['mcp.method.name', 'gen_ai.tool.name', 'gen_ai.prompt.name', 'error.type', 'rpc.response.status_code', 'mcp.protocol.version'],
  }),
  s({
    name: 'mcp.server.session.duration',
    kind: 'histogram',
    unit: 's',
    buckets: MCP_SEMCONV_BUCKETS,
    help: 'MCP session duration as observed by the sidecar',
    labels: ['mcp.protocol.version', 'network.transport', 'network.protocol.name', 'error.type'],
    bounded: ['mcp.protocol.version'],
  }),
];

/** The composer's 33 families. */
export const CATALOG: readonly FamilySpec[] = CATALOG_TABLE;
/** The sidecar's own health families (append a new one to `SELF_TABLE`). */
export const SELF: readonly FamilySpec[] = SELF_TABLE;
/**
 * OpenTelemetry semantic-convention families, named as the conventions spell them; Prometheus sees them
 * sanitised with their unit suffix (`mcp_server_operation_duration_seconds`, …), which no catalog family
 * shadows. `http.server.request.duration` is recorded only while OTLP metrics push is on
 * (`OTEL_METRICS_EXPORTER=otlp`): the catalog's HTTP families already serve Prometheus users. The MCP
 * families (the MCP conventions of the GenAI semantic conventions) are always recorded.
 */
export const SEMCONV: readonly FamilySpec[] = SEMCONV_TABLE;
export const ALL_FAMILIES: readonly FamilySpec[] = [...CATALOG, ...SELF, ...SEMCONV];

/** Every declared family, each with its literal name, kind and labels. */
type Declared = (typeof CATALOG_TABLE)[number] | (typeof SELF_TABLE)[number] | (typeof SEMCONV_TABLE)[number];

/** The name of a declared family, of one kind if given: `FamilyName<'counter'>`. */
export type FamilyName<K extends InstrumentKind = InstrumentKind> = Extract<Declared, { readonly kind: K }>['name'];

type FamilyOf<N extends FamilyName> = Extract<Declared, { readonly name: N }>;

/** The label names of a family. */
export type LabelOf<N extends FamilyName> = FamilyOf<N>['labels'][number];

/** The labels of a family whose values come from traffic (bounded: `__other__` past the limit). */
export type BoundedLabelOf<N extends FamilyName> = FamilyOf<N> extends { readonly bounded?: infer B extends readonly string[] } ? B[number] : never;

/** The attributes of a series of the family: only its own label names. */
export type AttributesOf<N extends FamilyName> = { readonly [L in LabelOf<N>]?: AttributeValue };

/** Looks a family up by name; throws for a name that is not declared (a programming error). */
export function family(name: FamilyName): FamilySpec {
  const spec = ALL_FAMILIES.find((f) => f.name === name);
  if (spec === undefined) throw new Error(`unknown metric family ${name}`);
  return spec;
}
