/**
 * The memory budget: V8's heap sized from the memory the process may use, so that its RSS stays under it.
 * Pure (file contents in, flags out) except {@link readSystemFile}, which reads the files.
 *
 * The limit is `--memory-limit SIZE`, else (`auto`, the default) the memory limit of the process's cgroup:
 * cgroup v2 `memory.max` (`max`: none), cgroup v1 `memory.limit_in_bytes` (a value near 2^63: none). From
 * it (docs/performance.md, "Memory budget", has the measurements behind each number):
 *
 * - **V8's heap gets 60 % of the limit** ({@link HEAP_SHARE}, the `heap_size_limit` of old + young
 *   generation); the rest is what is not V8's heap and no flag bounds — Node itself, the modules' compiled
 *   code, undici's llhttp WebAssembly memory, Buffers and socket data in user space, the allocator's slack:
 *   ~70 MiB at rest. At 256 MiB the worst case (an old generation filled to its cap) is then ~70 + 2 × 16
 *   + 105 ≈ 207 MiB, and what was measured is well under it.
 * - **The young generation** (V8 reserves 3 × the semi-space: two semi-spaces and as much for new large
 *   objects) takes `limit / 16` per semi-space, a power of two from 1 to 32 MiB: 16 MiB at 256 MiB. V8's
 *   default on a large machine is 64 MiB per semi-space (heap_size_limit 4,288 = 4,096 + 3 × 64 MiB on
 *   the development machine), which alone is most of the RSS the soak measured above its live heap. At
 *   8 MiB the scavenges came twice as often and promoted enough of the in-flight requests to double the
 *   mark-compacts under POST load.
 * - **The old generation** gets the rest of the heap's share: 105 MiB at 256 MiB. The sidecar's live heap
 *   is ~28 MiB; below {@link MIN_OLD_SPACE_MIB} it would collect without end, so a smaller limit is a
 *   configuration error ({@link MIN_MEMORY_LIMIT_MIB}).
 * - **The growing factor**: with an old generation under 256 MiB V8 lets it grow only 1.3 × its live size
 *   (at least 16 MiB) between two mark-compacts (its `MaxGrowingFactor` for small devices); measured, that
 *   is 6–7 times the mark-compacts of the default heap under POST load. {@link budgetRuntimeFlags} sets it
 *   to 2 (`--heap-growing-percent=100`), which brought them back to the default's rate, the cap above
 *   still bounding what it can reach.
 *
 * V8 reads heap sizes only when the isolate is created: `v8.setFlagsFromString('--max-old-space-size=…')`
 * after start changes nothing (measured on Node 24: `heap_size_limit` stays at its default). The CLI
 * therefore starts Node again once, with the flags, when they are not already in effect (cli.ts). The
 * growing factor is read at every collection, so it is set at run time (an unknown flag there is ignored
 * by a future V8 rather than refused at start).
 */

import { readFileSync } from 'node:fs';

/** What `--memory-limit` says: the cgroup's limit, no limit, or a size. */
export type MemoryLimitSetting = { readonly kind: 'auto' } | { readonly kind: 'none' } | { readonly kind: 'bytes'; readonly bytes: number };

export interface MemoryBudget {
  /** The memory the process may use, in bytes. */
  readonly limitBytes: number;
  /** Where the limit came from: `--memory-limit` or the cgroup file read. */
  readonly source: string;
  /** `--max-old-space-size`, MiB. */
  readonly oldSpaceMiB: number;
  /** `--max-semi-space-size`, MiB. */
  readonly semiSpaceMiB: number;
  /** V8's `heap_size_limit` these flags give: old + 3 × semi, MiB. */
  readonly heapLimitMiB: number;
}

const MiB = 1024 * 1024;
/** Share of the limit V8's heap (`heap_size_limit`: old + 3 × semi-space) may take. */
export const HEAP_SHARE = 0.6;
/** Below this old generation the sidecar's live heap (~28 MiB at rest) has no room to breathe. */
export const MIN_OLD_SPACE_MIB = 64;
/** The smallest limit whose budget gives {@link MIN_OLD_SPACE_MIB}. */
export const MIN_MEMORY_LIMIT_MIB = 160;
/** cgroup v1 reports "no limit" as PAGE_COUNTER_MAX × page size (9223372036854771712 on 4 KiB pages). */
const V1_UNLIMITED = 2 ** 62;

const SIZE_RE = /^(\d+(?:\.\d+)?)\s*(b|k|ki|kb|kib|mi|mb|mib|gi|gb|gib|ti|tb|tib)?$/;
const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  k: 1024,
  ki: 1024,
  kb: 1024,
  kib: 1024,
  mi: MiB,
  mb: MiB,
  mib: MiB,
  gi: 1024 * MiB,
  gb: 1024 * MiB,
  gib: 1024 * MiB,
  ti: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/**
 * Parses `--memory-limit`: `auto` (the cgroup's limit), `none` (V8's defaults), or a size in binary units
 * as Kubernetes writes them (`256Mi`, `1Gi`) or as the other flags do (`256mb`), or bytes. Kubernetes'
 * decimal `M`/`G` are refused rather than guessed (`256M` is 244 MiB there).
 */
export function parseMemoryLimit(raw: string): MemoryLimitSetting {
  const t = raw.trim().toLowerCase();
  if (t === 'auto') return { kind: 'auto' };
  if (t === 'none') return { kind: 'none' };
  const m = SIZE_RE.exec(t);
  if (m === null) throw new Error(`${JSON.stringify(raw.slice(0, 64))} is not a size (write 256Mi, 1Gi, 512mb, auto or none)`);
  const bytes = Math.floor(Number(m[1]) * (SIZE_UNITS[m[2] ?? 'b'] ?? 1));
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new Error(`${JSON.stringify(raw.slice(0, 64))} is not a usable size`);
  return { kind: 'bytes', bytes };
}

/** cgroup v2 `memory.max`: bytes, or `undefined` for `max` (no limit) and anything unreadable. */
export function parseCgroupV2Max(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** cgroup v1 `memory.limit_in_bytes`: bytes, or `undefined` for its "unlimited" (≥ 2^62) and anything unreadable. */
export function parseCgroupV1Limit(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  return n > 0 && n < V1_UNLIMITED ? n : undefined;
}

/** Reads a file's text, or `undefined` when it does not exist or cannot be read. */
export type ReadFile = (path: string) => string | undefined;

/** {@link ReadFile} on this machine's files. */
export const readSystemFile: ReadFile = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/**
 * The memory limit of the process's cgroup and the file it came from, or `undefined` when there is none.
 * cgroup v2 first (the process's own cgroup from `/proc/self/cgroup`, then the mount's root, which is the
 * container's own cgroup under a cgroup namespace), then v1's memory controller the same way. The first
 * file that exists decides: `max` there means no limit.
 */
export function cgroupMemoryLimit(read: ReadFile): { readonly bytes: number; readonly source: string } | undefined {
  const self = read('/proc/self/cgroup') ?? '';
  let v2Path: string | undefined;
  let v1Path: string | undefined;
  for (const line of self.split('\n')) {
    const [, controllers, path] = /^\d+:([^:]*):(\/.*)$/.exec(line.trim()) ?? [];
    if (path === undefined || path.includes('..')) continue;
    if (controllers === '') v2Path = path;
    else if (controllers?.split(',').includes('memory') === true) v1Path = path;
  }
  const candidates: Array<[path: string, parse: (t: string) => number | undefined]> = [];
  const under = (root: string, path: string | undefined, file: string): string[] =>
    path === undefined || path === '/' ? [`${root}/${file}`] : [`${root}${path}/${file}`, `${root}/${file}`];
  for (const p of under('/sys/fs/cgroup', v2Path, 'memory.max')) candidates.push([p, parseCgroupV2Max]);
  for (const p of under('/sys/fs/cgroup/memory', v1Path, 'memory.limit_in_bytes')) candidates.push([p, parseCgroupV1Limit]);
  for (const [path, parse] of candidates) {
    const text = read(path);
    if (text === undefined) continue;
    const bytes = parse(text);
    return bytes === undefined ? undefined : { bytes, source: path };
  }
  return undefined;
}

/** Largest power of two ≤ n (n ≥ 1). */
function floorPow2(n: number): number {
  return 2 ** Math.floor(Math.log2(n));
}

/**
 * The V8 heap sizes for a limit. Throws an `Error` saying the minimum when the limit is too small for the
 * sidecar to run in.
 */
export function deriveBudget(limitBytes: number, source: string): MemoryBudget {
  const limitMiB = limitBytes / MiB;
  if (limitMiB < MIN_MEMORY_LIMIT_MIB) {
    throw new Error(
      `${formatMiB(limitBytes)} (${source}) is too small for the sidecar: it needs at least ${MIN_MEMORY_LIMIT_MIB} MiB (its live heap alone is ~30 MiB, Node itself ~40 MiB); raise the limit or pass --memory-limit none`,
    );
  }
  const semiSpaceMiB = Math.min(32, Math.max(1, floorPow2(limitMiB / 16)));
  const heapLimitMiB = Math.floor(limitMiB * HEAP_SHARE);
  const oldSpaceMiB = heapLimitMiB - 3 * semiSpaceMiB;
  return { limitBytes, source, oldSpaceMiB, semiSpaceMiB, heapLimitMiB };
}

/** The Node options that give a budget. */
export function heapFlags(b: MemoryBudget): string[] {
  return [`--max-old-space-size=${b.oldSpaceMiB}`, `--max-semi-space-size=${b.semiSpaceMiB}`];
}

/**
 * V8 flags set at run time (`v8.setFlagsFromString`) once a budget's heap flags are in effect: the old
 * generation's growing factor 2 instead of the 1.3 V8 chooses for an old generation this small.
 */
export function budgetRuntimeFlags(plan: MemoryPlan): string[] {
  return plan.action === 'applied' ? ['--heap-growing-percent=100'] : [];
}

const HEAP_FLAG_RE = /^--(max[-_]old[-_]space[-_]size|max[-_]semi[-_]space[-_]size|max[-_]heap[-_]size|max[-_]old[-_]space[-_]size[-_]percentage)(=|$)/;

/** Heap-size flags the operator gave Node (command line or `NODE_OPTIONS`): they win over the budget. */
export function operatorHeapFlags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  return given.filter((f) => HEAP_FLAG_RE.test(f));
}

/** The memory limit a setting names and where it came from (the cgroup's for `auto`), or `undefined` for none. Never throws. */
export function memoryLimitOf(setting: MemoryLimitSetting, read: ReadFile): { readonly bytes: number; readonly source: string } | undefined {
  if (setting.kind === 'none') return undefined;
  if (setting.kind === 'bytes') return { bytes: setting.bytes, source: '--memory-limit' };
  return cgroupMemoryLimit(read);
}

/**
 * The budget for a setting, or `undefined` for none (`none`, or `auto` without a cgroup limit).
 * @throws Error when the limit is too small (see {@link deriveBudget}).
 */
export function resolveBudget(setting: MemoryLimitSetting, read: ReadFile): MemoryBudget | undefined {
  const limit = memoryLimitOf(setting, read);
  return limit === undefined ? undefined : deriveBudget(limit.bytes, limit.source);
}

/** `256 MiB`, `1.5 GiB`. */
export function formatMiB(bytes: number): string {
  const mib = bytes / MiB;
  return mib >= 1024 ? `${(mib / 1024).toFixed(mib % 1024 === 0 ? 0 : 2)} GiB` : `${mib.toFixed(mib % 1 === 0 ? 0 : 1)} MiB`;
}

/** Set in the environment of the Node started again with the heap flags, so it is started only once. */
export const HEAP_FLAGS_ENV = 'SIDECAR_HEAP_FLAGS';

/** What the CLI does with a budget at start. */
export type MemoryPlan =
  | { readonly action: 'none' }
  /** Start Node again (same PID, `process.execve`) with `flags` before the `execArgv` it had. */
  | { readonly action: 'restart'; readonly budget: MemoryBudget; readonly flags: readonly string[] }
  /** This process was started with the flags. */
  | { readonly action: 'applied'; readonly budget: MemoryBudget; readonly flags: readonly string[] }
  /** The operator gave heap flags of their own (`flags`): they win, the budget is not applied. */
  | { readonly action: 'operator'; readonly budget: MemoryBudget; readonly flags: readonly string[] };

/**
 * Decides whether Node must be started again for a budget. `applied` is the {@link HEAP_FLAGS_ENV} value
 * this process was started with: once set, Node is never started again (no loop, whatever it says).
 */
export function planMemory(
  budget: MemoryBudget | undefined,
  execArgv: readonly string[],
  nodeOptions: string | undefined,
  applied: string | undefined,
): MemoryPlan {
  if (budget === undefined) return { action: 'none' };
  const flags = heapFlags(budget);
  if (applied !== undefined) return { action: 'applied', budget, flags };
  const operator = operatorHeapFlags(execArgv, nodeOptions);
  if (operator.length > 0) return { action: 'operator', budget, flags: operator };
  return { action: 'restart', budget, flags };
}
