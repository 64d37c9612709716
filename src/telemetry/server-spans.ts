/**
 * One SERVER span per proxied request, from the observation bus (observer `server_spans`): started at `start` (with
 * the request head's time), completed and ended at `end` (with the exchange's end time). Per-request
 * state is a WeakMap keyed by the Exchange, so nothing is attached to the proxy's objects.
 *
 * Trace context: the parent is extracted from the client's `traceparent`/`tracestate`, and the span's own
 * context is injected into the upstream request with `Exchange.setUpstreamHeader` (replacing the client's
 * headers), so the composer continues the trace with the sidecar's span as parent. There is no separate
 * CLIENT span for the upstream call: the proxy forwards as it receives, and the SERVER span covers it.
 *
 * Attributes (HTTP semantic conventions, stable): `http.request.method` (+ `http.request.method_original`),
 * `url.scheme`, `http.route` (the normalised endpoint, bounded), `server.address`/`server.port` (from
 * Host), `network.protocol.version`, `http.response.status_code`, `error.type`. Never `url.path`,
 * `url.query`, `url.full` or a header: a raw path can carry resource URIs with credentials, a query string
 * tokens; the route template says the same thing safely.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  defaultTextMapGetter,
  trace,
  type Attributes,
  type Span,
  type SpanContext,
  type TextMapPropagator,
  type TextMapSetter,
  type Tracer,
} from '@opentelemetry/api';
import { normalizeEndpoint, ROUTE_TEMPLATES } from '../ledger/endpoint.ts';
import type { ObserverHandle, ObserverRegistry } from '../observe/bus.ts';
import type { Exchange } from '../observe/exchange.ts';
import { exchangeErrorType, semconvMethod } from './semconv-http.ts';

/** Writes injected trace context as upstream headers of an exchange. */
const exchangeSetter: TextMapSetter<Exchange> = {
  set(ex, key, value) {
    ex.setUpstreamHeader(key, value);
  },
};

export interface ServerSpansOptions {
  readonly tracer: Tracer;
  /** W3C trace context; `undefined` when `OTEL_PROPAGATORS` leaves it out (no extraction, no injection). */
  readonly propagator: TextMapPropagator | undefined;
  /** Distinct routes used in span names and `http.route`; later ones are left out (name = method). @default 200 */
  readonly maxRoutes: number;
}

/** `server.address` and `server.port` from a Host header (`host`, `host:port`, `[v6]:port`). */
function addHost(host: string | undefined, attrs: Attributes): void {
  if (host === undefined || host === '') return;
  let address = host;
  let port = '';
  if (host.charCodeAt(0) === 91 /* [ */) {
    const end = host.indexOf(']');
    if (end === -1) return;
    address = host.slice(1, end);
    if (host.charCodeAt(end + 1) === 58 /* : */) port = host.slice(end + 2);
  } else {
    const colon = host.lastIndexOf(':');
    if (colon !== -1) {
      address = host.slice(0, colon);
      port = host.slice(colon + 1);
    }
  }
  attrs['server.address'] = address;
  if (port !== '' && /^\d{1,5}$/.test(port)) attrs['server.port'] = Number(port);
}

/** The composer's route templates: always named, however many unknown paths came first (they never use up `maxRoutes`). */
const KNOWN_ROUTES: ReadonlySet<string> = new Set(ROUTE_TEMPLATES);

export class ServerSpans {
  readonly #tracer: Tracer;
  readonly #propagator: TextMapPropagator | undefined;
  // Keyed by object so that exemplars can ask with an opaque fact origin (spanContextOf).
  readonly #spans = new WeakMap<object, Span>();
  readonly #routes = new Set<string>();
  readonly #maxRoutes: number;

  constructor(opts: ServerSpansOptions) {
    this.#tracer = opts.tracer;
    this.#propagator = opts.propagator;
    this.#maxRoutes = opts.maxRoutes;
  }

  /**
   * Registers on the observation bus as `server_spans`. A failure (counted by the bus) leaves that
   * exchange without a span, or its span unended.
   */
  register(bus: ObserverRegistry<never>): ObserverHandle {
    return bus.register('server_spans', { onStart: (ex) => this.onStart(ex), onEnd: (ex) => this.onEnd(ex) });
  }

  /** The SERVER span of an exchange (also after it ended), if one was started. */
  spanOf(ex: Exchange): Span | undefined {
    return this.#spans.get(ex);
  }

  /** The context of the SERVER span of `origin` when it is an exchange that has one (for exemplars). */
  spanContextOf(origin: object): SpanContext | undefined {
    return this.#spans.get(origin)?.spanContext();
  }

  onStart(ex: Exchange): void {
    const parent = this.#propagator === undefined ? ROOT_CONTEXT : this.#propagator.extract(ROOT_CONTEXT, ex.requestHeaders, defaultTextMapGetter);
    const method = semconvMethod(ex.method);
    const attrs: Attributes = { 'http.request.method': method, 'url.scheme': 'http', 'network.protocol.version': ex.httpVersion };
    if (method === '_OTHER') attrs['http.request.method_original'] = ex.method;
    addHost(ex.requestHeaders.host, attrs);
    const route = this.#route(ex);
    const nameMethod = method === '_OTHER' ? 'HTTP' : method;
    let name = nameMethod;
    if (route !== undefined) {
      attrs['http.route'] = route;
      name = `${nameMethod} ${route}`;
    }
    const span = this.#tracer.startSpan(name, { kind: SpanKind.SERVER, startTime: ex.startTime, attributes: attrs }, parent);
    this.#spans.set(ex, span);
    this.#propagator?.inject(trace.setSpan(parent, span), ex, exchangeSetter);
  }

  onEnd(ex: Exchange): void {
    const span = this.#spans.get(ex);
    if (span === undefined) return;
    if (span.isRecording()) {
      if (ex.status !== 0) span.setAttribute('http.response.status_code', ex.status);
      const errorType = exchangeErrorType(ex);
      if (errorType !== undefined) {
        span.setAttribute('error.type', errorType);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
    }
    span.end(ex.endTime);
  }

  /** The route for span names: a route template of the composer, or the normalised endpoint while fewer than `maxRoutes` others were seen. */
  #route(ex: Exchange): string | undefined {
    const route = normalizeEndpoint(ex.url);
    if (this.#routes.has(route) || KNOWN_ROUTES.has(route)) return route;
    if (this.#routes.size >= this.#maxRoutes) return undefined;
    this.#routes.add(route);
    return route;
  }
}
