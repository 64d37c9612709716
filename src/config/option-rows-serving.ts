/** The client-side and metrics-port options (rows of the option table, options.ts). */
import { parseBoolean, parseSize, DEFAULT_ALLOWED_METHODS, parseMethodList } from './values.ts';
import { parseHostList, parseOriginList } from './front-door.ts';
import { atLeast, duration, int, type OptionSpec } from './option-spec.ts';

export const SERVING_ROWS = [
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
      'Debugging: log one line per /metrics answer (event scrape_timing: duration, slices, longest turn of the event loop meanwhile and where the turns of 1 ms or more were, from a heartbeat that spins while an answer is open: not for production).',
  },
] as const satisfies readonly OptionSpec[];
