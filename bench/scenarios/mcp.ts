/**
 * MCP `tools/call` throughput with the official SDK clients (8 sessions, closed loop, `calc_add`), over
 * streamable HTTP and legacy SSE, to the demo composer directly and through the sidecar (all metrics on:
 * every call is parsed, correlated and recorded), and through nginx and the bare undici proxy for
 * reference; then the large-result case (mcp-large.ts: `calc_blob`, ~64 KiB structured JSON results the
 * sidecar reads) through nginx, the bare proxy and the sidecar. The sidecar is judged against the bare
 * proxy of the same round (issue #21). The composer, its child MCP server and the proxy share the server
 * core; the clients run on the load core. `--targets` can leave out nginx and the traced variants; the
 * bare proxy and the sidecar always run.
 */
import { BUSY_SHARE, measured, rotated, startTracedVariants, wanted, type BenchContext } from '../lib/context.ts';
import { runMcpLoad } from '../lib/children.ts';
import { KINDS, MCP_CLIENTS, sideBySide, type Kind, type McpSample, type SideBySide } from '../lib/mcp-samples.ts';
import { jsonLine, spawnPinned, waitForLine } from '../lib/proc.ts';
import { spread, type Spread } from '../lib/stats.ts';
import { ROOT, startNginxProxy, startNodeTarget, startSidecar, type Target, type TargetName } from '../lib/targets.ts';
import { largeResultRounds, type LargeResult } from './mcp-large.ts';

export { MCP_CLIENTS, type Kind, type McpSample, type SideBySide } from '../lib/mcp-samples.ts';

export interface McpResult {
  readonly clients: number;
  /** `calc_add` per transport: the sidecar against the bare undici proxy. */
  readonly sidecarVsBare: Partial<Record<Kind, SideBySide>>;
  /** The large-result case (mcp-large.ts): calls per second by target and transport, the sidecar against the bare proxy, and what the sidecar read. */
  readonly large: LargeResult;
  /** Per transport and target: calls per second, its per-round ratio to direct, proxy CPU per call, added p99. */
  readonly kinds: Partial<Record<Kind, Partial<Record<TargetName, { callsPerSecond: Spread; ratio: Spread; proxyCpuUsPerCall: Spread; p99AddedMs: Spread }>>>>;
  readonly samples: McpSample[];
  readonly busyRuns: number;
}

async function startComposer(ctx: BenchContext): Promise<Target> {
  const child = spawnPinned(ctx.serverCpus, process.execPath, [`${ROOT}demo/cli.ts`, '--port', '0', '--servers', '1', '--log-level', 'warn'], {
    cwd: ROOT,
    // calc_blob, for the large-result case (demo/child/roles.ts).
    env: { ...process.env, DEMO_BENCH_TOOLS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const url = await waitForLine(child, (l) => {
    const j = jsonLine(l);
    return j?.['event'] === 'listening' ? String(j['url']) : undefined;
  }, 'demo composer');
  const pid = child.pid;
  if (pid === undefined) throw new Error('demo composer did not spawn');
  return {
    name: 'direct',
    url,
    pid,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // The group is gone.
      }
    },
  };
}

export async function mcpScenario(ctx: BenchContext): Promise<McpResult> {
  const composer = await startComposer(ctx);
  const targets: Target[] = [composer];
  let sink: Target | undefined;
  try {
    if (ctx.nginxBin !== undefined && wanted(ctx, 'nginx')) targets.push(await startNginxProxy(ctx.nginxBin, Number(new URL(composer.url).port), ctx.serverCpus));
    targets.push(await startNodeTarget('bare-undici', 'bare-undici.ts', [composer.url], ctx.serverCpus));
    targets.push(await startSidecar({ entry: ctx.sidecarEntry, upstream: composer.url, cpus: ctx.serverCpus, nodeFlags: ctx.sidecarNodeFlags }));
    // Tracing on (an MCP span and an HTTP span per call), with and without exemplars.
    const traced = await startTracedVariants(ctx, composer.url);
    sink = traced.sink;
    targets.push(...traced.variants);
    const seconds = ctx.quick ? 4 : 10;
    const samples: McpSample[] = [];
    // Warm every path (JIT, connections, the composer's child).
    for (const kind of KINDS) for (const t of targets) await runMcpLoad(ctx.loadCpus, { baseUrl: t.url, kind, clients: MCP_CLIENTS, seconds: ctx.warmupSeconds, warmupSeconds: 0.5 });
    for (let round = 0; round < ctx.repeats; round++) {
      for (const kind of KINDS) {
        for (const t of rotated(targets, round)) {
          const pids = t === composer ? [composer.pid] : [composer.pid, t.pid];
          const m = await measured(ctx, pids, () => runMcpLoad(ctx.loadCpus, { baseUrl: t.url, kind, clients: MCP_CLIENTS, seconds, warmupSeconds: 1 }));
          const r = m.result;
          const perCall = (pid: number) => (m.cpuUs.get(pid) ?? NaN) / r.totalCalls;
          samples.push({ ...r, kind, target: t.name, round, proxyCpuUsPerCall: t === composer ? NaN : perCall(t.pid), composerCpuUsPerCall: perCall(composer.pid), foreignShare: m.foreignShare, load1: m.load1 });
          ctx.log(
            `  round ${round + 1}/${ctx.repeats} ${kind.padEnd(15)} ${t.name.padEnd(11)} ${r.callsPerSecond.toFixed(0).padStart(5)} calls/s  p99 ${r.p99Ms.toFixed(2)} ms` +
              `${t === composer ? '' : `  proxy ${perCall(t.pid).toFixed(0)} µs/call`}${r.failed > 0 ? `  FAILED ${r.failed}` : ''}  load ${m.load1.toFixed(2)}${m.foreignShare > BUSY_SHARE ? `  BUSY ${(m.foreignShare * 100).toFixed(0)}%` : ''}`,
          );
        }
      }
    }
    // The large-result case: direct, nginx, the bare proxy and the sidecar, side by side in every round.
    const large = await largeResultRounds(ctx, targets, composer, KINDS, seconds);
    const sidecarVsBare: McpResult['sidecarVsBare'] = {};
    for (const kind of KINDS) sidecarVsBare[kind] = sideBySide(samples, kind);
    const kinds: McpResult['kinds'] = {};
    for (const kind of KINDS) {
      const byTarget: NonNullable<McpResult['kinds'][Kind]> = {};
      const direct = samples.filter((s) => s.kind === kind && s.target === 'direct');
      for (const t of targets) {
        const own = samples.filter((s) => s.kind === kind && s.target === t.name);
        const ratios: number[] = [];
        const added: number[] = [];
        for (const s of own) {
          const d = direct.find((x) => x.round === s.round);
          if (d === undefined) continue;
          ratios.push(s.callsPerSecond / d.callsPerSecond);
          added.push(s.p99Ms - d.p99Ms);
        }
        byTarget[t.name] = { callsPerSecond: spread(own.map((s) => s.callsPerSecond)), ratio: spread(ratios), proxyCpuUsPerCall: spread(own.map((s) => s.proxyCpuUsPerCall)), p99AddedMs: spread(added) };
      }
      kinds[kind] = byTarget;
    }
    const all = [...samples, ...large.samples];
    return { clients: MCP_CLIENTS, kinds, sidecarVsBare, large: large.result, samples: all, busyRuns: all.filter((s) => s.foreignShare > BUSY_SHARE).length };
  } finally {
    for (const t of targets.reverse()) await t.stop().catch(() => undefined);
    await sink?.stop().catch(() => undefined);
  }
}
