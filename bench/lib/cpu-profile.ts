/**
 * Reading V8 `.cpuprofile` files (`node --cpu-prof`): the shapes, each sample's stack and place in time.
 * Shared by bench/profile-summary.ts and bench/scrape-turns.ts.
 */
import { readFileSync } from 'node:fs';

export interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
export interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
export interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  /** Microseconds before each sample (the first: since `startTime`). */
  readonly timeDeltas: readonly number[];
  /** Microseconds on the monotonic clock (`process.hrtime`'s). */
  readonly startTime: number;
}

export function readProfile(file: string): Profile {
  return JSON.parse(readFileSync(file, 'utf8')) as Profile;
}

/** A function as a line of a report: its name and where it is, paths shortened to the repository's folders. */
export function frameKey(f: CallFrame): string {
  return `${f.functionName === '' ? '(anonymous)' : f.functionName} ${f.url.replace(/^file:\/\/.*?\/(node_modules|src|bench|\.bench-build)\//, '$1/')}:${f.lineNumber + 1}`;
}

/** The nodes of a profile by id, with their parents. */
export class ProfileTree {
  readonly #byId: Map<number, ProfileNode>;
  readonly #parent = new Map<number, number>();

  constructor(profile: Profile) {
    this.#byId = new Map(profile.nodes.map((n) => [n.id, n]));
    for (const n of profile.nodes) for (const c of n.children ?? []) this.#parent.set(c, n.id);
  }

  frame(id: number): CallFrame | undefined {
    return this.#byId.get(id)?.callFrame;
  }

  /** The frames of node `id`'s stack, the sampled function first. */
  stack(id: number): CallFrame[] {
    const frames: CallFrame[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = this.#parent.get(cur)) {
      const f = this.#byId.get(cur)?.callFrame;
      if (f === undefined) break;
      frames.push(f);
    }
    return frames;
  }
}

/** Each sample's node, its end on the monotonic clock and the microseconds it stands for. */
export function* timedSamples(profile: Profile): Generator<{ readonly node: number; readonly atUs: number; readonly us: number }> {
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    yield { node: profile.samples[i] as number, atUs: at, us };
  }
}
