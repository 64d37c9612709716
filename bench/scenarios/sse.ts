/**
 * 1,000 concurrent SSE streams (`GET /sse`, the composer's legacy MCP stream, so the sidecar's MCP tap
 * reads every event) from the Node upstream, which sends one timestamped JSON-RPC notification per stream
 * every second. For each target, started fresh each round: RSS idle and with every stream open (the
 * largest of samples every 250 ms), CPU per delivered event, and event delivery latency. The sidecar runs
 * with `--memory-limit` set to its limit in deploy/kubernetes/base/deployment.yaml, as it would under that
 * cgroup limit, and its peak is printed as a share of that limit.
 */
import { manifestMemory } from '../../scripts/lib/manifest.ts';
import { BUSY_SHARE, measured, rotated, type BenchContext } from '../lib/context.ts';
import { startSseLoad, type SseLoadResult } from '../lib/children.ts';
import { rssBytes, sleep } from '../lib/proc.ts';
import { spread, type Spread } from '../lib/stats.ts';
import { startNodeTarget, startSidecar, type Target, type TargetName } from '../lib/targets.ts';

export const SSE_STREAMS = 1000;
const MB = 1024 * 1024;

export interface SseSample extends SseLoadResult {
  readonly target: TargetName;
  readonly round: number;
  readonly idleRssMb: number;
  readonly openRssMb: number;
  readonly cpuUsPerEvent: number;
  readonly foreignShare: number;
  readonly load1: number;
}

export interface SseResult {
  readonly streams: number;
  /** The sidecar's memory limit in the manifest (`--memory-limit` of the sidecar here), and its peak open RSS as a share of it (median). */
  readonly memoryLimit: { readonly manifest: string; readonly bytes: number; readonly sidecarPeakShare: Spread };
  readonly targets: Partial<Record<TargetName, { idleRssMb: Spread; openRssMb: Spread; p50Ms: Spread; p99Ms: Spread; cpuUsPerEvent: Spread }>>;
  readonly samples: SseSample[];
  readonly busyRuns: number;
}

type Starter = { name: TargetName; start: () => Promise<Target> };

export async function sseScenario(ctx: BenchContext): Promise<SseResult> {
  const upstream = await startNodeTarget('direct', 'upstream.ts', ['--tick', '1000'], ctx.serverCpus);
  const manifest = manifestMemory();
  try {
    const starters: Starter[] = [
      { name: 'direct', start: async () => ({ ...upstream, stop: async () => undefined }) },
      { name: 'bare-undici', start: () => startNodeTarget('bare-undici', 'bare-undici.ts', [upstream.url], ctx.serverCpus) },
      {
        name: 'sidecar',
        start: () =>
          startSidecar({
            entry: ctx.sidecarEntry,
            upstream: upstream.url,
            cpus: ctx.serverCpus,
            nodeFlags: ctx.sidecarNodeFlags,
            args: ['--memory-limit', manifest.limit],
          }),
      },
    ];
    const seconds = ctx.quick ? 5 : 10;
    const samples: SseSample[] = [];
    for (let round = 0; round < ctx.repeats; round++) {
      for (const s of rotated(starters, round)) {
        const t = await s.start();
        try {
          await sleep(1000);
          const idle = rssBytes(t.pid) ?? NaN;
          const load = startSseLoad(ctx.loadCpus, { baseUrl: t.url, streams: SSE_STREAMS, seconds });
          const opened = await load.open;
          let peak = 0;
          const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(t.pid) ?? 0)), 250);
          const m = await measured(ctx, [t.pid], () => load.done);
          clearInterval(sampler);
          const r = m.result;
          const sample: SseSample = {
            ...r,
            target: s.name,
            round,
            idleRssMb: idle / MB,
            openRssMb: peak / MB,
            cpuUsPerEvent: (m.cpuUs.get(t.pid) ?? NaN) / Math.max(1, r.events),
            foreignShare: m.foreignShare,
            load1: m.load1,
          };
          samples.push(sample);
          ctx.log(
            `  round ${round + 1}/${ctx.repeats} ${s.name.padEnd(11)} ${opened.open}/${SSE_STREAMS} open  RSS ${sample.idleRssMb.toFixed(0)} → ${sample.openRssMb.toFixed(0)} MB` +
              `${s.name === 'sidecar' ? ` (${((peak / manifest.limitBytes) * 100).toFixed(0)} % of its ${manifest.limit} limit)` : ''}  ` +
              `delivery p50 ${r.p50Ms.toFixed(2)} ms p99 ${r.p99Ms.toFixed(2)} ms  ${r.events} events  load ${m.load1.toFixed(2)}${m.foreignShare > BUSY_SHARE ? `  BUSY ${(m.foreignShare * 100).toFixed(0)}%` : ''}`,
          );
        } finally {
          await t.stop();
        }
        await sleep(500);
      }
    }
    const targets: SseResult['targets'] = {};
    for (const s of starters) {
      const xs = samples.filter((x) => x.target === s.name);
      targets[s.name] = {
        idleRssMb: spread(xs.map((x) => x.idleRssMb)),
        openRssMb: spread(xs.map((x) => x.openRssMb)),
        p50Ms: spread(xs.map((x) => x.p50Ms)),
        p99Ms: spread(xs.map((x) => x.p99Ms)),
        cpuUsPerEvent: spread(xs.map((x) => x.cpuUsPerEvent)),
      };
    }
    const sidecarPeakShare = spread(samples.filter((x) => x.target === 'sidecar').map((x) => (x.openRssMb * MB) / manifest.limitBytes));
    ctx.log(
      `  sidecar peak RSS with ${SSE_STREAMS} streams: ${(sidecarPeakShare.median * 100).toFixed(0)} % of the manifest's ${manifest.limit} memory limit (must stay under 80 %)`,
    );
    return {
      streams: SSE_STREAMS,
      memoryLimit: { manifest: manifest.limit, bytes: manifest.limitBytes, sidecarPeakShare },
      targets,
      samples,
      busyRuns: samples.filter((s) => s.foreignShare > BUSY_SHARE).length,
    };
  } finally {
    await upstream.stop();
  }
}
