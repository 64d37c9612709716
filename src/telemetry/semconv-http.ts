/**
 * HTTP semantic conventions (stable, semconv 1.45) for the proxy port: the attribute values shared by the
 * SERVER spans (server-spans.ts) and the `http.server.request.duration` histogram recorded here.
 *
 * The histogram is recorded by hand from the observation bus (observer `semconv_http`) rather than by
 * @opentelemetry/instrumentation-http; docs/telemetry.md gives the measurements behind that choice.
 * Conventions kept from the catalog's families: a long-lived response (SSE, WebSocket) is recorded when its
 * headers go out, with the time to headers; a client that went away has `error.type="client_abort"` and a
 * status code only if the response had started. `http.route` is the normalised endpoint, bounded like every traffic label.
 */
import type { Attributes } from '@opentelemetry/api';
import { normalizeEndpoint } from '../ledger/endpoint.ts';
import type { ObserverHandle, ObserverRegistry } from '../observe/bus.ts';
import type { Exchange } from '../observe/exchange.ts';
import type { BoundedLabel, HistogramOf, Instruments } from './instruments.ts';

export const HTTP_SERVER_DURATION = 'http.server.request.duration';

/** Methods the HTTP conventions know; others are recorded as `_OTHER`. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);

/** `http.request.method`: the method when the conventions know it, else `_OTHER`. */
export function semconvMethod(method: string): string {
  return KNOWN_METHODS.has(method) ? method : '_OTHER';
}

/**
 * `error.type` of an exchange, or `undefined` when it did not fail: the proxy's outcome when it is not
 * `ok` (`upstream_unavailable`, `upstream_timeout`, `upstream_aborted`, `client_abort`, `bad_request`),
 * else the status code of a 5xx answer.
 */
export function exchangeErrorType(ex: Exchange): string | undefined {
  if (ex.outcome !== 'ok') return ex.outcome;
  return ex.status >= 500 ? String(ex.status) : undefined;
}

/** Records `http.server.request.duration` from the observation bus. */
export class HttpServerDuration {
  readonly #duration: HistogramOf<typeof HTTP_SERVER_DURATION>;
  readonly #route: BoundedLabel;

  constructor(instruments: Instruments) {
    this.#duration = instruments.histogram(HTTP_SERVER_DURATION);
    this.#route = instruments.label(HTTP_SERVER_DURATION, 'http.route');
  }

  /** Registers on the observation bus as `semconv_http`. */
  register(bus: ObserverRegistry<never>): ObserverHandle {
    return bus.register('semconv_http', {
      onResponse: (ex) => {
        if (ex.stream !== undefined) this.#record(ex, ex.headersTime);
      },
      onEnd: (ex) => {
        if (ex.stream === undefined) this.#record(ex, ex.endTime);
      },
    });
  }

  #record(ex: Exchange, until: number): void {
    const attrs: Attributes = {
      'http.request.method': semconvMethod(ex.method),
      'url.scheme': 'http',
      'http.route': this.#route.value(normalizeEndpoint(ex.url)),
      'network.protocol.version': ex.httpVersion,
    };
    if (ex.status !== 0) attrs['http.response.status_code'] = ex.status;
    const errorType = exchangeErrorType(ex);
    if (errorType !== undefined) attrs['error.type'] = errorType;
    this.#duration.record((until - ex.startTime) / 1000, attrs);
  }
}
