/**
 * The fuzzing harness shared by the quick run in `npm test` (test/unit/fuzz.test.ts) and the long run
 * (`npm run fuzz`, scripts/fuzz.ts). A target is a fast-check property over one parser or classifier whose
 * check separates two kinds of failure:
 *
 * - a **crash**: the code under test threw (it must never throw on any input);
 * - a **violation**: it returned, but broke an invariant (an output out of its bounds — too long, outside
 *   its vocabulary, carrying a query string or a credential — or not what the specification says).
 */
import fc from 'fast-check';

export class Crash extends Error {
  override readonly name = 'Crash';
}

export class Violation extends Error {
  override readonly name = 'Violation';
}

/** Runs the code under test; anything it throws is a {@link Crash}. */
export function run<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new Crash(`${what} threw: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, { cause: err });
  }
}

/** Asserts an invariant; a false one is a {@link Violation}. */
export function check(ok: boolean, message: string | (() => string)): void {
  if (!ok) throw new Violation(typeof message === 'string' ? message : message());
}

export interface FuzzTarget {
  /** `module: function`, e.g. `ledger/endpoint: normalizeEndpoint`. */
  readonly name: string;
  readonly property: () => fc.IProperty<never>;
  /** Releases what the target created (temporary files), after each run. */
  readonly dispose?: () => void;
  /** What the target tallied over its runs so far (e.g. the envelope scanner's fallback rate), for the long run's report. */
  readonly report?: () => string;
}

export function target<Ts extends [unknown, ...unknown[]]>(
  name: string,
  arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  predicate: (...args: Ts) => void,
): FuzzTarget {
  return {
    name,
    property: () =>
      fc.property(...(arbitraries as unknown as [fc.Arbitrary<unknown>]), predicate as (...a: unknown[]) => void) as unknown as fc.IProperty<never>,
  };
}

export interface FuzzResult {
  readonly name: string;
  readonly cases: number;
  readonly crashes: number;
  readonly violations: number;
  readonly ms: number;
  readonly seed: number;
  /** The failure, shrunk by fast-check. */
  readonly failure?: string;
}

/** Runs one target for `numRuns` cases (stopping at the first failure, which fast-check then shrinks). */
export function runTarget(t: FuzzTarget, numRuns: number, seed: number): FuzzResult {
  const start = performance.now();
  let details: fc.RunDetails<never>;
  try {
    details = fc.check(t.property(), { numRuns, seed, endOnFailure: false });
  } finally {
    t.dispose?.();
  }
  const ms = Math.round(performance.now() - start);
  if (!details.failed) return { name: t.name, cases: details.numRuns, crashes: 0, violations: 0, ms, seed };
  const err = details.errorInstance;
  const crash = err instanceof Crash || !(err instanceof Violation);
  const shown = `${err instanceof Error ? err.message : String(err)}\n  counterexample: ${fc.stringify(details.counterexample).slice(0, 2000)}\n  seed ${details.seed}, path ${details.counterexamplePath}`;
  return { name: t.name, cases: details.numRuns, crashes: crash ? 1 : 0, violations: crash ? 0 : 1, ms, seed, failure: shown };
}

/** Strings of every kind: any code units (lone surrogates included), ASCII, and the characters parsers trip on. */
export const anyText = (maxLength = 200): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'grapheme-ascii', maxLength }),
    fc.string({
      unit: fc.constantFrom('\r', '\n', ':', ' ', '/', '?', '#', '%', '.', '"', '\\', '{', '}', '[', ']', ',', '\0', '\u2028', 'a', '1', 'é', '\ud800'),
      maxLength,
    }),
  );
