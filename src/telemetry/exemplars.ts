/**
 * Exemplars: the trace and span ids of a recent measurement, kept per series so that an OpenMetrics scrape
 * can link a latency bucket (or the tool counter) to the trace of a call that landed in it.
 *
 * @opentelemetry/sdk-metrics 3.1.0 has no exemplar support wired into its aggregations or its exported
 * data (its exemplar classes were never connected; open-telemetry/opentelemetry-js#5147, PR #6830), so the
 * reservoirs live here, next to the recorders, and follow the specification's rules
 * (https://opentelemetry.io/docs/specs/otel/metrics/sdk/#exemplar):
 *
 * - the filter (`OTEL_METRICS_EXEMPLAR_FILTER`): `trace_based` (default) offers only measurements taken in a
 *   sampled span, `always_on` those of any span (sampled or not), `always_off` none — and then nothing here
 *   exists at all, like when tracing is off (an exemplar is a link to a span; a measurement without one,
 *   such as a tool call learned from the composer's event stream, offers nothing);
 * - histograms: an aligned-histogram-bucket reservoir, at most one exemplar per bucket, the last one
 *   offered (the specification's "MAY keep the last seen measurement"); buckets keep their exemplar across
 *   collections, so each bucket shows its most recent call;
 * - counters: a fixed-size reservoir of one, sampled uniformly among the measurements of a collection
 *   period (reservoir sampling, reset when an OpenMetrics scrape collects);
 * - bounded: one reservoir per series, at most {@link EXEMPLAR_SERIES_LIMIT} series per family (series
 *   beyond get none); slots are reused, so the steady state allocates nothing.
 *
 * OTLP push carries no exemplars (the SDK's data points have no field for them).
 */
import { INVALID_SPANID, INVALID_TRACEID, TraceFlags, type Attributes, type SpanContext } from '@opentelemetry/api';
import type { ExemplarFilter } from '../config/otel-env.ts';
import type { ExemplarLookup, ExemplarView, SeriesExemplars } from '../exporters/openmetrics-serializer.ts';
import type { ExemplarSource } from '../exporters/prometheus.ts';
import { family, type FamilyName } from './catalog.ts';
import { canonicalKey } from './keyed-cells.ts';

/** Series per family that get a reservoir; later series get none. */
export const EXEMPLAR_SERIES_LIMIT = 10_000;

/** One exemplar slot, reused for every measurement that replaces it. */
class Slot implements ExemplarView {
  traceId = '';
  spanId = '';
  value = 0;
  timeMs = 0;

  set(value: number, ctx: SpanContext, timeMs: number): void {
    this.traceId = ctx.traceId;
    this.spanId = ctx.spanId;
    this.value = value;
    this.timeMs = timeMs;
  }
}

/** What a reservoir of one series does with an eligible measurement. */
export interface Reservoir extends SeriesExemplars {
  offer(value: number, ctx: SpanContext, timeMs: number): void;
}

/** The reservoir of one histogram series: one slot per bucket (the last has no upper bound). */
export class BucketReservoir implements Reservoir {
  readonly #boundaries: readonly number[];
  readonly #slots: (Slot | undefined)[];

  constructor(boundaries: readonly number[]) {
    this.#boundaries = boundaries;
    this.#slots = new Array<Slot | undefined>(boundaries.length + 1).fill(undefined);
  }

  get buckets(): readonly (ExemplarView | undefined)[] {
    return this.#slots;
  }

  /** Keeps `value` as its bucket's exemplar (a bucket holds values ≤ its bound, as the SDK counts them). */
  offer(value: number, ctx: SpanContext, timeMs: number): void {
    const b = this.#boundaries;
    let i = 0;
    while (i < b.length && value > (b[i] as number)) i++;
    (this.#slots[i] ??= new Slot()).set(value, ctx, timeMs);
  }
}

/** The reservoir of one counter series: one slot, sampled uniformly within a collection period. */
export class CounterReservoir implements Reservoir {
  #slot: Slot | undefined;
  #seen = 0;
  readonly #random: () => number;

  constructor(random: () => number) {
    this.#random = random;
  }

  get total(): ExemplarView | undefined {
    return this.#slot;
  }

  /** The n-th measurement of the period replaces the exemplar with probability 1/n. */
  offer(value: number, ctx: SpanContext, timeMs: number): void {
    this.#seen++;
    if (this.#seen === 1 || Math.floor(this.#random() * this.#seen) === 0) (this.#slot ??= new Slot()).set(value, ctx, timeMs);
  }

  /** A new period begins: the next measurement is kept for sure. */
  collected(): void {
    this.#seen = 0;
  }
}

/** The reservoirs of one family, by series. */
export class FamilyReservoirs<R extends Reservoir> {
  readonly #series = new Map<string, R>();
  readonly #create: () => R;
  readonly #now: () => number;

  constructor(create: () => R, now: () => number) {
    this.#create = create;
    this.#now = now;
  }

  /** Offers a measurement of the series `attributes`, in the span `ctx`. */
  offer(attributes: Attributes, value: number, ctx: SpanContext): void {
    this.of(attributes)?.offer(value, ctx, this.#now());
  }

  /** The reservoir of a series, created on first use; `undefined` past the series limit. */
  of(attributes: Attributes): R | undefined {
    const key = canonicalKey(attributes);
    let r = this.#series.get(key);
    if (r === undefined && this.#series.size < EXEMPLAR_SERIES_LIMIT) this.#series.set(key, (r = this.#create()));
    return r;
  }

  find(attributes: Attributes): R | undefined {
    return this.#series.get(canonicalKey(attributes));
  }

  values(): IterableIterator<R> {
    return this.#series.values();
  }
}

export interface ExemplarsOptions {
  /** `trace_based` or `always_on` (with `always_off` no {@link Exemplars} is made). */
  readonly filter: Exclude<ExemplarFilter, 'always_off'>;
  /** The span context of the object a measurement was taken on (an exchange, an MCP operation), if traced. */
  readonly contextOf: (origin: object) => SpanContext | undefined;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default Math.random */
  readonly random?: () => number;
}

/** The histogram families with exemplars, by instrument name. */
const HISTOGRAMS = new Set<FamilyName<'histogram'>>([
  'mcp_tool_invocation_duration_seconds',
  'mcp_resource_read_duration_seconds',
  'mcp_http_request_duration_seconds',
  'mcp.server.operation.duration',
]);
/** The counter families with exemplars. */
const COUNTERS = new Set<FamilyName<'counter'>>(['mcp_tool_invocations_total']);

/**
 * The filter and every reservoir. Recorders ask {@link contextFor} whether a measurement may become an
 * exemplar, and offer it to the reservoir of its series; the OpenMetrics serializer reads them through
 * {@link lookup}.
 */
export class Exemplars implements ExemplarSource {
  readonly #filter: ExemplarsOptions['filter'];
  readonly #contextOf: ExemplarsOptions['contextOf'];
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #histograms = new Map<string, FamilyReservoirs<BucketReservoir>>();
  readonly #counters = new Map<string, FamilyReservoirs<CounterReservoir>>();

  constructor(opts: ExemplarsOptions) {
    this.#filter = opts.filter;
    this.#contextOf = opts.contextOf;
    this.#now = opts.now ?? Date.now;
    this.#random = opts.random ?? Math.random;
  }

  /** The span context a measurement taken on `origin` carries as an exemplar, or `undefined` when the filter leaves it out. */
  contextFor(origin: object | undefined): SpanContext | undefined {
    if (origin === undefined) return undefined;
    const ctx = this.#contextOf(origin);
    // The contexts come from the sidecar's own spans, whose ids the SDK generates; the all-zero ids of an
    // invalid context are all that can be wrong (cheaper than isSpanContextValid's patterns, per request).
    if (ctx === undefined || ctx.traceId === INVALID_TRACEID || ctx.spanId === INVALID_SPANID) return undefined;
    if (this.#filter === 'trace_based' && (ctx.traceFlags & TraceFlags.SAMPLED) === 0) return undefined;
    return ctx;
  }

  /** The reservoirs of histogram family `name` (one of the families with exemplars), aligned with its buckets. */
  histogram(name: FamilyName<'histogram'>): FamilyReservoirs<BucketReservoir> {
    if (!HISTOGRAMS.has(name)) throw new Error(`${name} is not a histogram with exemplars`);
    let f = this.#histograms.get(name);
    const boundaries = family(name).buckets ?? [];
    if (f === undefined) this.#histograms.set(name, (f = new FamilyReservoirs(() => new BucketReservoir(boundaries), this.#now)));
    return f;
  }

  /** The reservoirs of counter family `name`. */
  counter(name: FamilyName<'counter'>): FamilyReservoirs<CounterReservoir> {
    if (!COUNTERS.has(name)) throw new Error(`${name} is not a counter with exemplars`);
    let f = this.#counters.get(name);
    if (f === undefined) this.#counters.set(name, (f = new FamilyReservoirs(() => new CounterReservoir(this.#random), this.#now)));
    return f;
  }

  /** Milliseconds since the epoch, as exemplars are stamped. */
  now(): number {
    return this.#now();
  }

  readonly lookup: ExemplarLookup = (name, attributes) => (this.#histograms.get(name) ?? this.#counters.get(name))?.find(attributes);

  collected(): void {
    for (const f of this.#counters.values()) for (const r of f.values()) r.collected();
  }
}
