/**
 * The long fuzz run: every parser and classifier of test/fuzz/targets.ts for at least 100,000 generated
 * inputs each (`npm test` runs the same targets a few hundred times).
 *
 *   npm run fuzz                       # 100,000 cases per target, a random seed
 *   npm run fuzz -- --runs 1000000 --seed 42 --only endpoint
 *
 * Prints one line per target (cases, crashes, violations, time) and a JSON summary line; exits 1 when any
 * target crashed or broke an invariant, with fast-check's shrunk counterexample and the seed to replay it.
 */
import { parseArgs } from 'node:util';
import { runTarget, type FuzzResult } from '../test/fuzz/harness.ts';
import { FUZZ_TARGETS } from '../test/fuzz/targets.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '100000' }, seed: { type: 'string' }, only: { type: 'string' } },
  strict: true,
});
const runs = Number(values.runs);
if (!Number.isSafeInteger(runs) || runs < 1) throw new Error('--runs must be a positive whole number');
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const targets = FUZZ_TARGETS.filter((t) => values.only === undefined || t.name.includes(values.only));

console.log(`fuzzing ${targets.length} targets, ${runs.toLocaleString('en')} cases each, seed ${seed}`);
const results: FuzzResult[] = [];
for (const t of targets) {
  const r = runTarget(t, runs, seed);
  results.push(r);
  const verdict = r.failure === undefined ? 'ok' : r.crashes > 0 ? 'CRASH' : 'VIOLATION';
  console.log(`${verdict.padEnd(9)} ${t.name.padEnd(90)} ${r.cases.toLocaleString('en').padStart(11)} cases  ${(r.ms / 1000).toFixed(1).padStart(6)} s`);
  if (r.failure !== undefined) console.log(`  ${r.failure}`);
  const report = t.report?.();
  if (report !== undefined) console.log(`          ${report}`);
}
const total = results.reduce((a, r) => a + r.cases, 0);
const crashes = results.reduce((a, r) => a + r.crashes, 0);
const violations = results.reduce((a, r) => a + r.violations, 0);
console.log(
  JSON.stringify({
    event: 'fuzz_summary',
    seed,
    targets: results.length,
    cases: total,
    crashes,
    violations,
    perTarget: Object.fromEntries(results.map((r) => [r.name, r.cases])),
  }),
);
process.exitCode = crashes + violations === 0 ? 0 : 1;
