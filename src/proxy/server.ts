/**
 * The proxy port: a `node:http` server whose requests are forwarded to the upstream through an undici
 * dispatcher. It owns client-side limits (header and request timeouts, connection cap, header size),
 * rejects what must never reach the upstream (absolute-form targets, CONNECT, malformed HTTP), and
 * drains in order on shutdown.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { HostPort } from '../config/values.ts';
import { Exchange } from './exchange.ts';
import { ForwardHandler } from './forward.ts';
import { upstreamRequestHeaders, withOverrides } from './headers.ts';
import type { ProxyState } from './state.ts';
import { UpgradeHandler } from './upgrade.ts';

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

function rawReject(socket: Duplex, status: number): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}

/** Builds the proxy port; `dispatcher` is the pool to the upstream. */
export function createProxy(opts: ProxyOptions, dispatcher: Dispatcher, state: ProxyState): Proxy {
  const upstreamHost = opts.upstream.host;
  const preserveHost = opts.preserveHost;

  function forwardContext(req: IncomingMessage) {
    return {
      host: preserveHost ? (req.headers.host ?? upstreamHost) : upstreamHost,
      remoteAddress: req.socket.remoteAddress,
      proto: 'http' as const,
    };
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '';
    if (url.charCodeAt(0) !== 47 /* '/' */) {
      // Absolute-form ("GET http://host/ …") and asterisk-form targets are for forward proxies: refuse them.
      state.reportError('bad_request');
      res.writeHead(400, { 'content-type': 'application/json', connection: 'close' });
      res.end('{"error":"bad_request"}');
      return;
    }
    const method = req.method ?? 'GET';
    const ex = new Exchange(method, url, req.headers, performance.now());
    if (req.httpVersion !== '1.1') ex.httpVersion = req.httpVersion;
    res.sendDate = false;
    state.exchangeStarted(ex);
    const handler = new ForwardHandler(ex, req, res, state);
    try {
      dispatcher.dispatch(
        { path: url, method, headers: withOverrides(upstreamRequestHeaders(req.rawHeaders, forwardContext(req)), ex.upstreamHeaders), body: hasBody(req) ? req : null },
        handler,
      );
    } catch (err) {
      handler.onResponseError(null, err as Error);
    }
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = req.url ?? '';
    if (url.charCodeAt(0) !== 47) {
      state.reportError('bad_request');
      rawReject(socket, 400);
      return;
    }
    (socket as Socket).setNoDelay?.(true);
    const method = req.method ?? 'GET';
    const ex = new Exchange(method, url, req.headers, performance.now());
    if (req.httpVersion !== '1.1') ex.httpVersion = req.httpVersion;
    state.exchangeStarted(ex);
    const handler = new UpgradeHandler(ex, req, socket, head, state);
    const upgrade = req.headers.upgrade ?? 'websocket';
    try {
      dispatcher.dispatch(
        { path: url, method, headers: withOverrides(upstreamRequestHeaders(req.rawHeaders, forwardContext(req)), ex.upstreamHeaders), upgrade, body: null },
        handler,
      );
    } catch (err) {
      handler.onResponseError(null, err as Error);
    }
  }

  const server = createServer(
    {
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
  server.on('upgrade', onUpgrade);
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    // CONNECT tunnels are a forward-proxy feature: never open one to the upstream.
    state.reportError('bad_request');
    rawReject(socket, 405);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    state.reportError('client_error', err);
    const inProgress = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || (inProgress !== undefined && inProgress !== null && inProgress.headersSent)) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    rawReject(socket, status);
  });

  let closing: Promise<void> | undefined;

  return {
    server,
    state,
    listen() {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.listen.port, opts.listen.host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
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
