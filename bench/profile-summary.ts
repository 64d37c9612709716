/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`, e.g. `npm run bench -- --only get --profile`) and
 * prints where the time went: the top functions by self time, and by total (inclusive) time, each with
 * its share of the profile's samples and its source location. Idle time ("(idle)") is left out of the
 * shares so that they describe the busy process.
 *
 *   npm exec -- node bench/profile-summary.ts bench/results/profiles/CPU.*.cpuprofile [--top 30] [--filter src/]
 */
import { parseArgs } from 'node:util';
import { frameKey, ProfileTree, readProfile } from './lib/cpu-profile.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' }, filter: { type: 'string' } } });
const top = Number(values.top);
for (const file of positionals) {
  const p = readProfile(file);
  const tree = new ProfileTree(p);
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i] as number, (self.get(p.samples[i] as number) ?? 0) + (p.timeDeltas[i] ?? 0));
  const selfBy = new Map<string, number>();
  const totalBy = new Map<string, number>();
  let busy = 0;
  for (const [id, t] of self) {
    const frame = tree.frame(id);
    if (frame === undefined) continue;
    if (frame.functionName === '(idle)') continue;
    busy += t;
    const k = frameKey(frame);
    selfBy.set(k, (selfBy.get(k) ?? 0) + t);
    // Inclusive: every distinct frame on the stack gets the sample once.
    const seen = new Set<string>();
    for (const f of tree.stack(id)) {
      const fk = frameKey(f);
      if (seen.has(fk)) continue;
      seen.add(fk);
      totalBy.set(fk, (totalBy.get(fk) ?? 0) + t);
    }
  }
  const show = (title: string, m: Map<string, number>) => {
    console.log(`\n${title}`);
    const rows = [...m.entries()]
      .filter(([k]) => values.filter === undefined || k.includes(values.filter))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top);
    for (const [k, t] of rows) console.log(`${((t / busy) * 100).toFixed(1).padStart(5)}%  ${(t / 1000).toFixed(0).padStart(6)} ms  ${k}`);
  };
  console.log(`${file}: ${(busy / 1000).toFixed(0)} ms busy`);
  show('self time', selfBy);
  show('total time', totalBy);
}
