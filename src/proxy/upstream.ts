/** The keep-alive connection pool to the upstream. */
import { Pool } from 'undici';

export interface UpstreamPoolOptions {
  readonly origin: URL;
  /** Most connections at once; 0 is unlimited. @default 0 */
  readonly connections: number;
  /** @default 5s */
  readonly connectTimeoutMs: number;
  /** Time to response headers; 0 disables. @default 2m */
  readonly headersTimeoutMs: number;
  /** Longest silence inside a body; 0 disables. @default 0 */
  readonly bodyTimeoutMs: number;
  /** Idle time of a pooled connection. @default 4s */
  readonly keepAliveTimeoutMs: number;
}

export function createUpstreamPool(opts: UpstreamPoolOptions): Pool {
  return new Pool(opts.origin, {
    connections: opts.connections === 0 ? null : opts.connections,
    connect: { timeout: opts.connectTimeoutMs },
    headersTimeout: opts.headersTimeoutMs,
    bodyTimeout: opts.bodyTimeoutMs,
    keepAliveTimeout: opts.keepAliveTimeoutMs,
    keepAliveMaxTimeout: Math.max(opts.keepAliveTimeoutMs, 600_000),
    pipelining: 1,
    strictContentLength: true,
  });
}

/** The `--upstream-*` options the pool is made from (the configuration has them, config/options.ts). */
export interface UpstreamConfig {
  readonly upstream: URL;
  readonly upstreamConnections: number;
  readonly upstreamConnectTimeoutMs: number;
  readonly upstreamHeadersTimeoutMs: number;
  readonly upstreamBodyTimeoutMs: number;
  readonly upstreamKeepAliveTimeoutMs: number;
}

/** The pool the configuration asks for. */
export function upstreamPoolFor(config: UpstreamConfig): Pool {
  return createUpstreamPool({
    origin: config.upstream,
    connections: config.upstreamConnections,
    connectTimeoutMs: config.upstreamConnectTimeoutMs,
    headersTimeoutMs: config.upstreamHeadersTimeoutMs,
    bodyTimeoutMs: config.upstreamBodyTimeoutMs,
    keepAliveTimeoutMs: config.upstreamKeepAliveTimeoutMs,
  });
}
