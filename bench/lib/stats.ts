/** Small statistics for repeated runs: medians and spreads. */

export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** The `p`th percentile of ascending `sorted` by nearest rank (the value at index ⌊n·p/100⌋, the last for 100); NaN for none. */
export function nearestRank(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function spread(xs: readonly number[]): Spread {
  const s = xs.filter((x) => Number.isFinite(x));
  return { median: median(s), min: s.length === 0 ? NaN : Math.min(...s), max: s.length === 0 ? NaN : Math.max(...s), n: s.length };
}

/** `12.3 (11.9–12.8)`: the median and, with several runs, the range. */
export function fmt(s: Spread, digits = 1): string {
  if (!Number.isFinite(s.median)) return 'n/a';
  if (s.n <= 1) return s.median.toFixed(digits);
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
}
