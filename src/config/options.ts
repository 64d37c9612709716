/**
 * Every option of the sidecar, in one table: its flag, its environment variable, its default and how its
 * value is parsed. `--help`, the README's flag table and the loader are all generated from this table,
 * so a new option is one row here.
 */
import {
  parseBoolean,
  parseHeaderName,
  parseChoice,
  parseDuration,
  parseHostPort,
  parseInteger,
  parsePath,
  parseSize,
  parseToken,
  parseUpstreamUrl,
  quoted,
  DEFAULT_ALLOWED_METHODS,
  parseMethodList,
} from './values.ts';
import { parseHostList, parseOriginList } from './front-door.ts';
import { parseMemoryLimit } from './memory.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const USER_ID_SOURCES = ['auto', 'jwt-sub', 'header', 'credential-hash'] as const;
export const MCP_INVENTORY_MODES = ['auto', 'passive', 'active', 'off'] as const;

/**
 * One row of {@link OPTIONS}. `K` is the key and `T` what `parse` returns: the table keeps both per row
 * (`as const satisfies`), and the configuration type is derived from them ({@link OptionValues}).
 */
export interface OptionSpec<K extends string = string, T = unknown> {
  /** Key in the parsed configuration object. */
  readonly key: K;
  /** Long flag, without the leading `--`. */
  readonly flag: string;
  /** Environment variable read when the flag is absent. */
  readonly env: string;
  /** A boolean flag takes no value; `flagValue` is the raw value it stands for. */
  readonly boolean?: { readonly flagValue: string };
  /** Raw default, as a user would write it (shown by `--help`); `undefined` means no default. */
  readonly default: string | undefined;
  /** Placeholder shown in `--help`. */
  readonly placeholder: string;
  /** Parses the raw text; throws an `Error` saying what is wrong. */
  readonly parse: (raw: string) => T;
  readonly description: string;
  /** The value is a secret: it is never logged or echoed in an error. */
  readonly secret?: boolean;
  /** Group shown in `--help`. */
  readonly group: 'core' | 'upstream' | 'clients' | 'metrics' | 'inventory' | 'mcp';
}

const duration = (raw: string): number => parseDuration(raw);
const atLeast = (raw: string, minMs: number): number => {
  const ms = parseDuration(raw);
  if (ms < minMs) throw new Error(`${quoted(raw)} is too short (at least ${minMs}ms)`);
  return ms;
};
const int =
  (min: number, max: number) =>
  (raw: string): number =>
    parseInteger(raw, min, max);

const TABLE = [
  {
    key: 'upstream',
    flag: 'upstream',
    env: 'SIDECAR_UPSTREAM',
    default: 'http://127.0.0.1:8000',
    placeholder: 'URL',
    parse: parseUpstreamUrl,
    group: 'core',
    description: 'Origin of the composer the sidecar proxies to.',
  },
  {
    key: 'listen',
    flag: 'listen',
    env: 'SIDECAR_LISTEN',
    default: '0.0.0.0:8080',
    placeholder: 'HOST:PORT',
    parse: parseHostPort,
    group: 'core',
    description: 'Address of the proxy port that clients connect to (port 0: any free port).',
  },
  {
    key: 'metricsListen',
    flag: 'metrics-listen',
    env: 'SIDECAR_METRICS_LISTEN',
    default: '0.0.0.0:9464',
    placeholder: 'HOST:PORT',
    parse: parseHostPort,
    group: 'metrics',
    description: 'Address of the metrics port (/metrics, /healthz, /readyz).',
  },
  {
    key: 'metricsTokenFile',
    flag: 'metrics-token-file',
    env: 'SIDECAR_METRICS_TOKEN_FILE',
    default: undefined,
    placeholder: 'PATH',
    parse: (raw) => raw.trim(),
    group: 'metrics',
    description: 'File holding the bearer token that /metrics requires (re-read when it changes).',
  },
  {
    key: 'metricsToken',
    flag: 'metrics-token',
    env: 'SIDECAR_METRICS_TOKEN',
    default: undefined,
    placeholder: 'TOKEN',
    parse: parseToken,
    secret: true,
    group: 'metrics',
    description: 'The bearer token itself (discouraged: visible in the process list; for local use).',
  },
  {
    key: 'metricsTlsCert',
    flag: 'metrics-tls-cert',
    env: 'SIDECAR_METRICS_TLS_CERT',
    default: undefined,
    placeholder: 'PATH',
    parse: (raw) => raw.trim(),
    group: 'metrics',
    description: 'PEM certificate (chain) of the metrics port: it then serves HTTPS only (with --metrics-tls-key; both re-read when they change).',
  },
  {
    key: 'metricsTlsKey',
    flag: 'metrics-tls-key',
    env: 'SIDECAR_METRICS_TLS_KEY',
    default: undefined,
    placeholder: 'PATH',
    parse: (raw) => raw.trim(),
    group: 'metrics',
    description: 'PEM private key of --metrics-tls-cert.',
  },
  {
    key: 'metricsClientCa',
    flag: 'metrics-client-ca',
    env: 'SIDECAR_METRICS_CLIENT_CA',
    default: undefined,
    placeholder: 'PATH',
    parse: (raw) => raw.trim(),
    group: 'metrics',
    description:
      'PEM CA bundle: /metrics then also requires a client certificate signed by it (403 otherwise); /healthz and /readyz stay open for probes. Needs TLS.',
  },
  {
    key: 'metricsAuth',
    flag: 'no-metrics-auth',
    env: 'SIDECAR_METRICS_AUTH',
    default: 'bearer',
    placeholder: 'bearer|none',
    boolean: { flagValue: 'none' },
    parse: (raw) => parseChoice(raw, ['bearer', 'none'] as const),
    group: 'metrics',
    description: 'Serve /metrics without a token (explicit opt-out; logs a warning).',
  },
  {
    key: 'logLevel',
    flag: 'log-level',
    env: 'LOG_LEVEL',
    default: 'info',
    placeholder: 'LEVEL',
    parse: (raw) => parseChoice(raw, LOG_LEVELS),
    group: 'core',
    description: `Log level: ${LOG_LEVELS.join(', ')}.`,
  },
  {
    key: 'accessLog',
    flag: 'access-log',
    env: 'SIDECAR_ACCESS_LOG',
    default: 'false',
    placeholder: 'BOOL',
    boolean: { flagValue: 'true' },
    parse: parseBoolean,
    group: 'core',
    description: 'Log one line per proxied request (method, route, status, duration; never the query string).',
  },
  {
    key: 'memoryLimit',
    flag: 'memory-limit',
    env: 'SIDECAR_MEMORY_LIMIT',
    default: 'auto',
    placeholder: 'SIZE',
    parse: parseMemoryLimit,
    group: 'core',
    description:
      "Memory the process may use (256Mi, 1Gi): V8's heap is sized to 60 % of it so that RSS stays under it (docs/performance.md). auto: the cgroup's limit (memory.max), if any; none: V8's defaults. Below 160Mi the sidecar refuses to start.",
  },
  {
    key: 'shutdownGraceMs',
    flag: 'shutdown-grace',
    env: 'SIDECAR_SHUTDOWN_GRACE',
    default: '10s',
    placeholder: 'DURATION',
    parse: duration,
    group: 'core',
    description: 'On SIGTERM, how long in-flight requests may take before they are cut.',
  },
  {
    key: 'testObserverFault',
    flag: 'test-observer-fault',
    env: 'SIDECAR_TEST_OBSERVER_FAULT',
    default: 'off',
    placeholder: 'MODE',
    parse: (raw) => parseChoice(raw, ['off', 'throw'] as const),
    group: 'core',
    description:
      'Test only: `off` or `throw`, which adds an observer that throws on every hook, to check on a real process that observer failures never reach clients (docs/security.md). Never in production.',
  },
  // Upstream side.
  {
    key: 'upstreamConnectTimeoutMs',
    flag: 'upstream-connect-timeout',
    env: 'SIDECAR_UPSTREAM_CONNECT_TIMEOUT',
    default: '5s',
    placeholder: 'DURATION',
    parse: duration,
    group: 'upstream',
    description: 'Time to establish a connection to the upstream.',
  },
  {
    key: 'upstreamHeadersTimeoutMs',
    flag: 'upstream-headers-timeout',
    env: 'SIDECAR_UPSTREAM_HEADERS_TIMEOUT',
    default: '2m',
    placeholder: 'DURATION',
    parse: duration,
    group: 'upstream',
    description: 'Time for the upstream to send response headers before the client gets 504 (REST tool invokes answer only when the tool is done).',
  },
  {
    key: 'upstreamBodyTimeoutMs',
    flag: 'upstream-body-timeout',
    env: 'SIDECAR_UPSTREAM_BODY_TIMEOUT',
    default: '0',
    placeholder: 'DURATION',
    parse: duration,
    group: 'upstream',
    description: 'Longest silence between two chunks of an upstream body; 0 disables it (SSE streams are idle for long).',
  },
  {
    key: 'upstreamConnections',
    flag: 'upstream-connections',
    env: 'SIDECAR_UPSTREAM_CONNECTIONS',
    default: '0',
    placeholder: 'N',
    parse: int(0, 1_000_000),
    group: 'upstream',
    description: 'Most connections to the upstream at once; 0 is unlimited (each open SSE or WebSocket stream holds one).',
  },
  {
    key: 'upstreamKeepAliveTimeoutMs',
    flag: 'upstream-keepalive-timeout',
    env: 'SIDECAR_UPSTREAM_KEEPALIVE_TIMEOUT',
    default: '4s',
    placeholder: 'DURATION',
    parse: duration,
    group: 'upstream',
    description: "How long an idle pooled upstream connection is kept (the upstream's Keep-Alive hint wins when shorter).",
  },
  {
    key: 'upstreamRetry',
    flag: 'no-upstream-retry',
    env: 'SIDECAR_UPSTREAM_RETRY',
    default: 'on',
    placeholder: 'on|off',
    boolean: { flagValue: 'off' },
    parse: (raw) => parseChoice(raw, ['on', 'off'] as const),
    group: 'upstream',
    description:
      'Never resend a request. By default an idempotent request without a body (GET, HEAD, OPTIONS, PUT, DELETE) whose connection the upstream closes before answering is sent once more on a new connection.',
  },
  {
    key: 'preserveHost',
    flag: 'preserve-host',
    env: 'SIDECAR_PRESERVE_HOST',
    default: 'false',
    placeholder: 'BOOL',
    boolean: { flagValue: 'true' },
    parse: parseBoolean,
    group: 'upstream',
    description: "Send the client's Host upstream instead of the upstream's own authority (breaks MCP servers with DNS-rebinding protection).",
  },
  {
    key: 'probeIntervalMs',
    flag: 'probe-interval',
    env: 'SIDECAR_PROBE_INTERVAL',
    default: '5s',
    placeholder: 'DURATION',
    parse: duration,
    group: 'upstream',
    description: 'How often the upstream is probed for sidecar_upstream_up and /readyz.',
  },
  {
    key: 'probeTimeoutMs',
    flag: 'probe-timeout',
    env: 'SIDECAR_PROBE_TIMEOUT',
    default: '2s',
    placeholder: 'DURATION',
    parse: duration,
    group: 'upstream',
    description: 'Time a probe may take before the upstream counts as down.',
  },
  {
    key: 'probePath',
    flag: 'probe-path',
    env: 'SIDECAR_PROBE_PATH',
    default: '/api/v1/health',
    placeholder: 'PATH',
    parse: parsePath,
    group: 'upstream',
    description: 'Path the probe requests; any HTTP answer (even 404) means the upstream is up.',
  },
  // Client side.
  {
    key: 'clientHeadersTimeoutMs',
    flag: 'client-headers-timeout',
    env: 'SIDECAR_CLIENT_HEADERS_TIMEOUT',
    default: '30s',
    placeholder: 'DURATION',
    parse: (raw) => atLeast(raw, 100),
    group: 'clients',
    description:
      'Time a client has to send its request headers, counted from the connection (slowloris defence; at least 100ms, at most --client-request-timeout).',
  },
  {
    key: 'clientRequestTimeoutMs',
    flag: 'client-request-timeout',
    env: 'SIDECAR_CLIENT_REQUEST_TIMEOUT',
    default: '5m',
    placeholder: 'DURATION',
    parse: duration,
    group: 'clients',
    description: 'Time a client has to send its whole request body; 0 disables it.',
  },
  {
    key: 'clientKeepAliveTimeoutMs',
    flag: 'client-keepalive-timeout',
    env: 'SIDECAR_CLIENT_KEEPALIVE_TIMEOUT',
    default: '65s',
    placeholder: 'DURATION',
    parse: duration,
    group: 'clients',
    description: 'How long an idle client connection is kept open.',
  },
  {
    key: 'maxConnections',
    flag: 'max-connections',
    env: 'SIDECAR_MAX_CONNECTIONS',
    default: '10000',
    placeholder: 'N',
    parse: int(1, 1_000_000),
    group: 'clients',
    description: 'Most client connections at once on the proxy port; further ones are refused.',
  },
  {
    key: 'maxHeaderSize',
    flag: 'max-header-size',
    env: 'SIDECAR_MAX_HEADER_SIZE',
    default: '16kb',
    placeholder: 'SIZE',
    parse: parseSize,
    group: 'clients',
    description: 'Largest request head a client may send (431 beyond it).',
  },
  {
    key: 'allowedMethods',
    flag: 'allowed-methods',
    env: 'SIDECAR_ALLOWED_METHODS',
    default: DEFAULT_ALLOWED_METHODS.join(','),
    placeholder: 'LIST',
    parse: parseMethodList,
    group: 'clients',
    description: 'Comma-separated methods forwarded to the upstream; others get 405 (TRACE is not forwarded by default; CONNECT never is).',
  },
  {
    key: 'allowedOrigins',
    flag: 'allowed-origins',
    env: 'SIDECAR_ALLOWED_ORIGINS',
    default: 'none',
    placeholder: 'LIST',
    parse: parseOriginList,
    group: 'clients',
    description:
      'Comma-separated origins (scheme://host[:port]) whose browser requests are forwarded; a request carrying any other Origin gets 403, one without Origin passes. none: no Origin accepted; *: any (DNS-rebinding defence, docs/security.md).',
  },
  {
    key: 'allowedHosts',
    flag: 'allowed-hosts',
    env: 'SIDECAR_ALLOWED_HOSTS',
    default: '*',
    placeholder: 'LIST',
    parse: parseHostList,
    group: 'clients',
    description:
      'Comma-separated Host values clients may use (host: any port; host:port: that port; [::1]); others get 421. *: any. The upstream sees its own authority as Host, so set this where its DNS-rebinding check used to act.',
  },
  // Metrics.
  {
    key: 'maxLabelValues',
    flag: 'max-label-values',
    env: 'SIDECAR_MAX_LABEL_VALUES',
    default: '200',
    placeholder: 'N',
    parse: int(1, 100_000),
    group: 'metrics',
    description:
      'Distinct values per label per family taken from traffic, besides the values known in advance (route templates, the inventory); further values become __other__.',
  },
  {
    key: 'maxKnownValues',
    flag: 'max-known-values',
    env: 'SIDECAR_MAX_KNOWN_VALUES',
    default: '1000',
    placeholder: 'N',
    parse: int(1, 10_000),
    group: 'metrics',
    description:
      "Names per kind (tools, prompts, resource URIs, servers) kept from the composer's inventory as known label values: exempt from --max-label-values, their counters exported at 0.",
  },
  {
    key: 'debugScrapeTiming',
    flag: 'debug-scrape-timing',
    env: 'SIDECAR_DEBUG_SCRAPE_TIMING',
    default: 'false',
    placeholder: 'BOOL',
    boolean: { flagValue: 'true' },
    parse: parseBoolean,
    group: 'metrics',
    description:
      'Debugging: log one line per /metrics answer (event scrape_timing: duration, slices, longest turn of the event loop meanwhile, from a heartbeat that spins while an answer is open: not for production).',
  },
  // Inventory.
  {
    key: 'pollIntervalMs',
    flag: 'poll-interval',
    env: 'SIDECAR_POLL_INTERVAL',
    default: '15s',
    placeholder: 'DURATION',
    parse: duration,
    group: 'inventory',
    description: "How often the composer's REST API is polled for inventory (±10% jitter).",
  },
  {
    key: 'pollTimeoutMs',
    flag: 'poll-timeout',
    env: 'SIDECAR_POLL_TIMEOUT',
    default: '5s',
    placeholder: 'DURATION',
    parse: duration,
    group: 'inventory',
    description: 'Time one inventory poll may take before it counts as failed.',
  },
  {
    key: 'upstreamTokenFile',
    flag: 'upstream-token-file',
    env: 'SIDECAR_UPSTREAM_TOKEN_FILE',
    default: undefined,
    placeholder: 'PATH',
    parse: (raw) => raw.trim(),
    group: 'inventory',
    description: "File holding the bearer token the sidecar's own requests to the composer send (polls, event stream), when its REST API needs auth.",
  },
  {
    key: 'events',
    flag: 'no-events',
    env: 'SIDECAR_EVENTS',
    default: 'on',
    placeholder: 'on|off',
    boolean: { flagValue: 'off' },
    parse: (raw) => parseChoice(raw, ['on', 'off'] as const),
    group: 'inventory',
    description: "Do not subscribe to the composer's event stream (lifecycle facts then come from polling and proxied calls only).",
  },
  {
    key: 'eventsPath',
    flag: 'events-path',
    env: 'SIDECAR_EVENTS_PATH',
    default: '/api/v1/events',
    placeholder: 'PATH',
    parse: parsePath,
    group: 'inventory',
    description: "Path of the composer's event stream.",
  },
  {
    key: 'eventsIdleTimeoutMs',
    flag: 'events-idle-timeout',
    env: 'SIDECAR_EVENTS_IDLE_TIMEOUT',
    default: '45s',
    placeholder: 'DURATION',
    parse: duration,
    group: 'inventory',
    description: 'Silence on the event stream (no event, no keep-alive) after which the connection counts as dead.',
  },
  {
    key: 'eventsReconnectMaxMs',
    flag: 'events-reconnect-max',
    env: 'SIDECAR_EVENTS_RECONNECT_MAX',
    default: '30s',
    placeholder: 'DURATION',
    parse: duration,
    group: 'inventory',
    description: 'Longest wait between two reconnection attempts (exponential backoff with jitter from 500ms).',
  },
  {
    key: 'eventsReprobeMs',
    flag: 'events-reprobe-interval',
    env: 'SIDECAR_EVENTS_REPROBE_INTERVAL',
    default: '60s',
    placeholder: 'DURATION',
    parse: duration,
    group: 'inventory',
    description: 'How often a composer that answered 404 for the event stream is asked again.',
  },
  {
    key: 'detectIntervalMs',
    flag: 'detect-interval',
    env: 'SIDECAR_DETECT_INTERVAL',
    default: '60s',
    placeholder: 'DURATION',
    parse: duration,
    group: 'inventory',
    description: 'How often the composer is asked again which surfaces it serves (REST, event stream, MCP transports); also on every upstream reconnection.',
  },
  {
    key: 'serverIdSeparator',
    flag: 'server-id-separator',
    env: 'SIDECAR_SERVER_ID_SEPARATOR',
    default: undefined,
    placeholder: 'TEXT',
    parse: (raw) => {
      if (raw.length === 0 || raw.length > 8) throw new Error('must be 1 to 8 characters');
      return raw;
    },
    group: 'inventory',
    description:
      'Separator between server id and name in MCP tool and prompt names, for per-server counts without REST. Unset: `_` where the upstream is known to be the composer (`{server}_{tool}`), else no per-server counts.',
  },
  {
    key: 'mcpInventory',
    flag: 'mcp-inventory',
    env: 'SIDECAR_MCP_INVENTORY',
    default: 'auto',
    placeholder: 'MODE',
    parse: (raw) => parseChoice(raw, MCP_INVENTORY_MODES),
    group: 'inventory',
    description:
      "Where MCP inventory (no REST) comes from: passive (only clients' own listings; the sidecar sends nothing), active (a session of its own, kept open), auto (passive; its own reads only for what no client listing covers, never on an upstream that broadcasts), off.",
  },
  {
    key: 'userIdSource',
    flag: 'user-id-source',
    env: 'SIDECAR_USER_ID_SOURCE',
    default: 'auto',
    placeholder: 'SOURCE',
    parse: (raw) => parseChoice(raw, USER_ID_SOURCES),
    group: 'metrics',
    description:
      'How user_id of mcp_rate_limit_exceeded_total is derived: auto (JWT sub, else a keyed hash of the credential, see --user-id-key-file), jwt-sub, header, credential-hash.',
  },
  {
    key: 'userIdHeader',
    flag: 'user-id-header',
    env: 'SIDECAR_USER_ID_HEADER',
    default: 'x-user-id',
    placeholder: 'NAME',
    parse: (raw) => parseHeaderName(raw),
    group: 'metrics',
    description: 'Header read for --user-id-source header.',
  },
  {
    key: 'userIdKeyFile',
    flag: 'user-id-key-file',
    env: 'SIDECAR_USER_ID_KEY_FILE',
    default: undefined,
    placeholder: 'PATH',
    parse: (raw) => raw.trim(),
    group: 'metrics',
    description:
      'File holding the key (at least 16 bytes, read at start) of the HMAC that turns credentials into user_id values, so a scrape gives nobody a hash to test guesses against; the same key keeps them stable across restarts and replicas. Without it, a random key per process: the values change at every restart.',
  },
  {
    key: 'bodyCaptureLimit',
    flag: 'body-capture-limit',
    env: 'SIDECAR_BODY_CAPTURE_LIMIT',
    default: '64kb',
    placeholder: 'SIZE',
    parse: parseSize,
    group: 'metrics',
    description: 'Largest body the sidecar copies to classify a REST or MCP message; larger ones pass through unclassified.',
  },
  // MCP.
  {
    key: 'mcpPathPrefix',
    flag: 'mcp-path-prefix',
    env: 'SIDECAR_MCP_PATH_PREFIX',
    default: '/',
    placeholder: 'PATH',
    parse: parsePath,
    group: 'mcp',
    description: "Path prefix the composer's MCP routes are mounted under: {prefix}/sse, {prefix}/messages/, {prefix}/mcp.",
  },
  {
    key: 'mcpPendingTimeoutMs',
    flag: 'mcp-pending-timeout',
    env: 'SIDECAR_MCP_PENDING_TIMEOUT',
    default: '5m',
    placeholder: 'DURATION',
    parse: duration,
    group: 'mcp',
    description: 'An MCP request without a correlated response this long is recorded as error_type="timeout".',
  },
  {
    key: 'mcpMaxPending',
    flag: 'mcp-max-pending',
    env: 'SIDECAR_MCP_MAX_PENDING',
    default: '1000',
    placeholder: 'N',
    parse: int(1, 1_000_000),
    group: 'mcp',
    description: 'Most MCP requests awaiting a response tracked per session; further ones are not timed.',
  },
  {
    key: 'mcpMaxSessions',
    flag: 'mcp-max-sessions',
    env: 'SIDECAR_MCP_MAX_SESSIONS',
    default: '10000',
    placeholder: 'N',
    parse: int(1, 10_000_000),
    group: 'mcp',
    description: 'Most MCP sessions tracked at once; the traffic of further ones passes through uncounted.',
  },
  {
    key: 'mcpSessionIdleTimeoutMs',
    flag: 'mcp-session-idle-timeout',
    env: 'SIDECAR_MCP_SESSION_IDLE_TIMEOUT',
    default: '30m',
    placeholder: 'DURATION',
    parse: duration,
    group: 'mcp',
    description: 'A streamable-HTTP MCP session never deleted by its client counts as ended after this long without traffic.',
  },
] as const satisfies readonly OptionSpec[];

/** A row of the table, with its own key and value types. */
export type OptionRow = (typeof TABLE)[number];

/** The key of an option in the configuration object. */
export type OptionKey = OptionRow['key'];

/** The value of a row once loaded: what its `parse` returns; `undefined` too for a row without a default. */
type RowValue<R extends OptionRow> = R['default'] extends string ? ReturnType<R['parse']> : ReturnType<R['parse']> | undefined;

/** Every option's value, by key: the configuration as the table defines it (config/load.ts adds what it resolves). */
export type OptionValues = { readonly [R in OptionRow as R['key']]: RowValue<R> };

/** A row whose `parse` gives the value of its own key. */
export type KeyedOption<K extends OptionKey = OptionKey> = OptionSpec<K, OptionValues[K]>;

/**
 * Every option, in the table's order. Each row is typed with its own key and value, so the loader writes
 * a row's value under its key with no cast, and a consumer of a key gets that row's type.
 */
export const OPTIONS: readonly { [K in OptionKey]: KeyedOption<K> }[OptionKey][] = TABLE;

/** Looks an option up by its configuration key. */
export function optionByKey(key: OptionKey): OptionRow {
  const row = TABLE.find((o) => o.key === key);
  if (row === undefined) throw new Error(`no option ${key}`);
  return row;
}

export type UserIdSource = (typeof USER_ID_SOURCES)[number];
export type McpInventoryOption = (typeof MCP_INVENTORY_MODES)[number];
