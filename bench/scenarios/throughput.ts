/**
 * Closed-loop throughput through each proxy at 64 keep-alive connections: `GET` of the upstream's 1 KiB
 * body, or `POST` of a 4 KiB body that the upstream echoes. Targets run side by side and are measured in
 * interleaved rounds (the order rotates each round); every figure is a median over the rounds with its
 * range, and the ratios are taken within each round, then their median.
 */
import { BODY_1K } from '../lib/nginx.ts';
import { BUSY_SHARE, measured, rotated, startTracedVariants, startUpstream, wanted, type BenchContext } from '../lib/context.ts';
import { runLoad } from '../lib/load.ts';
import { spread, type Spread } from '../lib/stats.ts';
import { startNginxProxy, startNodeTarget, startSidecar, type Target, type TargetName } from '../lib/targets.ts';

export const CONNECTIONS = 64;
const GET_PATH = '/api/v1/tools/bench';
const POST_PATH = '/bench/echo';
const POST_BODY = 'p'.repeat(4096);

export interface ThroughputSample {
  readonly target: TargetName;
  readonly round: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly errors: number;
  readonly non2xx: number;
  /** CPU time of the target process per request (for `direct`: the upstream's). */
  readonly cpuUsPerRequest: number;
  /** CPU time of the upstream per request. */
  readonly upstreamCpuUsPerRequest: number;
  readonly foreignShare: number;
  readonly load1: number;
}

export interface TargetSummary {
  readonly rps: Spread;
  readonly p99Ms: Spread;
  readonly cpuUsPerRequest: Spread;
}

export interface ThroughputResult {
  readonly method: 'GET' | 'POST';
  readonly upstream: 'nginx' | 'node';
  readonly connections: number;
  readonly targets: Partial<Record<TargetName, TargetSummary>>;
  /** Per-round ratios of requests per second, then their spread. */
  readonly ratios: Record<string, Spread>;
  readonly samples: ThroughputSample[];
  readonly busyRuns: number;
}

async function check(t: Target, method: 'GET' | 'POST', expected: string): Promise<void> {
  const res = await fetch(`${t.url}${method === 'GET' ? GET_PATH : POST_PATH}`, {
    method,
    ...(method === 'POST' ? { body: POST_BODY, headers: { 'content-type': 'application/octet-stream' } } : {}),
  });
  const body = await res.text();
  if (res.status !== 200 || body !== expected) throw new Error(`${t.name} answered ${res.status} with ${body.length} bytes: not the upstream's body`);
}

export async function throughputScenario(ctx: BenchContext, method: 'GET' | 'POST'): Promise<ThroughputResult> {
  const upstream = await startUpstream(ctx, method === 'POST');
  const targets: Target[] = [upstream];
  let sink: Target | undefined;
  try {
    if (ctx.nginxBin === undefined) ctx.log('  nginx is not installed: no nginx baseline (Debian: apt-get install nginx)');
    else if (wanted(ctx, 'nginx')) targets.push(await startNginxProxy(ctx.nginxBin, Number(new URL(upstream.url).port), ctx.serverCpus));
    if (wanted(ctx, 'bare-undici')) targets.push(await startNodeTarget('bare-undici', 'bare-undici.ts', [upstream.url], ctx.serverCpus));
    if (wanted(ctx, 'http-proxy')) targets.push(await startNodeTarget('http-proxy', 'http-proxy.ts', [upstream.url], ctx.serverCpus));
    if (wanted(ctx, 'sidecar'))
      targets.push(await startSidecar({ entry: ctx.sidecarEntry, upstream: upstream.url, cpus: ctx.serverCpus, nodeFlags: ctx.sidecarNodeFlags }));
    // Tracing on, with and without exemplars (GET only: the cost per request is the same for a POST).
    if (method === 'GET') {
      const traced = await startTracedVariants(ctx, upstream.url);
      sink = traced.sink;
      targets.push(...traced.variants);
    }
    for (const t of targets) await check(t, method, method === 'GET' ? BODY_1K : POST_BODY);

    const url = (t: Target) => `${t.url}${method === 'GET' ? GET_PATH : POST_PATH}`;
    const postBody = method === 'POST' ? POST_BODY : undefined;
    for (const t of targets) {
      await runLoad({ url: url(t), connections: CONNECTIONS, seconds: ctx.warmupSeconds, cpus: ctx.loadCpus, ...(postBody ? { postBody } : {}) });
    }
    const samples: ThroughputSample[] = [];
    for (let round = 0; round < ctx.repeats; round++) {
      for (const t of rotated(targets, round)) {
        const pids = t.pid === upstream.pid ? [upstream.pid] : [t.pid, upstream.pid];
        const m = await measured(ctx, pids, () =>
          runLoad({ url: url(t), connections: CONNECTIONS, seconds: ctx.seconds, cpus: ctx.loadCpus, ...(postBody ? { postBody } : {}) }),
        );
        const r = m.result;
        const sample: ThroughputSample = {
          target: t.name,
          round,
          rps: r.rps,
          p50Ms: r.p50Ms,
          p99Ms: r.p99Ms,
          requests: r.requests,
          errors: r.errors,
          non2xx: r.non2xx,
          cpuUsPerRequest: (m.cpuUs.get(t.pid) ?? NaN) / r.requests,
          upstreamCpuUsPerRequest: (m.cpuUs.get(upstream.pid) ?? NaN) / r.requests,
          foreignShare: m.foreignShare,
          load1: m.load1,
        };
        samples.push(sample);
        ctx.log(
          `  ${method} round ${round + 1}/${ctx.repeats} ${t.name.padEnd(11)} ${r.rps.toFixed(0).padStart(6)} req/s  ${sample.cpuUsPerRequest.toFixed(1).padStart(6)} µs/req  p99 ${r.p99Ms.toFixed(2)} ms` +
            `${r.errors + r.non2xx > 0 ? `  ERRORS ${r.errors}/${r.non2xx}` : ''}  load ${m.load1.toFixed(2)}${m.foreignShare > BUSY_SHARE ? `  BUSY: others took ${(m.foreignShare * 100).toFixed(0)}% of the server core` : ''}`,
        );
      }
    }
    const summary: Partial<Record<TargetName, TargetSummary>> = {};
    for (const t of targets) {
      const s = samples.filter((x) => x.target === t.name);
      summary[t.name] = { rps: spread(s.map((x) => x.rps)), p99Ms: spread(s.map((x) => x.p99Ms)), cpuUsPerRequest: spread(s.map((x) => x.cpuUsPerRequest)) };
    }
    const ratio = (a: TargetName, b: TargetName): Spread => {
      const xs: number[] = [];
      for (let round = 0; round < ctx.repeats; round++) {
        const x = samples.find((s) => s.target === a && s.round === round);
        const y = samples.find((s) => s.target === b && s.round === round);
        if (x !== undefined && y !== undefined) xs.push(x.rps / y.rps);
      }
      return spread(xs);
    };
    const ratios: Record<string, Spread> = {
      'sidecar/bare-undici': ratio('sidecar', 'bare-undici'),
      'sidecar/http-proxy': ratio('sidecar', 'http-proxy'),
      'bare-undici/direct': ratio('bare-undici', 'direct'),
    };
    if (targets.some((t) => t.name === 'nginx')) {
      ratios['sidecar/nginx'] = ratio('sidecar', 'nginx');
      ratios['bare-undici/nginx'] = ratio('bare-undici', 'nginx');
    }
    if (targets.some((t) => t.name === 'sidecar-traced')) ratios['sidecar-traced/sidecar'] = ratio('sidecar-traced', 'sidecar');
    if (targets.some((t) => t.name === 'sidecar-exemplars')) ratios['sidecar-exemplars/sidecar-traced'] = ratio('sidecar-exemplars', 'sidecar-traced');
    return {
      method,
      upstream: upstream.kind,
      connections: CONNECTIONS,
      targets: summary,
      ratios,
      samples,
      busyRuns: samples.filter((s) => s.foreignShare > BUSY_SHARE).length,
    };
  } finally {
    for (const t of targets.reverse()) await t.stop().catch(() => undefined);
    await sink?.stop().catch(() => undefined);
  }
}
