/**
 * The metrics port: its own `node:http` server, separate from the proxy port. It never proxies.
 *
 * | path       | auth   | answer |
 * | ---------- | ------ | ------ |
 * | `/metrics` | bearer | the Prometheus exposition (gzip when asked); 401 without the right token |
 * | `/healthz` | none   | 200 while the process runs |
 * | `/readyz`  | none   | 200 when the upstream answered the last probe and the sidecar is not draining, else 503 |
 * | other      | none   | 404 |
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { HostPort } from '../config/values.ts';
import { PROMETHEUS_CONTENT_TYPE } from '../exporters/prometheus.ts';
import { type TokenSource, verifyBearer } from './token.ts';

const gzipAsync = promisify(gzip);

export interface AdminOptions {
  readonly listen: HostPort;
  /** Token source; `null` serves /metrics without auth (explicit opt-out). */
  readonly token: TokenSource | null;
  /** Produces the exposition text. */
  readonly scrape: () => Promise<string>;
  /** Whether the sidecar is ready (upstream answered the last probe, not draining). */
  readonly ready: () => boolean;
  /** Called for each rejected /metrics request (the presented credentials are never passed on). */
  readonly onAuthFailure?: (remoteAddress: string | undefined, reason: 'missing' | 'invalid') => void;
  /** Called when a scrape fails. */
  readonly onScrapeError?: (err: unknown) => void;
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
  async function metrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (opts.token !== null && !verifyBearer(req.headers.authorization, opts.token)) {
      opts.onAuthFailure?.(req.socket.remoteAddress, req.headers.authorization === undefined ? 'missing' : 'invalid');
      plain(res, 401, 'Unauthorized\n', { 'www-authenticate': 'Bearer realm="metrics"' });
      return;
    }
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
    const known = path === '/metrics' || path === '/healthz' || path === '/readyz';
    if (!known) return plain(res, 404, 'Not Found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'Method Not Allowed\n', { allow: 'GET, HEAD' });
    if (path === '/healthz') return plain(res, 200, 'ok\n');
    if (path === '/readyz') return opts.ready() ? plain(res, 200, 'ready\n') : plain(res, 503, 'not ready\n');
    metrics(req, res).catch((err: unknown) => {
      opts.onScrapeError?.(err);
      if (!res.headersSent) plain(res, 500, 'metrics collection failed\n');
      else res.destroy();
    });
  }

  const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 65_000, maxHeaderSize: 16 * 1024 }, onRequest);
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  return {
    server,
    listen() {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.listen.port, opts.listen.host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
