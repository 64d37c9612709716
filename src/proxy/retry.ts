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
 *   is counted once, with the outcome of the attempt that answered. Each retry is reported to
 *   `onRetry` (→ `sidecar_proxy_errors_total{kind="upstream_retried"}`).
 */
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';

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

export interface RetryContext {
  readonly dispatcher: Dispatcher;
  readonly options: Dispatcher.DispatchOptions;
  /** The client is gone: its request is no longer worth resending. */
  readonly clientGone: () => boolean;
  readonly onRetry: (err: Error) => void;
}

/** Wraps a dispatch handler; pass it to `dispatcher.dispatch(ctx.options, handler)`. */
export class RetryOnReset implements Dispatcher.DispatchHandler {
  readonly #inner: Dispatcher.DispatchHandler;
  readonly #ctx: RetryContext;
  #responded = false;
  #retried = false;

  constructor(inner: Dispatcher.DispatchHandler, ctx: RetryContext) {
    this.#inner = inner;
    this.#ctx = ctx;
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
    if (this.#responded || this.#retried || !isConnectionReset(err) || this.#ctx.clientGone()) {
      this.#inner.onResponseError?.(controller, err);
      return;
    }
    this.#retried = true;
    this.#ctx.onRetry(err);
    // Not from inside the failing connection's callback: let undici finish tearing it down first.
    setImmediate(() => {
      if (this.#ctx.clientGone()) {
        this.#inner.onResponseError?.(controller, err);
        return;
      }
      try {
        this.#ctx.dispatcher.dispatch(this.#ctx.options, this);
      } catch (again) {
        this.#inner.onResponseError?.(controller, again as Error);
      }
    });
  }
}
