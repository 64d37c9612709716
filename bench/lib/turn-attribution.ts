/**
 * What ran in each long turn of the sidecar's event loop: the turns a `scrape_timing` line lists
 * (src/admin/scrape-timing.ts, `longTurns`) against a CPU profile of the same process, both on the
 * monotonic clock. Pure: bench/scrape-turns.ts does the reading and printing.
 */
import type { LongTurn } from '../../src/admin/scrape-timing.ts';
import { type CallFrame, frameKey, type Profile, ProfileTree, timedSamples } from './cpu-profile.ts';

/** Where a sample's time went, for a scrape. */
export type TurnPart = 'collection' | 'answer' | 'gc' | 'idle' | 'other';
export const TURN_PARTS: readonly TurnPart[] = ['collection', 'answer', 'gc', 'idle', 'other'];

const ANSWER = /(sliced-answer|gzip-pieces|prometheus-serializer|openmetrics-serializer|exposition)\.[jt]s$|^node:zlib$/;
const COLLECTION = /(local-metrics|local-histogram|local-sum|late-producer)\.[jt]s$|exporters\/prometheus\.[jt]s$|@opentelemetry\/sdk-metrics\//;

/** The part of a scrape a stack (sampled function first) belongs to. */
export function partOf(stack: readonly CallFrame[]): TurnPart {
  const leaf = stack[0]?.functionName;
  if (leaf === '(garbage collector)') return 'gc';
  if (leaf === '(idle)') return 'idle';
  if (stack.some((f) => ANSWER.test(f.url))) return 'answer';
  if (stack.some((f) => COLLECTION.test(f.url))) return 'collection';
  return 'other';
}

export interface AttributedTurn {
  readonly startUs: number;
  readonly ms: number;
  /** Milliseconds of samples in the turn, by part. */
  readonly parts: Readonly<Record<TurnPart, number>>;
  /** The part with the most samples ('other' when none was sampled). */
  readonly main: TurnPart;
  /** Functions by self time in the turn, longest first: [frame, ms]. */
  readonly top: ReadonlyArray<readonly [string, number]>;
}

/** Each turn with the samples that end inside it (a sample stands for the time before it). */
export function attributeTurns(profile: Profile, turns: readonly LongTurn[], topCount = 3): AttributedTurn[] {
  const tree = new ProfileTree(profile);
  const sorted = [...turns].sort((a, b) => a[0] - b[0]);
  const samples = [...timedSamples(profile)];
  const out: AttributedTurn[] = [];
  let from = 0;
  for (const [startUs, ms] of sorted) {
    const endUs = startUs + ms * 1000;
    const parts: Record<TurnPart, number> = { collection: 0, answer: 0, gc: 0, idle: 0, other: 0 };
    const self = new Map<string, number>();
    while (from < samples.length && (samples[from]?.atUs ?? 0) <= startUs) from++;
    for (let i = from; i < samples.length; i++) {
      const s = samples[i];
      if (s === undefined || s.atUs > endUs) break;
      const stack = tree.stack(s.node);
      parts[partOf(stack)] += s.us / 1000;
      const leaf = stack[0];
      if (leaf !== undefined) {
        const key = frameKey(leaf);
        self.set(key, (self.get(key) ?? 0) + s.us / 1000);
      }
    }
    let main: TurnPart = 'other';
    for (const p of TURN_PARTS) if (parts[p] > parts[main]) main = p;
    const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, topCount);
    out.push({ startUs, ms, parts, main, top });
  }
  return out;
}
