/**
 * One retry, on a fresh connection, of an idempotent request without a body whose connection the upstream
 * closed or reset before sending any byte of a response — the race of a pooled keep-alive connection that
 * the upstream closes just as a request is written on it (nginx's `proxy_next_upstream error` and RFC 9110
 * §9.2.2, which lets a client retry idempotent requests automatically).
 *
 * - Only `GET`, `HEAD`, `OPTIONS`, `PUT` and `DELETE` with no body (`DISPATCH` carried `body: null`); never
 *   `POST` or `PATCH`, never an upgrade, never after a response started, never twice, never once the
 *   client has gone away, never for a timeout or a refused connection (nothing was written: the next
 *   attempt would meet the same closed port).
 * - The retry is invisible to everything downstream: the wrapped handler sees one request, so the exchange
 *   is counted once, with the outcome of the attempt that answered. Each retry is reported as
 *   `sidecar_proxy_errors_total{kind="upstream_retried"}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { ProxyState } from './state.ts';

type Controller = Dispatcher.DispatchController;
type Headers = Record<string, string | string[] | undefined>;

/** RFC 9110 §9.2.2 idempotent methods the proxy may resend (`TRACE` is not forwarded by default anyway). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** Errors meaning "the connection closed under the request", as opposed to timeouts or refusals. */
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

/** Whether a request may be retried at all (the error is judged later). */
export function isRetryable(method: string, hasBody: boolean): boolean {
  return !hasBody && IDEMPOTENT.has(method);
}

/** Whether an upstream error is a connection closed or reset under the request. */
export function isConnectionReset(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RESET_CODES.has(code);
}

/**
 * Wraps a dispatch handler; pass it to `dispatcher.dispatch(options, handler)`. It holds references, not
 * closures, so that wrapping costs one object per request on the proxy's hot path.
 */
export class RetryOnReset implements Dispatcher.DispatchHandler {
  readonly #inner: Dispatcher.DispatchHandler;
  readonly #dispatcher: Dispatcher;
  readonly #options: Dispatcher.DispatchOptions;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #state: ProxyState;
  #responded = false;
  #retried = false;

  constructor(
    inner: Dispatcher.DispatchHandler,
    dispatcher: Dispatcher,
    options: Dispatcher.DispatchOptions,
    req: IncomingMessage,
    res: ServerResponse,
    state: ProxyState,
  ) {
    this.#inner = inner;
    this.#dispatcher = dispatcher;
    this.#options = options;
    this.#req = req;
    this.#res = res;
    this.#state = state;
  }

  /** The client is gone: its request is no longer worth resending. */
  #clientGone(): boolean {
    return this.#res.destroyed || this.#req.socket.destroyed;
  }

  onRequestStart(controller: Controller, context: unknown): void {
    this.#inner.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(controller: Controller, statusCode: number, headers: Headers, socket: Duplex): void {
    this.#responded = true;
    this.#inner.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(controller: Controller, statusCode: number, headers: Headers, statusMessage?: string): void {
    this.#responded = true;
    this.#inner.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.#inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Controller, trailers: Headers): void {
    this.#inner.onResponseEnd?.(controller, trailers);
  }

  onBodySent(chunk: Buffer): void {
    this.#inner.onBodySent?.(chunk);
  }

  onRequestSent(): void {
    this.#inner.onRequestSent?.();
  }

  onResponseError(controller: Controller, err: Error): void {
    if (this.#responded || this.#retried || !isConnectionReset(err) || this.#clientGone()) {
      this.#inner.onResponseError?.(controller, err);
      return;
    }
    this.#retried = true;
    this.#state.reportError('upstream_retried', err);
    // Not from inside the failing connection's callback: let undici finish tearing it down first.
    setImmediate(resend, this, controller, err);
  }

  /** Sends the request again (once), unless the client has gone meanwhile. */
  resend(controller: Controller, err: Error): void {
    if (this.#clientGone()) {
      this.#inner.onResponseError?.(controller, err);
      return;
    }
    try {
      this.#dispatcher.dispatch(this.#options, this);
    } catch (again) {
      this.#inner.onResponseError?.(controller, again as Error);
    }
  }
}

function resend(handler: RetryOnReset, controller: Controller, err: Error): void {
  handler.resend(controller, err);
}
