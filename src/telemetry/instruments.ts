/**
 * Builds every instrument of the catalog table on one OpenTelemetry meter, and the label bounds that keep
 * traffic-derived labels finite. This is the only module that calls `create*` on a meter.
 */
import type { Attributes, Counter, Histogram, Meter, ObservableGauge, ObservableResult, UpDownCounter } from '@opentelemetry/api';
import { ALL_FAMILIES, type FamilySpec, OVERFLOW_VALUE } from './catalog.ts';

/**
 * A label whose values come from traffic: the first `max` distinct values pass, later ones become
 * `__other__`, and each such value counts in `sidecar_label_overflow_total{family,label}`.
 */
export class BoundedLabel {
  readonly #seen = new Set<string>();
  readonly #max: number;
  readonly #overflow: Counter;
  readonly #overflowAttrs: Attributes;

  constructor(familyName: string, label: string, max: number, overflow: Counter) {
    this.#max = max;
    this.#overflow = overflow;
    this.#overflowAttrs = { family: familyName, label };
  }

  /** The value to record for `value`. */
  value(value: string): string {
    if (this.#seen.has(value)) return value;
    if (this.#seen.size < this.#max) {
      this.#seen.add(value);
      return value;
    }
    this.#overflow.add(1, this.#overflowAttrs);
    return OVERFLOW_VALUE;
  }

  /** Distinct values admitted so far. */
  get size(): number {
    return this.#seen.size;
  }
}

export type GaugeCallback = (observe: (value: number, attributes?: Attributes) => void) => void;

export interface InstrumentsOptions {
  /** Distinct values per bounded label per family. @default 200 */
  readonly maxLabelValues: number;
}

export class Instruments {
  readonly #meter: Meter;
  readonly #counters = new Map<string, Counter>();
  readonly #histograms = new Map<string, Histogram>();
  readonly #updowns = new Map<string, UpDownCounter>();
  readonly #gauges = new Map<string, ObservableGauge>();
  readonly #labels = new Map<string, BoundedLabel>();

  constructor(meter: Meter, opts: InstrumentsOptions, families: readonly FamilySpec[] = ALL_FAMILIES) {
    this.#meter = meter;
    for (const f of families) {
      const options = f.unit === undefined ? { description: f.help } : { description: f.help, unit: f.unit };
      switch (f.kind) {
        case 'counter':
          this.#counters.set(f.name, meter.createCounter(f.name, options));
          break;
        case 'histogram':
          this.#histograms.set(
            f.name,
            meter.createHistogram(f.name, { ...options, advice: { explicitBucketBoundaries: [...(f.buckets ?? [])] } }),
          );
          break;
        case 'updown':
          this.#updowns.set(f.name, meter.createUpDownCounter(f.name, options));
          break;
        case 'gauge':
          this.#gauges.set(f.name, meter.createObservableGauge(f.name, options));
          break;
      }
    }
    const overflow = this.counter('sidecar_label_overflow_total');
    for (const f of families) {
      for (const label of f.bounded ?? []) {
        this.#labels.set(`${f.name}\u0000${label}`, new BoundedLabel(f.name, label, opts.maxLabelValues, overflow));
      }
    }
  }

  counter(name: string): Counter {
    return required(this.#counters.get(name), name, 'counter');
  }

  histogram(name: string): Histogram {
    return required(this.#histograms.get(name), name, 'histogram');
  }

  updown(name: string): UpDownCounter {
    return required(this.#updowns.get(name), name, 'updown');
  }

  /** Registers a callback that observes a gauge family at every collection. */
  observeGauge(name: string, callback: GaugeCallback): void {
    const gauge = required(this.#gauges.get(name), name, 'gauge');
    gauge.addCallback((result: ObservableResult) => callback((v, a) => result.observe(v, a)));
  }

  /**
   * Runs `callback` at the start of every collection (of each reader), before the SDK reads its synchronous
   * instruments: what a recorder accumulates in process between collections is handed to the SDK here (see
   * batched-counter.ts). Implemented as a batch observable callback; it observes nothing itself.
   */
  beforeCollect(callback: () => void): void {
    const anchor = this.#gauges.values().next().value;
    if (anchor === undefined) throw new Error('beforeCollect needs at least one declared gauge to anchor its callback');
    this.#meter.addBatchObservableCallback(() => callback(), [anchor]);
  }

  /** The bound of a traffic-derived label of a family. */
  label(familyName: string, label: string): BoundedLabel {
    return required(this.#labels.get(`${familyName}\u0000${label}`), `${familyName}.${label}`, 'bounded label');
  }
}

function required<T>(value: T | undefined, name: string, kind: string): T {
  if (value === undefined) throw new Error(`${name} is not a declared ${kind}`);
  return value;
}
