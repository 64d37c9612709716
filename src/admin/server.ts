/**
 * The metrics port: its own `node:http` server, separate from the proxy port. It never proxies.
 *
 * | path       | auth   | answer |
 * | ---------- | ------ | ------ |
 * | `/metrics` | bearer (and a client certificate with `--metrics-client-ca`) | the Prometheus exposition (gzip when asked); 401 without the right token, 403 without a trusted client certificate |
 * | `/healthz` | none   | 200 while the process runs |
 * | `/readyz`  | none   | 200 when the upstream answered the last probe and the sidecar is not draining, else 503 |
 * | `/status`, `/status/app.js`, `/status/app.css` | none (they hold no data) | the status page (status-page.ts) |
 * | `/status.json` | as `/metrics` | what the sidecar sees now, for the status page (status-json.ts) |
 * | other      | none   | 404 |
 *
 * With TLS (`tls`), the port speaks HTTPS only. A client CA asks every client for a certificate but does
 * not fail the handshake without one: kubelet's HTTPS probes cannot present one, so `/healthz` and
 * `/readyz` stay reachable, and only `/metrics` requires it (checked per request, before the token).
 *
 * The port has its own small limits (head within 10 s, at most {@link METRICS_MAX_CONNECTIONS} connections),
 * so a flood of idle connections to it cannot exhaust the process's descriptors.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { HostPort } from '../config/values.ts';
import { PROMETHEUS_CONTENT_TYPE } from '../exporters/prometheus.ts';
import type { TlsFiles } from './tls.ts';
import { type TokenSource, verifyBearer } from './token.ts';
import { listenOn } from '../listen.ts';
import { isStatusAsset, refuseStatusJson, serveStatusAsset, serveStatusJson, STATUS_JSON_PATH } from './status-page.ts';

const gzipAsync = promisify(gzip);

/** Most connections the metrics port holds at once (Prometheus needs one or two, probes a few). */
export const METRICS_MAX_CONNECTIONS = 256;

/** Why a /metrics request was refused (never the credentials themselves). */
export type AuthFailureReason = 'missing' | 'invalid' | 'client_certificate';

export interface AdminOptions {
  readonly listen: HostPort;
  /** Token source; `null` serves /metrics without auth (explicit opt-out). */
  readonly token: TokenSource | null;
  /** Produces the exposition text. */
  readonly scrape: () => Promise<string>;
  /** Whether the sidecar is ready (upstream answered the last probe, not draining). */
  readonly ready: () => boolean;
  /** Called for each rejected /metrics request (the presented credentials are never passed on). */
  readonly onAuthFailure?: (remoteAddress: string | undefined, reason: AuthFailureReason) => void;
  /** Serve HTTPS with these files (re-read when they change); `undefined` serves plain HTTP. */
  readonly tls?: TlsFiles | undefined;
  /** Called when a scrape fails. */
  readonly onScrapeError?: (err: unknown) => void;
  /** The snapshot of `/status.json` (status-json.ts); `undefined` serves no status page. */
  readonly status?: () => Promise<unknown>;
}

export interface AdminServer {
  readonly server: Server;
  listen(): Promise<AddressInfo>;
  close(): Promise<void>;
}

function plain(res: ServerResponse, status: number, body: string, extra?: Record<string, string>): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...extra });
  res.end(body);
}

function acceptsGzip(req: IncomingMessage): boolean {
  const ae = req.headers['accept-encoding'];
  return ae !== undefined && /(?:^|,)\s*gzip\s*(?:;\s*q=(?!0(?:\.0*)?\s*(?:,|$))[\d.]+)?\s*(?:,|$)/i.test(ae);
}

export function createAdminServer(opts: AdminOptions): AdminServer {
  const requireClientCert = opts.tls?.paths.clientCa !== undefined;

  /** Checks the credentials of /metrics and /status.json; a refusal is reported (never the credentials). */
  function refused(req: IncomingMessage): AuthFailureReason | undefined {
    let reason: AuthFailureReason | undefined;
    if (requireClientCert && (req.socket as TLSSocket).authorized !== true) reason = 'client_certificate';
    else if (opts.token !== null && !verifyBearer(req.headers.authorization, opts.token)) reason = req.headers.authorization === undefined ? 'missing' : 'invalid';
    if (reason !== undefined) opts.onAuthFailure?.(req.socket.remoteAddress, reason);
    return reason;
  }

  async function metrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reason = refused(req);
    if (reason === 'client_certificate') return plain(res, 403, 'Forbidden: a trusted client certificate is required\n');
    if (reason !== undefined) return plain(res, 401, 'Unauthorized\n', { 'www-authenticate': 'Bearer realm="metrics"' });
    let text: string;
    try {
      text = await opts.scrape();
    } catch (err) {
      opts.onScrapeError?.(err);
      plain(res, 500, 'metrics collection failed\n');
      return;
    }
    const headers: Record<string, string> = { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store', vary: 'Accept-Encoding' };
    let body: Buffer | string = text;
    if (acceptsGzip(req)) {
      body = await gzipAsync(text);
      headers['content-encoding'] = 'gzip';
    }
    headers['content-length'] = String(Buffer.byteLength(body));
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const status = opts.status;
    const statusPath = status !== undefined && (path === STATUS_JSON_PATH || isStatusAsset(path));
    const known = path === '/metrics' || path === '/healthz' || path === '/readyz' || statusPath;
    if (!known) return plain(res, 404, 'Not Found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'Method Not Allowed\n', { allow: 'GET, HEAD' });
    if (path === '/healthz') return plain(res, 200, 'ok\n');
    if (path === '/readyz') return opts.ready() ? plain(res, 200, 'ready\n') : plain(res, 503, 'not ready\n');
    if (statusPath && path !== STATUS_JSON_PATH) return serveStatusAsset(req, res, path);
    if (status !== undefined && path === STATUS_JSON_PATH) {
      const reason = refused(req);
      if (reason !== undefined) return refuseStatusJson(res, reason === 'client_certificate' ? 403 : 401);
      status()
        .then((snapshot) => serveStatusJson(req, res, snapshot, acceptsGzip(req)))
        .catch((err: unknown) => {
          opts.onScrapeError?.(err);
          if (!res.headersSent) plain(res, 500, 'status collection failed\n');
          else res.destroy();
        });
      return;
    }
    metrics(req, res).catch((err: unknown) => {
      opts.onScrapeError?.(err);
      if (!res.headersSent) plain(res, 500, 'metrics collection failed\n');
      else res.destroy();
    });
  }

  const limits = { headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 65_000, maxHeaderSize: 16 * 1024 };
  const tls = opts.tls;
  let server: Server;
  if (tls === undefined) {
    server = createServer(limits, onRequest);
  } else {
    const https: HttpsServer = createHttpsServer({ ...limits, ...tls.options, requestCert: requireClientCert, rejectUnauthorized: false }, onRequest);
    // Before the TLS listener wraps the socket: a renewed certificate is used from this very connection on.
    https.prependListener('connection', () => {
      const next = tls.check();
      if (next !== undefined) https.setSecureContext(next);
    });
    // A plain-HTTP request or a failed handshake on the TLS port: close quietly.
    https.on('tlsClientError', (_err: Error, socket: Socket) => socket.destroy());
    server = https;
  }
  server.maxConnections = METRICS_MAX_CONNECTIONS;
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  return {
    server,
    listen() {
      return listenOn(server, opts.listen);
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
