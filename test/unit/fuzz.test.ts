/**
 * The quick fuzz run: every parser and classifier for a few hundred generated inputs (the long run is
 * `npm run fuzz`, at least 100,000 each). A failure names whether the code threw (a crash) or broke an
 * invariant (a violation), with fast-check's shrunk counterexample and its seed.
 */
import { describe, expect, it } from 'vitest';
import { runTarget } from '../fuzz/harness.ts';
import { FUZZ_TARGETS } from '../fuzz/targets.ts';

const RUNS = Number(process.env['FUZZ_QUICK_RUNS'] ?? 300);

describe('fuzzing (quick run)', () => {
  for (const t of FUZZ_TARGETS) {
    it(`${t.name}: no crash, no unbounded output`, () => {
      const r = runTarget(t, RUNS, Date.now() ^ 0x5eed);
      expect(r.failure, r.failure).toBeUndefined();
      expect(r.cases).toBe(RUNS);
    });
  }
});
