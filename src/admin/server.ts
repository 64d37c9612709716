/**
 * The metrics port: its own `node:http` server, separate from the proxy port. It never proxies.
 *
 * | path       | auth   | answer |
 * | ---------- | ------ | ------ |
 * | `/metrics` | bearer (and a client certificate with `--metrics-client-ca`) | the exposition: OpenMetrics 1.0.0 when `Accept` prefers it, else text 0.0.4 (gzip when asked), collected in full, then written in slices, chunked (sliced-answer.ts); 500 when collection fails; 401 without the right token, 403 without a trusted client certificate |
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
 * The port has its own small limits ({@link METRICS_PORT_LIMITS}, connections.ts): every connection whose
 * peer is silent, slow or half-closed is reclaimed within seconds, at most 256 are held, and at the limit
 * the oldest idle one gives way to a new one — so a flood of idle connections can neither exhaust the
 * process's descriptors nor keep a scrape or a probe out. A request with more than one `Authorization`
 * header is refused (400): which one counts would otherwise depend on the parser.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { HostPort } from '../config/values.ts';
import { type ErrorAnswer, ErrorAnswers, parserRefusal } from '../errors.ts';
import { CONTENT_TYPES, negotiateFormat, type CollectedScrape, type ExpositionFormat } from '../exporters/prometheus.ts';
import { ConnectionGuard, METRICS_PORT_LIMITS, type ConnectionShedReason, type MetricsPortLimits } from './connections.ts';
import type { TlsFiles } from './tls.ts';
import { type TokenSource, verifyBearer } from './token.ts';
import { listenOn } from '../listen.ts';
import { PieceReuse } from './gzip-pieces.ts';
import { writeSliced, type WrittenAnswer } from './sliced-answer.ts';
import { isStatusAsset, refuseStatusJson, serveStatusAsset, serveStatusJson, STATUS_JSON_PATH } from './status-page.ts';

/** Why a /metrics request was refused (never the credentials themselves). */
export type AuthFailureReason = 'missing' | 'invalid' | 'ambiguous' | 'client_certificate';

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
  /** Called when a connection is closed to admit another, or refused at the limit (connections.ts). */
  readonly onConnectionShed?: (reason: ConnectionShedReason) => void;
  /** The port's bounds. @default METRICS_PORT_LIMITS */
  readonly limits?: MetricsPortLimits;
  /** The snapshot of `/status.json` (status-json.ts); `undefined` serves no status page. */
  readonly status?: () => Promise<unknown>;
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
  /** Connections held now. */
  connections(): number;
  close(): Promise<void>;
}

function plain(res: ServerResponse, answer: ErrorAnswer | { readonly status: 200; readonly body: string }, extra?: Record<string, string>): void {
  res.writeHead(answer.status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...extra });
  res.end(answer.body);
}

const OK = { status: 200, body: 'ok\n' } as const;
const READY = { status: 200, body: 'ready\n' } as const;

/** Answers a request Node's parser refused, then destroys the connection (at the latest after `flushMs`). */
function refuseConnection(socket: Duplex, answer: ErrorAnswer, flushMs: number): void {
  const timer = setTimeout(() => socket.destroy(), flushMs);
  timer.unref();
  socket.end(
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(answer.body)}\r\n\r\n${answer.body}`,
    () => {
      clearTimeout(timer);
      socket.destroy();
    },
  );
}

function acceptsGzip(req: IncomingMessage): boolean {
  const ae = req.headers['accept-encoding'];
  return ae !== undefined && /(?:^|,)\s*gzip\s*(?:;\s*q=(?!0(?:\.0*)?\s*(?:,|$))[\d.]+)?\s*(?:,|$)/i.test(ae);
}

export function createAdminServer(opts: AdminOptions): AdminServer {
  const requireClientCert = opts.tls?.paths.clientCa !== undefined;
  const limits = opts.limits ?? METRICS_PORT_LIMITS;
  const guard = new ConnectionGuard(limits.maxConnections, opts.onConnectionShed);
  /** The last complete gzip answer's pieces, per format (gzip-pieces.ts): unchanged slices are not compressed again. */
  const reuse: Record<ExpositionFormat, PieceReuse> = { text: new PieceReuse(), openmetrics: new PieceReuse() };

  /** Checks the credentials of /metrics and /status.json; a refusal is reported (never the credentials). */
  function refused(req: IncomingMessage): AuthFailureReason | undefined {
    let reason: AuthFailureReason | undefined;
    if (requireClientCert && (req.socket as TLSSocket).authorized !== true) reason = 'client_certificate';
    else if (opts.token !== null && !verifyBearer(req.headers.authorization, opts.token))
      reason = req.headers.authorization === undefined ? 'missing' : 'invalid';
    if (reason !== undefined) opts.onAuthFailure?.(req.socket.remoteAddress, reason);
    return reason;
  }

  async function metrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reason = refused(req);
    if (reason === 'client_certificate') return plain(res, ErrorAnswers.SIDECAR_E_CLIENT_CERTIFICATE_REQUIRED);
    if (reason !== undefined) return plain(res, ErrorAnswers.SIDECAR_E_UNAUTHORIZED, { 'www-authenticate': 'Bearer realm="metrics"' });
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
      plain(res, ErrorAnswers.SIDECAR_E_COLLECT);
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
    const written = await writeSliced(res, scraped.slices, gzip, gzip ? reuse[format] : undefined);
    return { ...written, format, gzip, durationMs: performance.now() - start };
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    guard.requestStarted(req.socket, res);
    const authorization = req.headersDistinct['authorization'];
    if (authorization !== undefined && authorization.length > 1) {
      opts.onAuthFailure?.(req.socket.remoteAddress, 'ambiguous');
      return plain(res, ErrorAnswers.SIDECAR_E_AMBIGUOUS_AUTHORIZATION, { connection: 'close' });
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const status = opts.status;
    const statusPath = status !== undefined && (path === STATUS_JSON_PATH || isStatusAsset(path));
    const known = path === '/metrics' || path === '/healthz' || path === '/readyz' || statusPath;
    if (!known) return plain(res, ErrorAnswers.SIDECAR_E_NOT_FOUND);
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, ErrorAnswers.SIDECAR_E_METRICS_METHOD_NOT_ALLOWED, { allow: 'GET, HEAD' });
    if (path === '/healthz') return plain(res, OK);
    if (path === '/readyz') return plain(res, opts.ready() ? READY : ErrorAnswers.SIDECAR_E_NOT_READY);
    if (statusPath && path !== STATUS_JSON_PATH) return serveStatusAsset(req, res, path);
    if (status !== undefined && path === STATUS_JSON_PATH) {
      const reason = refused(req);
      if (reason !== undefined)
        return refuseStatusJson(
          res,
          reason === 'client_certificate' ? ErrorAnswers.SIDECAR_E_STATUS_CLIENT_CERTIFICATE_REQUIRED : ErrorAnswers.SIDECAR_E_STATUS_UNAUTHORIZED,
        );
      status()
        .then((snapshot) => serveStatusJson(req, res, snapshot, acceptsGzip(req)))
        .catch((err: unknown) => {
          opts.onScrapeError?.(err);
          if (!res.headersSent) plain(res, ErrorAnswers.SIDECAR_E_STATUS_COLLECT);
          else res.destroy();
        });
      return;
    }
    metrics(req, res).catch((err: unknown) => {
      opts.onScrapeError?.(err);
      if (!res.headersSent) plain(res, ErrorAnswers.SIDECAR_E_COLLECT);
      else res.destroy();
    });
  }

  const http = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node checks the head and request timeouts on this period (30 s by default): keep it under the timeout.
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    maxHeaderSize: 16 * 1024,
  };
  const tls = opts.tls;
  let server: Server;
  if (tls === undefined) {
    server = createServer(http, onRequest);
  } else {
    const https: HttpsServer = createHttpsServer(
      { ...http, ...tls.options, handshakeTimeout: limits.handshakeTimeoutMs, requestCert: requireClientCert, rejectUnauthorized: false },
      onRequest,
    );
    // Before the TLS listener wraps the socket: a renewed certificate is used from this very connection on.
    https.prependListener('connection', () => {
      const next = tls.check();
      if (next !== undefined) https.setSecureContext(next);
    });
    // A plain-HTTP request, a failed or timed-out handshake on the TLS port: close quietly.
    https.on('tlsClientError', (_err: Error, socket: Socket) => socket.destroy());
    server = https;
  }
  // Before the HTTP or TLS server sees a connection: admitted, or room made for it (connections.ts).
  server.prependListener('connection', (socket: Socket) => guard.admit(socket));
  // Without a byte read or written for this long (a client that never reads its answer), a connection is destroyed.
  server.timeout = limits.idleTimeoutMs;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable || guard.isBusy(socket as Socket)) {
      socket.destroy();
      return;
    }
    refuseConnection(socket, parserRefusal(err.code), limits.refusalFlushMs);
  });
  return {
    server,
    listen() {
      return listenOn(server, opts.listen);
    },
    connections() {
      return guard.size;
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        guard.closeAll();
      });
    },
  };
}
