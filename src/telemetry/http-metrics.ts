/**
 * Records the four HTTP families and the proxy's own health from proxy observations (observer `http_metrics`).
 *
 * - Ordinary responses are recorded when the exchange ends: status (499 when the client went away
 *   first), duration from request head to the end of the response, bytes actually streamed each way.
 * - Long-lived responses (SSE, WebSocket) are counted when their headers go out, with the time to
 *   headers as their duration; `sidecar_proxy_open_streams` counts them while open, and their sizes are
 *   recorded when they close.
 *
 * `mcp_http_requests_total` and `sidecar_proxy_open_streams` are summed in process per series
 * (local-sum.ts), as the three histograms are aggregated (local-histogram.ts): an integer increment per
 * request or stream instead of an SDK record, each series' cell looked up once per (method, endpoint). With exemplars on, a
 * request duration is offered to its series' reservoir with the exchange's SERVER span.
 */
import { normalizeEndpoint } from '../ledger/endpoint.ts';
import type { ObserverHandle, ObserverRegistry } from '../observe/bus.ts';
import { type Exchange, PROXY_ERROR_KINDS, type StreamKind } from '../observe/exchange.ts';
import type { BucketReservoir, Exemplars } from './exemplars.ts';
import type { BoundedLabel, Instruments } from './instruments.ts';
import type { HistogramCell } from './local-histogram.ts';
import type { LocalSum, SumCell } from './local-sum.ts';

/** Status recorded for a client that disconnected before its response was complete (nginx's convention). */
export const CLIENT_CLOSED_STATUS = '499';
const CLIENT_CLOSED = 499;

/** What `sidecar_upstream_up` reads: the proxy's view of the upstream (proxy/health.ts `UpstreamHealth`), `undefined` until known. */
export interface UpstreamUp {
  readonly up: boolean | undefined;
}

/** The series of one family by (method, endpoint label value), created on first use; both keys are bounded. */
class SeriesOf<T> {
  readonly #byEndpoint = new Map<string, Map<string, T>>();
  readonly #create: (method: string, endpoint: string) => T;

  constructor(create: (method: string, endpoint: string) => T) {
    this.#create = create;
  }

  get(method: string, endpoint: string): T {
    let byMethod = this.#byEndpoint.get(endpoint);
    if (byMethod === undefined) this.#byEndpoint.set(endpoint, (byMethod = new Map()));
    let series = byMethod.get(method);
    if (series === undefined) byMethod.set(method, (series = this.#create(method, endpoint)));
    return series;
  }
}

/** One histogram series and, with exemplars on, its exemplar reservoir. */
interface Timed {
  readonly cell: HistogramCell;
  readonly exemplars: BucketReservoir | undefined;
}

export class HttpMetrics {
  readonly #requests: LocalSum;
  /** Request-counter series by (method, endpoint label value), then status code (each bounded). */
  readonly #cells = new SeriesOf<Map<number, SumCell>>(() => new Map());
  readonly #duration: SeriesOf<Timed>;
  readonly #requestSize: SeriesOf<HistogramCell>;
  readonly #responseSize: SeriesOf<HistogramCell>;
  /** `sidecar_proxy_open_streams`, its cells kept like the request counter's; a kind's series exists from its first stream. */
  readonly #openStreams: LocalSum;
  readonly #openCells: Partial<Record<StreamKind, SumCell>> = {};
  readonly #errors: LocalSum;
  readonly #exemplars: Exemplars | undefined;
  readonly #endpointLabels: readonly [BoundedLabel, BoundedLabel, BoundedLabel, BoundedLabel];

  /** @param exemplars exemplars of request durations (only with tracing on and a filter other than always_off). */
  constructor(instruments: Instruments, health: UpstreamUp, exemplars?: Exemplars) {
    this.#requests = instruments.counter('mcp_http_requests_total');
    this.#exemplars = exemplars;
    const histogram = (name: 'mcp_http_request_size_bytes' | 'mcp_http_response_size_bytes') => {
      const family = instruments.histogram(name);
      return new SeriesOf((method, endpoint) => family.cell({ method, endpoint }));
    };
    const duration = instruments.histogram('mcp_http_request_duration_seconds');
    const reservoirs = exemplars?.histogram('mcp_http_request_duration_seconds');
    this.#duration = new SeriesOf((method, endpoint) => {
      const cell = duration.cell({ method, endpoint });
      return { cell, exemplars: reservoirs?.of(cell.attributes) };
    });
    this.#requestSize = histogram('mcp_http_request_size_bytes');
    this.#responseSize = histogram('mcp_http_response_size_bytes');
    this.#openStreams = instruments.updown('sidecar_proxy_open_streams');
    this.#errors = instruments.counter('sidecar_proxy_errors_total');
    for (const kind of PROXY_ERROR_KINDS) instruments.startAtZero('sidecar_proxy_errors_total', { kind });
    this.#endpointLabels = [
      instruments.label('mcp_http_requests_total', 'endpoint'),
      instruments.label('mcp_http_request_duration_seconds', 'endpoint'),
      instruments.label('mcp_http_request_size_bytes', 'endpoint'),
      instruments.label('mcp_http_response_size_bytes', 'endpoint'),
    ];
    instruments.observeGauge('sidecar_upstream_up', (observe) => {
      const up = health.up;
      if (up !== undefined) observe(up ? 1 : 0);
    });
  }

  /** Registers on the observation bus as `http_metrics`. */
  register(bus: ObserverRegistry<never>): ObserverHandle {
    return bus.register('http_metrics', {
      onResponse: (ex) => this.onResponse(ex),
      onEnd: (ex) => this.onEnd(ex),
      onError: (event) => this.#errors.add(1, { kind: event.kind }),
    });
  }

  /** Counts one request of the series (method, endpoint label value, status). */
  #count(method: string, endpoint: string, status: number): void {
    const byStatus = this.#cells.get(method, endpoint);
    let cell = byStatus.get(status);
    if (cell === undefined) byStatus.set(status, (cell = this.#requests.cell({ method, endpoint, status_code: String(status) })));
    cell.value++;
  }

  onResponse(ex: Exchange): void {
    if (ex.stream === undefined) return;
    const endpoint = normalizeEndpoint(ex.url);
    const [reqLabel, durLabel] = this.#endpointLabels;
    this.#count(ex.method, reqLabel.value(endpoint), ex.status);
    this.#recordDuration(this.#duration.get(ex.method, durLabel.value(endpoint)), (ex.headersTime - ex.startTime) / 1000, ex);
    (this.#openCells[ex.stream] ??= this.#openStreams.cell({ kind: ex.stream })).value++;
  }

  #recordDuration(series: Timed, seconds: number, ex: Exchange): void {
    series.cell.record(seconds);
    const exemplars = this.#exemplars;
    if (exemplars === undefined || series.exemplars === undefined) return;
    const ctx = exemplars.contextFor(ex);
    if (ctx !== undefined) series.exemplars.offer(seconds, ctx, exemplars.now());
  }

  onEnd(ex: Exchange): void {
    const endpoint = normalizeEndpoint(ex.url);
    const [reqLabel, durLabel, reqSizeLabel, resSizeLabel] = this.#endpointLabels;
    if (ex.stream !== undefined) {
      (this.#openCells[ex.stream] ??= this.#openStreams.cell({ kind: ex.stream })).value--;
    } else {
      this.#count(ex.method, reqLabel.value(endpoint), ex.outcome === 'client_abort' ? CLIENT_CLOSED : ex.status);
      this.#recordDuration(this.#duration.get(ex.method, durLabel.value(endpoint)), (ex.endTime - ex.startTime) / 1000, ex);
    }
    this.#requestSize.get(ex.method, reqSizeLabel.value(endpoint)).record(ex.requestBytes);
    this.#responseSize.get(ex.method, resSizeLabel.value(endpoint)).record(ex.responseBytes);
  }
}
