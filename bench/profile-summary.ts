/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`, e.g. `npm run bench -- --only get --profile`) and
 * prints where the time went: the top functions by self time, and by total (inclusive) time, each with
 * its share of the profile's samples and its source location. Idle time ("(idle)") is left out of the
 * shares so that they describe the busy process.
 *
 *   npm exec -- node bench/profile-summary.ts bench/results/profiles/CPU.*.cpuprofile [--top 30] [--filter src/]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' }, filter: { type: 'string' } } });
const top = Number(values.top);
for (const file of positionals) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i] as number, (self.get(p.samples[i] as number) ?? 0) + (p.timeDeltas[i] ?? 0));
  const key = (f: CallFrame) =>
    `${f.functionName || '(anonymous)'} ${f.url.replace(/^file:\/\/.*?\/(node_modules|src|bench|\.bench-build)\//, '$1/')}:${f.lineNumber + 1}`;
  const selfBy = new Map<string, number>();
  const totalBy = new Map<string, number>();
  let busy = 0;
  for (const [id, t] of self) {
    const node = byId.get(id);
    if (node === undefined) continue;
    if (node.callFrame.functionName === '(idle)') continue;
    busy += t;
    const k = key(node.callFrame);
    selfBy.set(k, (selfBy.get(k) ?? 0) + t);
    // Inclusive: every distinct frame on the stack gets the sample once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)?.callFrame;
      if (f === undefined) break;
      const fk = key(f);
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
