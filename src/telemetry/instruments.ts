/**
 * Builds every instrument of the catalog table on one OpenTelemetry meter, and the label bounds that keep
 * traffic-derived labels finite. This is the only module that calls `create*` on a meter.
 */
import type { Attributes, Counter, Meter, ObservableGauge, ObservableResult } from '@opentelemetry/api';
import { MAX_NAME_LENGTH, MAX_SERVER_ID_LENGTH, MAX_URI_LENGTH } from '../ledger/name-bounds.ts';
import { ALL_FAMILIES, type AttributesOf, type BoundedLabelOf, type FamilyName, type FamilySpec, OVERFLOW_VALUE } from './catalog.ts';
import type { LocalHistogram } from './local-histogram.ts';
import type { LocalSum } from './local-sum.ts';
import type { SidecarMeter } from './provider.ts';

/** Why a value was recorded as `__other__` (`sidecar_label_overflow_total{reason}`). */
export type OverflowReason = 'limit' | 'too_long';

/**
 * Longest value of a label, by label name (ledger/name-bounds.ts); a longer one is folded into `__other__`
 * and counted with `reason="too_long"`. Labels not listed are bounded in length by how they are made
 * (route templates, fixed vocabularies, hashes).
 */
const MAX_VALUE_LENGTH: Readonly<Record<string, number>> = {
  tool_id: MAX_NAME_LENGTH,
  'gen_ai.tool.name': MAX_NAME_LENGTH,
  'gen_ai.prompt.name': MAX_NAME_LENGTH,
  'mcp.method.name': MAX_NAME_LENGTH,
  resource_uri: MAX_URI_LENGTH,
  server_id: MAX_SERVER_ID_LENGTH,
};

/** `__other__` preceded by any number of further underscores: the values {@link escapeOverflow} changes. */
const RESERVED = new RegExp(`^_*${OVERFLOW_VALUE}$`);

/**
 * A value as a label records it: `__other__`, `___other__`, … get one more leading underscore, so that
 * `__other__` in a scrape always means the overflow and never a client's own value (a tool a client calls
 * `__other__` is recorded as `___other__`). No two values are recorded alike.
 */
export function escapeOverflow(value: string): string {
  return value.endsWith(OVERFLOW_VALUE) && RESERVED.test(value) ? `_${value}` : value;
}

/** Something that can tell whether a value is known in advance (a set, or a view of the inventory). */
export interface ValueSource {
  has(value: string): boolean;
}

/**
 * The values of one label name known in advance, shared by every family with that label: route templates
 * for `endpoint`, the inventory's tools for `tool_id`, … Sources are added once at wiring time and asked
 * when a value is first seen, so what they know may grow (the inventory fills in after the first poll).
 */
export class KnownValues {
  readonly #sources: ValueSource[] = [];

  add(source: ValueSource): void {
    this.#sources.push(source);
  }

  has(value: string): boolean {
    for (const source of this.#sources) if (source.has(value)) return true;
    return false;
  }
}

/**
 * A label whose values come from traffic. Values known in advance ({@link KnownValues}) always pass and never
 * count against the bound; the first `max` distinct other values pass too; later ones become `__other__`,
 * as does any value longer than the label's length bound, and each such value counts in
 * `sidecar_label_overflow_total{family,label,reason}` (`limit` or `too_long`). Nothing admitted is ever
 * evicted, so unknown values can neither push a known one out nor take its place.
 */
export class BoundedLabel {
  /** Values admitted, known or not, and how each is recorded (escaped). */
  readonly #seen = new Map<string, string>();
  #unknown = 0;
  readonly #max: number;
  readonly #maxLength: number;
  readonly #known: KnownValues;
  readonly #overflow: Counter;
  readonly #limitAttrs: Attributes;
  readonly #tooLongAttrs: Attributes;

  constructor(familyName: string, label: string, max: number, overflow: Counter, known: KnownValues = new KnownValues(), maxLength = Infinity) {
    this.#max = max;
    this.#maxLength = maxLength;
    this.#known = known;
    this.#overflow = overflow;
    this.#limitAttrs = overflowAttributes(familyName, label, 'limit');
    this.#tooLongAttrs = overflowAttributes(familyName, label, 'too_long');
  }

  /** The value to record for `value`. */
  value(value: string): string {
    const seen = this.#seen.get(value);
    if (seen !== undefined) return seen;
    if (value.length > this.#maxLength) {
      this.#overflow.add(1, this.#tooLongAttrs);
      return OVERFLOW_VALUE;
    }
    if (this.#known.has(value)) return this.#admit(value);
    if (this.#unknown < this.#max) {
      this.#unknown++;
      return this.#admit(value);
    }
    this.#overflow.add(1, this.#limitAttrs);
    return OVERFLOW_VALUE;
  }

  #admit(value: string): string {
    const recorded = escapeOverflow(value);
    this.#seen.set(value, recorded);
    return recorded;
  }

  /** Distinct values admitted so far, known or not. */
  get size(): number {
    return this.#seen.size;
  }

  /** Whether values longer than a bound are folded (so `reason="too_long"` can happen). */
  get lengthBounded(): boolean {
    return this.#maxLength !== Infinity;
  }
}

/**
 * The members of a string union, for series exported at 0 from the union's values: written as a record,
 * so the compiler checks that the list is complete (`vocabulary<DropReason>({ timeout: true, … })`).
 * A member marked `false` is in the union but never recorded, and is left out.
 */
export function vocabulary<T extends string>(members: Record<T, boolean>): T[] {
  return (Object.keys(members) as T[]).filter((m) => members[m]);
}

/** The attributes of one `sidecar_label_overflow_total` series. */
export function overflowAttributes(familyName: string, label: string, reason: OverflowReason): Attributes {
  return { family: familyName, label, reason };
}

/** Observes the values of a gauge family at one collection; `A` is its series' attributes. */
export type GaugeCallback<A extends Attributes = Attributes> = (observe: (value: number, attributes?: A) => void) => void;

/** The instrument of a family, taking only that family's attributes (so a wrong label name fails tsc). */
/** Counters and histograms are aggregated in process (local-sum.ts, local-histogram.ts), not by the SDK. */
export type CounterOf<N extends FamilyName<'counter'>> = LocalSum<AttributesOf<N>>;
export type HistogramOf<N extends FamilyName<'histogram'>> = LocalHistogram<AttributesOf<N>>;
export type UpDownCounterOf<N extends FamilyName<'updown'>> = LocalSum<AttributesOf<N>>;

export interface InstrumentsOptions {
  /** Distinct values per bounded label per family, besides the values known in advance. @default 200 */
  readonly maxLabelValues: number;
  /**
   * Whether series whose label values are known in advance are exported at 0 before their first increment
   * ({@link Instruments.startAtZero}). Off only to compare an exposition with and without them. @default true
   */
  readonly zeroSeries?: boolean;
}

export class Instruments {
  readonly #meter: Meter;
  readonly #counters = new Map<string, LocalSum>();
  readonly #histograms = new Map<string, LocalHistogram>();
  readonly #updowns = new Map<string, LocalSum>();
  readonly #gauges = new Map<string, ObservableGauge>();
  readonly #bounded = new Set<string>();
  readonly #labels = new Map<string, BoundedLabel>();
  readonly #known = new Map<string, KnownValues>();
  readonly #maxLabelValues: number;
  readonly #zeroSeries: boolean;

  /** @param meter from telemetry/provider.ts: the SDK meter (gauges) and the meter's local families (histograms, counters). */
  constructor(meter: SidecarMeter, opts: InstrumentsOptions, families: readonly FamilySpec[] = ALL_FAMILIES) {
    this.#meter = meter.sdk;
    this.#maxLabelValues = opts.maxLabelValues;
    this.#zeroSeries = opts.zeroSeries ?? true;
    const local = meter.local;
    local.order(families.map((f) => f.name));
    for (const f of families) {
      switch (f.kind) {
        case 'counter':
          this.#counters.set(f.name, local.sum(f.name, f.help, f.unit ?? '', true));
          break;
        case 'histogram':
          this.#histograms.set(f.name, local.histogram(f.name, f.help, f.unit ?? '', f.buckets ?? []));
          break;
        case 'updown':
          this.#updowns.set(f.name, local.sum(f.name, f.help, f.unit ?? '', false));
          break;
        case 'gauge':
          this.#gauges.set(
            f.name,
            this.#meter.createObservableGauge(f.name, f.unit === undefined ? { description: f.help } : { description: f.help, unit: f.unit }),
          );
          break;
      }
    }
    for (const f of families) for (const label of f.bounded ?? []) this.#bounded.add(`${f.name}\u0000${label}`);
  }

  /** The counter of a declared counter family (names and kinds are checked by tsc against catalog.ts). */
  counter<N extends FamilyName<'counter'>>(name: N): CounterOf<N> {
    return required(this.#counters.get(name), name, 'counter');
  }

  histogram<N extends FamilyName<'histogram'>>(name: N): HistogramOf<N> {
    return required(this.#histograms.get(name), name, 'histogram');
  }

  updown<N extends FamilyName<'updown'>>(name: N): UpDownCounterOf<N> {
    return required(this.#updowns.get(name), name, 'updown');
  }

  /** Registers a callback that observes a gauge family at every collection. */
  observeGauge<N extends FamilyName<'gauge'>>(name: N, callback: GaugeCallback<AttributesOf<N>>): void {
    const gauge = required(this.#gauges.get(name), name, 'gauge');
    gauge.addCallback((result: ObservableResult) => callback((v, a) => result.observe(v, a)));
  }

  /**
   * Exports the series `attributes` of the counter `name` at 0 now, if it does not exist yet (an `add` of
   * 0 creates the data point and changes no count). For series whose label values are known in advance,
   * so that their first increment is an increase Prometheus sees. Values of bounded labels must come from
   * {@link BoundedLabel.value}.
   */
  startAtZero<N extends FamilyName<'counter'>>(name: N, attributes: AttributesOf<N> = {}): void {
    const counter = this.counter(name);
    if (this.#zeroSeries) counter.add(0, attributes);
  }

  /** The values of the label `label` known in advance, in every family that bounds it. */
  knownValues(label: string): KnownValues {
    let known = this.#known.get(label);
    if (known === undefined) this.#known.set(label, (known = new KnownValues()));
    return known;
  }

  /**
   * The bound of a traffic-derived label of a family, made on first use: from then on its overflow series
   * (`sidecar_label_overflow_total{family,label,reason}`) are exported, at 0 until a value is folded.
   */
  label<N extends FamilyName>(familyName: N, label: BoundedLabelOf<N>): BoundedLabel {
    const key = `${familyName}\u0000${label}`;
    let bounded = this.#labels.get(key);
    if (bounded !== undefined) return bounded;
    if (!this.#bounded.has(key)) throw new Error(`${familyName}.${label} is not a declared bounded label`);
    const overflow = this.counter('sidecar_label_overflow_total');
    bounded = new BoundedLabel(familyName, label, this.#maxLabelValues, overflow, this.knownValues(label), MAX_VALUE_LENGTH[label]);
    this.#labels.set(key, bounded);
    this.startAtZero('sidecar_label_overflow_total', overflowAttributes(familyName, label, 'limit'));
    if (bounded.lengthBounded) this.startAtZero('sidecar_label_overflow_total', overflowAttributes(familyName, label, 'too_long'));
    return bounded;
  }
}

function required<T>(value: T | undefined, name: string, kind: string): T {
  if (value === undefined) throw new Error(`${name} is not a declared ${kind}`);
  return value;
}
