/**
 * Loads the sidecar's configuration from flags and environment into one frozen, validated object.
 * Flags win over environment variables, which win over defaults. Every failure is a {@link ConfigError}
 * that names the field and the problem of its value (never the value of a secret).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, ErrorCodes } from '../errors.ts';
import { OPTIONS, type McpInventoryOption, type OptionSpec, type UserIdSource } from './options.ts';
import { loadOtelConfig, type OtelConfig } from './otel-env.ts';
import { parseToken, type HostPort } from './values.ts';
import { readTlsMaterial, type TlsPaths } from '../admin/tls.ts';

export interface SidecarConfig {
  readonly upstream: URL;
  readonly listen: HostPort;
  readonly metricsListen: HostPort;
  /** How /metrics is protected: a token (from a file, re-read on change, or given inline) or nothing. */
  readonly metricsAuth:
    | { readonly kind: 'file'; readonly path: string }
    | { readonly kind: 'inline'; readonly token: string }
    | { readonly kind: 'none' };
  /** HTTPS for the metrics port (files checked at load, re-read when they change); `undefined`: plain HTTP. */
  readonly metricsTls: TlsPaths | undefined;
  readonly logLevel: string;
  readonly accessLog: boolean;
  readonly shutdownGraceMs: number;
  readonly upstreamConnectTimeoutMs: number;
  readonly upstreamHeadersTimeoutMs: number;
  readonly upstreamBodyTimeoutMs: number;
  readonly upstreamConnections: number;
  readonly upstreamKeepAliveTimeoutMs: number;
  readonly preserveHost: boolean;
  readonly probeIntervalMs: number;
  readonly probeTimeoutMs: number;
  readonly probePath: string;
  readonly clientHeadersTimeoutMs: number;
  readonly clientRequestTimeoutMs: number;
  readonly clientKeepAliveTimeoutMs: number;
  readonly maxConnections: number;
  readonly maxHeaderSize: number;
  readonly allowedMethods: readonly string[];
  readonly upstreamRetry: 'on' | 'off';
  readonly maxLabelValues: number;
  readonly maxKnownValues: number;
  /** `--debug-scrape-timing`: one log line per /metrics answer with its event-loop figures (admin/scrape-timing.ts). */
  readonly debugScrapeTiming: boolean;
  readonly bodyCaptureLimit: number;
  readonly pollIntervalMs: number;
  readonly pollTimeoutMs: number;
  /** Token file for the sidecar's own requests to the composer (checked readable at load). */
  readonly upstreamTokenFile: string | undefined;
  readonly userIdSource: UserIdSource;
  readonly events: 'on' | 'off';
  readonly detectIntervalMs: number;
  /** `--server-id-separator` when given; `undefined`: the composer's `_` where it is known to be the composer. */
  readonly serverIdSeparator: string | undefined;
  readonly mcpInventory: McpInventoryOption;
  readonly eventsPath: string;
  readonly eventsIdleTimeoutMs: number;
  readonly eventsReconnectMaxMs: number;
  readonly eventsReprobeMs: number;
  readonly userIdHeader: string;
  /** OpenTelemetry export and tracing, from the standard `OTEL_*` variables (config/otel-env.ts). */
  readonly otel: OtelConfig;
  /** Prefix of the MCP routes (`/` for none). */
  readonly mcpPathPrefix: string;
  readonly mcpPendingTimeoutMs: number;
  readonly mcpMaxPending: number;
  readonly mcpMaxSessions: number;
  readonly mcpSessionIdleTimeoutMs: number;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Describes an option for error messages: `--flag / ENV`. */
export function fieldName(o: OptionSpec): string {
  return `--${o.flag} / ${o.env}`;
}

function parseFlags(argv: readonly string[]): Map<string, string> {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const o of OPTIONS) options[o.flag] = { type: o.boolean !== undefined ? 'boolean' : 'string' };
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] ?? err.message : String(err);
    throw new ConfigError('arguments', `${message} (see --help)`);
  }
  const raw = new Map<string, string>();
  for (const o of OPTIONS) {
    const v = (parsed.values as Record<string, string | boolean | undefined>)[o.flag];
    if (v === undefined) continue;
    raw.set(o.key, typeof v === 'boolean' ? (o.boolean?.flagValue ?? String(v)) : v);
  }
  return raw;
}

function readTokenFile(path: string, field: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new ConfigError(field, `${field}: cannot read token file ${path} (${code})`);
  }
  try {
    return parseToken(text);
  } catch (err) {
    throw new ConfigError(field, `${field}: token file ${path}: ${(err as Error).message}`);
  }
}

/**
 * Parses `argv` (the flags after the command) and `env` into a {@link SidecarConfig}.
 * @throws ConfigError naming the field whose value is invalid.
 */
export function loadConfig(argv: readonly string[], env: Env): SidecarConfig {
  const fromFlags = parseFlags(argv);
  const values: Record<string, unknown> = {};
  for (const o of OPTIONS) {
    const source = fromFlags.has(o.key) ? 'flag' : env[o.env] !== undefined && env[o.env] !== '' ? 'env' : 'default';
    const raw = source === 'flag' ? fromFlags.get(o.key) : source === 'env' ? env[o.env] : o.default;
    if (raw === undefined) continue;
    try {
      values[o.key] = o.parse(raw);
    } catch (err) {
      const where = source === 'flag' ? `--${o.flag}` : source === 'env' ? o.env : `default of --${o.flag}`;
      throw new ConfigError(fieldName(o), `${where}: ${(err as Error).message}`);
    }
  }

  const metricsAuth = resolveMetricsAuth(values);
  const listen = values['listen'] as HostPort;
  const metricsListen = values['metricsListen'] as HostPort;
  if (listen.port !== 0 && listen.port === metricsListen.port && sameHostFamily(listen.host, metricsListen.host)) {
    throw new ConfigError('--metrics-listen / SIDECAR_METRICS_LISTEN', `--metrics-listen: port ${listen.port} is also the proxy's --listen port; the metrics port must be its own`);
  }
  const requestTimeout = values['clientRequestTimeoutMs'] as number;
  if (requestTimeout !== 0 && (values['clientHeadersTimeoutMs'] as number) > requestTimeout) {
    throw new ConfigError('--client-headers-timeout / SIDECAR_CLIENT_HEADERS_TIMEOUT', '--client-headers-timeout: must not be longer than --client-request-timeout');
  }
  const upstreamTokenFile = values['upstreamTokenFile'] as string | undefined;
  if (upstreamTokenFile !== undefined) readTokenFile(upstreamTokenFile, '--upstream-token-file');
  const config = { ...values, metricsAuth, metricsTls: resolveMetricsTls(values), otel: loadOtelConfig(env) } as Record<string, unknown>;
  delete config['metricsToken'];
  delete config['metricsTokenFile'];
  delete config['metricsTlsCert'];
  delete config['metricsTlsKey'];
  delete config['metricsClientCa'];
  return Object.freeze(config) as unknown as SidecarConfig;
}

function sameHostFamily(a: string, b: string): boolean {
  const wildcard = (h: string): boolean => h === '0.0.0.0' || h === '::' || h === '';
  return a === b || wildcard(a) || wildcard(b);
}

function resolveMetricsTls(values: Record<string, unknown>): TlsPaths | undefined {
  const cert = values['metricsTlsCert'] as string | undefined;
  const key = values['metricsTlsKey'] as string | undefined;
  const clientCa = values['metricsClientCa'] as string | undefined;
  if (cert === undefined && key === undefined) {
    if (clientCa !== undefined) throw new ConfigError('--metrics-client-ca / SIDECAR_METRICS_CLIENT_CA', '--metrics-client-ca needs TLS: give --metrics-tls-cert and --metrics-tls-key too');
    return undefined;
  }
  if (cert === undefined || cert === '' || key === undefined || key === '') {
    throw new ConfigError('--metrics-tls-cert / --metrics-tls-key', '--metrics-tls-cert and --metrics-tls-key go together: give both');
  }
  const paths: TlsPaths = { cert, key, clientCa: clientCa === '' ? undefined : clientCa };
  try {
    readTlsMaterial(paths);
  } catch (err) {
    throw new ConfigError('--metrics-tls-cert / --metrics-tls-key', (err as Error).message);
  }
  return paths;
}

function resolveMetricsAuth(values: Record<string, unknown>): SidecarConfig['metricsAuth'] {
  const tokenFile = values['metricsTokenFile'] as string | undefined;
  const token = values['metricsToken'] as string | undefined;
  if (values['metricsAuth'] === 'none') {
    if (tokenFile !== undefined || token !== undefined) {
      throw new ConfigError('--no-metrics-auth / SIDECAR_METRICS_AUTH', '--no-metrics-auth cannot be combined with --metrics-token-file or --metrics-token');
    }
    return { kind: 'none' };
  }
  if (tokenFile !== undefined && token !== undefined) {
    throw new ConfigError('--metrics-token / SIDECAR_METRICS_TOKEN', 'give either --metrics-token-file or --metrics-token, not both');
  }
  if (tokenFile !== undefined) {
    if (tokenFile === '') throw new ConfigError('--metrics-token-file / SIDECAR_METRICS_TOKEN_FILE', '--metrics-token-file: the path is empty');
    readTokenFile(tokenFile, '--metrics-token-file');
    return { kind: 'file', path: tokenFile };
  }
  if (token !== undefined) return { kind: 'inline', token };
  throw new ConfigError(
    'metrics auth',
    'the metrics port needs a token: pass --metrics-token-file PATH (or SIDECAR_METRICS_TOKEN_FILE), or --no-metrics-auth (SIDECAR_METRICS_AUTH=none) to serve /metrics to anyone',
    ErrorCodes.SIDECAR_E_METRICS_AUTH_REQUIRED,
  );
}

/** Reads and validates a token file; exported for the metrics port's token watcher. */
export { readTokenFile };
