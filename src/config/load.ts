/**
 * Loads the sidecar's configuration from flags and environment into one frozen, validated object.
 * Flags win over environment variables, which win over defaults. Every failure is a {@link ConfigError}
 * that names the field and the problem of its value (never the value of a secret).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, ErrorCodes } from '../errors.ts';
import { type KeyedOption, OPTIONS, type OptionKey, type OptionSpec, type OptionValues } from './options.ts';
import { loadOtelConfig, type OtelConfig } from './otel-env.ts';
import { readKeyFile } from './secret-file.ts';
import { parseToken } from './values.ts';
import { readTlsMaterial, type TlsPaths } from './tls-material.ts';

/** How /metrics is protected: a token (from a file, re-read on change, or given inline) or nothing. */
export type MetricsAuth = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'inline'; readonly token: string } | { readonly kind: 'none' };

/** The rows the loader resolves into {@link MetricsAuth} and {@link TlsPaths}: they are not fields of the configuration. */
const RESOLVED = [
  'metricsAuth',
  'metricsToken',
  'metricsTokenFile',
  'metricsTlsCert',
  'metricsTlsKey',
  'metricsClientCa',
] as const satisfies readonly OptionKey[];

/**
 * The sidecar's configuration: every row of the option table (config/options.ts) under its key, with the
 * type its `parse` returns (`| undefined` for a row without a default), and the three fields resolved
 * from several rows or from the environment. A new option is a new row there and nothing here.
 */
export interface SidecarConfig extends Omit<OptionValues, (typeof RESOLVED)[number]> {
  /** How /metrics is protected (--metrics-token-file, --metrics-token, --no-metrics-auth). */
  readonly metricsAuth: MetricsAuth;
  /** HTTPS for the metrics port (files checked at load, re-read when they change); `undefined`: plain HTTP. */
  readonly metricsTls: TlsPaths | undefined;
  /** OpenTelemetry export and tracing, from the standard `OTEL_*` variables (config/otel-env.ts). */
  readonly otel: OtelConfig;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Describes an option for error messages: `--flag / ENV`. */
export function fieldName(o: OptionSpec): string {
  return `--${o.flag} / ${o.env}`;
}

function parseFlags(argv: readonly string[]): Map<OptionKey, string> {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const o of OPTIONS) options[o.flag] = { type: o.boolean !== undefined ? 'boolean' : 'string' };
  let flags: Readonly<Record<string, string | boolean | undefined>>;
  try {
    flags = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    const message = err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
    throw new ConfigError('arguments', `${message} (see --help)`);
  }
  const raw = new Map<OptionKey, string>();
  for (const o of OPTIONS) {
    const v = flags[o.flag];
    if (v === undefined) continue;
    raw.set(o.key, typeof v === 'boolean' ? (o.boolean?.flagValue ?? String(v)) : v);
  }
  return raw;
}

/** Reads and validates a token file (at load, and by `check` for its own requests); `field` names the option in errors. */
export function readTokenFile(path: string, field: string): string {
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
  const values: Parsed = {};
  for (const o of OPTIONS) {
    const source = fromFlags.has(o.key) ? 'flag' : env[o.env] !== undefined && env[o.env] !== '' ? 'env' : 'default';
    const raw = source === 'flag' ? fromFlags.get(o.key) : source === 'env' ? env[o.env] : o.default;
    if (raw === undefined) continue;
    try {
      parseInto(values, o, raw);
    } catch (err) {
      const where = source === 'flag' ? `--${o.flag}` : source === 'env' ? o.env : `default of --${o.flag}`;
      throw new ConfigError(fieldName(o), `${where}: ${(err as Error).message}`);
    }
  }
  if (!everyDefaultApplied(values)) throw new Error('an option with a default has no value (a parse returned undefined)');

  const { metricsAuth: _auth, metricsToken, metricsTokenFile, metricsTlsCert, metricsTlsKey, metricsClientCa, ...rest } = values;
  const { listen, metricsListen } = rest;
  if (listen.port !== 0 && listen.port === metricsListen.port && sameHostFamily(listen.host, metricsListen.host)) {
    throw new ConfigError(
      '--metrics-listen / SIDECAR_METRICS_LISTEN',
      `--metrics-listen: port ${listen.port} is also the proxy's --listen port; the metrics port must be its own`,
    );
  }
  if (rest.clientRequestTimeoutMs !== 0 && rest.clientHeadersTimeoutMs > rest.clientRequestTimeoutMs) {
    throw new ConfigError(
      '--client-headers-timeout / SIDECAR_CLIENT_HEADERS_TIMEOUT',
      '--client-headers-timeout: must not be longer than --client-request-timeout',
    );
  }
  if (rest.upstreamTokenFile !== undefined) readTokenFile(rest.upstreamTokenFile, '--upstream-token-file');
  if (rest.userIdKeyFile !== undefined) {
    try {
      readKeyFile(rest.userIdKeyFile);
    } catch (err) {
      throw new ConfigError('--user-id-key-file / SIDECAR_USER_ID_KEY_FILE', `--user-id-key-file: ${(err as Error).message}`);
    }
  }
  const metricsAuth = resolveMetricsAuth(values.metricsAuth, metricsTokenFile, metricsToken);
  const metricsTls = resolveMetricsTls(metricsTlsCert, metricsTlsKey, metricsClientCa);
  return Object.freeze({ ...rest, metricsAuth, metricsTls, otel: loadOtelConfig(env) });
}

/** The values parsed so far, by key. */
type Parsed = { -readonly [K in OptionKey]?: OptionValues[K] };

/** Parses `raw` with the row `o` and stores the value under the row's own key. */
function parseInto<K extends OptionKey>(values: Parsed, o: KeyedOption<K>, raw: string): void {
  values[o.key] = o.parse(raw);
}

/** Whether every row with a default has a value: then `values` holds every option (the others may be `undefined`). */
function everyDefaultApplied(values: Parsed): values is OptionValues {
  return OPTIONS.every((o) => o.default === undefined || values[o.key] !== undefined);
}

function sameHostFamily(a: string, b: string): boolean {
  const wildcard = (h: string): boolean => h === '0.0.0.0' || h === '::' || h === '';
  return a === b || wildcard(a) || wildcard(b);
}

function resolveMetricsTls(cert: string | undefined, key: string | undefined, clientCa: string | undefined): TlsPaths | undefined {
  if (cert === undefined && key === undefined) {
    if (clientCa !== undefined)
      throw new ConfigError(
        '--metrics-client-ca / SIDECAR_METRICS_CLIENT_CA',
        '--metrics-client-ca needs TLS: give --metrics-tls-cert and --metrics-tls-key too',
      );
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

function resolveMetricsAuth(mode: OptionValues['metricsAuth'], tokenFile: string | undefined, token: string | undefined): MetricsAuth {
  if (mode === 'none') {
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
