/**
 * Proxies protocol upgrades (WebSocket): the upgrade request goes upstream through undici; on `101` the
 * two sockets are joined byte for byte (frames, pings and close codes pass untouched). An upstream that
 * refuses the upgrade gets its ordinary response relayed on the raw client socket, which is then closed.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Exchange } from '../observe/exchange.ts';
import { HOP_BY_HOP, rawResponseHead } from './headers.ts';
import type { ProxyState } from './state.ts';
import { classifyUpstreamError, ERROR_RESPONSES } from './upstream-errors.ts';
import { claimUpstreamSocket, socketError, type UpstreamSocketClaimant } from './upstream-socket.ts';

type Controller = Dispatcher.DispatchController;
type Headers = Record<string, string | string[] | undefined>;

/** Longest wait for the FIN of one side of a tunnel to be flushed to the other before both are closed. */
export const HALF_CLOSE_GRACE_MS = 5000;

function halfClosed(from: Duplex, to: Duplex): void {
  const timer = setTimeout(() => {
    to.destroy();
    from.destroy();
  }, HALF_CLOSE_GRACE_MS);
  timer.unref();
  to.end(() => {
    clearTimeout(timer);
    to.destroy();
    from.destroy();
  });
}

export class UpgradeHandler implements Dispatcher.DispatchHandler, UpstreamSocketClaimant {
  readonly #ex: Exchange;
  readonly #client: Duplex;
  readonly #head: Buffer;
  readonly #state: ProxyState;
  #controller: Controller | null = null;
  #upstream: Duplex | null = null;
  #responded = false;
  #ended = false;
  /** The upstream socket of a refused upgrade's answer (upstream-socket.ts), until it ends. */
  #answerSocket: Duplex | null = null;
  /** The relayed answer of a refused upgrade carries a Content-Length (else it is close-delimited). */
  #answerSized = false;

  constructor(ex: Exchange, req: IncomingMessage, client: Duplex, head: Buffer, state: ProxyState) {
    this.#ex = ex;
    this.#client = client;
    this.#head = head;
    this.#state = state;
    ex.requestBytes = 0;
    client.on('error', () => this.#finish());
    client.on('close', () => this.#finish());
    void req;
  }

  onRequestStart(controller: Controller): void {
    this.#controller = controller;
    if (this.#client.destroyed) controller.abort(new Error('client went away'));
    else claimUpstreamSocket(this);
  }

  get claimedMethod(): string {
    return this.#ex.method;
  }

  get claimedPath(): string {
    return this.#ex.url;
  }

  upstreamSocket(socket: Duplex): void {
    this.#answerSocket = socket;
  }

  onRequestUpgrade(_controller: Controller, statusCode: number, headers: Headers, upstream: Duplex): void {
    const ex = this.#ex;
    const client = this.#client;
    this.#answerSocket = null;
    this.#upstream = upstream;
    if (client.destroyed) {
      upstream.destroy();
      return;
    }
    this.#responded = true;
    ex.status = statusCode;
    ex.responseHeaders = headers;
    ex.headersTime = performance.now();
    ex.stream = 'websocket';
    this.#state.health.observe(true);
    this.#state.streams.add(this);
    client.write(rawResponseHead(statusCode, 'Switching Protocols', headers));
    if (this.#head.length > 0) {
      ex.requestBytes += this.#head.length;
      upstream.write(this.#head);
    }
    this.#state.bus.response(ex);
    upstream.on('data', (chunk: Buffer) => {
      ex.responseBytes += chunk.length;
    });
    client.on('data', (chunk: Buffer) => {
      ex.requestBytes += chunk.length;
    });
    upstream.pipe(client, { end: false });
    client.pipe(upstream, { end: false });
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    // A WebSocket has its own closing handshake: a TCP half-close (FIN) from either side ends the tunnel.
    // Pass the FIN on, then close both once it is flushed — or after a grace period, so that a peer that
    // never reads and never closes (a hostile upstream) cannot hold two sockets open forever.
    upstream.on('end', () => halfClosed(upstream, client));
    client.on('end', () => halfClosed(client, upstream));
  }

  onResponseStart(controller: Controller, status: number, headers: Headers, statusText?: string): void {
    // The upstream answered without switching protocols: relay that answer and close.
    if (this.#client.destroyed) {
      controller.abort(new Error('client went away'));
      return;
    }
    const out: Headers = {};
    for (const name in headers) if (!HOP_BY_HOP.has(name)) out[name] = headers[name];
    out['connection'] = 'close';
    this.#answerSized = out['content-length'] !== undefined;
    this.#responded = true;
    this.#ex.status = status;
    this.#ex.responseHeaders = headers;
    this.#ex.headersTime = performance.now();
    this.#state.health.observe(true);
    this.#client.write(rawResponseHead(status, statusText ?? '', out));
    this.#state.bus.response(this.#ex);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.#ex.responseBytes += chunk.length;
    if (!this.#client.write(chunk)) {
      controller.pause();
      this.#client.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(controller: Controller): void {
    // A close-delimited answer ended by a reset is not complete (upstream-socket.ts).
    const reset = socketError(this.#answerSocket);
    this.#answerSocket = null;
    if (reset !== null) return this.onResponseError(controller, reset);
    this.#client.end();
  }

  onResponseError(_controller: Controller | null, err: Error): void {
    this.#answerSocket = null;
    const client = this.#client;
    if (client.destroyed) return;
    if (this.#responded) {
      this.#ex.outcome = 'upstream_aborted';
      this.#state.reportError('upstream_aborted', err);
      // The relayed answer is close-delimited unless it carries a Content-Length: a FIN would make it
      // look complete, so the client's connection is reset. A broken tunnel (no close frame) is visible as such.
      if (this.#upstream === null && !this.#answerSized && client instanceof Socket) client.resetAndDestroy();
      else client.destroy();
      return;
    }
    const outcome = classifyUpstreamError(err);
    this.#ex.outcome = outcome;
    if (outcome === 'upstream_unavailable') this.#state.health.observe(false);
    this.#state.reportError(outcome, err);
    const answer = ERROR_RESPONSES[outcome];
    this.#responded = true;
    this.#ex.status = answer.status;
    this.#ex.headersTime = performance.now();
    this.#state.bus.response(this.#ex);
    const head = rawResponseHead(answer.status, STATUS_CODES[answer.status] ?? '', {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(answer.body)),
      connection: 'close',
    });
    client.end(head + answer.body);
  }

  closeForShutdown(): void {
    this.#upstream?.destroy();
    this.#client.destroy();
  }

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    const ex = this.#ex;
    if (!this.#responded && ex.outcome === 'ok') ex.outcome = 'client_abort';
    if (this.#upstream === null) this.#controller?.abort(new Error('client went away'));
    else this.#upstream.destroy();
    ex.endTime = performance.now();
    if (ex.stream !== undefined) this.#state.streams.delete(this);
    this.#state.exchangeEnded(ex);
  }
}
