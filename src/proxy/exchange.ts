/**
 * What the proxy observes, published on `node:diagnostics_channel` (as undici and Node's own http do):
 * the proxy moves bytes and publishes one {@link Exchange} per client request; it never imports telemetry.
 * A proxy with no subscribers is a plain reverse proxy.
 *
 * Channels, in the order they fire for one exchange:
 * - `start`    — request head received, before the upstream request is sent. Subscribers that need the
 *                bodies (MCP, REST classification) attach an {@link ExchangeTap} here.
 * - `response` — the status line and headers were sent to the client (by the upstream or by the
 *                proxy's own 502/504), or an upgrade was switched. Not published for client aborts
 *                before any response.
 * - `end`      — the exchange is over: response finished, client went away, or the stream closed.
 *                Always published exactly once per published `start`.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import type { IncomingHttpHeaders } from 'node:http';

export const CHANNEL_PREFIX = 'mcp-composer-sidecar:proxy';

export const proxyChannels = {
  start: diagnostics_channel.channel(`${CHANNEL_PREFIX}:start`),
  response: diagnostics_channel.channel(`${CHANNEL_PREFIX}:response`),
  end: diagnostics_channel.channel(`${CHANNEL_PREFIX}:end`),
} as const;

/**
 * How an exchange ended:
 * - `ok`: the response was delivered completely (whatever its status).
 * - `client_abort`: the client went away before the response was complete (recorded as status 499).
 * - `upstream_unavailable`: connection refused/reset before response headers; the client got 502.
 * - `upstream_timeout`: no response headers in time; the client got 504.
 * - `upstream_aborted`: the upstream failed mid-body; the client connection was destroyed.
 * - `bad_request`: the request could not be forwarded (e.g. its body did not match Content-Length).
 */
export type ExchangeOutcome =
  | 'ok'
  | 'client_abort'
  | 'upstream_unavailable'
  | 'upstream_timeout'
  | 'upstream_aborted'
  | 'bad_request';

/** What kind of long-lived response an exchange became, if any. */
export type StreamKind = 'sse' | 'websocket';

/** Receives copies of the bytes of one exchange. Callbacks run synchronously: they must be cheap and must not
 * keep the chunk beyond a bounded copy (the chunk is the one being written to the socket). */
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
  /** Body taps attached by `start` subscribers; `undefined` when nobody asked for the bytes. */
  taps: ExchangeTap[] | undefined = undefined;
  /**
   * Headers a `start` subscriber asks the proxy to set on the upstream request, as `[name, value, …]`
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

  /** Asks the proxy to set a header on the upstream request. Call from a `start` subscriber. */
  setUpstreamHeader(name: string, value: string): void {
    (this.upstreamHeaders ??= []).push(name.toLowerCase(), value);
  }

  /** Asks for copies of this exchange's bodies. Call from a `start` subscriber. */
  addTap(tap: ExchangeTap): void {
    (this.taps ??= []).push(tap);
  }

  /** The path without the query string. */
  get path(): string {
    const q = this.url.indexOf('?');
    return q === -1 ? this.url : this.url.slice(0, q);
  }
}
