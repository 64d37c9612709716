/**
 * What ran in a scrape's long event-loop turns. Run the sidecar with `--debug-scrape-timing` and a CPU
 * profile (`node --cpu-prof --cpu-prof-interval 50 …/cli.js … --debug-scrape-timing > sidecar.log`),
 * scrape it, stop it; then
 *
 *   npm exec -- node bench/scrape-turns.ts CPU.….cpuprofile sidecar.log [--min 2] [--top 3]
 *
 * lists every turn of at least `--min` ms that a `scrape_timing` line gives, with the milliseconds sampled
 * in it by part (the collection: hand-off, SDK and local aggregations; the answer: serialising, gzip,
 * writing; GC; other) and its functions by self time, and then how many of the turns each part dominated.
 * docs/performance.md ("Scrapes in slices") has what it found.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type LongTurn, readTimingLine } from '../src/admin/scrape-timing.ts';
import { readProfile } from './lib/cpu-profile.ts';
import { jsonLine } from './lib/proc.ts';
import { attributeTurns, TURN_PARTS, type TurnPart } from './lib/turn-attribution.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { min: { type: 'string', default: '2' }, top: { type: 'string', default: '3' } },
});
const [profileFile, logFile] = positionals;
if (profileFile === undefined || logFile === undefined) throw new Error('usage: scrape-turns.ts PROFILE.cpuprofile SIDECAR.log [--min ms] [--top n]');
const min = Number(values.min);

const turns: LongTurn[] = [];
for (const text of readFileSync(logFile, 'utf8').split('\n')) {
  const line = readTimingLine(jsonLine(text));
  if (line !== undefined) turns.push(...line.longTurns.filter(([, ms]) => ms >= min));
}
const attributed = attributeTurns(readProfile(profileFile), turns, Number(values.top));
const fmt = (ms: number): string => ms.toFixed(2);
for (const t of attributed) {
  const parts = TURN_PARTS.filter((p) => t.parts[p] > 0).map((p) => `${p} ${fmt(t.parts[p])}`);
  console.log(`turn of ${fmt(t.ms)} ms: ${parts.join(', ')}`);
  for (const [frame, ms] of t.top) console.log(`    ${fmt(ms).padStart(6)} ms  ${frame}`);
}
const dominated = new Map<TurnPart, number>();
for (const t of attributed) dominated.set(t.main, (dominated.get(t.main) ?? 0) + 1);
console.log(
  `\n${attributed.length} turns of at least ${min} ms; the part with most samples: ${TURN_PARTS.map((p) => `${p} ${dominated.get(p) ?? 0}`).join(', ')}`,
);
