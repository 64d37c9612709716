/**
 * What the proxy observes: one {@link Exchange} per client request, handed to the observation bus
 * (bus.ts) at each step; the proxy never imports telemetry. A proxy with no observers is a plain reverse
 * proxy.
 *
 * The steps, in the order they happen for one exchange (each also published on the public channel
 * `${CHANNEL_PREFIX}:<step>` of channels.ts while it has subscribers):
 * - `start`    — request head received, before the upstream request is sent. Observers that need the
 *                bodies (MCP, REST classification) attach an {@link ExchangeTap} here.
 * - `response` — the status line and headers were sent to the client (by the upstream or by the
 *                proxy's own 502/504), or an upgrade was switched. Not reached for client aborts
 *                before any response.
 * - `end`      — the exchange is over: response finished, client went away, or the stream closed.
 *                Always exactly once per `start`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AttachedTap } from './bus.ts';

/**
 * How an exchange ended:
 * - `ok`: the response was delivered completely (whatever its status).
 * - `client_abort`: the client went away before the response was complete (recorded as status 499).
 * - `upstream_unavailable`: connection refused/reset before response headers; the client got 502.
 * - `upstream_timeout`: no response headers in time; the client got 504.
 * - `upstream_aborted`: the upstream failed mid-body; the client connection was destroyed.
 * - `bad_request`: the request could not be forwarded (e.g. its body did not match Content-Length).
 */
export type ExchangeOutcome = 'ok' | 'client_abort' | 'upstream_unavailable' | 'upstream_timeout' | 'upstream_aborted' | 'bad_request';

/** What kind of long-lived response an exchange became, if any. */
export type StreamKind = 'sse' | 'websocket';

/**
 * Kinds of `sidecar_proxy_errors_total`: the upstream failing (`upstream_*`), a request refused before it
 * reached the upstream (`bad_request`), a malformed or timed-out client request (`client_error`), a
 * connection closed at once because `--max-connections` were open (`connection_limit`), an idempotent
 * request resent once after the upstream closed its connection under it (`upstream_retried`; the client
 * saw the answer of the second attempt), and a request refused at the front door for its `Origin`
 * (`origin_not_allowed`, 403) or its `Host` (`host_not_allowed`, 421).
 */
export type ProxyErrorKind =
  | 'upstream_unavailable'
  | 'upstream_timeout'
  | 'upstream_aborted'
  | 'bad_request'
  | 'client_error'
  | 'connection_limit'
  | 'upstream_retried'
  | 'origin_not_allowed'
  | 'host_not_allowed';

/** Every {@link ProxyErrorKind} (a record, so the compiler checks the list is complete). */
const PROXY_ERROR_KIND_MEMBERS = {
  upstream_unavailable: true,
  upstream_timeout: true,
  upstream_aborted: true,
  bad_request: true,
  client_error: true,
  connection_limit: true,
  upstream_retried: true,
  origin_not_allowed: true,
  host_not_allowed: true,
} satisfies Record<ProxyErrorKind, true>;
const PROXY_ERROR_KIND_SET: ReadonlySet<string> = new Set(Object.keys(PROXY_ERROR_KIND_MEMBERS));

/** Whether `kind` is a {@link ProxyErrorKind}. */
export function isProxyErrorKind(kind: string): kind is ProxyErrorKind {
  return PROXY_ERROR_KIND_SET.has(kind);
}

/** Every {@link ProxyErrorKind} (`sidecar_proxy_errors_total{kind}` exports each at 0 from start-up). */
export const PROXY_ERROR_KINDS: readonly ProxyErrorKind[] = Object.keys(PROXY_ERROR_KIND_MEMBERS).filter(isProxyErrorKind);

/** Given to observers (and published on the public `error` channel) for every proxy failure; `code` is the error's code, never its message. */
export interface ProxyErrorEvent {
  readonly kind: ProxyErrorKind;
  readonly code: string | undefined;
}

/**
 * Receives copies of the bytes of one exchange, attached by an observer (`ObserverHandle.addTap`) and
 * called behind the bus's guard. Callbacks run synchronously: they must be cheap, must not modify the
 * chunk and must not keep it beyond a bounded copy (it is the one being written to the socket).
 */
export interface ExchangeTap {
  onRequestBody?(chunk: Buffer): void;
  onResponseStart?(exchange: Exchange): void;
  onResponseBody?(chunk: Buffer): void;
  onEnd?(exchange: Exchange): void;
}

let nextId = 1;

/** One client request and its response, as the proxy saw it. */
export class Exchange {
  readonly id: number;
  readonly method: string;
  /** The request target as the client sent it (path and query). Subscribers must not put the query in labels. */
  readonly url: string;
  readonly requestHeaders: IncomingHttpHeaders;
  /** HTTP version of the client's request, as Node reports it (`1.1`, `1.0`). */
  httpVersion = '1.1';
  /** `performance.now()` when the request head was received. */
  readonly startTime: number;
  /**
   * The client connection that carried the request, as an opaque token: one object for every exchange of
   * that connection, unreachable once it closes. Observers may key per-connection memos on it in a
   * WeakMap (the MCP tap keys a session once per connection, not once per request). `undefined` where
   * the exchange was not built by the proxy.
   */
  connection: object | undefined = undefined;
  /** Status sent to the client (0 until the response starts). */
  status = 0;
  responseHeaders: IncomingHttpHeaders | undefined = undefined;
  /** `performance.now()` when the response headers went out (0 if they never did). */
  headersTime = 0;
  /** `performance.now()` when the exchange ended. */
  endTime = 0;
  /** Request body bytes received from the client and sent upstream. */
  requestBytes = 0;
  /** Response body bytes received from the upstream and written to the client. */
  responseBytes = 0;
  outcome: ExchangeOutcome = 'ok';
  /** Set when the response is an SSE stream or an upgraded (WebSocket) connection. */
  stream: StreamKind | undefined = undefined;
  /** Body taps attached by observers (bus.ts); `undefined` when nobody asked for the bytes. */
  taps: AttachedTap[] | undefined = undefined;
  /**
   * Headers a `start` observer asks the proxy to set on the upstream request, as `[name, value, …]`
   * (e.g. `traceparent`); each replaces any header of the same name the client sent.
   */
  upstreamHeaders: string[] | undefined = undefined;

  constructor(method: string, url: string, headers: IncomingHttpHeaders, startTime: number) {
    this.id = nextId++;
    this.method = method;
    this.url = url;
    this.requestHeaders = headers;
    this.startTime = startTime;
  }

  /** Asks the proxy to set a header on the upstream request. Call from a `start` observer. */
  setUpstreamHeader(name: string, value: string): void {
    (this.upstreamHeaders ??= []).push(name.toLowerCase(), value);
  }

  /** The path without the query string. */
  get path(): string {
    const q = this.url.indexOf('?');
    return q === -1 ? this.url : this.url.slice(0, q);
  }
}
