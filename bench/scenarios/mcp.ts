/**
 * MCP `tools/call` throughput with the official SDK clients (8 sessions, closed loop, `calc_add`), over
 * streamable HTTP and legacy SSE, to the demo composer directly and through the sidecar (all metrics on:
 * every call is parsed, correlated and recorded). The composer, its child MCP server and the sidecar
 * share the server core; the clients run on the load core.
 */
import { BUSY_SHARE, measured, rotated, type BenchContext } from '../lib/context.ts';
import { runMcpLoad, type McpLoadResult } from '../lib/children.ts';
import { jsonLine, spawnPinned, waitForLine } from '../lib/proc.ts';
import { spread, type Spread } from '../lib/stats.ts';
import { ROOT, startSidecar, type Target } from '../lib/targets.ts';

export const MCP_CLIENTS = 8;
type Kind = 'streamable_http' | 'sse';
const KINDS: readonly Kind[] = ['streamable_http', 'sse'];

export interface McpSample extends McpLoadResult {
  readonly kind: Kind;
  readonly target: 'direct' | 'sidecar';
  readonly round: number;
  readonly sidecarCpuUsPerCall: number;
  readonly composerCpuUsPerCall: number;
  readonly foreignShare: number;
  readonly load1: number;
}

export interface McpResult {
  readonly clients: number;
  readonly kinds: Partial<Record<Kind, { direct: Spread; sidecar: Spread; ratio: Spread; sidecarCpuUsPerCall: Spread; p99AddedMs: Spread }>>;
  readonly samples: McpSample[];
  readonly busyRuns: number;
}

async function startComposer(ctx: BenchContext): Promise<Target> {
  const child = spawnPinned(ctx.serverCpus, process.execPath, [`${ROOT}demo/cli.ts`, '--port', '0', '--servers', '1', '--log-level', 'warn'], {
    cwd: ROOT,
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
  const started: Target[] = [composer];
  try {
    const sidecar = await startSidecar({ entry: ctx.sidecarEntry, upstream: composer.url, cpus: ctx.serverCpus, nodeFlags: ctx.sidecarNodeFlags });
    started.push(sidecar);
    const seconds = ctx.quick ? 4 : 10;
    const samples: McpSample[] = [];
    // Warm both paths (JIT, connections, the composer's child).
    for (const kind of KINDS) for (const t of [composer, sidecar]) await runMcpLoad(ctx.loadCpus, { baseUrl: t.url, kind, clients: MCP_CLIENTS, seconds: ctx.warmupSeconds, warmupSeconds: 0.5 });
    for (let round = 0; round < ctx.repeats; round++) {
      for (const kind of KINDS) {
        for (const t of rotated([composer, sidecar], round)) {
          const m = await measured(ctx, [composer.pid, sidecar.pid], () =>
            runMcpLoad(ctx.loadCpus, { baseUrl: t.url, kind, clients: MCP_CLIENTS, seconds, warmupSeconds: 1 }),
          );
          const r = m.result;
          const target = t === sidecar ? 'sidecar' : 'direct';
          const perCall = (pid: number) => (m.cpuUs.get(pid) ?? NaN) / r.calls;
          samples.push({ ...r, kind, target, round, sidecarCpuUsPerCall: target === 'sidecar' ? perCall(sidecar.pid) : NaN, composerCpuUsPerCall: perCall(composer.pid), foreignShare: m.foreignShare, load1: m.load1 });
          ctx.log(
            `  round ${round + 1}/${ctx.repeats} ${kind.padEnd(15)} ${target.padEnd(7)} ${r.callsPerSecond.toFixed(0).padStart(5)} calls/s  p99 ${r.p99Ms.toFixed(2)} ms` +
              `${r.failed > 0 ? `  FAILED ${r.failed}` : ''}  load ${m.load1.toFixed(2)}${m.foreignShare > BUSY_SHARE ? `  BUSY ${(m.foreignShare * 100).toFixed(0)}%` : ''}`,
          );
        }
      }
    }
    const kinds: McpResult['kinds'] = {};
    for (const kind of KINDS) {
      const of = (target: 'direct' | 'sidecar') => samples.filter((s) => s.kind === kind && s.target === target);
      const ratios: number[] = [];
      const added: number[] = [];
      for (const s of of('sidecar')) {
        const d = of('direct').find((x) => x.round === s.round);
        if (d === undefined) continue;
        ratios.push(s.callsPerSecond / d.callsPerSecond);
        added.push(s.p99Ms - d.p99Ms);
      }
      kinds[kind] = {
        direct: spread(of('direct').map((s) => s.callsPerSecond)),
        sidecar: spread(of('sidecar').map((s) => s.callsPerSecond)),
        ratio: spread(ratios),
        sidecarCpuUsPerCall: spread(of('sidecar').map((s) => s.sidecarCpuUsPerCall)),
        p99AddedMs: spread(added),
      };
    }
    return { clients: MCP_CLIENTS, kinds, samples, busyRuns: samples.filter((s) => s.foreignShare > BUSY_SHARE).length };
  } finally {
    for (const t of started.reverse()) await t.stop().catch(() => undefined);
  }
}
