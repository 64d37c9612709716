/**
 * The metrics port: its own `node:http` server, separate from the proxy port. It never proxies.
 *
 * | path       | auth   | answer |
 * | ---------- | ------ | ------ |
 * | `/metrics` | bearer (and a client certificate with `--metrics-client-ca`) | the exposition: OpenMetrics 1.0.0 when `Accept` prefers it, else text 0.0.4 (gzip when asked), collected in full, then written in slices, chunked (sliced-answer.ts); 500 when collection fails; 401 without the right token, 403 without a trusted client certificate |
 * | `/healthz` | none   | 200 while the process runs |
 * | `/readyz`  | none   | 200 when the upstream answered the last probe and the sidecar is not draining, else 503 |
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
import type { HostPort } from '../config/values.ts';
import { CONTENT_TYPES, negotiateFormat, type CollectedScrape, type ExpositionFormat } from '../exporters/prometheus.ts';
import type { TlsFiles } from './tls.ts';
import { type TokenSource, verifyBearer } from './token.ts';
import { listenOn } from '../listen.ts';
import { writeSliced, type WrittenAnswer } from './sliced-answer.ts';

/** Most connections the metrics port holds at once (Prometheus needs one or two, probes a few). */
export const METRICS_MAX_CONNECTIONS = 256;

/** Why a /metrics request was refused (never the credentials themselves). */
export type AuthFailureReason = 'missing' | 'invalid' | 'client_certificate';

export interface AdminOptions {
  readonly listen: HostPort;
  /** Token source; `null` serves /metrics without auth (explicit opt-out). */
  readonly token: TokenSource | null;
  /**
   * Collects the exposition in the format the request negotiated (`Accept`); resolves to its slices
   * (serialised as they are taken, written one by one: sliced-answer.ts), rejects when collection fails.
   */
  readonly scrape: (format: ExpositionFormat) => Promise<CollectedScrape>;
  /** Whether the sidecar is ready (upstream answered the last probe, not draining). */
  readonly ready: () => boolean;
  /** Called for each rejected /metrics request (the presented credentials are never passed on). */
  readonly onAuthFailure?: (remoteAddress: string | undefined, reason: AuthFailureReason) => void;
  /** Serve HTTPS with these files (re-read when they change); `undefined` serves plain HTTP. */
  readonly tls?: TlsFiles | undefined;
  /** Called when a scrape fails. */
  readonly onScrapeError?: (err: unknown) => void;
  /** Debugging (`--debug-scrape-timing`, scrape-timing.ts): times every /metrics request that passed auth. */
  readonly scrapeTimer?: ScrapeTimer | undefined;
}

/** Times /metrics answers: `start` when a request passed auth; what it returns when its answer has ended. */
export interface ScrapeTimer {
  /** @returns called once the answer has ended, with what was written (`undefined`: a 500 or HEAD answer). */
  start(): (answer: ScrapeAnswer | undefined) => void;
}

/** One /metrics answer with a body, as a {@link ScrapeTimer} is told of it. */
export interface ScrapeAnswer extends WrittenAnswer {
  readonly format: ExpositionFormat;
  readonly gzip: boolean;
  /** From the request's arrival at the handler to the answer's end, collection included. */
  readonly durationMs: number;
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

  async function metrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (requireClientCert && (req.socket as TLSSocket).authorized !== true) {
      opts.onAuthFailure?.(req.socket.remoteAddress, 'client_certificate');
      plain(res, 403, 'Forbidden: a trusted client certificate is required\n');
      return;
    }
    if (opts.token !== null && !verifyBearer(req.headers.authorization, opts.token)) {
      opts.onAuthFailure?.(req.socket.remoteAddress, req.headers.authorization === undefined ? 'missing' : 'invalid');
      plain(res, 401, 'Unauthorized\n', { 'www-authenticate': 'Bearer realm="metrics"' });
      return;
    }
    const done = opts.scrapeTimer?.start();
    let answered: ScrapeAnswer | undefined;
    try {
      answered = await exposition(req, res);
    } finally {
      done?.(answered);
    }
  }

  /** The exposition's answer; what was written, or `undefined` for an answer without one (500, HEAD). */
  async function exposition(req: IncomingMessage, res: ServerResponse): Promise<ScrapeAnswer | undefined> {
    const format = negotiateFormat(req.headers.accept);
    const start = performance.now();
    // Collected in full before any header: a failed collection still answers 500.
    let scraped: CollectedScrape;
    try {
      scraped = await opts.scrape(format);
    } catch (err) {
      opts.onScrapeError?.(err);
      plain(res, 500, 'metrics collection failed\n');
      return undefined;
    }
    const gzip = acceptsGzip(req);
    const headers: Record<string, string> = { 'content-type': CONTENT_TYPES[format], 'cache-control': 'no-store', vary: 'Accept, Accept-Encoding' };
    if (gzip) headers['content-encoding'] = 'gzip';
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end(); // the same head, nothing serialised
      return undefined;
    }
    const written = await writeSliced(res, scraped.slices, gzip);
    return { ...written, format, gzip, durationMs: performance.now() - start };
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
