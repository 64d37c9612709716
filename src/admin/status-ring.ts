/**
 * The status page's windows: a bounded in-process ring per series, fed by the same records the catalog
 * families get (the ledger's decisions, the HTTP observations), never by Prometheus.
 *
 * Each series keeps {@link BUCKETS} buckets of {@link BUCKET_MS} (five minutes), each with a call count, an
 * error count and a latency sketch: {@link SKETCH_BINS} counts over log-spaced bounds, four per octave from
 * 100 µs to about 105 s (bin 0 is "≤ 100 µs", the last bin "> 105 s"). A quantile is read as the geometric
 * middle of its bin, so it is within ±9 % of the true value (2^(1/8) − 1). A bucket is reused when the ring
 * comes round to it again (its epoch is older than the record's): recording is an index computation and a
 * few increments, with no allocation; the arrays of a series are allocated once, when it first appears.
 *
 * Series are bounded like the labels: the first `maxNames` distinct names pass and later ones are recorded
 * under `__other__`; a table also holds at most `maxSeries` (name, variant) pairs (the HTTP table's variant
 * is the method), further pairs sharing one `__other__` series. Memory per series is about
 * `BUCKETS × SKETCH_BINS × 4` bytes (≈ 10 KB).
 */

/** Length of one bucket. */
export const BUCKET_MS = 10_000;
/** Buckets kept per series: five minutes. */
export const BUCKETS = 30;
/** Upper bound of sketch bin 0, in seconds. */
export const SKETCH_MIN_SECONDS = 1e-4;
export const BINS_PER_OCTAVE = 4;
/** Bin 0 (≤ 100 µs), 80 log-spaced bins up to 100 µs × 2^20 (≈ 105 s), one overflow bin. */
export const SKETCH_BINS = 82;
/** The name of the series that holds what is past a table's bounds (the labels' `__other__`). */
export const OTHER = '__other__';

/** Upper bound of each bin as a multiple of {@link SKETCH_MIN_SECONDS} (`2^(i/4)`; the overflow bin's is infinite). */
const RATIO = Float64Array.from({ length: SKETCH_BINS }, (_, i) => (i === SKETCH_BINS - 1 ? Infinity : 2 ** (i / BINS_PER_OCTAVE)));
/** A view on a double's bits, to read its binary exponent without a logarithm. */
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
const HIGH_WORD = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1 ? 1 : 0;
/** Upper bound of the last regular bin (100 µs × 2^20 ≈ 105 s), as a ratio. */
const TOP_RATIO = 2 ** ((SKETCH_BINS - 2) / BINS_PER_OCTAVE);

/**
 * The sketch bin of a duration in seconds (NaN, negative and zero land in bin 0): the ratio to 100 µs's
 * binary exponent gives the octave, at most four comparisons the bin within it (no logarithm: this runs
 * for every record).
 */
export function binOf(seconds: number): number {
  if (!(seconds > SKETCH_MIN_SECONDS)) return 0;
  const r = seconds / SKETCH_MIN_SECONDS;
  if (r > TOP_RATIO) return SKETCH_BINS - 1;
  F64[0] = r;
  let bin = (((U32[HIGH_WORD] as number) >>> 20) - 1023) * BINS_PER_OCTAVE;
  while (r > (RATIO[bin] as number)) bin++;
  return bin;
}

/** Upper bound of a bin in seconds (`Infinity` for the overflow bin). */
export function binUpper(bin: number): number {
  if (bin >= SKETCH_BINS - 1) return Infinity;
  return SKETCH_MIN_SECONDS * (RATIO[Math.max(0, bin)] as number);
}

/** The value reported for a bin: the geometric middle of its bounds (bin 0: its bound; overflow: its lower bound). */
export function binValue(bin: number): number {
  if (bin <= 0) return SKETCH_MIN_SECONDS;
  if (bin >= SKETCH_BINS - 1) return binUpper(SKETCH_BINS - 2);
  return Math.sqrt(binUpper(bin - 1) * binUpper(bin));
}

/** The q-quantile (0 < q ≤ 1) of merged sketch counts, or `undefined` without any count. */
export function quantile(bins: ArrayLike<number>, total: number, q: number): number | undefined {
  if (total <= 0) return undefined;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < bins.length; i++) {
    seen += bins[i] as number;
    if (seen >= rank) return binValue(i);
  }
  return binValue(bins.length - 1);
}

/** One series: per-bucket counts and sketches, plus totals since the series appeared. */
export class Series {
  readonly name: string;
  readonly variant: string;
  /** The epoch (`floor(now / BUCKET_MS)`) each slot holds; -1 for never used. */
  readonly epochs = new Float64Array(BUCKETS).fill(-1);
  readonly calls = new Uint32Array(BUCKETS);
  readonly errors = new Uint32Array(BUCKETS);
  readonly sketch = new Uint32Array(BUCKETS * SKETCH_BINS);
  /** Records since the series appeared (what the matching counter family says). */
  total = 0;
  totalErrors = 0;
  lastErrorType: string | undefined = undefined;
  /** Clock value of the last error (ms), or -1. */
  lastErrorAt = -1;
  /** Answers by status class (1xx … 5xx) for a table that counts them (HTTP), else empty. */
  readonly classes: Uint32Array;

  constructor(name: string, variant: string, classes = false) {
    this.name = name;
    this.variant = variant;
    this.classes = new Uint32Array(classes ? 5 : 0);
  }

  /** Records one observation at clock time `now` (ms). */
  record(now: number, seconds: number, ok: boolean, errorType: string | undefined): void {
    const epoch = Math.floor(now / BUCKET_MS);
    const slot = epoch % BUCKETS;
    if (this.epochs[slot] !== epoch) {
      this.epochs[slot] = epoch;
      this.calls[slot] = 0;
      this.errors[slot] = 0;
      this.sketch.fill(0, slot * SKETCH_BINS, slot * SKETCH_BINS + SKETCH_BINS);
    }
    this.calls[slot] = (this.calls[slot] as number) + 1;
    const bin = slot * SKETCH_BINS + binOf(seconds);
    this.sketch[bin] = (this.sketch[bin] as number) + 1;
    this.total++;
    if (!ok) {
      this.errors[slot] = (this.errors[slot] as number) + 1;
      this.totalErrors++;
      this.lastErrorType = errorType;
      this.lastErrorAt = now;
    }
  }
}

/** What a window of the last `buckets` buckets says. */
export interface WindowView {
  readonly calls: number;
  readonly errors: number;
  /** Calls per second over the time the window covers. */
  readonly rate: number;
  /** Seconds, `undefined` without calls. */
  readonly p50: number | undefined;
  readonly p95: number | undefined;
  readonly p99: number | undefined;
}

/** A sparkline point per bucket, oldest first: calls per second and p95 (seconds, `null` without calls). */
export interface Spark {
  readonly rate: number[];
  readonly p95: (number | null)[];
}

/** Reads windows of a series at clock time `now`; `since` is when the ring started (a window never reaches before it). */
export function windowOf(s: Series, now: number, buckets: number, since: number): WindowView {
  const epoch = Math.floor(now / BUCKET_MS);
  const merged = new Uint32Array(SKETCH_BINS);
  let calls = 0;
  let errors = 0;
  for (let e = epoch - buckets + 1; e <= epoch; e++) {
    const slot = ((e % BUCKETS) + BUCKETS) % BUCKETS;
    if (s.epochs[slot] !== e) continue;
    calls += s.calls[slot] as number;
    errors += s.errors[slot] as number;
    const base = slot * SKETCH_BINS;
    for (let b = 0; b < SKETCH_BINS; b++) merged[b] = (merged[b] as number) + (s.sketch[base + b] as number);
  }
  const covered = Math.min((buckets - 1) * BUCKET_MS + (now - epoch * BUCKET_MS), now - since);
  const rate = covered > 0 ? (calls * 1000) / covered : 0;
  return { calls, errors, rate, p50: quantile(merged, calls, 0.5), p95: quantile(merged, calls, 0.95), p99: quantile(merged, calls, 0.99) };
}

/** Per-bucket calls/s and p95 over the whole ring, oldest first (the current bucket's rate over its elapsed part). */
export function sparkOf(s: Series, now: number, since: number): Spark {
  const epoch = Math.floor(now / BUCKET_MS);
  const rate: number[] = [];
  const p95: (number | null)[] = [];
  for (let e = epoch - BUCKETS + 1; e <= epoch; e++) {
    const slot = ((e % BUCKETS) + BUCKETS) % BUCKETS;
    if (s.epochs[slot] !== e) {
      rate.push(0);
      p95.push(null);
      continue;
    }
    const calls = s.calls[slot] as number;
    const start = Math.max(e * BUCKET_MS, since);
    const span = Math.min(now, (e + 1) * BUCKET_MS) - start;
    rate.push(span > 0 ? (calls * 1000) / span : 0);
    p95.push(quantile(s.sketch.subarray(slot * SKETCH_BINS, slot * SKETCH_BINS + SKETCH_BINS), calls, 0.95) ?? null);
  }
  return { rate, p95 };
}

export interface TableOptions {
  /** Distinct names before `__other__` (the labels' `--max-label-values`). */
  readonly maxNames: number;
  /** Most (name, variant) series; further pairs share the `__other__` series. */
  readonly maxSeries: number;
  /** Whether series count answers by status class (the HTTP table). @default false */
  readonly classes?: boolean;
}

/** The series of one table (tools, resources, prompts, HTTP endpoints), by name then variant. */
export class WindowTable {
  /** Series without a variant (tools, resources, prompts): one lookup per record. */
  readonly #plain = new Map<string, Series>();
  readonly #byName = new Map<string, Map<string, Series>>();
  readonly #names = new Set<string>();
  readonly #maxNames: number;
  readonly #maxSeries: number;
  readonly #classes: boolean;
  readonly #all: Series[] = [];
  #other: Series | undefined;

  constructor(opts: TableOptions) {
    this.#maxNames = opts.maxNames;
    this.#maxSeries = opts.maxSeries;
    this.#classes = opts.classes ?? false;
  }

  /** The series a record of `name` (and `variant`) goes to; created on first use, `__other__` past the bounds. */
  series(name: string, variant = ''): Series {
    const found = variant === '' ? this.#plain.get(name) : this.#byName.get(name)?.get(variant);
    return found ?? this.#create(name, variant);
  }

  #create(name: string, variant: string): Series {
    if ((!this.#names.has(name) && this.#names.size >= this.#maxNames) || this.#all.length >= this.#maxSeries) {
      return (this.#other ??= new Series(OTHER, '', this.#classes));
    }
    const s = new Series(name, variant, this.#classes);
    this.#names.add(name);
    this.#all.push(s);
    if (variant === '') this.#plain.set(name, s);
    else {
      const byVariant = this.#byName.get(name);
      if (byVariant === undefined) this.#byName.set(name, new Map([[variant, s]]));
      else byVariant.set(variant, s);
    }
    return s;
  }

  /** Every series in the order they appeared, `__other__` last when it exists. */
  all(): Series[] {
    return this.#other === undefined ? [...this.#all] : [...this.#all, this.#other];
  }

  /** Series held (without `__other__`). */
  get size(): number {
    return this.#all.length;
  }
}
