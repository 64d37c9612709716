/** What every scenario is given: the layout, the run lengths, and a logger. */
import { startNginx } from './nginx.ts';
import { CLK_TCK } from './proc.ts';
import { startNodeTarget, startOtlpSink, startSidecar, TRACED_VARIANTS, type Target, type TracedVariant } from './targets.ts';
import { watchRun } from './machine.ts';

export interface BenchContext {
  readonly quick: boolean;
  /** taskset CPU list of load generators (and of the bench itself). */
  readonly loadCpus: string | undefined;
  /** taskset CPU list of the upstream and the proxy under test. */
  readonly serverCpus: string | undefined;
  /** The server CPUs as /proc/stat names, for measuring what other processes took from them. */
  readonly serverCores: readonly string[];
  readonly nginxBin: string | undefined;
  /** The sidecar's CLI (the fresh build, or src/cli.ts with --from-source). */
  readonly sidecarEntry: string;
  /** Node flags for the sidecar (e.g. `--cpu-prof`). */
  readonly sidecarNodeFlags: readonly string[];
  /** Seconds of one measured run. */
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** Targets of the throughput and latency scenarios, and nginx and the traced variants of the MCP one (`--targets`; all by default). `direct` always runs. */
  readonly targets: ReadonlySet<string> | undefined;
  /** Interleaved repeats. */
  readonly repeats: number;
  log(line: string): void;
}

/** Whether a target was asked for (`--targets`). */
export function wanted(ctx: BenchContext, name: string): boolean {
  return ctx.targets === undefined || ctx.targets.has(name);
}

/** A run's share of the server core taken by other processes above which it is flagged busy. */
export const BUSY_SHARE = 0.1;

/** The fast upstream: nginx with a fixed 1 KiB body, else the small Node upstream. */
export async function startUpstream(ctx: BenchContext, needEcho = false): Promise<Target & { kind: 'nginx' | 'node' }> {
  if (ctx.nginxBin !== undefined) {
    const n = await startNginx(ctx.nginxBin, { role: 'upstream', cpus: ctx.serverCpus });
    if (!needEcho || n.echoes) return { name: 'direct', url: n.url, pid: n.workerPid, stop: () => n.stop(), kind: 'nginx' };
    await n.stop();
    ctx.log('  nginx has no echo module (Debian: libnginx-mod-http-echo): the POST upstream is the Node upstream');
  }
  return { ...(await startNodeTarget('direct', 'upstream.ts', [], ctx.serverCpus)), kind: 'node' };
}

/** Measures `run` with the CPU time of `pids` and the foreign share of the server core. */
export async function measured<T>(
  ctx: BenchContext,
  pids: readonly number[],
  run: () => Promise<T>,
): Promise<{ result: T; cpuUs: Map<number, number>; foreignShare: number; load1: number }> {
  const watch = watchRun(pids, ctx.serverCores, CLK_TCK);
  const result = await run();
  return { result, ...watch.end() };
}

/** The order of `items` in round `round`: rotated, so that no target always runs first. */
export function rotated<T>(items: readonly T[], round: number): T[] {
  const k = round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/**
 * The traced sidecar variants that were asked for (`--targets`; both by default), in front of `upstream`,
 * and the OTLP sink they push spans to (on the load CPUs; stop it after them, it is not measured).
 */
export async function startTracedVariants(ctx: BenchContext, upstream: string): Promise<{ variants: Target[]; sink: Target | undefined }> {
  const names = (Object.keys(TRACED_VARIANTS) as TracedVariant[]).filter((n) => wanted(ctx, n));
  if (names.length === 0) return { variants: [], sink: undefined };
  const sink = await startOtlpSink(ctx.loadCpus);
  const variants: Target[] = [];
  try {
    for (const variant of names) {
      variants.push(
        await startSidecar({ entry: ctx.sidecarEntry, upstream, cpus: ctx.serverCpus, nodeFlags: ctx.sidecarNodeFlags, variant, otlpSink: sink.url }),
      );
    }
  } catch (err) {
    for (const t of variants) await t.stop().catch(() => undefined);
    await sink.stop().catch(() => undefined);
    throw err;
  }
  return { variants, sink };
}
