/**
 * Latency at a fixed request rate (1,000 GET/s over 8 keep-alive connections, open loop): p50 and p99 of
 * each proxy, and what each adds over going to the upstream directly, within the same round.
 */
import { BUSY_SHARE, measured, rotated, startUpstream, wanted, type BenchContext } from '../lib/context.ts';
import { runPaced, type PacedResult } from '../lib/children.ts';
import { runLoad } from '../lib/load.ts';
import { spread, type Spread } from '../lib/stats.ts';
import { startNginxProxy, startNodeTarget, startSidecar, type Target, type TargetName } from '../lib/targets.ts';

export const RATE = 1000;
export const LATENCY_CONNECTIONS = 8;
const PATH = '/api/v1/tools/bench';

export interface LatencySample extends PacedResult {
  readonly target: TargetName;
  readonly round: number;
  readonly cpuUsPerRequest: number;
  readonly foreignShare: number;
  readonly load1: number;
}

export interface LatencyResult {
  readonly rate: number;
  readonly connections: number;
  readonly targets: Partial<Record<TargetName, { p50Ms: Spread; p99Ms: Spread; cpuUsPerRequest: Spread }>>;
  /** Per-round p50/p99 of a target minus that of `direct`, then their spread. */
  readonly added: Partial<Record<TargetName, { p50Ms: Spread; p99Ms: Spread }>>;
  readonly samples: LatencySample[];
  readonly busyRuns: number;
}

export async function latencyScenario(ctx: BenchContext): Promise<LatencyResult> {
  const upstream = await startUpstream(ctx);
  const targets: Target[] = [upstream];
  try {
    if (ctx.nginxBin !== undefined && wanted(ctx, 'nginx'))
      targets.push(await startNginxProxy(ctx.nginxBin, Number(new URL(upstream.url).port), ctx.serverCpus));
    if (wanted(ctx, 'bare-undici')) targets.push(await startNodeTarget('bare-undici', 'bare-undici.ts', [upstream.url], ctx.serverCpus));
    if (wanted(ctx, 'sidecar'))
      targets.push(await startSidecar({ entry: ctx.sidecarEntry, upstream: upstream.url, cpus: ctx.serverCpus, nodeFlags: ctx.sidecarNodeFlags }));
    const seconds = ctx.quick ? 5 : 15;
    // Warm every target as the throughput scenarios do (JIT, connections), so that no compiler thread
    // competes with the first measured round on the server core.
    for (const t of targets) await runLoad({ url: `${t.url}${PATH}`, connections: 64, seconds: ctx.warmupSeconds, cpus: ctx.loadCpus });
    const samples: LatencySample[] = [];
    for (let round = 0; round < ctx.repeats; round++) {
      for (const t of rotated(targets, round)) {
        const m = await measured(ctx, [t.pid], () =>
          runPaced(ctx.loadCpus, { url: `${t.url}${PATH}`, rate: RATE, connections: LATENCY_CONNECTIONS, seconds, warmupSeconds: 2 }),
        );
        const r = m.result;
        const sample: LatencySample = {
          ...r,
          target: t.name,
          round,
          cpuUsPerRequest: (m.cpuUs.get(t.pid) ?? NaN) / r.totalSent,
          foreignShare: m.foreignShare,
          load1: m.load1,
        };
        samples.push(sample);
        ctx.log(
          `  round ${round + 1}/${ctx.repeats} ${t.name.padEnd(11)} ${r.rate.toFixed(0)} req/s  p50 ${r.p50Ms.toFixed(3)} ms  p99 ${r.p99Ms.toFixed(3)} ms  p99.9 ${r.p999Ms.toFixed(2)} ms` +
            `${r.errors + r.non2xx > 0 ? `  ERRORS ${r.errors}/${r.non2xx}` : ''}  load ${m.load1.toFixed(2)}${m.foreignShare > BUSY_SHARE ? `  BUSY ${(m.foreignShare * 100).toFixed(0)}%` : ''}`,
        );
      }
    }
    const summary: LatencyResult['targets'] = {};
    const added: LatencyResult['added'] = {};
    for (const t of targets) {
      const s = samples.filter((x) => x.target === t.name);
      summary[t.name] = {
        p50Ms: spread(s.map((x) => x.p50Ms)),
        p99Ms: spread(s.map((x) => x.p99Ms)),
        cpuUsPerRequest: spread(s.map((x) => x.cpuUsPerRequest)),
      };
      if (t.name === 'direct') continue;
      const d50: number[] = [];
      const d99: number[] = [];
      for (const x of s) {
        const d = samples.find((y) => y.target === 'direct' && y.round === x.round);
        if (d === undefined) continue;
        d50.push(x.p50Ms - d.p50Ms);
        d99.push(x.p99Ms - d.p99Ms);
      }
      added[t.name] = { p50Ms: spread(d50), p99Ms: spread(d99) };
    }
    return {
      rate: RATE,
      connections: LATENCY_CONNECTIONS,
      targets: summary,
      added,
      samples,
      busyRuns: samples.filter((s) => s.foreignShare > BUSY_SHARE).length,
    };
  } finally {
    for (const t of targets.reverse()) await t.stop().catch(() => undefined);
  }
}
