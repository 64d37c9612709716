/**
 * MCP `tools/call` throughput with the official SDK clients (8 sessions, closed loop, `calc_add`), over
 * streamable HTTP and legacy SSE, to the demo composer directly and through the sidecar (all metrics on:
 * every call is parsed, correlated and recorded), and through nginx and the bare undici proxy for
 * reference; then the large-result case (bench/lib/large-result.ts: `calc_blob`, ~64 KiB structured JSON results the
 * sidecar reads, checked from its own counters) through nginx, the bare proxy and the sidecar. The sidecar
 * is judged against the bare proxy (issue #21) in paired rounds of both cases: one load child gives the two
 * turns of half a second each (bench/load/mcp-paired.ts). The composer, its child MCP server and
 * the proxy share the server core; the clients run on the load core. `--targets` can leave out nginx and
 * the traced variants; the bare proxy and the sidecar always run.
 */
import { BUSY_SHARE, measured, rotated, startTracedVariants, wanted, type BenchContext } from '../lib/context.ts';
import { runMcpLoad, runMcpPaired, type McpLoadResult } from '../lib/children.ts';
import { childrenOf, jsonLine, spawnPinned, waitForLine } from '../lib/proc.ts';
import { spread, type Spread } from '../lib/stats.ts';
import { ROOT, startNginxProxy, startNodeTarget, startSidecar, type Target, type TargetName } from '../lib/targets.ts';
import { LARGE_RESULT_BYTES, LARGE_TOOL, readCheckLine, startReadCheck, type LargeReadCheck } from '../lib/large-result.ts';

export const MCP_CLIENTS = 8;
/**
 * Rounds of the MCP cases (at least; `--repeats` more): short runs, many of them, because the sidecar is
 * judged on per-round pairs with the bare proxy, and on a shared VM the speed of the core drifts by a
 * third over tens of seconds (the bare proxy's own CPU per call moved 252–445 µs between rounds of one
 * run). Six pairs a few seconds apart give a steadier median than three pairs half a minute apart.
 */
export const MCP_ROUNDS = 6;
/** Seconds of one measured MCP run (after its 1 s warm-up). */
export const MCP_SECONDS = 5;
/**
 * Turns of each target in one paired round of the sidecar against the bare proxy (bench/load/mcp-paired.ts),
 * and their length: the two take turns of half a second, so that both see the same machine.
 */
export const PAIRED_WINDOWS = 10;
export const PAIRED_WINDOW_SECONDS = 0.5;
type Kind = 'streamable_http' | 'sse';
const KINDS: readonly Kind[] = ['streamable_http', 'sse'];

export interface McpSample extends McpLoadResult {
  readonly kind: Kind;
  readonly target: TargetName;
  readonly round: number;
  /** CPU time of the proxy (for `direct`: NaN) per call. */
  readonly proxyCpuUsPerCall: number;
  readonly composerCpuUsPerCall: number;
  readonly foreignShare: number;
  readonly load1: number;
}

/**
 * The sidecar against the bare undici proxy: one figure per paired round (the two in turns of
 * {@link PAIRED_WINDOW_SECONDS} within the round, summed), the median and range over the rounds.
 */
export interface SideBySide {
  /** Calls per second, sidecar ÷ bare undici. */
  readonly ratio: Spread;
  /** Proxy CPU per call, sidecar − bare undici, µs. */
  readonly cpuAddedUs: Spread;
}

export interface McpResult {
  readonly clients: number;
  /** Interleaved rounds of each case, and seconds of each measured run (absent in runs before they differed from the other scenarios'). */
  readonly rounds?: number;
  readonly seconds?: number;
  /** `calc_add` per transport: the sidecar against the bare undici proxy, in paired rounds. */
  readonly sidecarVsBare: Partial<Record<Kind, SideBySide>>;
  /** The same from the sequential rounds (runs of {@link MCP_SECONDS} one after the other), for comparison with runs before the paired rounds. */
  readonly sequentialVsBare?: Partial<Record<Kind, SideBySide>>;
  /** How the paired rounds ran (absent in runs before them). */
  readonly paired?: { readonly rounds: number; readonly windows: number; readonly windowSeconds: number; readonly busyRounds: number };
  /** The large-result case per transport: calls per second by target, and the sidecar against the bare proxy. */
  readonly large: {
    /** UTF-8 bytes of one result's JSON as the client parsed it (the JSON-RPC answer adds ~40). */
    readonly resultBytes: number;
    readonly kinds: Partial<
      Record<Kind, { readonly callsPerSecond: Partial<Record<TargetName, Spread>>; readonly vsBare: SideBySide; readonly sequentialVsBare?: SideBySide }>
    >;
    /** What the sidecar counted over the case: whether it read every result (absent in runs before the check). */
    readonly read?: LargeReadCheck;
  };
  /** Per transport and target: calls per second, its per-round ratio to direct, proxy CPU per call, added p99. */
  readonly kinds: Partial<Record<Kind, Partial<Record<TargetName, { callsPerSecond: Spread; ratio: Spread; proxyCpuUsPerCall: Spread; p99AddedMs: Spread }>>>>;
  readonly samples: McpSample[];
  readonly busyRuns: number;
}

function sideBySide(samples: readonly McpSample[], kind: Kind): SideBySide {
  const ratios: number[] = [];
  const cpu: number[] = [];
  for (const s of samples) {
    if (s.kind !== kind || s.target !== 'sidecar') continue;
    const bare = samples.find((b) => b.kind === kind && b.target === 'bare-undici' && b.round === s.round);
    if (bare === undefined) continue;
    ratios.push(s.callsPerSecond / bare.callsPerSecond);
    cpu.push(s.proxyCpuUsPerCall - bare.proxyCpuUsPerCall);
  }
  return { ratio: spread(ratios), cpuAddedUs: spread(cpu) };
}

async function startComposer(ctx: BenchContext): Promise<Target> {
  const child = spawnPinned(ctx.serverCpus, process.execPath, [`${ROOT}demo/cli.ts`, '--port', '0', '--servers', '1', '--log-level', 'warn'], {
    cwd: ROOT,
    // calc_blob, for the large-result case (demo/child/roles.ts).
    env: { ...process.env, DEMO_BENCH_TOOLS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const url = await waitForLine(
    child,
    (l) => {
      const j = jsonLine(l);
      return j?.['event'] === 'listening' ? String(j['url']) : undefined;
    },
    'demo composer',
  );
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

/**
 * Warms every target, then measures `repeats` rounds of every transport and target, the order
 * rotated each round. @param tool the tool called and its arguments. @default calc_add
 */
async function rounds(
  ctx: BenchContext,
  composer: Target,
  targets: readonly Target[],
  seconds: number,
  repeats: number,
  tool: { tool?: string; args?: Record<string, unknown> } = {},
): Promise<McpSample[]> {
  const samples: McpSample[] = [];
  for (const kind of KINDS)
    for (const t of targets)
      await runMcpLoad(ctx.loadCpus, { baseUrl: t.url, kind, clients: MCP_CLIENTS, seconds: ctx.warmupSeconds, warmupSeconds: 0.5, ...tool });
  // The composer's child MCP server (up since the warm-up) is part of the upstream, not another process on the core.
  const upstreamPids = [composer.pid, ...childrenOf(composer.pid)];
  for (let round = 0; round < repeats; round++) {
    for (const kind of KINDS) {
      for (const t of rotated(targets, round)) {
        const pids = t === composer ? upstreamPids : [...upstreamPids, t.pid];
        const m = await measured(ctx, pids, () => runMcpLoad(ctx.loadCpus, { baseUrl: t.url, kind, clients: MCP_CLIENTS, seconds, warmupSeconds: 1, ...tool }));
        const r = m.result;
        const perCall = (pid: number) => (m.cpuUs.get(pid) ?? NaN) / r.totalCalls;
        samples.push({
          ...r,
          kind,
          target: t.name,
          round,
          proxyCpuUsPerCall: t === composer ? NaN : perCall(t.pid),
          composerCpuUsPerCall: perCall(composer.pid),
          foreignShare: m.foreignShare,
          load1: m.load1,
        });
        ctx.log(
          `  round ${round + 1}/${repeats} ${kind.padEnd(15)} ${t.name.padEnd(11)} ${r.callsPerSecond.toFixed(0).padStart(5)} calls/s  p99 ${r.p99Ms.toFixed(2)} ms` +
            `${tool.tool === undefined ? '' : ` (${r.resultBytes} B results)`}${t === composer ? '' : `  proxy ${perCall(t.pid).toFixed(0)} µs/call`}${r.failed > 0 ? `  FAILED ${r.failed}` : ''}  load ${m.load1.toFixed(2)}${m.foreignShare > BUSY_SHARE ? `  BUSY ${(m.foreignShare * 100).toFixed(0)}%` : ''}`,
        );
      }
    }
  }
  return samples;
}

/**
 * Paired rounds of the sidecar against the bare proxy: in each, one load child holds sessions to both and
 * gives them turns of {@link PAIRED_WINDOW_SECONDS} (bench/load/mcp-paired.ts); the round's figures are
 * its sums. @returns per transport, the rounds' ratios and CPU differences, and how many rounds were busy.
 */
async function pairedRounds(
  ctx: BenchContext,
  composer: Target,
  bare: Target,
  sidecar: Target,
  repeats: number,
  tool: { tool?: string; args?: Record<string, unknown> } = {},
): Promise<{ byKind: Partial<Record<Kind, SideBySide>>; busy: number }> {
  const upstreamPids = [composer.pid, ...childrenOf(composer.pid)];
  const byKind: Partial<Record<Kind, SideBySide>> = {};
  let busy = 0;
  for (const kind of KINDS) {
    const ratios: number[] = [];
    const cpu: number[] = [];
    for (let round = 0; round < repeats; round++) {
      const pair = round % 2 === 0 ? [bare, sidecar] : [sidecar, bare];
      const m = await measured(ctx, [...upstreamPids, bare.pid, sidecar.pid], () =>
        runMcpPaired(ctx.loadCpus, {
          targets: pair.map((t) => ({ name: t.name, baseUrl: t.url, pid: t.pid })),
          kind,
          clients: MCP_CLIENTS,
          windows: PAIRED_WINDOWS,
          windowSeconds: PAIRED_WINDOW_SECONDS,
          warmupSeconds: 1,
          ...tool,
        }),
      );
      const b = m.result.targets.find((t) => t.name === bare.name);
      const s = m.result.targets.find((t) => t.name === sidecar.name);
      if (b === undefined || s === undefined) throw new Error('the paired MCP load did not report both targets');
      ratios.push(s.callsPerSecond / b.callsPerSecond);
      cpu.push(s.cpuUsPerCall - b.cpuUsPerCall);
      if (m.foreignShare > BUSY_SHARE) busy++;
      ctx.log(
        `  paired ${round + 1}/${repeats} ${kind.padEnd(15)} ${tool.tool ?? 'calc_add'}  bare ${b.callsPerSecond.toFixed(0)} / sidecar ${s.callsPerSecond.toFixed(0)} calls/s` +
          ` = ${(s.callsPerSecond / b.callsPerSecond).toFixed(3)}  proxy ${b.cpuUsPerCall.toFixed(0)} / ${s.cpuUsPerCall.toFixed(0)} µs/call` +
          `${b.failed + s.failed > 0 ? `  FAILED ${b.failed + s.failed}` : ''}${m.foreignShare > BUSY_SHARE ? `  BUSY ${(m.foreignShare * 100).toFixed(0)}%` : ''}`,
      );
    }
    byKind[kind] = { ratio: spread(ratios), cpuAddedUs: spread(cpu) };
  }
  return { byKind, busy };
}

export async function mcpScenario(ctx: BenchContext): Promise<McpResult> {
  const composer = await startComposer(ctx);
  const targets: Target[] = [composer];
  let sink: Target | undefined;
  try {
    if (ctx.nginxBin !== undefined && wanted(ctx, 'nginx'))
      targets.push(await startNginxProxy(ctx.nginxBin, Number(new URL(composer.url).port), ctx.serverCpus));
    targets.push(await startNodeTarget('bare-undici', 'bare-undici.ts', [composer.url], ctx.serverCpus));
    targets.push(await startSidecar({ entry: ctx.sidecarEntry, upstream: composer.url, cpus: ctx.serverCpus, nodeFlags: ctx.sidecarNodeFlags }));
    // Tracing on (an MCP span and an HTTP span per call), with and without exemplars.
    const traced = await startTracedVariants(ctx, composer.url);
    sink = traced.sink;
    targets.push(...traced.variants);
    const seconds = ctx.quick ? 4 : MCP_SECONDS;
    const repeats = ctx.quick ? ctx.repeats : Math.max(ctx.repeats, MCP_ROUNDS);
    // Warm every path (JIT, connections, the composer's child), then interleaved rounds.
    const samples = await rounds(ctx, composer, targets, seconds, repeats);
    const bare = targets.find((t) => t.name === 'bare-undici');
    const sidecar = targets.find((t) => t.name === 'sidecar');
    if (bare === undefined || sidecar === undefined) throw new Error('the MCP scenario runs the bare proxy and the sidecar');
    const large = { tool: LARGE_TOOL, args: { bytes: LARGE_RESULT_BYTES } };
    // Issue #21's figures: the sidecar and the bare proxy in turns of half a second.
    const paired = await pairedRounds(ctx, composer, bare, sidecar, repeats);
    // The large-result case: direct, nginx, the bare proxy and the sidecar, side by side in every round; then paired.
    const largeTargets = targets.filter((t) => t === composer || t.name === 'nginx' || t === bare || t === sidecar);
    const check = await startReadCheck(sidecar);
    const largeSamples = await rounds(ctx, composer, largeTargets, seconds, repeats, large);
    const largePaired = await pairedRounds(ctx, composer, bare, sidecar, repeats, large);
    const read = await check.finish();
    ctx.log(`  ${readCheckLine(read)}`);
    const resultBytes = Math.max(0, ...largeSamples.map((x) => x.resultBytes));
    const largeKinds: McpResult['large']['kinds'] = {};
    for (const kind of KINDS) {
      const callsPerSecond: Partial<Record<TargetName, Spread>> = {};
      for (const t of largeTargets)
        callsPerSecond[t.name] = spread(largeSamples.filter((s) => s.kind === kind && s.target === t.name).map((s) => s.callsPerSecond));
      const vsBare = largePaired.byKind[kind];
      if (vsBare !== undefined) largeKinds[kind] = { callsPerSecond, vsBare, sequentialVsBare: sideBySide(largeSamples, kind) };
    }
    const sequentialVsBare: McpResult['sidecarVsBare'] = {};
    for (const kind of KINDS) sequentialVsBare[kind] = sideBySide(samples, kind);
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
        byTarget[t.name] = {
          callsPerSecond: spread(own.map((s) => s.callsPerSecond)),
          ratio: spread(ratios),
          proxyCpuUsPerCall: spread(own.map((s) => s.proxyCpuUsPerCall)),
          p99AddedMs: spread(added),
        };
      }
      kinds[kind] = byTarget;
    }
    const all = [...samples, ...largeSamples];
    return {
      clients: MCP_CLIENTS,
      rounds: repeats,
      seconds,
      kinds,
      sidecarVsBare: paired.byKind,
      sequentialVsBare,
      paired: { rounds: repeats, windows: PAIRED_WINDOWS, windowSeconds: PAIRED_WINDOW_SECONDS, busyRounds: paired.busy + largePaired.busy },
      large: { resultBytes, kinds: largeKinds, read },
      samples: all,
      busyRuns: all.filter((s) => s.foreignShare > BUSY_SHARE).length,
    };
  } finally {
    for (const t of targets.reverse()) await t.stop().catch(() => undefined);
    await sink?.stop().catch(() => undefined);
  }
}
