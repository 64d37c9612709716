/**
 * Forwards one client request to the upstream and streams the response back, using undici's dispatch
 * handler API directly (no intermediate streams): each upstream chunk is written to the client socket as
 * it arrives, and the upstream is paused while the client's socket is full. Request bodies are streamed
 * from the client's IncomingMessage with undici's own back-pressure.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Exchange } from '../observe/exchange.ts';
import { clientResponseHeaders, isEventStream } from './headers.ts';
import { classifyUpstreamError, ERROR_RESPONSES } from './upstream-errors.ts';
import type { HeldHeaders } from './header-hold.ts';
import type { ProxyState } from './state.ts';
import { claimUpstreamSocket, socketError, type UpstreamSocketClaimant } from './upstream-socket.ts';

type Controller = Dispatcher.DispatchController;

const kHandler = Symbol('sidecar.forwardHandler');
type TaggedResponse = ServerResponse & { [kHandler]?: ForwardHandler };

function onClientDrain(this: TaggedResponse): void {
  this[kHandler]?.clientDrained();
}

function onClientClose(this: TaggedResponse): void {
  this[kHandler]?.clientClosed();
}

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' };

/** The dispatch handler of one proxied request. */
export class ForwardHandler implements Dispatcher.DispatchHandler, UpstreamSocketClaimant, HeldHeaders {
  readonly #ex: Exchange;
  readonly #req: IncomingMessage;
  readonly #res: TaggedResponse;
  readonly #state: ProxyState;
  #controller: Controller | null = null;
  /** The client side is closed (finished or aborted); nothing more is written to it. */
  #clientClosed = false;
  /** The upstream side is done (ended, failed or aborted). */
  #upstreamDone = false;
  /** The proxy is closing this stream for shutdown: the upstream abort that follows is not an error. */
  #shuttingDown = false;
  /** `drain` is listened to from the first time the client's socket is full (most responses never fill it). */
  #drainListened = false;
  /** The upstream socket the request was written on (upstream-socket.ts), until the response ends. */
  #upstreamSocket: Duplex | null = null;
  /** Some of the body was written to the client (its headers went out with it). */
  #wroteBody = false;

  constructor(ex: Exchange, req: IncomingMessage, res: ServerResponse, state: ProxyState) {
    this.#ex = ex;
    this.#req = req;
    this.#res = res as TaggedResponse;
    this.#state = state;
    this.#res[kHandler] = this;
    res.on('close', onClientClose);
  }

  onRequestStart(controller: Controller): void {
    this.#controller = controller;
    if (this.#clientClosed) controller.abort(new Error('client went away'));
    else claimUpstreamSocket(this);
  }

  get claimedMethod(): string {
    return this.#ex.method;
  }

  get claimedPath(): string {
    return this.#ex.url;
  }

  upstreamSocket(socket: Duplex): void {
    this.#upstreamSocket = socket;
  }

  onBodySent(chunk: Buffer): void {
    const ex = this.#ex;
    ex.requestBytes += chunk.length;
    if (ex.taps !== undefined) this.#state.bus.tapRequestBody(ex, chunk);
  }

  onResponseStart(controller: Controller, status: number, headers: Record<string, string | string[] | undefined>, statusText?: string): void {
    if (this.#clientClosed) {
      controller.abort(new Error('client went away'));
      return;
    }
    const ex = this.#ex;
    const res = this.#res;
    try {
      res.writeHead(status, statusText === undefined || statusText === '' ? undefined : statusText, clientResponseHeaders(headers));
    } catch (err) {
      // The upstream sent a header Node refuses to write (invalid characters): nothing reached the client yet.
      controller.abort(err as Error);
      return;
    }
    ex.status = status;
    ex.responseHeaders = headers;
    ex.headersTime = performance.now();
    this.#state.health.observe(true);
    if (isEventStream(headers)) {
      ex.stream = 'sse';
      this.#state.heldHeaders.hold(this);
      this.#state.streams.add(this);
    }
    if (ex.taps !== undefined) this.#state.bus.tapResponseStart(ex);
    this.#state.bus.response(ex);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.#clientClosed) return;
    const ex = this.#ex;
    ex.responseBytes += chunk.length;
    if (ex.taps !== undefined) this.#state.bus.tapResponseBody(ex, chunk);
    const res = this.#res;
    this.#wroteBody = true;
    if (!res.write(chunk)) {
      controller.pause();
      if (!this.#drainListened) {
        this.#drainListened = true;
        res.on('drain', onClientDrain);
      }
    }
  }

  onResponseEnd(controller: Controller, trailers: Record<string, string | string[] | undefined>): void {
    // undici ends a close-delimited body at a reset as at a clean close: only a clean close ends it.
    const reset = socketError(this.#upstreamSocket);
    this.#upstreamSocket = null;
    if (reset !== null) return this.onResponseError(controller, reset);
    this.#upstreamDone = true;
    if (this.#clientClosed) return;
    const res = this.#res;
    if (trailers !== null && typeof trailers === 'object') {
      for (const _ in trailers) {
        try {
          res.addTrailers(trailers as Record<string, string>);
        } catch {
          // Trailers Node refuses (or a response that cannot carry them) are dropped, never fatal.
        }
        break;
      }
    }
    res.end();
  }

  onResponseError(_controller: Controller | null, err: Error): void {
    this.#upstreamDone = true;
    this.#upstreamSocket = null;
    if (this.#clientClosed || this.#shuttingDown) return;
    const res = this.#res;
    const ex = this.#ex;
    if (this.#req.destroyed && this.#req.readableAborted) {
      // The client's request body broke off: this is the client going away, not the upstream failing.
      ex.outcome = 'client_abort';
      res.destroy();
      return;
    }
    if (!res.headersSent) {
      const outcome = classifyUpstreamError(err);
      ex.outcome = outcome;
      if (outcome === 'upstream_unavailable') this.#state.health.observe(false);
      this.#state.reportError(outcome, err);
      const answer = ERROR_RESPONSES[outcome];
      res.writeHead(answer.status, { ...JSON_HEADERS, 'content-length': Buffer.byteLength(answer.body), connection: 'close' });
      ex.status = answer.status;
      ex.headersTime = performance.now();
      this.#state.bus.response(ex);
      res.end(answer.body);
      return;
    }
    // Headers (and maybe part of the body) are out: the only honest signal left is a broken connection.
    ex.outcome = 'upstream_aborted';
    this.#state.reportError('upstream_aborted', err);
    // A chunked or Content-Length answer cut short is visibly incomplete. A close-delimited one (to an
    // HTTP/1.0 client) would look complete at a FIN: only a reset says it is not.
    if (this.#req.httpVersion !== '1.1' && !res.hasHeader('content-length') && res.socket !== null) res.socket.resetAndDestroy();
    else res.destroy();
  }

  /** header-hold.ts: the headers of an event stream whose body has not started yet go out on their own. */
  flushIfSilent(): void {
    if (!this.#wroteBody && !this.#clientClosed && !this.#res.writableEnded) this.#res.flushHeaders();
  }

  clientDrained(): void {
    this.#controller?.resume();
  }

  /** The client's response closed: finished normally, or the client went away. */
  clientClosed(): void {
    if (this.#clientClosed) return;
    this.#clientClosed = true;
    const ex = this.#ex;
    const res = this.#res;
    res[kHandler] = undefined;
    if (!res.writableFinished && ex.outcome === 'ok' && !this.#shuttingDown) ex.outcome = 'client_abort';
    if (!this.#upstreamDone) {
      this.#upstreamDone = true;
      this.#controller?.abort(new Error('client went away'));
    }
    ex.endTime = performance.now();
    if (ex.stream !== undefined) this.#state.streams.delete(this);
    this.#state.exchangeEnded(ex);
  }

  /** Ends a long-lived stream for shutdown: the client sees a clean end, the upstream request is aborted. */
  closeForShutdown(): void {
    if (this.#clientClosed) return;
    this.#shuttingDown = true;
    this.#res.end();
    if (!this.#upstreamDone) {
      this.#upstreamDone = true;
      this.#controller?.abort(new Error('sidecar shutting down'));
    }
  }
}
