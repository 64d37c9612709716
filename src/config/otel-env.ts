/**
 * The standard OpenTelemetry SDK environment variables, mapped in one place. The sidecar does not use
 * `@opentelemetry/sdk-node`, so this module is what reads them: it turns `OTEL_*` into one frozen
 * {@link OtelConfig} or throws a {@link ConfigError} naming the variable (exit code 2). Values that carry
 * secrets (`…_HEADERS`) are never echoed in an error.
 *
 * Defaults follow the specification
 * (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/) except where noted:
 * - `OTEL_TRACES_EXPORTER` defaults to `none` (the spec says `otlp`): tracing is on only when asked for,
 *   so an unconfigured sidecar adds no per-request work.
 * - `OTEL_METRICS_EXPORTER` defaults to `none` for push; Prometheus pull on the metrics port is always on.
 * - `OTEL_LOG_LEVEL` defaults to `none`: the sidecar reports export failures itself, without flooding.
 * docs/telemetry.md lists every variable with its default.
 */
import { quoted } from './values.ts';
import { ConfigError } from '../errors.ts';

export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';
export type OtlpCompression = 'gzip' | 'none';
export type MetricsTemporality = 'cumulative' | 'delta' | 'lowmemory';
export type SamplerName = 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';
export type SdkLogLevel = 'none' | 'error' | 'warn' | 'info' | 'debug' | 'verbose' | 'all';
/**
 * `OTEL_METRICS_EXEMPLAR_FILTER`: which measurements may become exemplars — those taken inside a sampled
 * span (`trace_based`), inside any span (`always_on`), or none (`always_off`).
 */
export type ExemplarFilter = 'trace_based' | 'always_on' | 'always_off';

/** Where and how one signal is pushed. */
export interface OtlpExporterConfig {
  readonly protocol: OtlpProtocol;
  /** Full URL: with `/v1/metrics` or `/v1/traces` for HTTP, the bare endpoint for gRPC. */
  readonly url: string;
  /** Secret: never logged. */
  readonly headers: Readonly<Record<string, string>>;
  /** @default 10000 */
  readonly timeoutMs: number;
  /** @default 'none' */
  readonly compression: OtlpCompression;
}

export interface OtlpMetricsConfig {
  readonly exporter: OtlpExporterConfig;
  /** `OTEL_METRIC_EXPORT_INTERVAL`. @default 60000 */
  readonly intervalMs: number;
  /** `OTEL_METRIC_EXPORT_TIMEOUT`, never above the interval. @default 30000 */
  readonly timeoutMs: number;
  /** `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`. @default 'cumulative' */
  readonly temporality: MetricsTemporality;
}

export interface TracesConfig {
  readonly exporter: OtlpExporterConfig;
  /** `OTEL_TRACES_SAMPLER`. @default 'parentbased_always_on' */
  readonly sampler: SamplerName;
  /** `OTEL_TRACES_SAMPLER_ARG` for the ratio samplers. @default 1 */
  readonly samplerRatio: number;
  /** `OTEL_BSP_*`. @default 5000, 30000, 2048, 512 */
  readonly batch: {
    readonly scheduledDelayMs: number;
    readonly exportTimeoutMs: number;
    readonly maxQueueSize: number;
    readonly maxExportBatchSize: number;
  };
}

export interface OtelConfig {
  /** `OTEL_SDK_DISABLED=true`: no OTLP push and no tracing (Prometheus /metrics is unaffected). @default false */
  readonly sdkDisabled: boolean;
  /** `OTEL_SERVICE_NAME`, else `service.name` of `OTEL_RESOURCE_ATTRIBUTES`. @default 'mcp-composer-sidecar' */
  readonly serviceName: string;
  /** `OTEL_RESOURCE_ATTRIBUTES`, decoded. @default {} */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  /** OTLP metrics push; `undefined` unless `OTEL_METRICS_EXPORTER` lists `otlp`. */
  readonly metrics: OtlpMetricsConfig | undefined;
  /** Tracing; `undefined` unless `OTEL_TRACES_EXPORTER=otlp`. */
  readonly traces: TracesConfig | undefined;
  /**
   * `OTEL_PROPAGATORS` has `tracecontext`: W3C trace context is extracted from requests (headers and MCP
   * `params._meta`) and injected upstream. @default true
   */
  readonly propagateTraceContext: boolean;
  /** `OTEL_LOG_LEVEL`: the SDK's own diagnostics, written through the sidecar's logger. @default 'none' */
  readonly sdkLogLevel: SdkLogLevel;
  /**
   * `OTEL_METRICS_EXEMPLAR_FILTER`: exemplars (trace and span ids of a recent measurement) on the latency
   * histograms and the tool counter of OpenMetrics scrapes; only while tracing is on. @default 'trace_based'
   */
  readonly exemplarFilter: ExemplarFilter;
  /** Things worth a warning at start-up (values accepted but without effect). */
  readonly notes: readonly string[];
}

export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_SERVICE_NAME = 'mcp-composer-sidecar';
const PROTOCOLS: readonly OtlpProtocol[] = ['http/protobuf', 'http/json', 'grpc'];
const SAMPLERS: readonly SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];
const SDK_LOG_LEVELS: readonly SdkLogLevel[] = ['none', 'error', 'warn', 'info', 'debug', 'verbose', 'all'];
const EXEMPLAR_FILTERS: readonly ExemplarFilter[] = ['trace_based', 'always_on', 'always_off'];

/** A variable's value, `undefined` when unset or empty (the spec treats empty as unset). */
function read(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function fail(name: string, problem: string): never {
  throw new ConfigError(name, `${name}: ${problem}`);
}

function positiveInt(env: Env, name: string, fallback: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 2_147_483_647) fail(name, `${quoted(raw)} is not a whole number of at least 1`);
  return Number(raw);
}

function choice<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const raw = read(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (!(choices as readonly string[]).includes(raw)) fail(name, `${quoted(raw)} is not one of ${choices.join(', ')}`);
  return raw as T;
}

function list(env: Env, name: string): string[] | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  return raw
    .split(',')
    .map((p) => p.trim().toLowerCase())
    .filter((p) => p !== '');
}

/**
 * `key1=value1,key2=value2` with percent-encoded keys and values (the W3C Baggage form the spec uses for
 * `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_EXPORTER_OTLP_HEADERS`). `secret` keeps values out of messages.
 */
export function parseKeyValueList(raw: string, name: string, secret: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = raw.split(',');
  for (let i = 0; i < entries.length; i++) {
    const entry = (entries[i] as string).trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    if (eq <= 0) fail(name, `entry ${i + 1} is not key=value${secret ? '' : ` (${quoted(entry)})`}`);
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(entry.slice(0, eq).trim());
      value = decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      fail(name, `entry ${i + 1} has an invalid percent-encoding`);
    }
    if (key === '') fail(name, `entry ${i + 1} has an empty key`);
    out[key] = value;
  }
  return out;
}

function parseEndpoint(raw: string, name: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    fail(name, `${quoted(raw)} is not a URL (e.g. http://otel-collector:4318)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(name, `scheme "${url.protocol.replace(/:$/, '')}" is not supported (use http or https)`);
  return url;
}

/** The URL of one signal: the signal's own endpoint as given, else the base endpoint plus `/v1/<signal>` (HTTP). */
function signalUrl(env: Env, signal: 'METRICS' | 'TRACES', protocol: OtlpProtocol): string {
  const own = `OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`;
  const ownRaw = read(env, own);
  if (ownRaw !== undefined) return parseEndpoint(ownRaw, own).href;
  const baseRaw = read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const base =
    baseRaw === undefined
      ? new URL(protocol === 'grpc' ? 'http://localhost:4317' : 'http://localhost:4318')
      : parseEndpoint(baseRaw, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (protocol === 'grpc') return base.href;
  const path = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
  return new URL(`${path}v1/${signal.toLowerCase()}`, base).href;
}

function exporterConfig(env: Env, signal: 'METRICS' | 'TRACES'): OtlpExporterConfig {
  const specific = (suffix: string) => `OTEL_EXPORTER_OTLP_${signal}_${suffix}`;
  const pick = (suffix: string) => (read(env, specific(suffix)) !== undefined ? specific(suffix) : `OTEL_EXPORTER_OTLP_${suffix}`);
  const protocol = choice(env, pick('PROTOCOL'), PROTOCOLS, 'http/protobuf');
  const headers = {
    ...parseKeyValueList(read(env, 'OTEL_EXPORTER_OTLP_HEADERS') ?? '', 'OTEL_EXPORTER_OTLP_HEADERS', true),
    ...parseKeyValueList(read(env, specific('HEADERS')) ?? '', specific('HEADERS'), true),
  };
  return Object.freeze({
    protocol,
    url: signalUrl(env, signal, protocol),
    headers: Object.freeze(headers),
    timeoutMs: positiveInt(env, pick('TIMEOUT'), 10_000),
    compression: choice(env, pick('COMPRESSION'), ['gzip', 'none'] as const, 'none'),
  });
}

function parseBooleanVar(env: Env, name: string): boolean {
  const raw = read(env, name)?.toLowerCase();
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  fail(name, `${quoted(raw)} is not true or false`);
}

function exporterList(env: Env, name: string, supported: readonly string[]): string[] {
  const values = list(env, name) ?? [];
  for (const v of values) {
    if (!supported.includes(v)) fail(name, `${quoted(v)} is not supported (supported: ${supported.join(', ')})`);
  }
  return values;
}

function samplerRatio(env: Env, sampler: SamplerName): number {
  const raw = read(env, 'OTEL_TRACES_SAMPLER_ARG');
  if (raw === undefined || !sampler.endsWith('traceidratio')) return 1;
  const n = Number(raw);
  if (!/^\d*\.?\d+(e-?\d+)?$/i.test(raw) || !(n >= 0 && n <= 1)) fail('OTEL_TRACES_SAMPLER_ARG', `${quoted(raw)} is not a ratio between 0 and 1`);
  return n;
}

function tracesConfig(env: Env): TracesConfig {
  const sampler = choice(env, 'OTEL_TRACES_SAMPLER', SAMPLERS, 'parentbased_always_on');
  const batch = {
    scheduledDelayMs: positiveInt(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000),
    exportTimeoutMs: positiveInt(env, 'OTEL_BSP_EXPORT_TIMEOUT', 30_000),
    maxQueueSize: positiveInt(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 2048),
    maxExportBatchSize: positiveInt(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512),
  };
  if (batch.maxExportBatchSize > batch.maxQueueSize) {
    fail('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', `${batch.maxExportBatchSize} is larger than OTEL_BSP_MAX_QUEUE_SIZE (${batch.maxQueueSize})`);
  }
  return Object.freeze({ exporter: exporterConfig(env, 'TRACES'), sampler, samplerRatio: samplerRatio(env, sampler), batch: Object.freeze(batch) });
}

function metricsConfig(env: Env): OtlpMetricsConfig {
  const intervalMs = positiveInt(env, 'OTEL_METRIC_EXPORT_INTERVAL', 60_000);
  return Object.freeze({
    exporter: exporterConfig(env, 'METRICS'),
    intervalMs,
    timeoutMs: Math.min(positiveInt(env, 'OTEL_METRIC_EXPORT_TIMEOUT', 30_000), intervalMs),
    temporality: choice(env, 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', ['cumulative', 'delta', 'lowmemory'] as const, 'cumulative'),
  });
}

/**
 * Reads the `OTEL_*` variables of `env`.
 * @throws ConfigError naming the variable whose value is invalid.
 */
export function loadOtelConfig(env: Env): OtelConfig {
  const notes: string[] = [];
  const sdkDisabled = parseBooleanVar(env, 'OTEL_SDK_DISABLED');
  const resourceAttributes = parseKeyValueList(read(env, 'OTEL_RESOURCE_ATTRIBUTES') ?? '', 'OTEL_RESOURCE_ATTRIBUTES', false);
  const serviceName = read(env, 'OTEL_SERVICE_NAME') ?? resourceAttributes['service.name'] ?? DEFAULT_SERVICE_NAME;

  const metricsExporters = exporterList(env, 'OTEL_METRICS_EXPORTER', ['otlp', 'prometheus', 'none']);
  const tracesExporters = exporterList(env, 'OTEL_TRACES_EXPORTER', ['otlp', 'none']);
  const logsExporters = list(env, 'OTEL_LOGS_EXPORTER') ?? [];
  if (logsExporters.some((v) => v !== 'none')) {
    notes.push("OTEL_LOGS_EXPORTER is not supported: logs are JSON lines on stdout (collect them with the collector's filelog receiver)");
  }
  const propagators = exporterList(env, 'OTEL_PROPAGATORS', ['tracecontext', 'baggage', 'none']);
  const propagateTraceContext = propagators.length === 0 || propagators.includes('tracecontext');
  if (propagators.includes('baggage')) notes.push("OTEL_PROPAGATORS=baggage: the proxy forwards the client's baggage header unchanged; the sidecar adds none");

  const wantsMetrics = metricsExporters.includes('otlp');
  const wantsTraces = tracesExporters.includes('otlp');
  // Parse even when disabled, so a typo is reported the day it is made rather than the day it is enabled.
  const metrics = wantsMetrics ? metricsConfig(env) : undefined;
  const traces = wantsTraces ? tracesConfig(env) : undefined;
  if (sdkDisabled && (wantsMetrics || wantsTraces)) notes.push('OTEL_SDK_DISABLED=true: OTLP push and tracing are off (Prometheus /metrics is unaffected)');
  const exemplarFilter = choice(env, 'OTEL_METRICS_EXEMPLAR_FILTER', EXEMPLAR_FILTERS, 'trace_based');
  if (read(env, 'OTEL_METRICS_EXEMPLAR_FILTER') !== undefined && exemplarFilter !== 'always_off' && (traces === undefined || sdkDisabled)) {
    notes.push('OTEL_METRICS_EXEMPLAR_FILTER has no effect without tracing (OTEL_TRACES_EXPORTER=otlp): an exemplar links a measurement to its span');
  }

  return Object.freeze({
    sdkDisabled,
    serviceName,
    resourceAttributes: Object.freeze(resourceAttributes),
    metrics: sdkDisabled ? undefined : metrics,
    traces: sdkDisabled ? undefined : traces,
    propagateTraceContext,
    sdkLogLevel: choice(env, 'OTEL_LOG_LEVEL', SDK_LOG_LEVELS, 'none'),
    exemplarFilter,
    notes: Object.freeze(notes),
  });
}

/** An endpoint as it may be logged: scheme, host, port and path only (no credentials, no query). */
export function loggableEndpoint(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}
