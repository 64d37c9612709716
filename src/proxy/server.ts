/**
 * The proxy port: a `node:http` server whose requests are forwarded to the upstream through an undici
 * dispatcher. It owns client-side limits (header and request timeouts, connection cap, header size),
 * refuses what must never reach the upstream (see request-policy.ts: HTTP versions other than 1.x,
 * absolute-form targets, methods outside `--allowed-methods`, `CONNECT`, repeated `Host`, transfer codings
 * other than `chunked`, a `Host` outside `--allowed-hosts`, an `Origin` outside `--allowed-origins`, and
 * everything Node's strict parser refuses), tunnels only WebSocket upgrades, and drains in order on shutdown.
 *
 * Slow clients: `--client-headers-timeout` runs from the moment a connection is accepted (Node starts the
 * clock before the first byte), so an idle or trickling connection is closed with 408 when it expires;
 * `--max-connections` caps what such clients can hold meanwhile (connections over it are closed at once
 * and counted as `connection_limit`).
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { HostPort } from '../config/values.ts';
import { ErrorAnswers, parserRefusal } from '../errors.ts';
import { Exchange } from '../observe/exchange.ts';
import { ForwardHandler } from './forward.ts';
import { upstreamRequestHeaders, withOverrides } from './headers.ts';
import type { HostPolicy, OriginPolicy } from '../config/front-door.ts';
import { isWebSocketUpgrade, refuseFrontDoor, refuseRequest, type Refusal } from './request-policy.ts';
import { isRetryable, RetryOnReset } from './retry.ts';
import type { ProxyState } from './state.ts';
import { UpgradeHandler } from './upgrade.ts';
import { listenOn } from '../listen.ts';

export interface ProxyOptions {
  /** Upstream origin; its authority is the upstream `Host` unless `preserveHost`. */
  readonly upstream: URL;
  /** @default false */
  readonly preserveHost: boolean;
  readonly listen: HostPort;
  /** Time a client has to send its request head. @default 30s */
  readonly clientHeadersTimeoutMs: number;
  /** Time a client has to send its whole request; 0 disables. @default 5m */
  readonly clientRequestTimeoutMs: number;
  /** Idle keep-alive time of client connections. @default 65s */
  readonly clientKeepAliveTimeoutMs: number;
  /** @default 10000 */
  readonly maxConnections: number;
  /** @default 16kb */
  readonly maxHeaderSize: number;
  /** Methods forwarded; others get 405. @default GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS */
  readonly allowedMethods: readonly string[];
  /** Retry idempotent bodyless requests once when the upstream closes the connection under them (retry.ts). @default on */
  readonly upstreamRetry: 'on' | 'off';
  /** Client `Host` values forwarded; others get 421. @default any */
  readonly allowedHosts: HostPolicy;
  /** `Origin` values forwarded; a request carrying another gets 403 (one without `Origin` passes). @default none */
  readonly allowedOrigins: OriginPolicy;
}

export interface Proxy {
  readonly server: Server;
  readonly state: ProxyState;
  /** Binds the port; resolves with the bound address (port 0 gets a real port). */
  listen(): Promise<AddressInfo>;
  /**
   * Stops accepting, ends long-lived streams, lets in-flight requests finish for up to `graceMs`, then cuts
   * what is left. Resolves when every connection is closed.
   */
  close(graceMs: number): Promise<void>;
}

function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return (cl !== undefined && cl !== '0') || req.headers['transfer-encoding'] !== undefined;
}

function rawReject(socket: Duplex, status: number, extra = '', body = ''): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const type = body === '' ? '' : 'content-type: application/json\r\n';
  // Once the answer is flushed, close both directions: a client that keeps sending on a half-closed
  // connection (a slowloris trickle) must not be parsed again.
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${extra}${type}connection: close\r\ncontent-length: ${body.length}\r\n\r\n${body}`, () =>
    socket.destroy(),
  );
}

/** Answers a refused request on its response and closes the connection (its body, if any, is never read). */
function refuse(res: ServerResponse, refusal: Refusal, allow: string): void {
  const body = refusal.body;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(body.length), connection: 'close' };
  if (refusal.status === 405) headers['allow'] = allow;
  res.writeHead(refusal.status, headers);
  res.end(body);
}

/** Builds the proxy port; `dispatcher` is the pool to the upstream. */
export function createProxy(opts: ProxyOptions, dispatcher: Dispatcher, state: ProxyState): Proxy {
  const upstreamHost = opts.upstream.host;
  const preserveHost = opts.preserveHost;
  /** The opaque token of each client connection ({@link Exchange.connection}). */
  const connections = new WeakMap<Duplex, object>();
  function connectionOf(socket: Duplex): object {
    let token = connections.get(socket);
    if (token === undefined) connections.set(socket, (token = {}));
    return token;
  }

  function forwardContext(req: IncomingMessage) {
    return {
      host: preserveHost ? (req.headers.host ?? upstreamHost) : upstreamHost,
      remoteAddress: req.socket.remoteAddress,
      proto: 'http' as const,
    };
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const refusal = refuseRequest(req, allowed);
    if (refusal !== undefined) {
      state.reportError('bad_request', refusal);
      refuse(res, refusal, allow);
      return;
    }
    const front = refuseFrontDoor(req.headers.host, req.headers.origin, hosts, origins);
    if (front !== undefined) {
      state.reportError(front.error, front);
      refuse(res, front, allow);
      return;
    }
    const url = req.url as string;
    const method = req.method as string;
    const ex = new Exchange(method, url, req.headers, performance.now());
    if (req.httpVersion !== '1.1') ex.httpVersion = req.httpVersion;
    ex.connection = connectionOf(req.socket);
    res.sendDate = false;
    state.exchangeStarted(ex);
    const handler = new ForwardHandler(ex, req, res, state);
    const body = hasBody(req);
    const options: Dispatcher.DispatchOptions = {
      path: url,
      method,
      headers: withOverrides(upstreamRequestHeaders(req.rawHeaders, forwardContext(req)), ex.upstreamHeaders),
      body: body ? req : null,
    };
    try {
      dispatcher.dispatch(options, retry && isRetryable(method, body) ? new RetryOnReset(handler, dispatcher, options, req, res, state) : handler);
    } catch (err) {
      handler.onResponseError(null, err as Error);
    }
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refusal = refuseRequest(req, allowed);
    if (refusal !== undefined) {
      state.reportError('bad_request', refusal);
      rawReject(socket, refusal.status, refusal.status === 405 ? `allow: ${allow}\r\n` : '');
      return;
    }
    const front = refuseFrontDoor(req.headers.host, req.headers.origin, hosts, origins);
    if (front !== undefined) {
      state.reportError(front.error, front);
      rawReject(socket, front.status, '', front.body);
      return;
    }
    const url = req.url as string;
    (socket as Socket).setNoDelay?.(true);
    const method = req.method as string;
    const ex = new Exchange(method, url, req.headers, performance.now());
    if (req.httpVersion !== '1.1') ex.httpVersion = req.httpVersion;
    ex.connection = connectionOf(socket);
    state.exchangeStarted(ex);
    const handler = new UpgradeHandler(ex, req, socket, head, state);
    try {
      dispatcher.dispatch(
        // Only WebSocket upgrades get here (shouldUpgradeCallback); others are ordinary requests.
        {
          path: url,
          method,
          headers: withOverrides(upstreamRequestHeaders(req.rawHeaders, forwardContext(req)), ex.upstreamHeaders),
          upgrade: 'websocket',
          body: null,
        },
        handler,
      );
    } catch (err) {
      handler.onResponseError(null, err as Error);
    }
  }

  const allowed: ReadonlySet<string> = new Set(opts.allowedMethods);
  const allow = opts.allowedMethods.join(', ');
  const retry = opts.upstreamRetry === 'on';
  const hosts = opts.allowedHosts;
  const origins = opts.allowedOrigins;

  const server = createServer(
    {
      // A `GET` asking for `websocket` is tunnelled; any other Upgrade (h2c, …) is served as an ordinary
      // request with the hop-by-hop Upgrade removed, so no other protocol can be opened to the upstream.
      shouldUpgradeCallback: (req: IncomingMessage) => isWebSocketUpgrade(req.method, req.headers.upgrade),
      headersTimeout: opts.clientHeadersTimeoutMs,
      requestTimeout: opts.clientRequestTimeoutMs,
      keepAliveTimeout: opts.clientKeepAliveTimeoutMs,
      maxHeaderSize: opts.maxHeaderSize,
      // Node checks header/request timeouts on this period; keep it well under the shortest timeout.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(opts.clientHeadersTimeoutMs / 4))),
      noDelay: true,
      // A request without Content-Length or Transfer-Encoding has no body (RFC 9112 §6.3): Node then gives
      // it an already-ended stream instead of dumping it through the Readable life cycle after the response.
      optimizeEmptyRequests: true,
    },
    onRequest,
  );
  server.maxConnections = opts.maxConnections;
  server.on('drop', () => state.reportError('connection_limit'));
  server.on('upgrade', onUpgrade);
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    // CONNECT tunnels are a forward-proxy feature: never open one to the upstream.
    state.reportError('bad_request', ErrorAnswers.SIDECAR_E_METHOD_NOT_ALLOWED);
    rawReject(socket, ErrorAnswers.SIDECAR_E_METHOD_NOT_ALLOWED.status);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    state.reportError('client_error', err);
    const inProgress = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (inProgress?.writableEnded === true && socket.writable) {
      // The request was already refused (e.g. a Transfer-Encoding the policy turned away) and its answer is
      // written: let it flush, then close.
      socket.end();
      return;
    }
    if (err.code === 'ECONNRESET' || !socket.writable || inProgress?.headersSent === true) {
      socket.destroy();
      return;
    }
    rawReject(socket, parserRefusal(err.code).status);
  });

  let closing: Promise<void> | undefined;

  return {
    server,
    state,
    listen() {
      return listenOn(server, opts.listen);
    },
    close(graceMs: number) {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        state.closeStreams();
        server.closeIdleConnections();
        // While draining, connections that finish their response become idle: close them as they do.
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        });
        await Promise.race([state.whenIdle(), grace]);
        clearTimeout(timer);
        clearInterval(sweep);
        server.closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
}
